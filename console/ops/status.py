"""A read-only snapshot of the polling state, for the console's status line (issue 17, item 8).

``OperationsEngine.polling_status()`` fills it from the engine, its request budget and the
client's pacer; the UI renders it and repaints only when the text it makes changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollingStatus:
    """What the engine is doing about polling, now."""

    requests_this_hour: int
    """Requests this process spent from the budget in the last hour (polls, listing, retries)."""
    per_hour: int
    """The budget: requests allowed in any hour for the tenant."""
    watching: int
    """Operations this process polls."""
    next_poll_at: float | None
    """When the next poll is due (epoch seconds), or None when nothing is to be polled."""
    throttled_until: float | None = None
    """Graph throttled the client: no request before this time (epoch seconds)."""
    paced: bool = False
    """Graph throttled recently and the client still sends at a reduced pace."""
    shared: bool = False
    """Other processes on the same journal spend from the same budget."""
    blocked: str = ""
    """Why polling cannot go on (a 401/403 the admin must act on), or ""."""
