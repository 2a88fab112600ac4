"""Throttling that slows, not stops: one pacer per client, that is per app and tenant.

Graph throttles per app and tenant (../shared/graph-api.md, "Errors and throttling"), so every
request of one ``GraphClient`` goes through one ``Pacer``. It is pure state driven by an injected
clock: a test moves a ``ManualClock`` and watches the decisions.

What it does with a throttled answer (429, or 503 under load):

* **With Retry-After**: the shared gate closes for that long. When it opens, one request goes
  first (the probe); the rest follow only when the probe was not throttled (no herd).
* **Without Retry-After** (always so for the data-policy resources): the request that got it backs
  off on its own (the client sleeps about 3 s, doubling, Graph SDK design) and the pace is cut:
  the allowed request rate (a token bucket holding one second's worth) is halved (multiplicative
  decrease) and grows back by ``increase`` requests a second with every success (additive
  increase) until it is lifted. One sporadic 429 never stops the other requests.
* **Cycles, not answers, escalate.** Every request carries the sequence number it was sent with.
  A throttled answer to a request sent before the last escalation belongs to the same cycle (16
  answers to 16 requests that were in flight together count once). A second consecutive throttled
  cycle closes the shared gate with an escalating backoff (``gate_start`` doubling up to
  ``gate_cap``) and, again, one probe tests it. A success of a request sent after the last
  escalation ends the streak.

The ceiling on Retry-After (an absurd value on one request is that request's error) is the
client's business (``console.graph.retry.is_absurd``): such an answer never reaches the gate.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass

from console.clock import Clock

__all__ = ["PaceRules", "Pacer", "Ticket"]

log = logging.getLogger("console.graph")


@dataclass(frozen=True, slots=True)
class PaceRules:
    """The pacer's numbers (the defaults are the production values; a test may pass others)."""

    gate_start: float = 2.0
    """First shared backoff (seconds, before jitter) when a second consecutive cycle is throttled."""
    gate_cap: float = 12.0
    """Longest shared backoff without Retry-After. A closed gate costs one probe per period, so a short cap
    is cheap (at most 300 of the tenant's 10,000 requests an hour) and notices the end of a storm within
    ``gate_cap`` seconds (issue 7: within 15 s after a 20 s storm)."""
    min_rate: float = 0.5
    """The pace is never cut below this many requests a second (a probe every 2 s at worst)."""
    increase: float = 1.0
    """Requests a second added to the allowed rate by every success (additive increase)."""
    decrease: float = 0.5
    """Factor applied to the allowed rate by each throttled cycle (multiplicative decrease)."""
    window: float = 2.0
    """Seconds of sends over which the rate is measured when the pace is first cut."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """Permission to send one request, handed back with its outcome."""

    seq: int
    """Sequence number of the send: later sends have larger numbers."""
    probe: bool = False
    """True for the one request that tests a reopened gate."""


class Pacer:
    """The shared gate, the probe and the pace of one client (see the module docstring).

    Args:
        clock: where time comes from (a ``ManualClock`` in tests).
        rng: the jitter source (seeded in tests).
        rules: the backoff and pace numbers.
    """

    def __init__(self, clock: Clock, *, rng: random.Random | None = None, rules: PaceRules = PaceRules()) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self.rules = rules
        self.gate_until = 0.0
        """Clock time before which no request is sent (the shared gate)."""
        self.rate: float | None = None
        """Allowed requests a second, or None while the client is not paced."""
        self.streak = 0
        """Consecutive throttled cycles."""
        self.gates_closed = 0
        """How often the gate was closed (for benchmarks and logs)."""
        self._lift_at = 0.0
        self._tokens = 0.0
        self._stamp = 0.0
        self._seq = 0
        self._cycle_mark = 0
        self._probe_needed = False
        self._probe: Ticket | None = None
        self._sends: deque[float] = deque()
        self._waiters: list[asyncio.Future[None]] = []
        """Requests waiting for the probe's answer (futures of the loop they wait on)."""

    # -- decisions (pure: time comes in as an argument) ------------------------------

    @property
    def probing(self) -> bool:
        """True while a probe is out and every other request waits for its answer."""
        return self._probe is not None

    def try_acquire(self, now: float) -> Ticket | float | None:
        """A ticket when a request may go now; else seconds to wait, or None to wait for the probe."""
        if now < self.gate_until:
            return self.gate_until - now
        if self._probe is not None:
            return None
        if self.rate is not None and not self._probe_needed:  # the probe is the gate's one request: not paced
            self._refill(now)
            if self._tokens < 1.0 - 1e-9:
                return (1.0 - self._tokens) / self.rate
            self._tokens -= 1.0
        self._seq += 1
        ticket = Ticket(seq=self._seq, probe=self._probe_needed)
        if ticket.probe:
            self._probe = ticket
            log.debug("throttle: probe sent (request #%d) to test the reopened gate", ticket.seq)
        self._sends.append(now)
        while self._sends and self._sends[0] < now - self.rules.window:
            self._sends.popleft()
        return ticket

    def succeeded(self, ticket: Ticket) -> None:
        """The request was answered without throttling (any status but 429/503)."""
        if ticket is self._probe:
            self._probe = None
            self._probe_needed = False
            log.debug("throttle: probe succeeded (request #%d); gate open", ticket.seq)
            self._notify()
        if ticket.seq > self._cycle_mark and self.streak:
            self.streak = 0
        if self.rate is not None:
            self._refill(self._clock.now())
            self.rate += self.rules.increase
            if self.rate >= self._lift_at:
                self.rate = None
                log.debug("throttle: pace lifted (recovered to %.1f requests/s)", self._lift_at)
                self._notify()

    def failed(self, ticket: Ticket) -> None:
        """The request got no usable answer (transport error, cancelled, absurd Retry-After): no signal."""
        if ticket is self._probe:
            self._probe = None  # the next request probes instead
            self._notify()

    def throttled(self, ticket: Ticket, retry_after: float | None) -> float:
        """The request was throttled; returns how long the shared gate is now closed (0: open).

        Args:
            ticket: the request's ticket.
            retry_after: Graph's Retry-After in seconds (already checked against the ceiling), or None.
        """
        now = self._clock.now()
        new_cycle = ticket.seq > self._cycle_mark
        if ticket is self._probe:
            self._probe = None  # the gate stays in probe mode: the next request after it probes again
        if new_cycle:
            self._cycle_mark = self._seq
            self.streak += 1
            if retry_after is None:
                self._cut_rate(now)  # with Retry-After, Graph said exactly how long: the gate does it
        wait = 0.0
        if retry_after is not None:
            wait = retry_after
            self._close(now, wait, f"Retry-After {retry_after:g} s")
        elif new_cycle and self.streak >= 2:
            wait = self.gate_backoff(self.streak)
            self._close(now, wait, f"throttled cycle {self.streak} without Retry-After")
        self._notify()
        return max(0.0, self.gate_until - now) if wait else 0.0

    def gate_backoff(self, streak: int) -> float:
        """Shared backoff for ``streak`` consecutive throttled cycles: doubling, capped, jittered."""
        delay = min(self.rules.gate_cap, self.rules.gate_start * 2 ** min(max(0, streak - 2), 32))
        return float(delay * self._rng.uniform(0.5, 1.0))

    # -- waiting -----------------------------------------------------------------------

    async def acquire(self) -> Ticket:
        """Wait until a request may go (gate open, probe answered, pace allows), then take the ticket."""
        while True:
            got = self.try_acquire(self._clock.now())
            if isinstance(got, Ticket):
                return got
            if got is None:
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                try:
                    await waiter
                finally:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
            else:
                await self._clock.sleep(got)

    # -- internals ---------------------------------------------------------------------

    def _close(self, now: float, wait: float, why: str) -> None:
        until = now + wait
        if until > self.gate_until:
            self.gate_until = until
            self.gates_closed += 1
            log.debug("throttle: gate closed for %.2f s (%s); one probe goes first after it", wait, why)
        self._probe_needed = True

    def _cut_rate(self, now: float) -> None:
        if self.rate is None:
            recent = [t for t in self._sends if t >= now - self.rules.window]
            measured = len(recent) / self.rules.window
            base = max(self.rules.min_rate, measured)
            self._lift_at = max(2.0 * self.rules.min_rate, base)
        else:
            base = self.rate
        if self.rate is None:
            self._tokens, self._stamp = 1.0, now  # the pace limits the average: the next request may go
        else:
            self._refill(now)
        self.rate = max(self.rules.min_rate, base * self.rules.decrease)
        self._tokens = min(self._tokens, self._burst())
        log.debug("throttle: pace cut to %.2f requests/s (cycle %d)", self.rate, self.streak)

    def _burst(self) -> float:
        """Requests that may go back to back under the pace: one second's worth, at least one."""
        return max(1.0, self.rate or 1.0)

    def _refill(self, now: float) -> None:
        if self.rate is not None and now > self._stamp:
            self._tokens = min(self._burst(), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = max(self._stamp, now)

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
