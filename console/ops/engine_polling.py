"""The engine's polling: one scheduler over the poll queue feeds a bounded pool of workers.

The scheduler takes an operation off the queue only when it is due (never before Graph's
Retry-After) and when the tenant's budget grants a request; a worker polls it, and what Graph
answered (``answers``) says whether and when (``schedule``) it is polled again.
"""

from __future__ import annotations

import asyncio
import logging

from console.graph import errors
from console.graph.models import OperationPoll
from console.ops import answers, schedule
from console.ops.answers import ERROR_BACKOFF_CAP, Step
from console.ops.budget import LedgerUnavailable
from console.ops.engine_core import EngineCore
from console.ops.events import FINAL, TRACKING, PollRecord
from console.ops.journal import OperationRow, delivery_to_json, iso
from console.ops.schedule import ProgressSample
from console.ops.status import PollingStatus
from console.ops.tracked import TrackedOperation
from console.redact import redact

log = logging.getLogger("console.ops.engine")

LEDGER_PAUSE = 30.0
"""After the budget's ledger gave up (a full disk), seconds between two asks: polling resumes once it works."""
STOP_GRACE = 3.0
"""On stop (a signal, quitting), seconds the polls already sent get to bring their answers back, so that
their Retry-After is journalled and the next process does not poll early (issue 14, item 5)."""


class PollingMixin(EngineCore):
    """The scheduler, the workers and what a poll's answer changes."""

    async def _schedule_loop(self) -> None:
        while True:
            earliest = self._polls.earliest()
            if earliest is None:
                await self._polls.wait_for_entry()
                continue
            delay = earliest - self.clock.now()
            if delay > 0:
                await self._polls.sleep(self.clock, delay)
                continue
            if not await self._spend():
                continue
            # The queue may have changed while waiting on the budget: dispatch a valid entry only if
            # it is due (never poll before Retry-After, whatever happened meanwhile).
            key = self._polls.take_due(self.clock.now())
            if key is None:
                self.budget.refund()
                continue
            await self._queue.put(key)

    async def _spend(self) -> bool:
        """Wait for the budget to grant one request; False when it could not (try again)."""
        try:
            await self.budget.acquire()
        except asyncio.CancelledError:
            raise
        except LedgerUnavailable as exc:  # a full disk: the run ends (with its exit code), never hangs
            self._stop_polling(exc)
            # The console lives on: one more ask of the ledger now and then, polling again once it works.
            await self.clock.sleep(LEDGER_PAUSE)
            return False
        except Exception:  # never let one failure end the scheduler: polling would stop for good
            log.exception("the poll budget failed; retrying")
            await self.clock.sleep(1.0)
            return False
        if self._polling_stopped:
            log.warning("the journal can be written again: polling resumes")
            self._polling_stopped = False
            self._update_idle()
        return True

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            try:
                await self._poll(key)
            except asyncio.CancelledError:
                raise
            except LedgerUnavailable as exc:  # a retry of the poll asked the ledger: as in the scheduler
                self._stop_polling(exc)
            except Exception:
                log.exception("poll of operation %s failed unexpectedly", key)
                tracked = self._tracked.get(key)
                if tracked is not None:
                    tracked.row.last_error = "internal error while polling; retrying"
                    self._reschedule(tracked, None, self.clock.now(), floor=ERROR_BACKOFF_CAP / 10)
            finally:
                self._queue.task_done()

    async def _poll(self, key: int) -> None:
        tracked = self._tracked.get(key)
        if tracked is None or not tracked.row.location:
            return
        now = self.clock.now()
        if self._stopping:  # dispatched just before the stop: not sent
            self.budget.refund()
            return
        if self._link.lease_until <= now:
            # The lease may have lapsed (a long-locked journal): another process may poll it now.
            self.budget.refund()
            self._polls.push(key, now + self._sync_interval)
            return
        result = await self._send_poll(tracked, tracked.row.location)
        if result is not None and self._tracked.get(key) is tracked:  # not stopped (or taken) meanwhile
            self._answered(tracked, result)

    async def _send_poll(self, tracked: TrackedOperation, location: str) -> OperationPoll | None:
        """One GET of the operation; None when it failed (the failure is handled)."""
        key = tracked.key
        self.polls_sent += 1
        self._in_flight[key] = self.clock.now()
        self._quiet.clear()
        try:
            return await self.client.get_operation(location, budgeted=True)
        except errors.GraphError as exc:
            failure = exc
        except ValueError as exc:  # an unreadable Location is an error for that operation, not a crash
            failure = errors.UnsafeRedirect(redact(str(exc)))
        finally:
            # The answer (or failure) is handled synchronously right after this, before anyone waiting
            # on ``_quiet`` runs: stop() then flushes it.
            self._in_flight.pop(key, None)
            if not self._in_flight:
                self._quiet.set()
        self._poll_failed(tracked, failure)
        return None

    def _answered(self, tracked: TrackedOperation, result: OperationPoll) -> None:
        """Keep what Graph answered, and poll again when the rules say (or end the operation)."""
        now = self.clock.now()
        row = tracked.row
        operation, info = result.operation, result.info
        row.polls += 1
        status_changed = operation.status != row.status
        progress = operation.progress if operation.progress is not None else row.progress
        progress_changed = progress != row.progress
        row.status = operation.status
        row.progress = progress
        if operation.submitted is not None:
            row.submitted_at = iso(operation.submitted)
            tracked.submitted = operation.submitted.timestamp()
        if operation.completed is not None:
            row.completed_at = iso(operation.completed)
        row.last_error = ""
        if progress is not None and progress > 0 and tracked.first_progress is None:
            tracked.first_progress = ProgressSample(now, progress)
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
        step = answers.after_answer(operation.status, info.retry_after, tracked.streaks)
        if step.end == FINAL:
            row.final_request_id = info.request_id
        self._apply(tracked, step, now)
        delivered = step.end == FINAL and operation.status == "complete"
        self.writer.queue(row, record)
        self._emit("status" if status_changed else "progress" if progress_changed else "polled", row)
        full_location = tracked.location if row.state != TRACKING else None
        if delivered and full_location is not None and self.delivery_check is not None:
            task = asyncio.create_task(self._check_delivery(row, full_location), name=f"ops-delivery-{row.key}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    def _apply(self, tracked: TrackedOperation, step: Step, now: float) -> None:
        """Do what the rules said of an answer: end the operation, or queue its next poll."""
        row = tracked.row
        tracked.streaks = step.streaks
        if step.error is not None:
            row.last_error = step.error
        if step.end is not None:
            row.state = step.end
            self._finish(row)
        else:
            self._reschedule(tracked, step.retry_after, now, floor=step.floor)

    async def _check_delivery(self, row: OperationRow, location: str) -> None:
        """List what landed in the location (SAS in memory only) and journal it as evidence."""
        check = self.delivery_check
        if check is None:
            return
        try:
            delivery = await check(location)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # storage unreachable: the export stands, the evidence is missing
            log.warning("delivery check of operation %s failed: %s", row.key, redact(str(exc)))
            return
        row.delivered = delivery_to_json(delivery)
        self.writer.queue(row)
        self._emit("delivered", row)

    def _poll_failed(self, tracked: TrackedOperation, exc: errors.GraphError) -> None:
        if self._tracked.get(tracked.key) is not tracked:
            return
        row = tracked.row
        now = self.clock.now()
        row.last_error = redact(str(exc))
        record = PollRecord(
            now,
            exc.status,
            exc.retry_after,
            exc.request_id,
            exc.client_request_id,
            row.status,
            row.progress,
            row.last_error,
        )
        log.debug(
            "poll of operation %s failed: HTTP %s, Retry-After %s, request-id %s, client-request-id %s",
            row.key,
            exc.status,
            exc.retry_after,
            exc.request_id,
            exc.client_request_id,
        )
        step = answers.after_failure(exc, tracked.streaks, row.last_error)
        if step.fatal:
            self.fatal_error = exc
        self._apply(tracked, step, now)
        self.writer.queue(row, record)
        self._emit("error", row)

    # -- stopping -------------------------------------------------------------------------

    async def _let_polls_land(self) -> None:
        """Stopping (a signal, quitting): the polls already sent get ``STOP_GRACE`` to bring their answers
        back (queued for the flush that follows, Retry-After and next poll with them). One still out after
        that is handed over as cut off (``_hand_over_in_flight``): the next process never polls within what
        Graph probably answered (issue 14, item 5)."""
        if self._in_flight:
            try:
                await asyncio.wait_for(self._quiet.wait(), STOP_GRACE)
            except TimeoutError:
                pass
        self._hand_over_in_flight(self.clock.now())

    def _hand_over_in_flight(self, now: float) -> None:
        """Polls cut off by the stop may have reached Graph and been answered (a Retry-After nobody
        read): whoever takes the operation over must not poll it before now plus that wait, so the
        saved next poll says so (the saved one dates from before the poll was sent)."""
        cut, self._in_flight = self._in_flight, {}
        for key in cut:
            tracked = self._tracked.get(key)
            if tracked is None or tracked.row.state != TRACKING:
                continue
            row = tracked.row
            row.next_poll_at = max(row.next_poll_at or now, now + schedule.not_before(row.retry_after))
            self.writer.queue(row)

    def polling_status(self) -> PollingStatus:
        """The polling state now, read-only (the console's status line renders it)."""
        now = self.clock.now()
        pacer = getattr(self.client, "pacer", None)
        gate = float(getattr(pacer, "gate_until", 0.0) or 0.0)
        return PollingStatus(
            requests_this_hour=self.budget.spent_last_hour(now),
            per_hour=self.budget.per_hour,
            watching=len(self._tracked),
            next_poll_at=self._polls.earliest() if self._tracked else None,
            throttled_until=gate if gate > now else None,
            paced=getattr(pacer, "rate", None) is not None,
            shared=self.budget.shared,
            blocked=redact(str(self.fatal_error)) if self.fatal_error is not None else "",
        )
