"""Graph's answer to a poll -> what happens to the operation next: a pure function of the answer.

Beside ``schedule`` (which says *when* the next poll is due), these rules say *whether* there is
one, and what it must wait for at least (../shared/graph-api.md, "Errors and throttling"):

- a final status ends the operation; a status we don't know keeps being polled, backing off, and
  after ``UNKNOWN_STATUS_POLL_LIMIT`` polls stops with an error;
- a 404 or an unusable Location ends it with an error;
- a 401/403 is fatal for the run (the admin must act) and is retried after ``AUTH_RETRY_INTERVAL``;
- another 4xx (but 429) is permanent: ``PERMANENT_ERROR_LIMIT`` tries in a row, then an error;
- a 429, a 5xx or a network failure backs off exponentially, never before its Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from console.graph import errors
from console.graph.models import KNOWN_STATUSES, is_final
from console.graph.retry import backoff_delay
from console.ops.events import ERROR, FINAL
from console.ops.schedule import MIN_POLL_INTERVAL

UNKNOWN_STATUS_MAX_INTERVAL = 900.0
"""An unknown status keeps being polled, backing off to at most this interval."""
UNKNOWN_STATUS_POLL_LIMIT = 500
"""After this many polls in an unknown status the engine stops and says so."""
AUTH_RETRY_INTERVAL = 300.0
"""After a 401/403 while polling, wait this long before trying that operation again."""
ERROR_BACKOFF_START = 2.0
ERROR_BACKOFF_CAP = 600.0
PERMANENT_ERROR_LIMIT = 5
"""A poll refused with a 4xx (other than 401/403/404/429) this many times in a row stops: state error."""


@dataclass(frozen=True, slots=True)
class Streaks:
    """What happened in a row to one operation's polls."""

    errors: int = 0
    """Failed polls (429, 5xx, network) in a row: the back-off's step."""
    refusals: int = 0
    """Polls refused with a permanent 4xx in a row."""
    unknown: int = 0
    """Answers with a status we don't know in a row."""


@dataclass(frozen=True, slots=True)
class Step:
    """What to do after one answer: end the operation, or poll again not before the waits given."""

    streaks: Streaks
    """The operation's streaks after this answer."""
    end: str | None = None
    """The state the operation ends in (``final``, ``error``), or None: poll again."""
    error: str | None = None
    """The error text to keep with the operation (None: what the caller has)."""
    retry_after: float | None = None
    """Graph's Retry-After for the next poll (None: absent, the documented default applies)."""
    floor: float = 0.0
    """A back-off the next poll must also wait."""
    fatal: bool = False
    """The admin must act (a 401/403): polling or exporting cannot succeed before."""


def after_answer(status: str | None, retry_after: float | None, streaks: Streaks) -> Step:
    """The step after Graph answered a poll with ``status`` (a success ends every error streak)."""
    if is_final(status):
        return Step(Streaks(), end=FINAL)
    if status in KNOWN_STATUSES:
        return Step(Streaks(), retry_after=retry_after)
    # An evolvable-enum value we don't know: show it as is, keep polling with a cap (graph-api.md).
    count = streaks.unknown + 1
    if count >= UNKNOWN_STATUS_POLL_LIMIT:
        text = f"status {status!r} never became final after {count} polls; stopped watching"
        return Step(Streaks(unknown=count), end=ERROR, error=text)
    backoff = min(UNKNOWN_STATUS_MAX_INTERVAL, MIN_POLL_INTERVAL * 2 ** min(count, 12))
    return Step(Streaks(unknown=count), retry_after=retry_after, floor=backoff)


def after_failure(exc: errors.GraphError, streaks: Streaks, text: str) -> Step:
    """The step after a poll failed with ``exc`` (``text``: its message as the operation keeps it)."""
    status = exc.status or 0
    if isinstance(exc, (errors.NotFound, errors.UnsafeRedirect)):
        return Step(streaks, end=ERROR)
    if isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):
        return Step(streaks, retry_after=exc.retry_after, floor=AUTH_RETRY_INTERVAL, fatal=True)
    if 400 <= status < 500 and status not in (401, 403, 404, 429):
        # Permanent: Graph will answer the same; a bounded number of tries, then stop with the error kept.
        streak = streaks.refusals + 1
        if streak >= PERMANENT_ERROR_LIMIT:
            return Step(
                replace(streaks, refusals=streak), end=ERROR, error=f"{text} (refused {streak} times; stopped watching)"
            )
        wait = backoff_delay(streak, start=ERROR_BACKOFF_START, cap=ERROR_BACKOFF_CAP)
        return Step(replace(streaks, refusals=streak), retry_after=_error_retry_after(exc), floor=wait)
    streak = streaks.errors + 1
    wait = backoff_delay(streak, start=ERROR_BACKOFF_START, cap=ERROR_BACKOFF_CAP)
    return Step(replace(streaks, errors=streak), retry_after=_error_retry_after(exc), floor=wait)


def _error_retry_after(exc: errors.GraphError) -> float:
    """The wait a failed poll's answer asks for: its Retry-After, else none beyond the error backoff.

    Not the 60 s default of an unfinished operation: that would put a minute under every retry, so the
    bounded tries of a permanent 400 would take five minutes instead of the error backoff's seconds.
    """
    return exc.retry_after if exc.retry_after is not None else 0.0
