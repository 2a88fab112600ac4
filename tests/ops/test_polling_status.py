"""The engine's read-only polling snapshot behind the console's status line (issue 17, item 8)."""

from __future__ import annotations

from pathlib import Path

from console.clock import ManualClock
from console.ops.budget import HOUR, PollBudget
from console.wiring import DEMO_RUNNING, ConnectionOptions, open_demo


async def test_the_budget_counts_the_requests_of_the_last_hour_and_a_refund() -> None:
    clock = ManualClock(1_000_000.0)
    budget = PollBudget(3600, clock)
    for _ in range(3):
        await budget.acquire()
    assert budget.spent_last_hour(clock.now()) == 3
    budget.refund()
    assert budget.spent_last_hour(clock.now()) == 2
    clock.advance(HOUR + 1)
    assert budget.spent_last_hour(clock.now()) == 0


async def test_the_snapshot_says_what_is_watched_when_the_next_poll_is_and_the_budget(tmp_path: Path) -> None:
    services = open_demo(ConnectionOptions(demo=True, state_dir=str(tmp_path / "state"), poll_budget=5000))
    try:
        engine = services.engine
        await engine.start()
        idle = engine.polling_status()
        assert idle.watching == 0 and idle.next_poll_at is None and idle.per_hour == 5000
        assert services.warm_up is not None
        await services.warm_up()
        status = engine.polling_status()
        assert status.watching == DEMO_RUNNING
        assert status.next_poll_at is not None and status.throttled_until is None and not status.blocked
        engine.client.pacer.gate_until = engine.clock.now() + 30  # as after a Retry-After of 30 s
        assert engine.polling_status().throttled_until is not None
    finally:
        await services.aclose()
