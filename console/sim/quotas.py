"""The simulated Graph's service limits (graph-api.md): exports per day and requests per hour.

Both answer ``429 TooManyRequests`` without Retry-After, as the service does for these limits.
"""

from __future__ import annotations

from collections import deque

import httpx

from console.sim import graph_answers as answers
from console.sim.graph_answers import Context
from console.sim.knobs import GraphConfig

_DAY = 86_400
_HOUR = 3600


def _trim(window: deque[float] | None, cutoff: float) -> None:
    while window and window[0] <= cutoff:
        window.popleft()


class Quotas:
    """Sliding windows of accepted exports (per tenant, per user) and of other requests."""

    def __init__(self) -> None:
        self._exports_tenant: deque[float] = deque()
        self._exports_user: dict[str, deque[float]] = {}
        self._hourly: deque[float] = deque()

    def exports_used(self, now: float, user_id: str | None = None) -> int:
        """Exports accepted in the 24 hours before ``now``: for the tenant, or for ``user_id``."""
        window = self._exports_tenant if user_id is None else self._exports_user.get(user_id.lower(), deque())
        return sum(1 for t in window if t > now - _DAY)

    def count_export(self, now: float, user_id: str) -> None:
        """An export was accepted for ``user_id`` at ``now``."""
        self._exports_tenant.append(now)
        self._exports_user.setdefault(user_id, deque()).append(now)

    def check_hourly(self, config: GraphConfig, ctx: Context) -> httpx.Response | None:
        """The 429 of a request over the hour's limit, or None (and the request counted)."""
        # graph-api.md: "any other request 10,000 an hour", and no Retry-After on these 429s.
        _trim(self._hourly, ctx.now - _HOUR)
        per_hour = config.limits.requests_per_hour
        if len(self._hourly) >= per_hour:
            return _limited(ctx, f"{per_hour} data policy requests per hour for this tenant")
        self._hourly.append(ctx.now)
        return None

    def check_exports(self, config: GraphConfig, ctx: Context, user_id: str) -> httpx.Response | None:
        """The 429 of an export over the day's limits (tenant, then user), or None."""
        # graph-api.md: exportPersonalData 1,000 a day per tenant and 100 a day per subject; 429 without Retry-After.
        limits = config.limits
        cutoff = ctx.now - _DAY
        _trim(self._exports_tenant, cutoff)
        user = self._exports_user.get(user_id)
        _trim(user, cutoff)
        if len(self._exports_tenant) >= limits.exports_per_day:
            return _limited(ctx, f"{limits.exports_per_day} exportPersonalData requests per day for this tenant")
        if user is not None and len(user) >= limits.exports_per_user_per_day:
            return _limited(ctx, f"{limits.exports_per_user_per_day} exportPersonalData requests per day for this user")
        return None


def _limited(ctx: Context, limit: str) -> httpx.Response:
    return answers.error(ctx, 429, "TooManyRequests", f"Too many requests: the limit of {limit} was reached.")
