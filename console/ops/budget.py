"""Per-tenant request budgets (see ../shared/graph-api.md, "Service limits").

Graph allows a tenant 10,000 non-export requests an hour (polling included) and 1,000 export
POSTs a day (100 per user), and sends no Retry-After on those 429s. So the console paces itself
instead of finding the limit by being throttled, and the budget is the tenant's: every process
on one journal spends from the same one (issue 7, item 2).

The pacing is a token bucket kept as a "theoretical arrival time" (``tat``: when the next token
would be free at the steady rate), with a hard sliding-hour guard behind it computed from a ledger
of what was reserved. Both live in SQLite when processes share the journal; a process reserves a
few slots at a time so the ledger is not written per poll.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from console.clock import Clock
from console.errors import ConsoleError
from console.redact import redact

HOUR = 3600.0
DAY = 86400.0
DEFAULT_POLL_BUDGET = 9000
"""Polls an hour by default: 10% under Graph's 10,000 leaves room for listing and the UI."""
EXPORTS_PER_TENANT_PER_DAY = 1000
EXPORTS_PER_USER_PER_DAY = 100
SLOT_GRACE = 5.0
"""A reserved slot not used within this many seconds of its time is dropped (the ledger counted it)."""
MAX_CHUNK = 64
"""Slots reserved at once at most (reached only at high rates: 64 slots are 2 s of 32 requests a second)."""
CHUNK_SECONDS = 2.0
"""A reservation covers about this many seconds of the steady rate."""


@dataclass(frozen=True)
class Reservation:
    """What one reservation granted: slot times (each one request, not before its time), or a wait."""

    slots: tuple[float, ...]
    tat: float
    """The pacer's new theoretical arrival time."""
    ledger_at: float
    """When the ledger entry counting these slots leaves the sliding hour (at the last slot + grace)."""
    wait: float = 0.0
    """Seconds until a slot may be asked for again (when none was granted)."""


def plan_reservation(
    *,
    now: float,
    want: int,
    tat: float,
    window: Sequence[tuple[float, int]],
    per_hour: int,
    burst: float,
    rate: float,
    grace: float = SLOT_GRACE,
) -> Reservation:
    """Plan up to ``want`` request slots under the token bucket and the sliding-hour guard (pure).

    Args:
        now: the current time.
        want: slots asked for (at least one).
        tat: the pacer's theoretical arrival time (the steady rate's next free slot).
        window: ledger entries (at, count) whose ``at`` is after ``now - HOUR``, oldest first.
        per_hour: requests allowed in any 3,600 s window.
        burst: slots allowed back to back after a quiet spell.
        rate: steady slots a second.
        grace: how long after its time a slot may still be used.
    """
    interval = 1.0 / rate if rate > 0 else HOUR
    # The bucket: after a quiet spell up to ``burst`` slots are free at once.
    start = max(tat, now - burst * interval)
    used = sum(count for _at, count in window)
    room = per_hour - used
    if room <= 0:
        # The hard guard: wait until enough of the hour's oldest requests leave the window.
        need = used - per_hour + 1
        seen = 0
        leave = now + HOUR
        for at, count in window:
            seen += count
            if seen >= need:
                leave = at + HOUR
                break
        return Reservation((), tat, now, max(0.05, leave - now))
    count = max(1, min(want, room))
    first = max(now, start + interval)
    if first > now + CHUNK_SECONDS + interval:
        # The bucket is empty for a while (another process took the slots): come back then.
        return Reservation((), tat, now, first - now - CHUNK_SECONDS)
    slots = tuple(max(now, start + interval * (n + 1)) for n in range(count))
    return Reservation(slots, start + interval * count, slots[-1] + grace)


Reserve = Callable[[float, int], Awaitable[Reservation]]
"""The port to the shared ledger (``engine_link.JournalLedger``): (now, how many) -> Reservation."""


@dataclass(frozen=True, slots=True)
class Pace:
    """A budget's shape, as the shared ledger plans slots with it (``plan_reservation``'s arguments)."""

    per_hour: int
    burst: float
    rate: float
    grace: float


@dataclass
class _LocalLedger:
    """The ledger and pacer of a budget nobody shares (one process, tests)."""

    tat: float
    window: deque[tuple[float, int]] = field(default_factory=deque)


def default_burst(per_hour: int) -> float:
    """Requests allowed back to back after a quiet spell: 0.5% of the hour, 20 at most, and at least a
    few (up to a tenth of a small budget) so that listing a few pages of profiles under a tight
    ``--poll-budget`` does not wait a whole pacing interval per page."""
    return max(1.0, min(20.0, max(per_hour / 200, min(5.0, per_hour / 10))))


log = logging.getLogger(__name__)

LEDGER_RETRY = 1.0
"""Seconds to wait before asking a shared ledger that failed again."""
LEDGER_ATTEMPTS = 10
"""Failed asks of the shared ledger in a row before the budget gives up (``LedgerUnavailable``): a full
disk must end a run within seconds with its exit code, not pause it for ever (issue 14, item 4)."""


class LedgerUnavailable(ConsoleError):
    """The tenant's shared ledger in the journal could not be written ``LEDGER_ATTEMPTS`` times in a row.

    Sending on without it could pass the tenant's budget (every process spends from that ledger),
    so the request is not sent and the caller ends what it was doing.
    """

    title = "Budget ledger unavailable"


class PollBudget:
    """The tenant's request budget: never more than ``per_hour`` in any sliding hour, paced evenly.

    Implements ``console.graph.ports.RequestBudget``: ``await acquire()`` before every non-export
    request (polls, listing pages, the client's retries).

    A token bucket with a small burst paces the steady rate at ``(per_hour - burst) / 3600`` a
    second, so even a full burst followed by an hour at the steady rate stays within the budget;
    the sliding-window ledger of the last hour is the hard guard behind it.

    Args:
        per_hour: requests allowed in any 3,600 s window (the tenant's, for every process).
        clock: where time comes from (a manual clock in tests).
        reserve: the shared ledger (``OperationJournal.reserve_requests`` through the writer
            thread); None keeps the ledger in this process's memory.
        burst: slots allowed back to back after a quiet spell (default: per_hour / 200, 1 to 20).
    """

    def __init__(
        self, per_hour: int, clock: Clock, *, reserve: Reserve | None = None, burst: float | None = None
    ) -> None:
        if per_hour < 1:
            raise ValueError("the poll budget must be at least 1 request an hour")
        self.per_hour = per_hour
        self.burst = burst if burst is not None else default_burst(per_hour)
        """Polls allowed back to back after a quiet spell."""
        self.rate = (per_hour - self.burst) / HOUR if per_hour > self.burst else per_hour / HOUR
        """Steady polls a second."""
        self._clock = clock
        self._reserve = reserve
        now = clock.now()
        self._local = _LocalLedger(tat=now - self.burst / self.rate)
        self._slots: deque[float] = deque()
        self._last: float | None = None
        import asyncio  # not at import: ``DEFAULT_POLL_BUDGET`` is read by the parser of every command

        self._lock = asyncio.Lock()
        self.spent = 0
        """Requests granted so far (by this process)."""
        self._spent_at: deque[float] = deque()
        self.grace = SLOT_GRACE
        """How long after its time a reserved slot may still be used."""
        self.ledger_failures = 0
        """Failed asks of the shared ledger in a row (0 once one succeeds)."""

    @property
    def shared(self) -> bool:
        """Whether the ledger is the journal's (every process on it spends from this budget)."""
        return self._reserve is not None

    def bind(self, reserve: Reserve) -> None:
        """Keep the ledger in the shared journal from now on (``engine_link.JournalLedger``)."""
        self._reserve = reserve

    @property
    def pace(self) -> Pace:
        """This budget's shape, for a shared ledger to plan slots with."""
        return Pace(self.per_hour, self.burst, self.rate, self.grace)

    @property
    def interval(self) -> float:
        """Seconds between two slots at the steady rate."""
        return 1.0 / self.rate if self.rate > 0 else HOUR

    @property
    def chunk(self) -> int:
        """Slots asked for at once: about ``CHUNK_SECONDS`` of the steady rate, 1 to ``MAX_CHUNK``."""
        return max(1, min(MAX_CHUNK, int(CHUNK_SECONDS * self.rate)))

    def _plan_locally(self, now: float, want: int) -> Reservation:
        window = self._local.window
        while window and window[0][0] <= now - HOUR:
            window.popleft()
        plan = plan_reservation(
            now=now,
            want=want,
            tat=self._local.tat,
            window=list(window),
            per_hour=self.per_hour,
            burst=self.burst,
            rate=self.rate,
            grace=self.grace,
        )
        if plan.slots:
            self._local.tat = plan.tat
            window.append((plan.ledger_at, len(plan.slots)))
        return plan

    async def _refill(self, now: float) -> float:
        """Ask the ledger for slots; returns 0 when some were granted, else how long to wait."""
        if self._reserve is not None:
            try:
                plan = await self._reserve(now, self.chunk)
            except Exception as exc:  # the ledger cannot be written (disk full, locked): a few more tries; a
                # cancellation is a BaseException and goes through
                self.ledger_failures += 1
                reason = redact(str(exc))
                if self.ledger_failures >= LEDGER_ATTEMPTS:
                    raise LedgerUnavailable(
                        f"the tenant's poll budget could not be recorded in the journal ({LEDGER_ATTEMPTS} tries "
                        f"in a row failed: {reason}); stopped rather than send requests outside the budget"
                    ) from None
                log.warning(
                    "poll budget: the journal's ledger cannot be written (try %d of %d), retrying in %.0f s: %s",
                    self.ledger_failures,
                    LEDGER_ATTEMPTS,
                    LEDGER_RETRY,
                    reason,
                )
                return LEDGER_RETRY
            self.ledger_failures = 0
        else:
            plan = self._plan_locally(now, 1)
        self._slots.extend(plan.slots)
        return 0.0 if plan.slots else plan.wait

    def _drop_stale(self, now: float) -> None:
        while self._slots and self._slots[0] < now - self.grace:
            self._slots.popleft()

    async def acquire(self) -> None:
        """Wait until one request may be sent, then spend it."""
        async with self._lock:
            while True:
                now = self._clock.now()
                self._drop_stale(now)
                if self._slots:
                    if self._slots[0] <= now + 1e-9:
                        self._last = self._slots.popleft()
                        self.spent += 1
                        self._spent_at.append(now)
                        return
                    await self._clock.sleep(self._slots[0] - now)
                    continue
                wait = await self._refill(now)
                if wait > 0:
                    await self._clock.sleep(wait)

    def refund(self) -> None:
        """Give back a slot spent when its request was not sent after all (still within its grace).

        Every refund gives one back, also when another slot was spent since (several held-back polls
        in a row): the slot then counts from now. Losing it would burn the tenant's shared budget.
        """
        self._slots.appendleft(self._last if self._last is not None else self._clock.now())
        self._last = None
        self.spent -= 1
        if self._spent_at:
            self._spent_at.pop()

    def spent_last_hour(self, now: float) -> int:
        """Requests this process was granted in the hour before ``now`` (read-only but for pruning)."""
        while self._spent_at and self._spent_at[0] <= now - HOUR:
            self._spent_at.popleft()
        return len(self._spent_at)

    def fair_interval(self, active: int) -> float:
        """How often each of ``active`` operations can be polled on this budget (seconds)."""
        return active / self.rate if self.rate > 0 else HOUR
