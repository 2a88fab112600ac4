"""SQLite off the event loop: one writer thread behind an async interface.

Every journal call of the engine runs on one dedicated thread with its own connection, so another
process holding the journal's write lock (or a slow disk) never freezes a keystroke (issue 7,
item 6). A call that meets the lock is retried on that thread (SQLite's busy timeout is kept short
and the wait happens here, not on the loop); a flush that still fails keeps its batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from console.ops.events import PollRecord
from console.ops.journal import JournalError, OperationJournal, OperationRow
from console.redact import redact

T = TypeVar("T")

WRITER_BUSY_TIMEOUT = 0.25
"""Seconds SQLite itself waits for the write lock on the writer's connection (then we retry)."""


class JournalWriter:
    """The engine's journal: an ``OperationJournal`` of its own, used only on one thread.

    Args:
        path: the journal file (the same one the caller's synchronous journal has open).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops-journal")
        self._journal: OperationJournal | None = None
        self.calls_in_flight = 0
        """Calls submitted to the thread and not yet answered (tests wait for 0 before moving the clock)."""
        self.closed = False
        self._grouped: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._draining = False
        self._drain_task: asyncio.Task[None] | None = None

    @property
    def journal(self) -> OperationJournal:
        """The writer's journal (touch it only through ``call``, except ``queue``)."""
        if self._journal is None:
            raise RuntimeError("the journal writer is not open")
        return self._journal

    async def open(self) -> None:
        """Open the writer's connection on its thread."""
        if self._journal is None:
            self._journal = await self._run(lambda: OperationJournal(self.path, busy_timeout=WRITER_BUSY_TIMEOUT))

    async def _run(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        self.calls_in_flight += 1
        try:
            return await loop.run_in_executor(self._executor, call)
        finally:
            self.calls_in_flight -= 1

    async def call(self, method: Callable[..., T], *args: Any, retry: bool = True, **kwargs: Any) -> T:
        """Run a journal method on the writer thread; retried there while the journal is locked.

        Args:
            method: an ``OperationJournal`` method of ``self.journal``.
            retry: retry a locked journal (several seconds) before giving up.

        Raises:
            JournalError: the journal stayed locked or cannot be written (a sentence, redacted).
        """
        try:
            return await self._run(self._bound(method, args, kwargs, retry))
        except sqlite3.Error as exc:
            raise self._journal_error(exc) from exc

    async def grouped(self, method: Callable[..., T], *args: Any, retry: bool = True, **kwargs: Any) -> T:
        """``call`` (retried while locked), sharing one trip to the writer thread with the grouped calls
        made meanwhile: each runs as it would alone (its own transaction, committed before it returns),
        one after the other in the order asked. A trip to the thread costs far more CPU than a short
        transaction (GIL hand-overs, a wake-up each way), so a burst of intents costs one.

        Raises:
            JournalError: as ``call``.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._grouped.append((self._bound(method, args, kwargs, retry), future))
        self.calls_in_flight += 1  # counted from now: tests wait for 0 before moving the clock
        if not self._draining:  # the trip starts once the ready callbacks ran: their calls go with it
            self._draining = True
            self._drain_task = asyncio.get_running_loop().create_task(self._drain(), name="ops-journal-grouped")
        try:
            return await future
        except sqlite3.Error as exc:
            raise self._journal_error(exc) from exc

    async def _drain(self) -> None:
        """Run the grouped calls asked so far in one trip, and again while more were asked meanwhile."""
        try:
            while self._grouped:
                batch, self._grouped = self._grouped, []
                self.calls_in_flight -= len(batch)
                try:
                    outcomes = await self._run(functools.partial(_outcomes, batch))
                except asyncio.CancelledError:  # the loop is closing: nobody waits for these any more
                    for _call, future in batch + self._grouped:
                        future.cancel()
                    self.calls_in_flight -= len(self._grouped)
                    self._grouped = []
                    raise
                except Exception as exc:  # the thread is gone (closed): every caller hears it
                    outcomes = [(False, exc)] * len(batch)
                for (_call, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._draining = False

    def _bound(
        self, method: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], retry: bool
    ) -> Callable[[], T]:
        """The call to run on the thread: ``method(*args, **kwargs)``, retried there while locked with ``retry``."""
        bound = functools.partial(method, *args, **kwargs)
        if not retry:
            return bound
        journal = self.journal
        return lambda: journal.retrying(bound)

    def _journal_error(self, exc: sqlite3.Error) -> JournalError:
        return JournalError(
            f"the journal {self.path} could not be used (another export-console may hold it, or the disk "
            f"is full): {redact(str(exc))}"
        )

    def queue(self, row: OperationRow, record: PollRecord | None = None) -> None:
        """Remember a change for the next flush (thread-safe, no IO: fine on the event loop)."""
        self.journal.queue(row, record)

    async def flush(self, now: float) -> bool:
        """Write what is pending; False when it failed (the batch stays for the next flush)."""
        journal = self.journal
        try:
            await self._run(lambda: journal.flush(now))
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        """Flush, close the connection and end the thread."""
        if self.closed:
            return
        self.closed = True
        journal = self._journal
        if journal is not None:
            await self._run(journal.close)
        self._executor.shutdown(wait=False)


def _outcomes(batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]]) -> list[tuple[bool, Any]]:
    """On the writer thread: each call's (True, what it returned) or (False, what it raised), in order."""
    outcomes: list[tuple[bool, Any]] = []
    for call, _future in batch:
        try:
            outcomes.append((True, call()))
        except Exception as exc:
            outcomes.append((False, exc))
    return outcomes
