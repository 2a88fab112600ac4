"""A clock that can be replaced, so tests run minutes of Retry-After in milliseconds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # asyncio is imported by the code that sleeps: a journal read never does
    import asyncio


class Clock(Protocol):
    """Seconds since the epoch, and a way to wait on them."""

    def now(self) -> float:
        """Current time in seconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to (or, with ``autojump``, when every sleeper waits).

    ``sleep`` parks the caller until ``advance`` moves time past its deadline.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        import asyncio

        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + seconds, future))
        try:
            await future
        finally:
            self._sleepers = [(d, f) for d, f in self._sleepers if f is not future]

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._now += seconds
        for deadline, future in list(self._sleepers):
            if deadline <= self._now and not future.done():
                future.set_result(None)

    def next_deadline(self) -> float | None:
        """The earliest pending sleeper's deadline."""
        pending = [d for d, f in self._sleepers if not f.done()]
        return min(pending) if pending else None
