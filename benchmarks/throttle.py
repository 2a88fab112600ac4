"""Throttling that slows, not stops: sporadic 429s and a 20 s storm, against the simulated tenant.

Everything runs in this process on the real clock: the simulated tenant (``console.sim``) answers
through its in-process transport, wrapped by ``FaultTransport`` (defined here, the simulator is not
touched) which throttles on purpose and timestamps every request. Nothing leaves the process.

Two scenarios (issue 7, "Numbers"):

(a) sporadic: 5% of polls answered 429 **without** Retry-After, Retry-After 1 s on every
    unfinished poll. Completion must be noticed within Retry-After + 0.5 s (median), as it is
    without throttling (both printed).
(b) storm: 20 s of 429 without Retry-After on every request, starting after the exports were
    accepted. At most 30 requests may reach Graph in that window, and the first completion must
    be noticed within 15 s after the storm ends.

Exports are watched by the real ``OperationsEngine`` (``--loop engine``, the default) when it can be
built; ``--loop own`` (also the fallback) uses a minimal polling loop over ``GraphClient.get_operation``.

Run: .venv/bin/python benchmarks/throttle.py [--small] [--check] [--loop engine|own]
``--check`` exits 1 when any TARGET is a MISS; ``--small`` runs in well under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import median, percentile, print_block, verdict

FINAL = ("complete", "failed")


def location_for(user_id: str) -> str:
    """One container per export (Graph accepts one export per storage location); never contacted."""
    return (
        f"https://benchacct.blob.core.windows.net/dsr-{user_id.lower()}"
        "?sv=2022-11-02&sr=c&sp=cw&se=2099-01-01T00:00:00Z&sig=bench-not-a-secret"
    )


@dataclass
class FaultTransport(httpx.AsyncBaseTransport):
    """Throttles on purpose in front of the simulator and records (time sent, method, status)."""

    inner: httpx.AsyncBaseTransport
    sporadic: float = 0.0
    """Share of polls answered 429 without Retry-After."""
    storm: tuple[float, float] | None = None
    """(start, end) wall times during which every request is answered 429 without Retry-After."""
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    log: list[tuple[float, str, int]] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = time.time()
        if self.storm is not None and self.storm[0] <= now < self.storm[1]:
            return self._throttled(now, request)
        is_poll = request.method == "GET" and "/dataPolicyOperations/" in request.url.path
        if is_poll and self.sporadic and self.rng.random() < self.sporadic:
            return self._throttled(now, request)
        response = await self.inner.handle_async_request(request)
        self.log.append((now, request.method, response.status_code))
        return response

    def _throttled(self, now: float, request: httpx.Request) -> httpx.Response:
        self.log.append((now, request.method, 429))
        body = b'{"error":{"code":"TooManyRequests","message":"Too many requests. Please retry later."}}'
        return httpx.Response(429, headers={"Content-Type": "application/json"}, content=body)


@dataclass
class Run:
    """What one scenario measured."""

    latencies: list[float] = field(default_factory=list)
    """Seconds from completedDateTime to the moment the watcher saw the final status."""
    noticed_at: list[float] = field(default_factory=list)
    """Wall times when final statuses were noticed."""
    accepted: int = 0
    final: int = 0
    loop: str = ""
    wall: float = 0.0
    timed_out: bool = False


def make_tenant(ops: int, retry_after: float, low: float, high: float, seed: int) -> Any:
    from console.sim.graph import ServiceLimits
    from console.sim.tenant import SimulatedTenant

    tenant = SimulatedTenant(
        profiles=max(ops, 1),
        retry_after=retry_after,
        export_duration=(low + high) / 2,
        export_duration_jitter=(high - low) / (high + low) if high > low else 0.0,
        seed=seed,
        limits=ServiceLimits(exports_per_day=10**9, exports_per_user_per_day=10**9, requests_per_hour=10**9),
    )
    tenant.graph.config.queue_fraction = 0.0
    return tenant


async def watch_with_engine(client: Any, users: list[str], run: Run, timeout: float) -> None:
    from console.clock import SystemClock
    from console.ops.engine import OperationsEngine
    from console.ops.journal import OperationJournal

    seen: set[int] = set()

    def on_event(event: Any) -> None:
        view = event.operation
        if view.status in FINAL and view.completed_at is not None and view.key not in seen:
            seen.add(view.key)
            now = time.time()
            run.noticed_at.append(now)
            run.latencies.append(now - view.completed_at.timestamp())

    with tempfile.TemporaryDirectory(prefix="throttle-bench-") as tmp:
        journal = OperationJournal(Path(tmp) / "journal.sqlite3")
        engine = OperationsEngine(client, journal, tenant_key="bench", poll_budget=10_000_000, clock=SystemClock())
        engine.subscribe(on_event)
        await engine.start()
        try:
            from console.ops.events import ExportTarget

            outcomes = await engine.submit([ExportTarget(u, location_for(u)) for u in users])
            run.accepted = sum(1 for o in outcomes if o.accepted)
            async with asyncio.timeout(timeout):
                await engine.wait_until_idle()
        except TimeoutError:
            run.timed_out = True
        finally:
            await engine.stop()
            close = getattr(journal, "close", None)
            if callable(close):
                close()
    run.final = len(seen)


async def watch_with_own_loop(client: Any, users: list[str], run: Run, timeout: float) -> None:
    """A minimal watcher: POST, then poll each operation no earlier than its Retry-After."""
    from console.graph import errors

    async def one(user_id: str) -> None:
        try:
            accepted = await client.export_personal_data(user_id, location_for(user_id))
        except errors.GraphError:
            return
        run.accepted += 1
        wait = accepted.retry_after if accepted.retry_after is not None else 60.0
        failures = 0
        while True:
            await asyncio.sleep(wait)
            try:
                poll = await client.get_operation(accepted.location)
            except errors.GraphError as exc:
                failures += 1
                wait = exc.retry_after if exc.retry_after is not None else min(60.0, 2.0**failures)
                continue
            failures = 0
            op = poll.operation
            if op.status in FINAL:
                now = time.time()
                run.final += 1
                run.noticed_at.append(now)
                if op.completed is not None:
                    run.latencies.append(now - op.completed.timestamp())
                return
            wait = poll.info.retry_after if poll.info.retry_after is not None else 60.0

    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(one(u) for u in users))
    except TimeoutError:
        run.timed_out = True


async def scenario(
    args: argparse.Namespace,
    *,
    configure: Callable[[FaultTransport, float], None],
    retry_after: float,
    low: float,
    high: float,
) -> tuple[Run, FaultTransport]:
    from console.auth.base import StaticTokenProvider
    from console.clock import SystemClock
    from console.graph.client import GraphClient
    from console.sim.tenant import DEMO_GRAPH_URL

    tenant = make_tenant(args.ops, retry_after, low, high, args.seed)
    users = [p.user_id for p in tenant.graph.profiles[: args.ops]]
    faults = FaultTransport(tenant.transport())
    client = GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token(lifetime=86400)), transport=faults, clock=SystemClock()
    )
    run = Run(loop=args.loop)
    start = time.time()
    configure(faults, start)
    try:
        if args.loop == "engine":
            try:
                await watch_with_engine(client, users, run, args.timeout)
            except Exception as exc:  # the engine is being rewritten: fall back, and say so
                print(
                    f"note: the OperationsEngine could not run ({type(exc).__name__}: {exc}); "
                    "using the minimal polling loop",
                    file=sys.stderr,
                )
                run = Run(loop="own (engine failed)")
                tenant = make_tenant(args.ops, retry_after, low, high, args.seed)
                faults = FaultTransport(tenant.transport())
                await client.aclose()
                client = GraphClient(
                    DEMO_GRAPH_URL,
                    StaticTokenProvider(tenant.issue_token(lifetime=86400)),
                    transport=faults,
                    clock=SystemClock(),
                )
                start = time.time()
                configure(faults, start)
                await watch_with_own_loop(client, users, run, args.timeout)
        else:
            await watch_with_own_loop(client, users, run, args.timeout)
    finally:
        await client.aclose()
    run.wall = time.time() - start
    return run, faults


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=40, help="exports per scenario (default 40; --small: 12)")
    parser.add_argument("--small", action="store_true", help="a quick run for the smoke test (well under 60 s)")
    parser.add_argument("--check", action="store_true", help="exit 1 when any TARGET is a MISS")
    parser.add_argument(
        "--loop",
        choices=("engine", "own"),
        default="engine",
        help="who watches: the real OperationsEngine (default) or a minimal polling loop",
    )
    parser.add_argument("--storm", type=float, default=20.0, help="storm length in seconds (default 20)")
    parser.add_argument("--sporadic", type=float, default=0.05, help="share of polls throttled in (a) (default 0.05)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up a scenario after this many seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.small:
        args.ops = min(args.ops, 12)

    retry_after = 1.0

    def calm(faults: FaultTransport, start: float) -> None:
        faults.sporadic = 0.0

    def sporadic(faults: FaultTransport, start: float) -> None:
        faults.sporadic = args.sporadic

    storm_start_delay = 1.0

    def storm(faults: FaultTransport, start: float) -> None:
        faults.storm = (start + storm_start_delay, start + storm_start_delay + args.storm)

    low, high = (3.0, 6.0) if args.small else (4.0, 12.0)
    baseline, _ = asyncio.run(scenario(args, configure=calm, retry_after=retry_after, low=low, high=high))
    throttled, faults_a = asyncio.run(scenario(args, configure=sporadic, retry_after=retry_after, low=low, high=high))
    # (b): exports finish during the storm, so the first completion can only be noticed after it.
    stormy, faults_b = asyncio.run(
        scenario(
            args,
            configure=storm,
            retry_after=retry_after,
            low=storm_start_delay + 2.0,
            high=storm_start_delay + min(args.storm - 1.0, 10.0),
        )
    )

    target_a = retry_after + 0.5
    med_base, med_throttled = median(baseline.latencies), median(throttled.latencies)
    throttled_429 = sum(1 for _, _, status in faults_a.log if status == 429)
    polls_a = sum(1 for _, method, _ in faults_a.log if method == "GET")
    assert faults_b.storm is not None
    storm_from, storm_to = faults_b.storm
    in_storm = [at for at, _, _ in faults_b.log if storm_from <= at < storm_to]
    after_storm = [at for at in stormy.noticed_at if at >= storm_to]
    first_after = (min(after_storm) - storm_to) if after_storm else float("inf")
    noticed_in_storm = sum(1 for at in stormy.noticed_at if at < storm_to)

    ok_a = med_throttled <= target_a and throttled.final == throttled.accepted == args.ops and not throttled.timed_out
    ok_b_count = len(in_storm) <= 30
    ok_b_first = first_after <= 15.0 and stormy.final == stormy.accepted == args.ops and not stormy.timed_out
    rows = [
        ("operations", f"{args.ops} per scenario, Retry-After {retry_after:g} s on polls, watched by {throttled.loop}"),
        ("simulator", "in-process SimulatedTenant behind this script's FaultTransport (no network)"),
        (
            "(a) without throttling",
            f"median {med_base:.3f} s, p95 {percentile(baseline.latencies, 95):.3f} s "
            f"(n={len(baseline.latencies)}, final {baseline.final}/{args.ops})",
        ),
        (
            f"(a) {args.sporadic:.0%} of polls 429, no Retry-After",
            f"median {med_throttled:.3f} s, p95 {percentile(throttled.latencies, 95):.3f} s "
            f"(n={len(throttled.latencies)}, final {throttled.final}/{args.ops}; {throttled_429} of {polls_a} polls "
            f"throttled)" + (" TIMED OUT" if throttled.timed_out else ""),
        ),
        (
            "(b) storm",
            f"{args.storm:g} s of 429 on every request, from {storm_start_delay:g} s after the start; "
            f"{len(in_storm)} requests in it; {noticed_in_storm} completions noticed inside it; "
            f"final {stormy.final}/{args.ops}" + (" TIMED OUT" if stormy.timed_out else ""),
        ),
        (
            f"TARGET (a) median detection <= Retry-After + 0.5 s with {args.sporadic:.0%} throttled",
            verdict(ok_a) + f" ({med_throttled:.3f} s vs {target_a:g} s; without throttling {med_base:.3f} s)",
        ),
        ("TARGET (b) at most 30 requests during the storm", verdict(ok_b_count) + f" ({len(in_storm)})"),
        (
            "TARGET (b) first completion noticed <= 15 s after the storm",
            verdict(ok_b_first) + f" ({first_after:.2f} s)",
        ),
    ]
    print_block("throttle: throttling that slows, not stops", rows)
    ok = ok_a and ok_b_count and ok_b_first
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
