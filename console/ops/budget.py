"""Per-tenant request budgets (see ../shared/graph-api.md, "Service limits").

Graph allows a tenant 10,000 non-export requests an hour (polling included) and
1,000 export POSTs a day (100 per user), and sends no Retry-After on those 429s.
So the console paces itself instead of finding the limit by being throttled.
"""

from __future__ import annotations

from collections import deque

from console.clock import Clock

HOUR = 3600.0
DAY = 86400.0
DEFAULT_POLL_BUDGET = 9000
"""Polls an hour by default: 10% under Graph's 10,000 leaves room for listing and the UI."""
EXPORTS_PER_TENANT_PER_DAY = 1000
EXPORTS_PER_USER_PER_DAY = 100


class PollBudget:
    """Spreads polls evenly over the hour and never lets any sliding hour exceed ``per_hour``.

    A token bucket with a small burst paces the steady rate at
    ``(per_hour - burst) / 3600`` a second, so even a full burst followed by an
    hour at the steady rate stays within the budget; a sliding-window log of the
    last hour's polls is the hard guard behind it.

    Args:
        per_hour: requests allowed in any 3,600 s window.
        clock: where time comes from (a manual clock in tests).
    """

    def __init__(self, per_hour: int, clock: Clock) -> None:
        if per_hour < 1:
            raise ValueError("the poll budget must be at least 1 request an hour")
        self.per_hour = per_hour
        self.burst = max(1.0, min(20.0, per_hour / 200))
        """Polls allowed back to back after a quiet spell."""
        self.rate = (per_hour - self.burst) / HOUR if per_hour > self.burst else per_hour / HOUR
        """Steady polls a second."""
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock.now()
        self._window: deque[float] = deque()
        self.spent = 0
        """Polls granted so far."""

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        horizon = now - HOUR
        window = self._window
        while window and window[0] <= horizon:
            window.popleft()

    def delay(self) -> float:
        """Seconds until a poll may be spent (0 when one may go now)."""
        now = self._clock.now()
        self._refill(now)
        # A hair under one token counts as one: float dust must not turn into a busy wait.
        wait = 0.0 if self._tokens >= 1.0 - 1e-6 else max(0.001, (1.0 - self._tokens) / self.rate)
        if len(self._window) >= self.per_hour:
            wait = max(wait, self._window[0] + HOUR - now)
        return max(0.0, wait)

    def spend(self) -> None:
        """Record one poll (call only when ``delay()`` is 0)."""
        now = self._clock.now()
        self._refill(now)
        self._tokens -= 1.0
        self._window.append(now)
        self.spent += 1

    def refund(self) -> None:
        """Give back the last poll spent when it was not sent after all."""
        if self._window:
            self._window.pop()
            self._tokens = min(self.burst, self._tokens + 1.0)
            self.spent -= 1

    async def acquire(self) -> None:
        """Wait until a poll may be spent, then spend it."""
        while True:
            wait = self.delay()
            if wait <= 0:
                self.spend()
                return
            await self._clock.sleep(wait)

    def fair_interval(self, active: int) -> float:
        """How often each of ``active`` operations can be polled on this budget (seconds)."""
        return active / self.rate if self.rate > 0 else HOUR
