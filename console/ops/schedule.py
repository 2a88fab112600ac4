"""When is an operation next due: a pure function of what Graph said and what the budget allows.

Rules, in order (../shared/graph-api.md, "Errors and throttling" and "Service limits"):

1. Never before Graph's Retry-After (a missing one means the documented 60 s; zero or negative
   is raised to a floor), nor before a back-off floor (an error streak, a 401/403, an unknown status).
2. When the tenant's budget does not bind (its fair interval is under the Retry-After), poll at
   the Retry-After.
3. When it binds, poll each operation when its progress says it will finish: the rate seen
   between its first progress sample and now gives an ETA; the poll lands just after it. Without
   an estimate yet, come back sooner than the fair interval to learn the rate. An ETA far away
   is re-checked at a few fair intervals at most, so a wrong estimate cannot starve an operation.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_POLL_INTERVAL = 1.0
"""Floor between two polls of one operation, whatever Retry-After says (zero, negative)."""
DEFAULT_POLL_INTERVAL = 60.0
"""Wait when Graph sends no Retry-After on an unfinished operation (its documented example says 60)."""
ETA_MARGIN = 0.02
"""Land this fraction of the ETA after it (at least ``ETA_MARGIN_MIN`` s): progress is rounded."""
ETA_MARGIN_MIN = 2.0
LEARN_FRACTION = 1.0
"""Without an ETA yet, the next poll comes after this fraction of the fair interval."""
SECOND_SAMPLE_FRACTION = 0.25
"""After the first progress sample, the second comes after this fraction of the longest the export
can still take (its progress since submission, as if it had started at once), so an export that
may finish soon is learned soon while the span stays long enough for an accurate rate."""
MAX_FAIR_MULTIPLE = 3.0
"""A far ETA is re-checked after at most this many fair intervals."""


@dataclass(frozen=True, slots=True)
class ProgressSample:
    """The first progress Graph reported above zero, and when."""

    at: float
    progress: float


def eta(now: float, progress: float | None, first: ProgressSample | None) -> float | None:
    """Seconds until the operation reaches 100 % at the rate seen since ``first`` (None when unknown)."""
    if first is None or progress is None or now <= first.at or progress <= first.progress:
        return None
    rate = (progress - first.progress) / (now - first.at)
    return max(0.0, (100.0 - progress) / rate)


def not_before(retry_after: float | None, floor: float = 0.0) -> float:
    """The shortest wait allowed: Retry-After (or the default), never under the floors."""
    given = retry_after if retry_after is not None else DEFAULT_POLL_INTERVAL
    return max(MIN_POLL_INTERVAL, given, floor)


@dataclass(frozen=True, slots=True)
class Due:
    """When an operation is next due, and whether that poll is aimed at its finish."""

    delay: float
    """Seconds from the last answer."""
    landing: bool = False
    """True when the poll lands just after the ETA: it goes before learning polls when the budget binds."""


def next_poll(
    *,
    retry_after: float | None,
    fair_interval: float,
    progress: float | None = None,
    first: ProgressSample | None = None,
    now: float = 0.0,
    floor: float = 0.0,
    submitted: float | None = None,
) -> Due:
    """The next poll of an operation: seconds from ``now`` until it is due, marked when it is aimed at the finish.

    Args:
        retry_after: Graph's Retry-After on the last answer (None when absent).
        fair_interval: how often each open operation can be polled on the tenant's budget.
        progress: the last progress Graph reported.
        first: the first progress sample above zero.
        now: the time of the last answer.
        floor: a back-off the caller requires (error streak, 401/403, unknown status).
        submitted: when the export was accepted (epoch seconds), for the second sample's timing.
    """
    least = not_before(retry_after, floor)
    if fair_interval <= least or floor > 0:
        return Due(least)
    estimate = eta(now, progress, first)
    if estimate is None:
        if first is not None and now <= first.at:
            # This answer is the first progress sample. Had the export started at once, it would
            # finish at the latest after ``longest``; the second sample comes well before that.
            if submitted is not None and now > submitted and 0 < first.progress < 100:
                longest = (now - submitted) * (100.0 - first.progress) / first.progress
                return Due(max(least, min(fair_interval, longest * SECOND_SAMPLE_FRACTION)))
            return Due(least)
        return Due(max(least, fair_interval * LEARN_FRACTION))
    landing = estimate + max(ETA_MARGIN_MIN, estimate * ETA_MARGIN)
    cap = fair_interval * MAX_FAIR_MULTIPLE
    if landing <= cap:
        return Due(max(least, landing), landing=True)
    return Due(max(least, cap))


def takeover_due(now: float, next_poll_at: float | None, lease_until: float | None, retry_after: float | None) -> float:
    """When a process may first poll an operation it takes from a dead owner.

    The owner may have polled just before its lease ran out without writing it down; so wait for
    its saved next poll and for the lease's end plus the last Retry-After, whichever is later.
    """
    due = next_poll_at if next_poll_at is not None else now
    if lease_until is not None:
        due = max(due, min(lease_until, now) + (retry_after or 0.0))
    return max(now, due)
