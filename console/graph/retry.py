"""Retry-After parsing and the backoff policy (see ../shared/graph-api.md, "Errors and throttling").

Trap 4: Retry-After may be delta-seconds (integer or fractional), an HTTP-date, missing, zero,
negative or absurd. ``retry_after_delta`` reads it without an upper clamp so the client can tell an
absurd value (reported as that request's error) from a long one; ``parse_retry_after`` clamps it
for scheduling.
"""

from __future__ import annotations

import math
import random
from email.utils import parsedate_to_datetime

MIN_RETRY_AFTER = 0.0
"""Retry-After below this (zero, negative) is raised to it; the engine adds its own floor."""
MAX_RETRY_AFTER = 3600.0
"""The sane ceiling: an hour is the longest Graph's limits run. A throttled answer asking for more is
reported as that request's error, never obeyed by the whole client; elsewhere it is capped here."""
BACKOFF_START = 3.0
"""Graph SDK design: the first retry without Retry-After waits about 3 s."""
BACKOFF_CAP = 180.0
"""Graph SDK design: never back off longer than 180 s."""


def retry_after_delta(value: object, now: float) -> float | None:
    """Seconds to wait from a Retry-After value, not capped above (``inf`` stays ``inf``).

    Accepts delta-seconds (integer or fractional, as in Microsoft's ``2.128`` sample), an HTTP-date,
    or a number from a JSON body. Negative and past values become 0. Returns None when the value is
    missing or unreadable (NaN included), so the caller falls back to backoff.

    Args:
        value: the header or body value.
        now: the current time in epoch seconds (for HTTP-dates).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            seconds = float(text)
        except ValueError:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when is None:
                return None
            try:
                seconds = when.timestamp() - now
            except (OverflowError, OSError, ValueError):
                return None
    else:
        return None
    if math.isnan(seconds):
        return None
    return max(MIN_RETRY_AFTER, seconds)


def parse_retry_after(value: object, now: float) -> float | None:
    """Seconds to wait from a Retry-After value, clamped to ``[MIN_RETRY_AFTER, MAX_RETRY_AFTER]``.

    Args:
        value: the header or body value.
        now: the current time in epoch seconds (for HTTP-dates).

    Returns:
        The clamped seconds, or None when the value is missing or unreadable.
    """
    seconds = retry_after_delta(value, now)
    if seconds is None:
        return None
    return min(MAX_RETRY_AFTER, seconds)


def is_absurd(seconds: float | None) -> bool:
    """True for a Retry-After above the sane ceiling (an hour), infinity included."""
    return seconds is not None and seconds > MAX_RETRY_AFTER


def backoff_delay(
    attempt: int,
    *,
    start: float = BACKOFF_START,
    cap: float = BACKOFF_CAP,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff with full jitter in [delay/2, delay] for retry ``attempt`` (1-based)."""
    delay = min(cap, start * (2 ** min(max(0, attempt - 1), 64)))
    pick = (rng or random).uniform(0.5, 1.0)
    return float(delay * pick)


TRANSPORT_ATTEMPTS = 3
"""Attempts of one request that got no HTTP answer at all (refused, unresolvable host, reset, timeout):
the first and two retries. A host that refuses or cannot be resolved fails within seconds, and every
retry is announced on stderr (issue 14: a closed port used to stay silent for 72 s)."""
TRANSPORT_BACKOFF_START = 1.0
"""The first retry after no answer waits this long; each next one twice as long."""
TRANSPORT_BACKOFF_CAP = 8.0
"""The longest wait between two attempts that got no answer."""
CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection (name resolution included): a host that swallows the connection
attempt is given up on (and retried, with a line on stderr) well before the whole exchange's timeout."""


def transport_delay(
    attempt: int, *, start: float = TRANSPORT_BACKOFF_START, cap: float = TRANSPORT_BACKOFF_CAP
) -> float:
    """Seconds before retry ``attempt`` (1-based) of a request that got no answer: 1, 2, 4... capped.

    No jitter: the wait is announced on stderr as is ("retry 1 of 2 in 1 s").
    """
    return float(min(cap, start * (2 ** min(max(0, attempt - 1), 32))))
