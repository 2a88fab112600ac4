"""The operations engine on a manual clock: timing, budgets, failures, the journal."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from console.auth.base import StaticTokenProvider
from console.clock import ManualClock
from console.graph import errors
from console.graph.client import GraphClient
from console.ops.engine import OperationsEngine
from console.ops.events import OperationEvent
from console.ops.journal import OperationJournal
from console.sim.graph import RequestMatch
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from tests.helpers import run_clock_until

SAS = "https://acct.blob.core.windows.net/exports?sv=2022-11-02&sig=SUPERSECRETSIG0001"


class Rig:
    def __init__(
        self,
        tmp_path: Path,
        *,
        retry_after: float = 5,
        duration: float = 30,
        budget: int = 9000,
        profiles: int = 300,
        failing: tuple[str, ...] = (),
    ) -> None:
        self.clock = ManualClock()
        self.tenant = SimulatedTenant(
            profiles=profiles,
            clock=self.clock.now,
            sleep=self.clock.sleep,
            retry_after=retry_after,
            export_duration=duration,
            failing_users=failing,
        )
        # These tests send many exports to one location; Graph's one-export-per-location rule is tested elsewhere.
        self.tenant.graph.config.refuse_reused_location = False
        self.path = tmp_path / "journal.sqlite3"
        self.budget = budget
        self.events: list[OperationEvent] = []
        self.open()

    def open(self) -> None:
        self.client = GraphClient(
            DEMO_GRAPH_URL,
            StaticTokenProvider(self.tenant.issue_token(lifetime=10**7)),
            transport=self.tenant.transport(),
            clock=self.clock,
            backoff_start=0.5,
        )
        self.journal = OperationJournal(self.path)
        self.engine = OperationsEngine(
            self.client, self.journal, tenant_key=self.tenant.tenant_id, poll_budget=self.budget, clock=self.clock
        )
        self.engine.subscribe(self.events.append)

    async def close(self) -> None:
        await self.engine.stop()
        await self.client.aclose()
        self.journal.close()

    def users(self, n: int) -> list[str]:
        return [p.user_id for p in self.tenant.graph.profiles[:n]]

    def polls_by_operation(self) -> dict[str, list[tuple[float, int, str | None]]]:
        polls: dict[str, list[tuple[float, int, str | None]]] = defaultdict(list)
        for r in self.tenant.requests:
            if "dataPolicyOperations" in r.path and r.operation_id:
                polls[r.operation_id].append((r.at, r.status, r.retry_after))
        return polls

    async def until_idle(self, limit: float = 100_000) -> float:
        return await run_clock_until(self.clock, lambda: self.engine._idle.is_set(), limit=limit)


async def test_never_polls_before_retry_after_and_notices_completion_promptly(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=30)
    await rig.engine.start()
    outcomes = await rig.engine.submit(rig.users(20), SAS)
    assert all(o.accepted for o in outcomes)
    await rig.until_idle()
    views = rig.engine.operations()
    assert all(v.state == "final" and v.status == "complete" for v in views)
    submitted = {r.operation_id: r.at for r in rig.tenant.requests if r.method == "POST"}
    for op_id, polls in rig.polls_by_operation().items():
        previous = submitted.get(op_id)
        for at, _status, _ra in polls:
            assert previous is not None and at - previous >= 5 - 1e-6, "polled before Retry-After"
            previous = at
        # complete noticed at most one Retry-After after the simulator finished it (30 s after its own POST:
        # the 20 POSTs go out over a few simulated seconds, 4 at a time, each after its intent is committed)
        # (+3 s: the rig's manual clock moves on while the journal thread commits, so a poll may land a
        # little after its due time; polling only every 60 s, or never after the finish, still fails this)
        assert polls[-1][0] - (submitted[op_id] + 30) <= 5 + 3.0
    await rig.close()


async def test_budget_spreads_polls_without_overrun_and_starves_nobody(tmp_path: Path) -> None:
    budget = 400
    rig = Rig(tmp_path, retry_after=1, duration=600, budget=budget)
    await rig.engine.start()
    await rig.engine.submit(rig.users(200), SAS)
    await rig.until_idle(limit=20_000)
    polls = sorted(r.at for r in rig.tenant.requests if "dataPolicyOperations" in r.path)
    # no sliding hour holds more than the budget
    start = 0
    for end, at in enumerate(polls):
        while polls[start] <= at - 3600:
            start += 1
        assert end - start + 1 <= budget
    per_op = rig.polls_by_operation()
    assert len(per_op) == 200 and all(len(p) >= 1 for p in per_op.values())
    assert all(v.status == "complete" for v in rig.engine.operations())
    await rig.close()


async def test_failed_export_and_unknown_status_are_kept(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=2, duration=10)
    failing, odd, fine = rig.users(3)
    rig.tenant.graph.faults.failing_users.add(failing.lower())
    rig.tenant.graph.faults.unknown_status_users.add(odd.lower())
    await rig.engine.start()
    await rig.engine.submit([failing, fine], SAS)
    # The odd one runs far longer: finishing with the fine one, in the same step of the clock, it would be
    # final before the check that two are (a race the budget's batched polls made happen now and then).
    rig.tenant.graph.config.export_duration = 600
    await rig.engine.submit([odd], SAS)

    def two_final_and_the_odd_one_archiving() -> bool:
        views = rig.engine.operations()
        return sum(v.state == "final" for v in views) == 2 and any(v.status == "archiving" for v in views)

    await run_clock_until(rig.clock, two_final_and_the_odd_one_archiving)
    by_user = {v.user_id: v for v in rig.engine.operations()}
    assert by_user[failing].status == "failed"
    assert by_user[fine].status == "complete"
    assert by_user[odd].state == "tracking" and by_user[odd].status == "archiving"
    await rig.close()


async def test_permission_error_while_polling_is_reported(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=2)
    rig.tenant.graph.faults.forbid_polls = True
    await rig.engine.start()
    await rig.engine.submit(rig.users(1), SAS)
    await run_clock_until(rig.clock, lambda: rig.engine.fatal_error is not None)
    assert isinstance(rig.engine.fatal_error, errors.PermissionDenied)
    view = rig.engine.operations()[0]
    assert "User.Export.All" in view.last_error and view.state == "tracking"
    assert any(e.kind == "error" for e in rig.events)
    await rig.close()


async def test_throttled_polls_back_off_and_recover(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=2, duration=20)
    await rig.engine.start()
    await rig.engine.submit(rig.users(5), SAS)
    rig.tenant.graph.faults.throttle(30, retry_after=None, only=RequestMatch(method="GET"))
    await rig.until_idle()
    assert all(v.status == "complete" for v in rig.engine.operations())
    assert any(r.status == 429 for r in rig.tenant.requests)
    await rig.close()


async def test_unconfirmed_export_is_never_reposted(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.tenant.graph.faults.fail(1, status=504, only=RequestMatch(method="POST"))
    await rig.engine.start()
    [outcome] = await rig.engine.submit(rig.users(1), SAS)
    assert not outcome.accepted and outcome.operation is not None
    assert outcome.operation.state == "unconfirmed"
    assert len([r for r in rig.tenant.requests if r.method == "POST"]) == 1
    assert rig.journal.rows()[0].state == "unconfirmed"
    await rig.close()


async def test_rejected_export_spends_no_quota(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    await rig.engine.start()
    rig.tenant.graph.faults.forbid_all = True
    [outcome] = await rig.engine.submit(rig.users(1), SAS)
    assert outcome.exit_code == 3 and isinstance(outcome.exception, errors.PermissionDenied)
    assert (await rig.engine.quota()).tenant_used == 0
    await rig.close()


async def test_quota_refuses_a_batch_that_passes_the_daily_limit(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=1, retry_after=1)
    await rig.engine.start()
    user = rig.users(1)[0]
    for _ in range(100):
        rig.journal.record_intent(rig.tenant.tenant_id, user, "acct", rig.clock.now())
    with pytest.raises(errors.QuotaExceeded, match="100 exports a day"):
        await rig.engine.submit([user], SAS, force=True)
    assert (await rig.engine.quota()).user_left(user) == 0
    assert len([r for r in rig.tenant.requests if r.method == "POST"]) == 0
    rig.clock.advance(86_401)
    assert (await rig.engine.quota()).user_left(user) == 100
    await rig.close()


async def test_bad_storage_location_submits_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    await rig.engine.start()
    for bad in ("", "   ", "http://acct.blob.core.windows.net/c?sig=x", "no spaces allowed"):
        with pytest.raises(ValueError):
            await rig.engine.submit(rig.users(1), bad)
    assert rig.journal.rows() == [] and rig.tenant.requests == []
    await rig.close()


async def test_restart_resumes_watching_and_secrets_stay_out_of_the_journal(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=60)
    await rig.engine.start()
    await rig.engine.submit(rig.users(10), SAS)
    rig.clock.advance(20)
    await rig.close()  # the console goes away mid-way
    assert all(r.state == "tracking" for r in OperationJournal(rig.path).rows())
    rig.open()
    await rig.engine.start()
    assert rig.engine.active == 10
    await rig.until_idle()
    assert [v.status for v in rig.engine.operations()] == ["complete"] * 10
    await rig.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*"))
    assert b"SUPERSECRETSIG" not in raw and b"sig=***" in raw


async def test_intent_without_a_recorded_answer_becomes_unconfirmed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.journal.record_intent(rig.tenant.tenant_id, rig.users(1)[0], SAS, rig.clock.now())
    await rig.engine.start()
    [view] = rig.engine.operations()
    assert view.state == "unconfirmed" and "may or may not" in view.last_error
    await rig.close()


async def test_history_records_each_poll(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=3, duration=9)
    await rig.engine.start()
    [outcome] = await rig.engine.submit(rig.users(1), SAS)
    await rig.until_idle()
    assert outcome.operation is not None
    history = await rig.engine.history(outcome.operation.key)
    assert history[0].http_status == 202 and history[0].retry_after == 3
    assert history[-1].status == "complete"
    assert all(h.request_id for h in history)
    await rig.close()


async def test_an_operation_id_the_journal_already_tracks_is_not_tracked_twice(tmp_path: Path) -> None:
    """Graph answers a POST with the id of an operation another row tracks: that export is an error, never
    a second row polling the same operation (the check and the write share one trip to the journal)."""
    rig = Rig(tmp_path)
    op_id = SimulatedTenant(profiles=1, run_id=rig.tenant.graph.run_id).graph._new_operation_id()  # its next id
    first, second = rig.users(2)
    other = rig.journal.record_intent(rig.tenant.tenant_id, first, SAS, rig.clock.now())
    other.operation_id, other.state = op_id, "final"
    rig.journal.save_now(other)
    await rig.engine.start(resume=False)
    [outcome] = await rig.engine.submit([second], SAS)
    assert [r.operation_id for r in rig.tenant.requests if r.method == "POST"] == [op_id]
    assert not outcome.accepted and "already tracks" in outcome.error and outcome.exit_code == 1
    assert outcome.operation is not None and outcome.operation.state == "error"
    assert rig.engine.active == 0 and [e.kind for e in rig.events] == ["error"]
    rig.clock.advance(60)
    await rig.until_idle()
    assert not [r for r in rig.tenant.requests if r.kind == "poll"]
    rows = {r.key: r for r in rig.journal.rows()}
    assert rows[outcome.operation.key].state == "error" and rows[other.key].state == "final"
    await rig.close()
