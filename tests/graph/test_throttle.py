"""The pacer alone, on a manual clock: cycles, the gate, the probe, the pace."""

from __future__ import annotations

import asyncio
import random

import pytest

from console.clock import ManualClock
from console.graph.throttle import Pacer, PaceRules, Ticket


def take(pacer: Pacer, clock: ManualClock) -> Ticket:
    got = pacer.try_acquire(clock.now())
    assert isinstance(got, Ticket), f"expected to go now, got a wait of {got!r}"
    return got


def test_sixteen_concurrent_429s_without_retry_after_are_one_cycle() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, rng=random.Random(1))
    tickets = [take(pacer, clock) for _ in range(16)]
    clock.advance(0.05)
    waits = [pacer.throttled(t, None) for t in tickets]
    assert pacer.streak == 1
    assert waits == [0.0] * 16  # one cycle without Retry-After: no shared gate at all
    assert pacer.gates_closed == 0 and pacer.gate_until <= clock.now()
    assert pacer.rate is not None  # ... but the pace was cut, once
    cut = pacer.rate
    assert cut == pytest.approx(max(0.5, 16 / 2.0 * 0.5))


def test_second_consecutive_cycle_closes_the_gate_and_a_probe_goes_first() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, rng=random.Random(2))
    first = take(pacer, clock)
    pacer.throttled(first, None)
    clock.advance(3)
    second = take(pacer, clock)  # sent after the first escalation: a new cycle
    wait = pacer.throttled(second, None)
    assert pacer.streak == 2 and pacer.gates_closed == 1
    assert 1.0 <= wait <= 2.0  # gate_start jittered
    assert isinstance(pacer.try_acquire(clock.now()), float)  # closed for everyone
    clock.advance(wait)
    probe = take(pacer, clock)
    assert probe.probe
    assert pacer.try_acquire(clock.now()) is None  # the rest wait for the probe's answer
    clock.advance(10)
    assert pacer.try_acquire(clock.now()) is None  # however long it takes
    pacer.succeeded(probe)
    assert pacer.streak == 0
    after = take(pacer, clock)
    assert not after.probe


def test_a_failed_probe_escalates_and_a_new_probe_tests_again() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, rng=random.Random(3))
    waits = []
    ticket = take(pacer, clock)
    pacer.throttled(ticket, None)
    for _ in range(8):
        clock.advance(max(0.0, pacer.gate_until - clock.now()) + 3)
        ticket = take(pacer, clock)
        waits.append(pacer.throttled(ticket, None))
    assert pacer.streak == 9
    assert waits[0] < waits[2] or waits[1] < waits[3]  # escalating
    assert max(waits) <= PaceRules().gate_cap  # never beyond the cap: the end of a storm is noticed soon


def test_retry_after_closes_the_gate_for_that_long_with_a_probe() -> None:
    clock = ManualClock()
    pacer = Pacer(clock)
    ticket = take(pacer, clock)
    others = [take(pacer, clock) for _ in range(3)]
    assert pacer.throttled(ticket, 5.0) == pytest.approx(5.0)
    assert pacer.rate is None  # Graph said how long: no pace cut
    for t in others:  # answers to requests in flight together: the same cycle
        pacer.throttled(t, 5.0)
    assert pacer.streak == 1
    clock.advance(4.9)
    assert pacer.try_acquire(clock.now()) == pytest.approx(0.1)
    clock.advance(0.1)
    probe = take(pacer, clock)
    assert probe.probe and pacer.try_acquire(clock.now()) is None
    pacer.throttled(probe, 2.0)  # the probe is throttled again: closed again, next one probes
    clock.advance(2.0)
    assert take(pacer, clock).probe


def test_a_probe_without_an_answer_hands_the_probe_to_the_next_request() -> None:
    clock = ManualClock()
    pacer = Pacer(clock)
    pacer.throttled(take(pacer, clock), 1.0)
    clock.advance(1.0)
    probe = take(pacer, clock)
    pacer.failed(probe)  # transport error, cancelled: proves nothing
    again = take(pacer, clock)
    assert again.probe


def test_a_sporadic_429_cuts_the_pace_but_stops_nobody() -> None:
    clock = ManualClock()
    pacer = Pacer(clock)
    for _ in range(20):  # 10 requests a second for 2 s
        pacer.succeeded(take(pacer, clock))
        clock.advance(0.1)
    pacer.throttled(take(pacer, clock), None)
    assert pacer.rate == pytest.approx(5.0, rel=0.1)  # half the measured 10/s
    assert isinstance(pacer.try_acquire(clock.now()), Ticket)  # the next request goes at once
    for _ in range(10):  # successes recover the pace additively until it is lifted
        clock.advance(0.2)
        got = pacer.try_acquire(clock.now())
        assert isinstance(got, Ticket)
        pacer.succeeded(got)
    assert pacer.rate is None


def test_the_pace_is_never_cut_below_its_floor() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, rng=random.Random(4), rules=PaceRules(min_rate=1.5))
    for _ in range(8):  # eight throttled cycles in a row, each halving the pace
        got = pacer.try_acquire(clock.now())
        while not isinstance(got, Ticket):  # the gate (or the pace) asks to wait: wait that long
            assert got is not None
            clock.advance(got)
            got = pacer.try_acquire(clock.now())
        pacer.throttled(got, None)
    assert pacer.rate == pytest.approx(1.5)


def test_the_pace_spaces_requests_at_the_allowed_rate() -> None:
    clock = ManualClock()
    pacer = Pacer(clock)
    for _ in range(8):
        take(pacer, clock)
    pacer.throttled(take(pacer, clock), None)  # 9 sends in the window: 4.5/s -> 2.25/s
    assert pacer.rate == pytest.approx(2.25)
    granted = 0
    for _ in range(40):
        if isinstance(pacer.try_acquire(clock.now()), Ticket):
            granted += 1
        clock.advance(0.1)
    assert granted <= 2.25 * 4 + 2.25  # four seconds at the rate plus one second's burst


def test_answers_to_requests_sent_before_a_success_do_not_restart_a_streak() -> None:
    clock = ManualClock()
    pacer = Pacer(clock)
    old = [take(pacer, clock) for _ in range(4)]
    pacer.throttled(old[0], None)
    newer = take(pacer, clock)
    pacer.succeeded(newer)  # a request sent after the escalation got through: the streak ends
    assert pacer.streak == 0
    pacer.throttled(old[1], None)  # a late answer from the old cycle
    assert pacer.streak == 0 and pacer.gates_closed == 0


async def test_waiters_wake_when_the_probe_succeeds() -> None:
    clock = ManualClock()
    pacer = Pacer(clock)
    pacer.throttled(take(pacer, clock), 0.5)
    clock.advance(0.5)
    probe = await pacer.acquire()
    assert probe.probe
    waiters = [asyncio.ensure_future(pacer.acquire()) for _ in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    pacer.succeeded(probe)
    got = await asyncio.wait_for(asyncio.gather(*waiters), 1.0)
    assert not any(t.probe for t in got)
