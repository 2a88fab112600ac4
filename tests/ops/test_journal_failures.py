"""A journal that cannot be written (a full disk) never hangs a run and never loses what Graph accepted
(issue 14, item 4): the budget's ledger gives up after bounded tries, polling then stops with the reason,
no further export is sent once the journal cannot record one, and every accepted export the journal
could not record is kept for the caller to print."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from console.clock import ManualClock
from console.ops.budget import LEDGER_ATTEMPTS, LEDGER_RETRY, LedgerUnavailable, PollBudget, Reservation
from console.ops.engine import LEDGER_PAUSE
from console.ops.events import ExportTarget
from console.ops.journal import OperationJournal
from tests.ops.rig import Rig, location_for


def _disk_full(*_args: object, **_kwargs: object) -> None:
    raise sqlite3.OperationalError("disk I/O error")


async def test_a_ledger_that_cannot_be_written_gives_up_after_bounded_tries_saying_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    asked: list[float] = []

    async def reserve(now: float, want: int) -> Reservation:
        asked.append(now)
        raise OSError("disk I/O error")

    budget = PollBudget(3600, clock, reserve=reserve)
    caplog.set_level(logging.WARNING, logger="console.ops.budget")
    task = asyncio.create_task(budget.acquire())
    for _ in range(LEDGER_ATTEMPTS * 4):
        for _ in range(5):
            await asyncio.sleep(0)
        if task.done():
            break
        deadline = clock.next_deadline()
        if deadline is not None:
            clock.advance(max(0.0, deadline - clock.now()))
    assert task.done(), "the budget kept waiting for a ledger that cannot be written"
    with pytest.raises(LedgerUnavailable, match="could not be recorded in the journal"):
        task.result()
    assert len(asked) == LEDGER_ATTEMPTS
    assert clock.now() - asked[0] == pytest.approx((LEDGER_ATTEMPTS - 1) * LEDGER_RETRY)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == LEDGER_ATTEMPTS - 1 and all("retrying" in line and "disk I/O" in line for line in lines)


async def test_a_full_disk_while_polling_ends_the_wait_with_the_reason(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=600)
    side = rig.side()
    await side.engine.start(resume=False)
    outcomes = await side.engine.submit(
        [ExportTarget(user_id=u, storage_location=location_for(i)) for i, u in enumerate(rig.users(2))]
    )
    assert all(o.accepted for o in outcomes)
    real_reserve = side.engine.writer.journal.reserve_requests
    side.engine.writer.journal.reserve_requests = _disk_full  # type: ignore[assignment]
    elapsed = await rig.run_until(lambda: side.engine._idle.is_set(), limit=300)
    assert isinstance(side.engine.journal_failure, LedgerUnavailable)
    assert elapsed < 60, f"polling went on for {elapsed:.0f} simulated seconds with no ledger"
    polls = len(rig.polls())
    await rig.run_for(LEDGER_PAUSE / 2)
    assert len(rig.polls()) == polls, "polled on after the ledger gave up (outside the tenant's budget)"
    # The disk has room again: a process that lives on (the console) polls again, to the end.
    side.engine.writer.journal.reserve_requests = real_reserve  # type: ignore[method-assign]
    await rig.run_until(lambda: all(r.state == "final" for r in side.engine._rows.values()), limit=1200)
    assert side.engine._idle.is_set()
    assert rig.early_polls() == 0
    await rig.close()


async def test_exports_graph_accepted_but_the_journal_could_not_record_are_kept_and_no_more_are_sent(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=20)
    side = rig.side(submit_concurrency=1)
    await side.engine.start(resume=False)
    journal = side.engine.writer.journal
    real_flush = journal.flush
    real_post = side.client.export_personal_data

    async def post_then_fill_the_disk(user_id: str, location: str):  # type: ignore[no-untyped-def]
        accepted = await real_post(user_id, location)
        journal.flush = _disk_full
        return accepted

    side.client.export_personal_data = post_then_fill_the_disk  # type: ignore[method-assign, assignment]
    users = rig.users(3)
    outcomes = await side.engine.submit(
        [ExportTarget(user_id=u, storage_location=location_for(i)) for i, u in enumerate(users)]
    )
    posts = [r for r in rig.tenant.requests if r.kind == "export"]
    assert len(posts) == 1, "exports were sent on after the journal could not record one"
    assert outcomes[0].accepted
    assert [o.accepted for o in outcomes[1:]] == [False, False]
    assert all("not sent" in o.error for o in outcomes[1:])
    [kept] = side.engine.unjournaled()
    assert kept.user_id == users[0] and kept.operation_id and kept.location
    assert kept.operation_id == outcomes[0].operation.operation_id  # type: ignore[union-attr]
    # The disk has room again: the next flush writes it, and it is no longer only in memory.
    journal.flush = real_flush
    await rig.run_for(2)
    assert side.engine.unjournaled() == []
    reader = OperationJournal(rig.path)
    assert [r.operation_id for r in reader.rows()] == [kept.operation_id]
    reader.close()
    await rig.close()
