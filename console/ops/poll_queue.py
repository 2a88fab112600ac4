"""The engine's poll queue: when each polled operation is next due, earliest first.

Two heaps keyed on the due time: polls aimed at an operation's finish (``landing``, see
``schedule.Due``) go before the others when both are due. The rule it keeps: an item is never taken
before its due time (never poll before Retry-After), whatever else is due.
"""

from __future__ import annotations

import asyncio
import heapq

from console.clock import Clock

_Entry = tuple[float, int, int]
"""(due time, push order, operation key)."""


class PollQueue:
    """Operation keys by due time; pushing a key again replaces its earlier entry."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._landing: list[_Entry] = []
        """Polls aimed at an operation's finish: when the budget binds they go before the others."""
        self._due: dict[int, float] = {}
        self._seq = 0
        self._wake = asyncio.Event()
        """Set when an entry earlier than every other one is pushed (the scheduler wakes to look)."""

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: int) -> bool:
        return key in self._due

    def push(self, key: int, due: float, *, landing: bool = False) -> None:
        """Queue ``key`` for ``due`` (its earlier entry, if any, no longer counts)."""
        self._seq += 1
        self._due[key] = due
        heap = self._landing if landing else self._heap
        earliest = self.earliest()
        heapq.heappush(heap, (due, self._seq, key))
        if earliest is None or due < earliest:
            self._wake.set()

    def discard(self, key: int) -> None:
        """Take ``key`` out of the queue (its heap entries go stale)."""
        self._due.pop(key, None)

    def clear(self) -> None:
        self._heap.clear()
        self._landing.clear()
        self._due.clear()

    def _head(self, heap: list[_Entry]) -> _Entry | None:
        """The earliest valid entry of a heap (stale entries dropped)."""
        while heap:
            due, _seq, key = heap[0]
            if self._due.get(key) == due:
                return heap[0]
            heapq.heappop(heap)
        return None

    def earliest(self) -> float | None:
        """When the next entry is due, or None when the queue is empty."""
        heads = [h[0] for h in (self._head(self._landing), self._head(self._heap)) if h is not None]
        return min(heads) if heads else None

    def take_due(self, now: float) -> int | None:
        """The key to poll now: a due landing poll first, else the earliest due poll; None when none is due."""
        for heap in (self._landing, self._heap):
            head = self._head(heap)
            if head is not None and head[0] <= now:
                heapq.heappop(heap)
                del self._due[head[2]]
                return head[2]
        return None

    async def wait_for_entry(self) -> None:
        """Return once something is pushed (the queue was empty)."""
        self._wake.clear()
        await self._wake.wait()

    async def sleep(self, clock: Clock, delay: float) -> None:
        """Sleep ``delay`` seconds on ``clock``, or less when an earlier entry is pushed meanwhile."""
        self._wake.clear()
        sleeper = asyncio.ensure_future(clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
