"""Retry-After parsing and the backoff policy (see ../shared/graph-api.md, "Errors and throttling")."""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

MIN_RETRY_AFTER = 0.0
"""Retry-After below this (zero, negative) is raised to it; the engine adds its own floor."""
MAX_RETRY_AFTER = 3600.0
"""An absurd Retry-After (days) is capped here: an hour is the longest Graph's limits run."""
BACKOFF_START = 3.0
"""Graph SDK design: the first retry without Retry-After waits about 3 s."""
BACKOFF_CAP = 180.0
"""Graph SDK design: never back off longer than 180 s."""


def parse_retry_after(value: object, now: float) -> float | None:
    """Seconds to wait from a Retry-After value, clamped to a sane range.

    Accepts delta-seconds (integer or fractional, as in Microsoft's ``2.128``
    sample), an HTTP-date, or a number from a JSON body. Returns None when the
    value is missing or unreadable, so the caller falls back to backoff.

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
            except (TypeError, ValueError, IndexError):
                return None
            if when is None:
                return None
            seconds = when.timestamp() - now
    else:
        return None
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, seconds))


def backoff_delay(
    attempt: int,
    *,
    start: float = BACKOFF_START,
    cap: float = BACKOFF_CAP,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff with full jitter in [delay/2, delay] for retry ``attempt`` (1-based)."""
    delay = min(cap, start * (2 ** max(0, attempt - 1)))
    pick = (rng or random).uniform(0.5, 1.0)
    return float(delay * pick)
