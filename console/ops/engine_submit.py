"""The engine's submission: export POSTs within the daily quotas, each intent journalled before it.

The full storage location (with its SAS) lives only in this process's memory (the operation's
``TrackedOperation``); the journal and every event carry it redacted.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from console.errors import UsageError
from console.graph import errors
from console.graph.models import ExportAccepted
from console.ops.budget import DAY, EXPORTS_PER_TENANT_PER_DAY, EXPORTS_PER_USER_PER_DAY
from console.ops.engine_core import EngineCore
from console.ops.events import (
    ERROR,
    REJECTED,
    TRACKING,
    UNCONFIRMED,
    ExportTarget,
    OperationView,
    PollRecord,
    QuotaReport,
    SubmitFailure,
    SubmitOutcome,
)
from console.ops.journal import DuplicateOperation, JournalError, OperationRow, iso
from console.redact import redact
from console.storage import validate_storage_location

log = logging.getLogger("console.ops.engine")

PRECHECK_WINDOW = 16
"""With a pre-check (the storage pre-flight), targets checked ahead of the POSTs at most."""

Precheck = Callable[[ExportTarget], Awaitable[bool]]


class AlreadyExporting(UsageError):
    """Some users already have an unfinished or unconfirmed export (in any process): nothing was sent.

    Attributes:
        conflicts: those exports.
    """

    title = "Already exporting"

    def __init__(self, conflicts: list[OperationView]) -> None:
        users = sorted({view.user_id for view in conflicts})
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        super().__init__(
            f"{len(users)} of these people already have an export that is unfinished or unconfirmed ({shown}): "
            "check it first, or force a new one"
        )
        self.conflicts = conflicts


def export_targets(targets: Sequence[ExportTarget | str], storage_location: str | None) -> list[ExportTarget]:
    """The targets with checked storage locations (user ids go to ``storage_location``).

    Raises:
        ValueError: a storage location is not usable.
    """
    items: list[ExportTarget] = []
    for target in targets:
        if isinstance(target, str):
            if storage_location is None:
                raise ValueError("no storage location given for these exports")
            target = ExportTarget(user_id=target, storage_location=storage_location)
        items.append(replace(target, storage_location=validate_storage_location(target.storage_location)))
    return items


def _failure_record(at: float, exc: errors.GraphError, text: str) -> PollRecord:
    return PollRecord(at, exc.status, exc.retry_after, exc.request_id, exc.client_request_id, None, None, text)


class SubmitMixin(EngineCore):
    """Export POSTs, the daily quotas and the conflict check."""

    async def submit(
        self,
        targets: Sequence[ExportTarget | str],
        storage_location: str | None = None,
        *,
        case: str = "",
        submitted_by: str | None = None,
        force: bool = False,
        precheck: Precheck | None = None,
        window: int = PRECHECK_WINDOW,
    ) -> list[SubmitOutcome]:
        """Export each target's data to its storage location and start tracking the operations.

        The full location (with its SAS signature) lives only in this process's memory; the
        journal and every event carry it redacted. Each intent is committed before its POST.

        With ``precheck`` (the CLI's storage pre-flight) submission is a pipeline: the checks run at
        most ``window`` targets ahead of the POSTs, in order, and each target is POSTed as soon as
        its own check passes, so the first POST never waits for the whole batch to be checked. A
        target whose check says False is never POSTed (no intent, no outcome: the caller reports it).

        Args:
            targets: ``ExportTarget``s (each with its own location), or user ids for ``storage_location``.
            storage_location: the location of plain user-id targets.
            case: the data-subject request reference kept with each export.
            submitted_by: who submits (default: the engine's identity).
            force: export even users that already have an unfinished or unconfirmed export.
            precheck: called with each target before its POST; False keeps it back (nothing sent).
            window: targets checked ahead of the POSTs at most.

        Returns:
            One outcome per target POSTed (or that failed to be), in the order of ``targets``.

        Raises:
            ValueError: a storage location is not usable (nothing is submitted).
            errors.QuotaExceeded: the daily limits would be passed (nothing is submitted).
            AlreadyExporting: some users have an unfinished or unconfirmed export (nothing is submitted).
            JournalError: the journal stayed locked or cannot be read (nothing is submitted).
        """
        items = export_targets(targets, storage_location)
        user_ids = [item.user_id for item in items]
        await self._ensure_open()
        await self.check_quota(user_ids)
        if not force:
            found = await self.conflicts(user_ids)
            if found:
                raise AlreadyExporting(found)
        who = self.identity if submitted_by is None else submitted_by
        self._submit_failure = None  # a new batch tries the journal again (an intent first, as ever)
        return await self._submit_all(items, case, who, precheck, window)

    async def _submit_all(
        self, items: list[ExportTarget], case: str, who: str, precheck: Precheck | None, window: int
    ) -> list[SubmitOutcome]:
        gate = asyncio.Semaphore(self._submit_concurrency)
        ahead = asyncio.Semaphore(max(1, window))

        async def one(item: ExportTarget) -> SubmitOutcome | None:
            if precheck is None:
                async with gate:
                    return await self._submit_one(item, case, who)
            async with ahead:  # FIFO: checks and POSTs keep the targets' order, a bounded window apart
                if not await precheck(item):
                    return None
                async with gate:
                    return await self._submit_one(item, case, who)

        # Without the sync loop (an engine never started) the heartbeat still beats while POSTs are
        # in flight, so that no other process takes this one's intents for a crash's leftovers.
        beat = None if self.running else asyncio.create_task(self._heartbeat_loop(), name="ops-heartbeat")
        try:
            return [o for o in await asyncio.gather(*(one(item) for item in items)) if o is not None]
        finally:
            if beat is not None:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)

    async def _submit_one(self, target: ExportTarget, case: str, who: str) -> SubmitOutcome:
        user_id, location = target.user_id, target.storage_location
        if self._submit_failure is not None:
            # The journal cannot record an intent (or what Graph answered): send no further export.
            text = f"not sent: the journal cannot be written ({redact(str(self._submit_failure))})"
            return SubmitOutcome(user_id, None, SubmitFailure(text, self._submit_failure))
        now = self.clock.now()
        try:
            row = await self.record_intent_for(
                target,
                location,
                now,
                case=case,
                who=who,
                previous_key=target.previous_key,
                lease_until=now + self._lease_ttl,
            )
        except (sqlite3.Error, JournalError) as exc:
            # No intent on disk, no POST: a crash now must not leave an export nobody knows of.
            self.journal_failure = self._submit_failure = exc
            text = f"the journal could not record the export, so it was not sent: {redact(str(exc))}"
            return SubmitOutcome(user_id, None, SubmitFailure(text, exc))
        self._rows[row.key] = row
        outcome = await self._post(row, location)
        if isinstance(outcome, SubmitOutcome):
            return outcome
        return await self._accepted(row, location, outcome)

    async def _post(self, row: OperationRow, location: str) -> ExportAccepted | SubmitOutcome:
        """The export POST: what Graph accepted, or the outcome of a POST that failed (journalled)."""
        user_id = row.user_id
        self.posts_in_flight += 1
        self._update_idle()
        try:
            return await self.client.export_personal_data(user_id, location)
        except errors.GraphError as exc:
            unconfirmed = isinstance(exc, errors.ExportUnconfirmed)
            row.state = UNCONFIRMED if unconfirmed else REJECTED
            row.last_error = redact(str(exc))
            row.post_request_id = exc.request_id
            if isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):
                self.fatal_error = exc
            record = _failure_record(self.clock.now(), exc, row.last_error)
            await self._save(row, record)
            self._emit("unconfirmed" if unconfirmed else "rejected", row)
            return SubmitOutcome(user_id, row.view(), SubmitFailure(row.last_error, exc))
        except Exception as exc:  # unknown outcome: never lose the intent, never re-POST blindly
            log.exception("export POST failed unexpectedly")
            row.state = UNCONFIRMED
            row.last_error = f"the export request failed unexpectedly ({type(exc).__name__}); check it in the portal"
            await self._save(row)
            self._emit("unconfirmed", row)
            return SubmitOutcome(user_id, row.view(), SubmitFailure(row.last_error, exc))
        finally:
            self.posts_in_flight -= 1
            self._update_idle()

    async def _accepted(self, row: OperationRow, location: str, accepted: ExportAccepted) -> SubmitOutcome:
        """Graph accepted the export (202): track it and journal it (one row per operation id)."""
        now = self.clock.now()
        row.operation_id = accepted.operation_id or None
        row.location = accepted.location
        row.submitted_at = iso(datetime.fromtimestamp(now, UTC))
        row.retry_after = accepted.retry_after
        info = accepted.info
        row.post_request_id = info.request_id
        record = PollRecord(
            now, info.http_status, accepted.retry_after, info.request_id, info.client_request_id, None, None, ""
        )
        try:
            self.client.check_url(accepted.location)
        except (errors.GraphError, ValueError) as exc:  # UnsafeRedirect, an unreadable Location
            # Graph accepted something we cannot follow: with no id to show, it is unconfirmed (check it in
            # the portal before exporting this user again), never a row under a made-up id.
            unknown = row.operation_id is None
            return await self._accepted_but_untrackable(row, record, redact(str(exc)), exc, unconfirmed=unknown)
        row.state = TRACKING
        tracked = self._track(row)
        tracked.location = location
        self._reschedule(tracked, accepted.retry_after, now)
        # One trip to the writer thread: is the id tracked by another row already? If not, the row is written
        # now (after the 202 in every path: a failed write stays queued and is retried, never lost).
        existing, written = await self.writer.grouped(self._track_or_find, row, record, self.clock.now(), retry=False)
        if existing is not None:
            self._finish(row)
            duplicate = DuplicateOperation(accepted.operation_id, existing)
            return await self._accepted_but_untrackable(row, record, str(duplicate), duplicate)
        # Not written at once: wait out a locked journal a while; until it is written, the id and status URL
        # are kept for the caller to print (``unjournaled``), and no further export of the batch is sent.
        if not written and not await self._save(row, record):
            self._unjournaled[row.key] = row
            log.warning(
                "Graph accepted the export of %s as operation %s (status URL %s) but the journal could not "
                "record it yet",
                row.user_id,
                row.operation_id or "(no id)",
                redact(row.location) if row.location else "(none)",
            )
        self._update_idle()
        self._emit("submitted", row)
        return SubmitOutcome(row.user_id, row.view())

    def _track_or_find(self, row: OperationRow, record: PollRecord, now: float) -> tuple[int | None, bool]:
        """On the writer thread: the row already tracking ``row``'s operation id (then nothing is written), or
        None and whether ``row`` (now tracking) was written with what else is pending."""
        journal = self.writer.journal
        existing: int | None = None
        if row.operation_id is not None:
            operation_id = row.operation_id
            try:
                existing = journal.retrying(lambda: journal.tracked_elsewhere(self.tenant_key, operation_id, row.key))
            except sqlite3.Error:
                existing = None
        if existing is not None:
            return existing, True
        journal.queue(row, record)
        try:
            journal.flush(now)
        except sqlite3.Error:
            return None, False
        return None, True

    async def _accepted_but_untrackable(
        self, row: OperationRow, record: PollRecord, text: str, exc: BaseException, *, unconfirmed: bool = False
    ) -> SubmitOutcome:
        row.state = UNCONFIRMED if unconfirmed else ERROR
        if unconfirmed:
            row.operation_id = None
        row.last_error = text
        await self._save(row, record)
        self._emit("unconfirmed" if unconfirmed else "error", row)
        return SubmitOutcome(row.user_id, row.view(), SubmitFailure(text, exc))

    # -- quotas and conflicts -----------------------------------------------------------

    async def quota(self) -> QuotaReport:
        """Exports left today under Graph's daily limits, counted from the journal (every process)."""
        await self._ensure_open()
        used = await self.writer.call(self.writer.journal.exports_since, self.tenant_key, self.clock.now() - DAY)
        return QuotaReport(
            tenant_used=sum(used.values()),
            tenant_limit=EXPORTS_PER_TENANT_PER_DAY,
            per_user_used=used,
            per_user_limit=EXPORTS_PER_USER_PER_DAY,
        )

    async def requests_this_hour(self) -> int:
        """Requests the tenant's ledger counts in the last hour (every process on the journal; this
        process's own while its budget is not the journal's): the pulse's "polls this hour"."""
        if not self.budget.shared:
            return self.budget.spent_last_hour(self.clock.now())
        await self._ensure_open()
        return await self.writer.call(self.writer.journal.requests_in_last_hour, self.tenant_key, self.clock.now())

    async def check_quota(self, user_ids: Sequence[str]) -> QuotaReport:
        """Refuse a batch that would pass Graph's daily export limits.

        Raises:
            errors.QuotaExceeded: with what is left.
        """
        report = await self.quota()
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

    async def conflicts(self, user_ids: Iterable[str]) -> list[OperationView]:
        """Unfinished (submitting, tracking) or unconfirmed exports of these users, in any process."""
        await self._ensure_open()
        rows = await self.writer.call(self.writer.journal.conflicts, self.tenant_key, list(user_ids))
        return [row.view() for row in rows]
