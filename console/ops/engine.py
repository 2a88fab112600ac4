"""The operations engine: submits exports and watches every operation to its end.

One scheduler keyed on each operation's due time feeds a bounded pool of async
workers (not one sleeping task per operation). An operation is never polled
before the Retry-After Graph gave it; polls are paced by the tenant's poll budget
and, when the budget binds, spread fairly: every operation is polled about every
``active / rate`` seconds, sooner when its progress says it is about to finish.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, UTC

from console.clock import Clock, SystemClock
from console.graph import errors
from console.graph.client import GraphClient
from console.graph.models import KNOWN_STATUSES, is_final
from console.graph.retry import backoff_delay
from console.ops.budget import (
    DAY,
    DEFAULT_POLL_BUDGET,
    EXPORTS_PER_TENANT_PER_DAY,
    EXPORTS_PER_USER_PER_DAY,
    PollBudget,
)
from console.ops.events import (
    ERROR,
    FINAL,
    INTENT,
    REJECTED,
    TRACKING,
    UNCONFIRMED,
    EventKind,
    OperationEvent,
    OperationView,
    PollRecord,
    QuotaReport,
    SubmitOutcome,
)
from console.ops.journal import OperationJournal, OperationRow
from console.storage import redact, validate_storage_location

log = logging.getLogger(__name__)

MIN_POLL_INTERVAL = 1.0
"""Floor between two polls of one operation, whatever Retry-After says (zero, negative)."""
DEFAULT_POLL_INTERVAL = 60.0
"""Wait when Graph sends no Retry-After on an unfinished operation (its documented example says 60)."""
UNKNOWN_STATUS_MAX_INTERVAL = 900.0
"""An unknown status keeps being polled, backing off to at most this interval."""
UNKNOWN_STATUS_POLL_LIMIT = 500
"""After this many polls in an unknown status the engine stops and says so."""
AUTH_RETRY_INTERVAL = 300.0
"""After a 401/403 while polling, wait this long before trying that operation again."""
ERROR_BACKOFF_START = 2.0
ERROR_BACKOFF_CAP = 600.0
FLUSH_INTERVAL = 0.5
"""Seconds between batched journal writes."""


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class OperationsEngine:
    """Submits exports and polls their dataPolicyOperations within the tenant's budgets.

    Args:
        client: the Graph client for this tenant.
        journal: the SQLite journal (shared by every process of this user).
        tenant_key: the token's tenant id, or the Graph URL for an opaque token.
        poll_budget: polls allowed in any hour for this tenant.
        clock: where time comes from (a manual clock in tests).
        workers: polls in flight at once.
        submit_concurrency: export POSTs in flight at once.
    """

    def __init__(
        self,
        client: GraphClient,
        journal: OperationJournal,
        *,
        tenant_key: str,
        poll_budget: int = DEFAULT_POLL_BUDGET,
        clock: Clock | None = None,
        workers: int = 16,
        submit_concurrency: int = 4,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.client = client
        self.journal = journal
        self.tenant_key = tenant_key
        self.clock: Clock = clock or SystemClock()
        self.budget = PollBudget(poll_budget, self.clock)
        self._workers = max(1, workers)
        self._submit_concurrency = max(1, submit_concurrency)
        self._flush_interval = flush_interval
        self._rows: dict[int, OperationRow] = {}
        self._open: set[int] = set()
        self._heap: list[tuple[float, int, int]] = []
        self._due: dict[int, float] = {}
        self._seq = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._queue: asyncio.Queue[int] = asyncio.Queue(maxsize=self._workers)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribers: list[tuple[Callable[[OperationEvent], None], frozenset[str] | None]] = []
        self._first_progress: dict[int, tuple[float, float]] = {}
        self._error_streak: dict[int, int] = {}
        self._unknown_polls: dict[int, int] = {}
        self.posts_in_flight = 0
        """Export POSTs sent and not yet answered (quitting now could leave them unconfirmed)."""
        self.polls_sent = 0
        """Polls sent since start."""
        self.fatal_error: errors.GraphError | None = None
        """The last 401/403 while polling: the admin must act before polling can succeed."""
        self.running = False

    # -- subscription ---------------------------------------------------------------

    def subscribe(
        self, callback: Callable[[OperationEvent], None], kinds: Iterable[EventKind] | None = None
    ) -> Callable[[], None]:
        """Call ``callback`` with every event (or only those of ``kinds``); returns a function that unsubscribes."""
        entry = (callback, frozenset(kinds) if kinds is not None else None)
        self._subscribers.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)

        return unsubscribe

    def _emit(self, kind: EventKind, row: OperationRow) -> None:
        event: OperationEvent | None = None
        for callback, kinds in list(self._subscribers):
            if kinds is not None and kind not in kinds:
                continue
            if event is None:  # built once, and only when somebody wants it
                event = OperationEvent(kind, row.view())
            try:
                callback(event)
            except Exception:  # a broken subscriber must not stop polling
                log.exception("operation event subscriber failed")

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, *, resume: bool = True) -> None:
        """Load the tenant's journal and start polling.

        Args:
            resume: also poll every unfinished operation found in the journal
                (``watch`` and the console); ``export`` tracks only what it submits.
        """
        if self.running:
            return
        now = self.clock.now()
        if resume:
            self.journal.recover_intents(self.tenant_key, now)
        for row in self.journal.rows(self.tenant_key):
            self._rows[row.key] = row
            if resume and row.state == TRACKING and row.location:
                self._open.add(row.key)
                self._push(row.key, max(now, row.next_poll_at or now))
        self.running = True
        self._update_idle()
        self._tasks.append(asyncio.create_task(self._schedule_loop(), name="ops-scheduler"))
        self._tasks.extend(asyncio.create_task(self._worker(), name=f"ops-worker-{n}") for n in range(self._workers))
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="ops-journal-flush"))

    async def stop(self) -> None:
        """Stop polling and flush the journal; unfinished operations stay there for ``watch``."""
        self.running = False
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.journal.flush(self.clock.now())

    async def wait_until_idle(self) -> None:
        """Return when every tracked operation is final (or needs the admin) and no POST is in flight."""
        await self._idle.wait()

    def _update_idle(self) -> None:
        if not self._open and self.posts_in_flight == 0:
            self._idle.set()
        else:
            self._idle.clear()

    # -- reads --------------------------------------------------------------------------

    def operations(self) -> list[OperationView]:
        """Every known operation of the tenant, oldest first."""
        return [row.view() for row in self._rows.values()]

    def operation(self, key: int) -> OperationView | None:
        row = self._rows.get(key)
        return row.view() if row else None

    def history(self, key: int) -> list[PollRecord]:
        """Every poll of one operation (the submission first)."""
        return self.journal.history(key)

    def quota(self) -> QuotaReport:
        """Exports left today under Graph's daily limits, counted from the journal."""
        used = self.journal.exports_since(self.tenant_key, self.clock.now() - DAY)
        return QuotaReport(
            tenant_used=sum(used.values()),
            tenant_limit=EXPORTS_PER_TENANT_PER_DAY,
            per_user_used=used,
            per_user_limit=EXPORTS_PER_USER_PER_DAY,
        )

    def unfinished_for(self, user_id: str, storage_location: str) -> list[OperationView]:
        """Open exports of ``user_id`` to the same (redacted) location, for a confirmation prompt."""
        safe = redact(storage_location.strip())
        return [
            row.view()
            for row in self._rows.values()
            if row.user_id == user_id and row.storage_location == safe and row.state in (INTENT, TRACKING, UNCONFIRMED)
        ]

    @property
    def active(self) -> int:
        """Operations being polled."""
        return len(self._open)

    # -- submission ---------------------------------------------------------------------

    def check_quota(self, user_ids: Sequence[str]) -> QuotaReport:
        """Refuse a batch that would pass Graph's daily export limits.

        Raises:
            errors.QuotaExceeded: with what is left.
        """
        report = self.quota()
        if report.tenant_used + len(user_ids) > report.tenant_limit:
            raise errors.QuotaExceeded(
                f"this would pass Graph's limit of {report.tenant_limit} exports a day for the tenant: "
                f"{report.tenant_left} left in the last 24 h, {len(user_ids)} asked"
            )
        batch: dict[str, int] = {}
        for user_id in user_ids:
            batch[user_id] = batch.get(user_id, 0) + 1
        for user_id, count in batch.items():
            if report.per_user_used.get(user_id, 0) + count > report.per_user_limit:
                raise errors.QuotaExceeded(
                    f"user {user_id} would pass Graph's limit of {report.per_user_limit} exports a day: "
                    f"{report.user_left(user_id)} left in the last 24 h"
                )
        return report

    async def submit(self, user_ids: Sequence[str], storage_location: str) -> list[SubmitOutcome]:
        """Export each user's data to ``storage_location`` and start tracking the operations.

        The full location (with its SAS signature) lives only in this call's memory;
        the journal and every event carry it redacted.

        Raises:
            ValueError: the storage location is not usable (nothing is submitted).
            errors.QuotaExceeded: the daily limits would be passed (nothing is submitted).
        """
        location = validate_storage_location(storage_location)
        self.check_quota(user_ids)
        gate = asyncio.Semaphore(self._submit_concurrency)

        async def one(user_id: str) -> SubmitOutcome:
            async with gate:
                return await self._submit_one(user_id, location)

        return list(await asyncio.gather(*(one(user_id) for user_id in user_ids)))

    async def _submit_one(self, user_id: str, location: str) -> SubmitOutcome:
        now = self.clock.now()
        row = self.journal.record_intent(self.tenant_key, user_id, location, now)
        self._rows[row.key] = row
        self.posts_in_flight += 1
        self._update_idle()
        try:
            accepted = await self.client.export_personal_data(user_id, location)
        except errors.GraphError as exc:
            unconfirmed = isinstance(exc, errors.ExportUnconfirmed)
            row.state = UNCONFIRMED if unconfirmed else REJECTED
            row.last_error = str(exc)
            if isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):
                self.fatal_error = exc
            record = PollRecord(
                self.clock.now(),
                exc.status,
                exc.retry_after,
                exc.request_id,
                exc.client_request_id,
                None,
                None,
                str(exc),
            )
            self.journal.save_now(row, record, self.clock.now())
            self._emit("unconfirmed" if unconfirmed else "rejected", row)
            return SubmitOutcome(user_id, row.view(), str(exc), type(exc).__name__)
        except Exception as exc:  # unknown outcome: never lose the intent, never re-POST blindly
            log.exception("export POST failed unexpectedly")
            row.state = UNCONFIRMED
            row.last_error = f"the export request failed unexpectedly ({type(exc).__name__}); check it in the portal"
            self.journal.save_now(row, None, self.clock.now())
            self._emit("unconfirmed", row)
            return SubmitOutcome(user_id, row.view(), row.last_error, type(exc).__name__)
        finally:
            self.posts_in_flight -= 1
            self._update_idle()

        now = self.clock.now()
        row.operation_id = accepted.operation_id
        row.location = accepted.location
        row.submitted_at = _iso(datetime.fromtimestamp(now, UTC))
        info = accepted.info
        record = PollRecord(
            now, info.http_status, accepted.retry_after, info.request_id, info.client_request_id, None, None, ""
        )
        try:
            self.client.check_url(accepted.location)
        except errors.UnsafeRedirect as exc:
            row.state = ERROR
            row.last_error = str(exc)
            self.journal.save_now(row, record, now)
            self._emit("error", row)
            return SubmitOutcome(user_id, row.view(), str(exc), type(exc).__name__)
        row.state = TRACKING
        self._open.add(row.key)
        self._reschedule(row, accepted.retry_after, now)
        self.journal.save_now(row, record, now)
        self._update_idle()
        self._emit("submitted", row)
        return SubmitOutcome(user_id, row.view(), "")

    # -- scheduling ---------------------------------------------------------------------

    def _push(self, key: int, due: float) -> None:
        self._seq += 1
        self._due[key] = due
        earliest = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (due, self._seq, key))
        if earliest is None or due < earliest:
            self._wake.set()

    def _reschedule(self, row: OperationRow, retry_after: float | None, now: float, *, floor: float = 0.0) -> None:
        """Pick the next poll: never before Retry-After; spread over the budget; sooner when about to finish."""
        not_before = max(MIN_POLL_INTERVAL, retry_after if retry_after is not None else DEFAULT_POLL_INTERVAL, floor)
        fair = self.budget.fair_interval(len(self._open))
        interval = max(not_before, fair)
        if fair > not_before:
            eta = self._eta(row, now)
            if eta is not None:
                # When the budget binds, follow the progress estimate: sooner when about to finish,
                # later when far from it, but always within [fair/4, 2*fair] so no operation starves.
                interval = max(not_before, min(fair * 2, max(eta, fair * 0.25)))
        due = now + interval
        row.next_poll_at = due
        self._push(row.key, due)

    def _eta(self, row: OperationRow, now: float) -> float | None:
        first = self._first_progress.get(row.key)
        if first is None or row.progress is None:
            return None
        then, progress_then = first
        if now <= then or row.progress <= progress_then:
            return None
        rate = (row.progress - progress_then) / (now - then)
        return max(0.0, (100.0 - row.progress) / rate)

    async def _sleep_or_wake(self, delay: float) -> None:
        self._wake.clear()
        sleeper = asyncio.ensure_future(self.clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def _schedule_loop(self) -> None:
        heap = self._heap
        while True:
            if not heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            due, _seq, key = heap[0]
            if self._due.get(key) != due:
                heapq.heappop(heap)
                continue
            delay = due - self.clock.now()
            if delay > 0:
                await self._sleep_or_wake(delay)
                continue
            await self.budget.acquire()
            # The heap may have changed while waiting on the budget: dispatch the earliest valid entry,
            # and only if it is due (never poll before Retry-After, whatever happened meanwhile).
            while heap:
                due, _seq, key = heap[0]
                if self._due.get(key) != due:
                    heapq.heappop(heap)
                    continue
                if due > self.clock.now():
                    self.budget.refund()
                    break
                heapq.heappop(heap)
                del self._due[key]
                await self._queue.put(key)
                break

    async def _flush_loop(self) -> None:
        while True:
            await self.clock.sleep(self._flush_interval)
            try:
                self.journal.flush(self.clock.now())
            except Exception:
                log.exception("journal flush failed; will retry")

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            try:
                await self._poll(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll of operation %s failed unexpectedly", key)
                row = self._rows.get(key)
                if row is not None and row.key in self._open:
                    row.last_error = "internal error while polling; retrying"
                    self._reschedule(row, None, self.clock.now(), floor=ERROR_BACKOFF_CAP / 10)
            finally:
                self._queue.task_done()

    def _finish(self, row: OperationRow) -> None:
        self._open.discard(row.key)
        self._due.pop(row.key, None)
        row.next_poll_at = None
        self._first_progress.pop(row.key, None)
        self._error_streak.pop(row.key, None)
        self._unknown_polls.pop(row.key, None)
        self._update_idle()

    async def _poll(self, key: int) -> None:
        row = self._rows[key]
        if key not in self._open or not row.location:
            return
        self.polls_sent += 1
        try:
            result = await self.client.get_operation(row.location)
        except errors.GraphError as exc:
            self._poll_failed(row, exc)
            return
        now = self.clock.now()
        operation, info = result.operation, result.info
        row.polls += 1
        status_changed = operation.status != row.status
        progress = operation.progress if operation.progress is not None else row.progress
        progress_changed = progress != row.progress
        row.status = operation.status
        row.progress = progress
        if operation.submitted is not None:
            row.submitted_at = _iso(operation.submitted)
        if operation.completed is not None:
            row.completed_at = _iso(operation.completed)
        row.last_error = ""
        self._error_streak.pop(key, None)
        if progress is not None and key not in self._first_progress:
            self._first_progress[key] = (now, progress)
        record = PollRecord(
            now,
            info.http_status,
            info.retry_after,
            info.request_id,
            info.client_request_id,
            operation.status,
            progress,
            "",
        )
        if is_final(operation.status):
            row.state = FINAL
            self._finish(row)
        elif operation.status not in KNOWN_STATUSES:
            # An evolvable-enum value we don't know: show it as is, keep polling with a cap (graph-api.md).
            count = self._unknown_polls.get(key, 0) + 1
            self._unknown_polls[key] = count
            if count >= UNKNOWN_STATUS_POLL_LIMIT:
                row.state = ERROR
                row.last_error = f"status {operation.status!r} never became final after {count} polls; stopped watching"
                self._finish(row)
            else:
                backoff = min(UNKNOWN_STATUS_MAX_INTERVAL, MIN_POLL_INTERVAL * 2 ** min(count, 12))
                self._reschedule(row, info.retry_after, now, floor=backoff)
        else:
            self._unknown_polls.pop(key, None)
            self._reschedule(row, info.retry_after, now)
        self.journal.queue(row, record)
        if status_changed:
            self._emit("status", row)
        elif progress_changed:
            self._emit("progress", row)
        else:
            self._emit("polled", row)

    def _poll_failed(self, row: OperationRow, exc: errors.GraphError) -> None:
        now = self.clock.now()
        row.last_error = str(exc)
        record = PollRecord(
            now, exc.status, exc.retry_after, exc.request_id, exc.client_request_id, row.status, row.progress, str(exc)
        )
        if isinstance(exc, (errors.NotFound, errors.UnsafeRedirect)):
            row.state = ERROR
            self._finish(row)
        elif isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):
            self.fatal_error = exc
            self._reschedule(row, exc.retry_after, now, floor=AUTH_RETRY_INTERVAL)
        else:
            streak = self._error_streak.get(row.key, 0) + 1
            self._error_streak[row.key] = streak
            wait = backoff_delay(streak, start=ERROR_BACKOFF_START, cap=ERROR_BACKOFF_CAP)
            self._reschedule(row, exc.retry_after, now, floor=wait)
        self.journal.queue(row, record)
        self._emit("error", row)

    def track_keys(self) -> Iterable[int]:
        """Keys of the operations being polled."""
        return tuple(self._open)

    def seen_final(self, key: int) -> bool:
        row = self._rows.get(key)
        return bool(row and row.state == FINAL)


__all__ = ["OperationsEngine", "FINAL", "TRACKING", "UNCONFIRMED", "REJECTED", "ERROR", "INTENT"]
