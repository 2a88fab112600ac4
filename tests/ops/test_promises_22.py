"""Issue 22: the engine's promises that a one-line break passed the suite, each by a test that fails then.

Polling and budget (a poll never before its due time, the backoff after a failed poll, the shared
ledger of the tenant's hour, the daily quotas) and leases across processes (a lost or lapsed lease
stops polling, a live owner's row is never taken over), through the engine with the manual clock,
the simulated tenant and the journal other processes share.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from console.auth.base import StaticTokenProvider
from console.clock import ManualClock
from console.graph import errors
from console.graph.client import GraphClient
from console.ops.budget import HOUR, PollBudget, Reservation
from console.ops.engine import ERROR_BACKOFF_START, LEASE_TTL, AlreadyExporting
from console.ops.events import ExportTarget, OperationEvent
from console.ops.journal import HEARTBEAT_TIMEOUT, OperationJournal
from console.sim.graph import POLLS
from console.sim.tenant import DEMO_GRAPH_URL
from tests.ops.rig import Rig, Side, location_for


def targets(rig: Rig, n: int, start: int = 0) -> list[ExportTarget]:
    return [
        ExportTarget(user_id=u, storage_location=location_for(start + i)) for i, u in enumerate(rig.users(n, start))
    ]


class DueLog:
    """Every next poll the engine scheduled, with the moment it said so (from its events)."""

    def __init__(self, rig: Rig, side: Side) -> None:
        self.rig = rig
        self.said: list[tuple[float, str, float]] = []
        side.engine.subscribe(self._seen)

    def _seen(self, event: OperationEvent) -> None:
        view = event.operation
        if view.operation_id and view.next_poll_at is not None:
            self.said.append((self.rig.clock.now(), view.operation_id, view.next_poll_at))

    def early(self) -> list[tuple[str, float, float]]:
        """Polls sent before the due time the engine had last given their operation: (id, sent, due)."""
        found: list[tuple[str, float, float]] = []
        for request in self.rig.tenant.requests:
            if request.kind != "poll" or not request.operation_id:
                continue
            said = [due for at, op, due in self.said if op == request.operation_id and at < request.at]
            if said and request.at < said[-1] - 1e-6:
                found.append((request.operation_id, request.at, said[-1]))
        return found


async def test_a_poll_never_leaves_before_its_due_time_even_when_another_queue_head_is_due(tmp_path: Path) -> None:
    # A tight budget makes the engine aim polls at each export's finish (the landing queue) beside
    # its learning polls: two queues whose heads fall close together.
    rig = Rig(tmp_path, retry_after=1, duration=900, profiles=60)
    rig.tenant.graph.config.export_duration_jitter = 0.5
    side = rig.side(budget=1000)
    due = DueLog(rig, side)
    await side.engine.start()
    await side.engine.submit(targets(rig, 60))
    await rig.run_until(lambda: side.engine.active == 0, limit=20_000)
    assert len(rig.polls()) > 100
    assert due.early() == [], "a poll left before the due time the engine had given it"
    assert rig.early_polls() == 0
    await rig.close()


def single_attempt_client(rig: Rig, side: Side) -> None:
    """Give a side a client that tries each request once, so the engine's own backoff is what shows."""
    side.client = GraphClient(
        DEMO_GRAPH_URL,
        StaticTokenProvider(rig.tenant.issue_token(lifetime=10**7)),
        transport=rig.tenant.transport(),
        clock=rig.clock,
        max_attempts=1,
    )
    side.engine.client = side.client


@pytest.mark.parametrize("fault", ["503 without Retry-After", "network error"])
async def test_after_a_failed_poll_the_next_poll_comes_after_the_error_backoff_not_the_60_s_default(
    tmp_path: Path, fault: str
) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=100_000)
    side = rig.side()
    single_attempt_client(rig, side)
    failures: list[float] = []
    side.engine.subscribe(lambda _event: failures.append(rig.clock.now()), kinds=["error"])
    await side.engine.start()
    await side.engine.submit(targets(rig, 1))
    await rig.run_for(12)  # two good polls
    if fault == "network error":
        rig.tenant.graph.faults.drop(1, "before", only=POLLS)
    else:
        rig.tenant.graph.faults.fail(1, status=503, retry_after=None, only=POLLS)
    await rig.run_for(30)
    [view] = side.engine.operations()
    assert view.state == "tracking"
    assert len(failures) == 1, "the fault did not reach the engine"
    after = [at for at in rig.polls() if at > failures[0]]
    assert after, "nothing polled after the failure"
    gap = after[0] - failures[0]
    assert gap <= ERROR_BACKOFF_START + 1e-6, f"the retry after a failed poll waited {gap:.1f} s, not the error backoff"
    await rig.close()


# -- the tenant's budget: one ledger of the sliding hour for every process ----------------------

TENANT = "tenant-a"


def shared_budget(journal: OperationJournal, owner: str, per_hour: int, clock: ManualClock) -> PollBudget:
    """A process's budget on the journal's ledger (as the engine binds it)."""
    holder: list[PollBudget] = []

    async def reserve(now: float, want: int) -> Reservation:
        b = holder[0]
        return journal.reserve_requests(
            TENANT, owner, now, want, per_hour=b.per_hour, burst=b.burst, rate=b.rate, grace=b.grace
        )

    holder.append(PollBudget(per_hour, clock, reserve=reserve))
    return holder[0]


async def spend_for(budget: PollBudget, clock: ManualClock, seconds: float) -> list[float]:
    """Spend as fast as the budget allows for ``seconds`` of the manual clock; when each slot was granted."""
    granted: list[float] = []

    async def taker() -> None:
        while True:
            await budget.acquire()
            granted.append(clock.now())

    task = asyncio.create_task(taker())
    end = clock.now() + seconds
    while clock.now() < end:
        for _ in range(5):
            await asyncio.sleep(0)
        deadline = clock.next_deadline()
        clock.advance(max(0.0, min(end, deadline if deadline is not None else end) - clock.now()))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return granted


async def test_the_ledger_keeps_every_reserved_slot_of_the_last_hour_for_the_next_process(tmp_path: Path) -> None:
    # One process spends for 40 minutes at 600 an hour; then another, told to spend at most 200 an
    # hour, starts on the same journal: the hour already holds more than 200, so it waits until
    # enough of them have left the sliding hour (not a 30-minute one, and not a ledger that forgot).
    clock = ManualClock()
    path = tmp_path / "journal.sqlite3"
    first_journal, second_journal = OperationJournal(path), OperationJournal(path)
    first = await spend_for(shared_budget(first_journal, "p1", 600, clock), clock, 40 * 60)
    assert len(first) >= 390
    assert first_journal.requests_in_last_hour(TENANT, clock.now()) >= len(first)
    second = await spend_for(shared_budget(second_journal, "p2", 200, clock), clock, 3 * HOUR)
    assert second, "the second process never got a slot"
    for at in second:
        in_hour = sum(1 for t in first + second if at - HOUR < t < at)
        assert in_hour < 200, f"a slot was granted with {in_hour} requests already in the tenant's hour"
    first_journal.close()
    second_journal.close()


# -- the daily export quotas, counted from the journal --------------------------------------------


async def test_the_tenants_daily_quota_counts_the_whole_batch_being_checked(tmp_path: Path) -> None:
    rig = Rig(tmp_path, profiles=120)
    side = rig.side()
    await side.engine.start()
    for n in range(960):  # 960 exports today, none of them over a user's own 100
        side.journal.record_intent(rig.tenant.tenant_id, f"earlier-user-{n % 20}", "acct", rig.clock.now())
    with pytest.raises(errors.QuotaExceeded, match="1000 exports a day for the tenant"):
        await side.engine.submit(targets(rig, 50))
    assert not [r for r in rig.tenant.requests if r.kind == "export"], "a batch past the daily limit was posted"
    outcomes = await side.engine.submit(targets(rig, 40))  # exactly up to the limit
    assert all(o.accepted for o in outcomes)
    assert (await side.engine.quota()).tenant_left == 0
    await rig.close()


async def test_the_daily_quotas_count_the_last_24_hours_not_12(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    user = rig.users(1)[0]
    for _ in range(100):
        side.journal.record_intent(rig.tenant.tenant_id, user, "acct", rig.clock.now())
    rig.clock.advance(13 * 3600)  # still within the day
    with pytest.raises(errors.QuotaExceeded, match="100 exports a day"):
        await side.engine.submit(targets(rig, 1), force=True)
    assert (await side.engine.quota()).user_left(user) == 0
    assert (await side.engine.quota()).tenant_used == 100
    rig.clock.advance(11 * 3600 + 1)  # the day has passed
    assert (await side.engine.quota()).user_left(user) == 100
    await rig.close()


# -- leases across processes ----------------------------------------------------------------------


async def test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=400)
    stalled, other = rig.side(), rig.side()
    await stalled.engine.start()
    await other.engine.start()
    await stalled.engine.submit(targets(rig, 3))
    await rig.run_for(20)
    assert stalled.engine.active == 3 and other.engine.active == 0

    def locked(*_args: object, **_kwargs: object) -> set[int]:
        raise sqlite3.OperationalError("disk I/O error")

    # Its journal cannot be written for longer than a lease: no renewal, no heartbeat.
    real_renew = stalled.engine.writer.journal.renew
    monkeypatch.setattr(stalled.engine.writer.journal, "renew", locked)
    await rig.run_for(LEASE_TTL + 1)  # its lease has ended by now
    sent_at_lapse = stalled.engine.polls_sent
    await rig.run_for(60)
    assert other.engine.active == 3, "the lapsed operations were not taken over"
    assert stalled.engine.polls_sent == sent_at_lapse, "a process polled while its lease had lapsed"
    # Each poll it held back gave its slot of the tenant's budget back (none spent without a request).
    assert stalled.engine.budget.spent == stalled.engine.polls_sent

    # The journal comes back: it learns at its next sync that the leases are gone, and stops for good.
    monkeypatch.setattr(stalled.engine.writer.journal, "renew", real_renew)
    await rig.run_for(60)
    assert stalled.engine.active == 0
    assert stalled.engine.polls_sent == sent_at_lapse, "a process that lost its lease kept polling"
    await rig.run_until(lambda: all(v.state == "final" for v in other.engine.operations()), limit=3000)
    assert rig.early_polls() == 0, "two processes polled one operation"
    await rig.close()


async def test_a_claim_never_takes_a_row_whose_owner_is_alive_even_without_a_lease(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=400)
    # A live process (this one's pid, a fresh heartbeat) owns a tracking row that carries no lease
    # (as written by an older version): it polls it, nobody else may.
    owner = OperationJournal(rig.path)
    owner.register_process("owner-process", rig.clock.now(), pid=os.getpid())
    row = owner.record_intent(
        rig.tenant.tenant_id, rig.users(1)[0], "acct", rig.clock.now(), owner="owner-process", lease_until=None
    )
    row.state, row.operation_id = "tracking", "op-1"
    row.location = f"{DEMO_GRAPH_URL.replace('/beta', '/v1.0')}/dataPolicyOperations/op-1"
    owner.queue(row)
    owner.flush(rig.clock.now())
    [stored] = owner.rows()
    assert stored.owner == "owner-process" and stored.lease_until is None and stored.state == "tracking"
    watcher = rig.side()
    await watcher.engine.start()
    await rig.run_for(HEARTBEAT_TIMEOUT / 2)
    assert watcher.engine.active == 0, "a row whose owner is alive was taken over"
    [after] = owner.rows()
    assert after.owner == "owner-process"
    owner.close()
    await rig.close()


# -- further breaks of the same promises (issue 22, "where else would a one-line change pass") -----


async def test_a_success_ends_the_error_backoff_so_the_next_failure_starts_short_again(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=100_000)
    side = rig.side()
    single_attempt_client(rig, side)
    failures: list[float] = []
    side.engine.subscribe(lambda _event: failures.append(rig.clock.now()), kinds=["error"])
    await side.engine.start()
    await side.engine.submit(targets(rig, 1))
    await rig.run_for(12)
    rig.tenant.graph.faults.fail(4, status=503, retry_after=None, only=POLLS)  # a bad spell: the backoff grows
    await rig.run_until(lambda: len(failures) == 4, limit=600)
    await rig.run_for(200)  # answered again meanwhile
    assert rig.tenant.requests[-1].status == 200
    rig.tenant.graph.faults.fail(1, status=503, retry_after=None, only=POLLS)
    await rig.run_until(lambda: len(failures) == 5, limit=600)
    await rig.run_for(30)
    after = [at for at in rig.polls() if at > failures[-1]]
    assert after, "nothing polled after the failure"
    gap = after[0] - failures[-1]
    assert gap <= ERROR_BACKOFF_START + 1e-6, f"a failure after a success waited {gap:.1f} s: the old streak went on"
    await rig.close()


async def test_a_takeover_waits_the_last_retry_after_graph_gave_not_the_first(tmp_path: Path) -> None:
    # The export was accepted with Retry-After 5; its polls then said 300. The owner polls once more
    # and dies before writing that poll down: the survivor must wait 300 s after that unrecorded
    # poll could have happened, so the Retry-After the journal keeps is the last one, not the 202's.
    rig = Rig(tmp_path, retry_after=5, duration=100_000)
    dying, survivor = rig.side(), rig.side()
    await dying.engine.start()
    await survivor.engine.start()
    await dying.engine.submit(targets(rig, 1))
    rig.tenant.graph.config.retry_after = 300
    await rig.run_for(10)  # the first poll: Retry-After 300, written down
    [recorded] = [v.next_poll_at for v in dying.engine.operations()]
    assert recorded is not None
    await rig.run_until(lambda: len(rig.polls()) == 2, limit=400)  # the next poll, at the recorded time
    await dying.close(release=False)  # kill -9 ...
    db = sqlite3.connect(rig.path)  # ... before that last poll was written down
    db.execute("UPDATE operations SET next_poll_at = ?", (recorded,))
    db.commit()
    db.close()
    await rig.run_until(lambda: len(rig.polls()) == 3, limit=2000)
    assert survivor.engine.active == 1
    assert rig.early_polls() == 0, "the takeover polled within the Retry-After of the dead owner's last poll"
    await rig.close()


async def test_a_clean_stop_hands_its_operations_over_at_their_saved_next_poll_not_a_lease_later(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, retry_after=60, duration=300)
    leaving, staying = rig.side(), rig.side()
    await leaving.engine.start()
    await staying.engine.start()
    await leaving.engine.submit(targets(rig, 3))
    await rig.run_for(30)
    saved = sorted(v.next_poll_at or 0.0 for v in leaving.engine.operations())
    assert all(at > rig.clock.now() for at in saved)
    await leaving.close()  # gives its leases back
    before = len(rig.polls())
    await rig.run_until(lambda: len(rig.polls()) == before + 3, limit=600)
    taken_over = rig.polls()[before:]
    assert staying.engine.active == 3
    assert max(taken_over) <= max(saved) + 1.0, (
        f"handed over at {[round(t - s) for t, s in zip(taken_over, saved, strict=True)]} s after the saved "
        "next polls: the leases were not given back, so they had to lapse"
    )
    assert rig.early_polls() == 0
    await rig.close()


async def test_an_unconfirmed_export_blocks_the_user_whatever_the_case_of_their_id(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    [target] = targets(rig, 1)
    # Written by another process (or an earlier version) with the id in capitals; GUIDs ignore case.
    row = side.journal.record_intent(rig.tenant.tenant_id, target.user_id.upper(), "acct", rig.clock.now())
    row.state = "unconfirmed"
    side.journal.queue(row)
    side.journal.flush(rig.clock.now())
    with pytest.raises(AlreadyExporting):
        await side.engine.submit([target])
    assert not [r for r in rig.tenant.requests if r.kind == "export"], "an unconfirmed export was posted again"
    await rig.close()


async def test_an_export_post_that_fails_unexpectedly_is_unconfirmed_and_never_sent_again(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    side = rig.side()
    await side.engine.start()
    real_post = side.client.export_personal_data

    async def post_then_fail(user_id: str, location: str):  # type: ignore[no-untyped-def]
        await real_post(user_id, location)  # Graph accepted it ...
        raise RuntimeError("the answer could not be read")  # ... and then something nobody foresaw

    side.client.export_personal_data = post_then_fail  # type: ignore[method-assign, assignment]
    [outcome] = await side.engine.submit(targets(rig, 1))
    assert not outcome.accepted and outcome.operation is not None
    assert outcome.operation.state == "unconfirmed", "an export Graph may have accepted was taken as refused"
    side.client.export_personal_data = real_post  # type: ignore[method-assign]
    with pytest.raises(AlreadyExporting):
        await side.engine.submit(targets(rig, 1))
    assert len([r for r in rig.tenant.requests if r.kind == "export"]) == 1
    await rig.close()
