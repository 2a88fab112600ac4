"""When an operation is next due: the pure scheduling function, without the simulator."""

from __future__ import annotations

from typing import Any

from console.ops.schedule import (
    DEFAULT_POLL_INTERVAL,
    LEARN_FRACTION,
    MIN_POLL_INTERVAL,
    SECOND_SAMPLE_FRACTION,
    ProgressSample,
    eta,
    next_poll,
    takeover_due,
)


def next_poll_delay(**when: Any) -> float:
    """Seconds until the operation is next due (``next_poll``'s delay)."""
    return next_poll(**when).delay


def test_never_before_retry_after_or_the_floors() -> None:
    assert next_poll_delay(retry_after=30, fair_interval=1) == 30
    assert next_poll_delay(retry_after=None, fair_interval=1) == DEFAULT_POLL_INTERVAL
    assert next_poll_delay(retry_after=0, fair_interval=0) == MIN_POLL_INTERVAL
    assert next_poll_delay(retry_after=-5, fair_interval=0) == MIN_POLL_INTERVAL
    assert next_poll_delay(retry_after=5, fair_interval=1, floor=300) == 300
    # A back-off floor holds even when the budget binds and the ETA is near.
    first = ProgressSample(0.0, 10.0)
    assert next_poll_delay(retry_after=5, fair_interval=800, progress=99, first=first, now=100, floor=40) == 40


def test_progress_rate_gives_the_eta() -> None:
    assert eta(100.0, 60.0, ProgressSample(0.0, 10.0)) == 80.0
    assert eta(100.0, None, ProgressSample(0.0, 10.0)) is None
    assert eta(100.0, 10.0, ProgressSample(0.0, 10.0)) is None
    assert eta(100.0, 50.0, None) is None


def test_when_the_budget_binds_the_poll_lands_just_after_the_eta() -> None:
    first = ProgressSample(0.0, 10.0)
    delay = next_poll_delay(retry_after=60, fair_interval=800, progress=60, first=first, now=100)
    assert 80 < delay <= 80 + 5
    # Never before Retry-After, even when about to finish.
    assert next_poll_delay(retry_after=60, fair_interval=800, progress=99, first=first, now=1000) == 60
    # A far ETA is re-checked after a few fair intervals at most.
    slow = next_poll_delay(retry_after=60, fair_interval=100, progress=11, first=first, now=1000)
    assert slow == 300


def test_without_an_estimate_it_comes_back_sooner_than_the_fair_interval() -> None:
    assert next_poll_delay(retry_after=60, fair_interval=800, progress=0, first=None, now=10) == 800 * LEARN_FRACTION
    # Right after the first progress sample: a Retry-After later, to learn the rate early.
    assert next_poll_delay(retry_after=60, fair_interval=800, progress=5, first=ProgressSample(10, 5), now=10) == 60
    # The budget does not bind: Retry-After it is.
    assert next_poll_delay(retry_after=60, fair_interval=20, progress=50, first=ProgressSample(0, 10), now=10) == 60


def test_a_takeover_waits_for_the_dead_owners_next_poll_and_retry_after() -> None:
    assert takeover_due(1000.0, next_poll_at=1100.0, lease_until=900.0, retry_after=60.0) == 1100.0
    assert takeover_due(1000.0, next_poll_at=950.0, lease_until=990.0, retry_after=60.0) == 1050.0
    assert takeover_due(1000.0, next_poll_at=None, lease_until=None, retry_after=None) == 1000.0


def test_the_second_sample_comes_well_before_the_longest_the_export_can_still_take() -> None:
    first = ProgressSample(1400.0, 20.0)
    # Submitted at 1000 and 20 % done at 1400: had it started at once, 1,600 s are left at most.
    delay = next_poll_delay(retry_after=60, fair_interval=800, progress=20, first=first, now=1400, submitted=1000)
    assert delay == 1600 * SECOND_SAMPLE_FRACTION
    # Never sooner than Retry-After, never later than the fair interval.
    assert (
        next_poll_delay(
            retry_after=60, fair_interval=800, progress=90, first=ProgressSample(1400, 90), now=1400, submitted=1000
        )
        == 60
    )
    assert (
        next_poll_delay(
            retry_after=60, fair_interval=800, progress=1, first=ProgressSample(1400, 1), now=1400, submitted=1000
        )
        == 800
    )


def test_landing_polls_are_marked() -> None:
    first = ProgressSample(0.0, 10.0)
    assert next_poll(retry_after=60, fair_interval=800, progress=60, first=first, now=100).landing
    assert not next_poll(retry_after=60, fair_interval=800, progress=11, first=first, now=1000).landing
    assert not next_poll(retry_after=60, fair_interval=10, progress=60, first=first, now=100).landing
