"""Waiting for a state, never for a time (issue 22: tests that relied on the machine's speed were flaky).

A fixed ``pilot.pause(0.3)`` before an assertion passes on an idle machine and fails on a busy one,
where the app has not yet handled the burst or repainted. ``until`` lets the app work (its messages,
workers and timers) step by step and returns as soon as the state holds; it gives up only after a
minute, which a healthy run never comes near.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

GIVE_UP_AFTER = 60.0
"""Seconds of real time after which a state that never came is a failure (not a threshold a run meets)."""
STEP = 0.02


async def until(pilot: Pilot[Any], condition: Callable[[], object], *, what: str = "the state") -> None:
    """Let the app run until ``condition()`` is true.

    Raises:
        AssertionError: it never became true (the app is broken, not slow).
    """
    for _ in range(int(GIVE_UP_AFTER / STEP)):
        if condition():
            return
        await pilot.pause(STEP)
    raise AssertionError(f"{what} never came")
