"""Test helpers shared across the suite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from console.clock import ManualClock


async def settle(rounds: int = 30) -> None:
    """Let every ready task run (in-process transports need a few loop turns)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def run_clock_until(
    clock: ManualClock, done: Callable[[], bool], *, limit: float = 100_000.0, max_steps: int = 200_000
) -> float:
    """Advance a manual clock from deadline to deadline until ``done()``; returns simulated seconds spent."""
    start = clock.now()
    steps = 0
    while not done():
        await settle()
        if done():
            break
        deadline = clock.next_deadline()
        if deadline is None:
            await asyncio.sleep(0.001)
            steps += 1
        else:
            clock.advance(max(0.0, deadline - clock.now()))
        steps += 1
        if clock.now() - start > limit or steps > max_steps:
            raise AssertionError(f"not done after {clock.now() - start:.0f} simulated seconds")
    return clock.now() - start


def rows_where(journal: Any, *, case: str | None = None, since: float | None = None) -> list[Any]:
    """A case's (or a period's) journal rows, oldest first, as ``ops`` and ``report`` read them (streamed)."""
    from console.ops.journal_model import row_from_values

    return [row_from_values(values) for values in journal.iter_values(case=case, since=since)]
