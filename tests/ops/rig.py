"""A simulated tenant, a manual clock and engines on one journal, for the ops tests."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from console.auth.base import StaticTokenProvider
from console.clock import ManualClock
from console.graph.client import GraphClient
from console.ops.engine import OperationsEngine
from console.ops.events import OperationEvent
from console.ops.journal import OperationJournal
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

SAS = "https://acct.blob.core.windows.net/exports?sv=2022-11-02&sp=cw&sig=SUPERSECRETSIG0001"
TEMPLATE = "https://acct.blob.core.windows.net/dsr-{n}?sv=2022-11-02&sr=c&sp=rcwl&se=2027-12-31T00:00:00Z&sig=SUPERSECRETSIG0001"


def location_for(n: int) -> str:
    """One container per export (Graph refuses a reused location)."""
    return TEMPLATE.replace("{n}", str(n))


class Side:
    """One process's view: its client, journal and engine."""

    def __init__(self, rig: Rig, budget: int, tenant: SimulatedTenant | None = None, **engine_options: object) -> None:
        self.rig = rig
        tenant = tenant if tenant is not None else rig.tenant
        self.client = GraphClient(
            DEMO_GRAPH_URL,
            StaticTokenProvider(tenant.issue_token(lifetime=10**7)),
            transport=tenant.transport(),
            clock=rig.clock,
            backoff_start=0.5,
        )
        self.journal = OperationJournal(rig.path)
        self.events: list[OperationEvent] = []
        self.engine = OperationsEngine(
            self.client,
            self.journal,
            tenant_key=tenant.tenant_id,
            poll_budget=budget,
            clock=rig.clock,
            identity="admin@contoso.example",
            **engine_options,  # type: ignore[arg-type]
        )
        self.engine.subscribe(self.events.append)

    async def close(self, *, release: bool = True) -> None:
        await self.engine.stop(release=release)
        await self.client.aclose()
        self.journal.close()


class Rig:
    """The simulator and one journal; ``side()`` opens one more process on it."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        retry_after: float = 5,
        duration: float = 30,
        budget: int = 9000,
        profiles: int = 300,
    ) -> None:
        self.clock = ManualClock()
        self.tenant = SimulatedTenant(
            profiles=profiles,
            clock=self.clock.now,
            sleep=self.clock.sleep,
            retry_after=retry_after,
            export_duration=duration,
        )
        self.tenant.graph.config.refuse_reused_location = False
        self.path = tmp_path / "journal.sqlite3"
        self.budget = budget
        self.sides: list[Side] = []

    def side(
        self, budget: int | None = None, *, tenant: SimulatedTenant | None = None, **engine_options: object
    ) -> Side:
        """One more process on the journal (an engine for ``tenant``: default, the rig's)."""
        side = Side(self, budget if budget is not None else self.budget, tenant, **engine_options)
        self.sides.append(side)
        return side

    def ledger(self, tenant_key: str) -> int:
        """Requests the journal's ledger counts for ``tenant_key`` in the last hour (every process)."""
        journal = OperationJournal(self.path)
        try:
            return journal.requests_in_last_hour(tenant_key, self.clock.now())
        finally:
            journal.close()

    def users(self, n: int, start: int = 0) -> list[str]:
        return [p.user_id for p in self.tenant.graph.profiles[start : start + n]]

    def polls(self) -> list[float]:
        return sorted(r.at for r in self.tenant.requests if r.kind == "poll")

    def polls_by_operation(self) -> dict[str, list[tuple[float, int, str | None]]]:
        polls: dict[str, list[tuple[float, int, str | None]]] = defaultdict(list)
        for r in self.tenant.requests:
            if r.kind == "poll" and r.operation_id:
                polls[r.operation_id].append((r.at, r.status, r.retry_after))
        return polls

    def early_polls(self) -> int:
        """Polls sent before the Retry-After of the previous answer for that operation (POST included)."""
        last: dict[str, tuple[float, float]] = {}
        early = 0
        for r in sorted(self.tenant.requests, key=lambda r: r.at):
            if not r.operation_id or r.kind not in ("export", "poll"):
                continue
            previous = last.get(r.operation_id)
            if r.kind == "poll" and previous is not None and r.at < previous[0] + previous[1] - 1e-6:
                early += 1
            try:
                wait = float(r.retry_after) if r.retry_after is not None else 0.0
            except ValueError:
                wait = 0.0
            last[r.operation_id] = (r.at, wait)
        return early

    async def settle(self) -> None:
        """Let every ready task run and every journal call on the writer threads finish."""
        for _ in range(200):
            for _ in range(20):
                await asyncio.sleep(0)
            if all(s.engine.writer.calls_in_flight == 0 for s in self.sides):
                for _ in range(20):
                    await asyncio.sleep(0)
                if all(s.engine.writer.calls_in_flight == 0 for s in self.sides):
                    return
            await asyncio.sleep(0.002)

    async def run_until(
        self, done: Callable[[], bool], *, limit: float = 100_000.0, step: float | None = None
    ) -> float:
        """Advance the manual clock deadline by deadline (or by ``step``) until ``done()``; simulated seconds."""
        start = self.clock.now()
        for _ in range(500_000):
            await self.settle()
            if done():
                return self.clock.now() - start
            deadline = self.clock.next_deadline()
            if step is not None:
                self.clock.advance(step)
            elif deadline is None:
                await asyncio.sleep(0.001)
            else:
                self.clock.advance(max(0.0, deadline - self.clock.now()))
            if self.clock.now() - start > limit:
                break
        raise AssertionError(f"not done after {self.clock.now() - start:.0f} simulated seconds")

    async def run_for(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass, deadline by deadline."""
        end = self.clock.now() + seconds
        while True:
            await self.settle()
            deadline = self.clock.next_deadline()
            if deadline is None or deadline > end:
                self.clock.advance(max(0.0, end - self.clock.now()))
                await self.settle()
                return
            self.clock.advance(max(0.0, deadline - self.clock.now()))

    async def close(self) -> None:
        for side in self.sides:
            if side.engine.running or not side.engine.writer.closed:
                await side.close()


def max_in_window(times: list[float], window: float = 3600.0) -> int:
    """The most events in any ``window`` seconds."""
    best = start = 0
    ordered = sorted(times)
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best
