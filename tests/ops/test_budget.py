"""PollBudget and its ledger on their own: pacing, the sliding-hour guard, sharing one journal."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.clock import ManualClock
from console.ops.budget import HOUR, PollBudget, plan_reservation
from console.ops.journal import OperationJournal

TENANT = "tenant-a"


async def spend(budget: PollBudget, clock: ManualClock, count: int, *, until: float) -> list[float]:
    """Acquire ``count`` slots as fast as the budget allows; returns when each was granted."""
    granted: list[float] = []

    async def taker() -> None:
        for _ in range(count):
            await budget.acquire()
            granted.append(clock.now())

    task = asyncio.create_task(taker())
    end = clock.now() + until
    while not task.done() and clock.now() < end:
        for _ in range(5):
            await asyncio.sleep(0)
        deadline = clock.next_deadline()
        if deadline is not None:
            clock.advance(max(0.0, deadline - clock.now()))
        else:
            await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return granted


def in_window(times: list[float], window: float = HOUR) -> int:
    best = start = 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_pacing_is_the_budget_rate_after_a_small_burst() -> None:
    clock = ManualClock()
    budget = PollBudget(360, clock, burst=1.8)  # steady (360 - 1.8) / h
    t0 = clock.now()
    granted = await spend(budget, clock, 1000, until=600)
    # Ten minutes at 360/h is about 60 requests: a pacer 10x too fast would grant about 600.
    assert 55 <= len(granted) <= 63
    gaps = [b - a for a, b in zip(granted[2:], granted[3:], strict=False)]
    assert min(gaps) >= 3600 / 360 - 0.1
    assert granted[0] == t0


def test_a_tight_budget_still_lets_a_few_pages_of_profiles_through_at_once() -> None:
    # 100 an hour: five back to back (listing a few pages), then the steady pace.
    assert PollBudget(100, ManualClock()).burst == 5
    assert PollBudget(9000, ManualClock()).burst == 20
    assert PollBudget(10, ManualClock()).burst == 1


async def test_no_sliding_hour_holds_more_than_the_budget() -> None:
    clock = ManualClock()
    budget = PollBudget(100, clock, burst=20)
    granted = await spend(budget, clock, 400, until=3 * HOUR)
    assert len(granted) >= 250
    assert in_window(granted) <= 100


def test_the_sliding_hour_guard_waits_for_the_oldest_requests_to_leave() -> None:
    now = 10_000.0
    # Another process spent the whole hour's budget in a burst 1,000 s ago; the bucket alone would allow more.
    window = [(now - 1000.0, 100)]
    plan = plan_reservation(now=now, want=4, tat=now - 500, window=window, per_hour=100, burst=50, rate=1.0)
    assert plan.slots == ()
    assert plan.wait == 2600.0
    # Room for two more: only two granted, whatever was asked.
    plan = plan_reservation(
        now=now, want=4, tat=now - 500, window=[(now - 1000.0, 98)], per_hour=100, burst=50, rate=1.0
    )
    assert len(plan.slots) == 2


def test_a_reservation_paces_its_slots_and_records_them_after_the_last() -> None:
    now = 10_000.0
    plan = plan_reservation(now=now, want=4, tat=now, window=[], per_hour=3600, burst=1, rate=1.0, grace=5)
    assert plan.slots == (now + 1, now + 2, now + 3, now + 4)
    assert plan.tat == now + 4 and plan.ledger_at == now + 4 + 5
    quiet = plan_reservation(now=now, want=3, tat=now - 1000, window=[], per_hour=3600, burst=3, rate=1.0)
    assert quiet.slots == (now, now, now), "after a quiet spell the burst is free at once"


async def test_two_budgets_on_one_journal_share_the_tenants_budget(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "journal.sqlite3"
    journals = [OperationJournal(path), OperationJournal(path)]

    def reserver(journal: OperationJournal, owner: str, budget_ref: list[PollBudget]):  # type: ignore[no-untyped-def]
        async def reserve(now: float, want: int):  # type: ignore[no-untyped-def]
            b = budget_ref[0]
            return journal.reserve_requests(
                TENANT, owner, now, want, per_hour=b.per_hour, burst=b.burst, rate=b.rate, grace=b.grace
            )

        return reserve

    budgets: list[PollBudget] = []
    for n, journal in enumerate(journals):
        ref: list[PollBudget] = []
        budget = PollBudget(600, clock, reserve=reserver(journal, f"p{n}", ref))
        ref.append(budget)
        budgets.append(budget)
    granted: list[float] = []

    async def taker(budget: PollBudget) -> None:
        while True:
            await budget.acquire()
            granted.append(clock.now())

    tasks = [asyncio.create_task(taker(b)) for b in budgets]
    end = clock.now() + 2 * HOUR
    while clock.now() < end:
        for _ in range(5):
            await asyncio.sleep(0)
        deadline = clock.next_deadline()
        clock.advance(max(0.0, (deadline or clock.now() + 1) - clock.now()))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    granted.sort()
    assert in_window(granted) <= 600, "two processes each spent a full budget"
    assert len(granted) >= 1000
    assert all(b.spent > 300 for b in budgets), "one process starved the other"
    assert journals[0].requests_in_last_hour(TENANT, clock.now()) <= 600
    for journal in journals:
        journal.close()


def test_fair_interval_follows_the_rate() -> None:
    clock = ManualClock()
    budget = PollBudget(9000, clock)
    assert abs(budget.fair_interval(2000) - 2000 / budget.rate) < 1e-9
    assert budget.chunk >= 1
