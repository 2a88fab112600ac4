"""Coalesces the engine's event storm into at most ``MAX_FLUSHES_PER_SECOND`` repaints.

The engine may report hundreds of status changes a second; a slow SSH link can't
take a repaint for each. Events only mark an operation dirty (latest view wins);
a timer flushes the dirty set as one ``OperationsChanged`` message, so the screen
applies one keyed diff inside one ``batch_update``. No timer runs while nothing
changes, so the idle console costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

from console.ops.events import OperationEvent, OperationView
from console.tui.messages import OperationsChanged
from console.tui.services import OperationsService

MAX_FLUSHES_PER_SECOND = 10
"""Upper bound on OperationsChanged messages (and so table repaints) a second."""
FLUSH_INTERVAL = 1.0 / MAX_FLUSHES_PER_SECOND
GATHER_SECONDS = 0.02
"""Even after a quiet spell, wait this long so a burst of events becomes one repaint."""


class OperationsFeed:
    """Subscribes to the engine and posts coalesced ``OperationsChanged`` to ``target``.

    Args:
        engine: the operations engine of the session.
        target: the widget or screen that receives the messages (its timers drive flushes).
        monotonic: the time source for pacing (the event loop's clock).
    """

    def __init__(
        self,
        engine: OperationsService,
        target: MessagePump,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._engine = engine
        self._target = target
        self._monotonic = monotonic or (lambda: asyncio.get_running_loop().time())
        self._dirty: dict[int, OperationView] = {}
        self._timer: Timer | None = None
        self._last_flush = float("-inf")
        self._unsubscribe: Callable[[], None] | None = None
        self.events = 0
        """Engine events received (for the benchmark)."""
        self.flushes = 0
        """OperationsChanged messages posted."""

    def start(self) -> None:
        """Begin listening to the engine."""
        if self._unsubscribe is None:
            self._unsubscribe = self._engine.subscribe(self._on_event)

    def stop(self) -> None:
        """Stop listening and drop anything not yet flushed."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._dirty.clear()

    def _on_event(self, event: OperationEvent) -> None:
        self.events += 1
        self._dirty[event.operation.key] = event.operation
        if self._timer is None:
            now = self._monotonic()
            delay = max(GATHER_SECONDS, self._last_flush + FLUSH_INTERVAL - now)
            self._timer = self._target.set_timer(delay, self.flush, name="operations-feed")

    def flush(self) -> None:
        """Post everything dirty now as one message."""
        self._timer = None
        if not self._dirty:
            return
        views, self._dirty = tuple(self._dirty.values()), {}
        self._last_flush = self._monotonic()
        self.flushes += 1
        self._target.post_message(OperationsChanged(views))
