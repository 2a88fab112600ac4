"""The operations engine: submits exports and watches every operation to its end.

One scheduler keyed on each operation's due time feeds a bounded pool of async workers (not one
sleeping task per operation). When an operation is next due is ``schedule.next_poll_delay`` (a
pure function): never before Graph's Retry-After, spread over the tenant's budget, and, when the
budget binds, at the moment its progress says it will finish.

The engine shares its journal with every other process of this user (issue 7, item 2): its
journal calls run on one writer thread (``writer.JournalWriter``), it polls only the operations
it holds a lease on, its budget is the tenant's ledger in SQLite, and a sync loop renews its
leases, takes over those of dead processes and picks up rows the others add or change.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from console.clock import Clock, SystemClock
from console.graph import errors
from console.graph.models import KNOWN_STATUSES, DataPolicyOperation, is_final
from console.graph.retry import backoff_delay
from console.ops import schedule
from console.ops.status import PollingStatus
from console.ops.budget import (
    DAY,
    DEFAULT_POLL_BUDGET,
    EXPORTS_PER_TENANT_PER_DAY,
    EXPORTS_PER_USER_PER_DAY,
    LedgerUnavailable,
    PollBudget,
    Reservation,
)
from console.ops.events import (
    ERROR,
    FINAL,
    INTENT,
    REJECTED,
    RESOLVED,
    STOPPED,
    TRACKING,
    UNCONFIRMED,
    UNFINISHED_STATES,
    EventKind,
    ExportTarget,
    Note,
    OperationEvent,
    OperationView,
    PollRecord,
    QuotaReport,
    SubmitFailure,
    SubmitOutcome,
)
from console.ops.journal import (
    HEARTBEAT_TIMEOUT,
    DuplicateOperation,
    JournalError,
    OperationJournal,
    OperationRow,
    delivery_to_json,
)
from console.ops.reconcile import CLOCK_SKEW, ReconcileReport
from console.ops.reconcile import reconcile as reconcile_unconfirmed
from console.ops.schedule import DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL, ProgressSample
from console.ops.writer import JournalWriter

try:
    from console.redact import redact
except ImportError:  # pragma: no cover - before the one redaction module existed
    from console.storage import redact
from console.storage import validate_storage_location

if TYPE_CHECKING:
    from console.graph.client import GraphClient
    from console.storage.blob import Delivery

log = logging.getLogger(__name__)

UNKNOWN_STATUS_MAX_INTERVAL = 900.0
"""An unknown status keeps being polled, backing off to at most this interval."""
UNKNOWN_STATUS_POLL_LIMIT = 500
"""After this many polls in an unknown status the engine stops and says so."""
AUTH_RETRY_INTERVAL = 300.0
"""After a 401/403 while polling, wait this long before trying that operation again."""
ERROR_BACKOFF_START = 2.0
ERROR_BACKOFF_CAP = 600.0
PERMANENT_ERROR_LIMIT = 5
"""A poll refused with a 4xx (other than 401/403/404/429) this many times in a row stops: state error."""
FLUSH_INTERVAL = 0.5
"""Seconds between batched journal writes."""
SYNC_INTERVAL = 2.0
"""Seconds between two syncs with the other processes (heartbeat, leases, their new rows)."""
LEASE_TTL = 30.0
"""A lease not renewed for this long lapses: another process takes the operation over."""
RECOVER_EVERY = 5
LEDGER_PAUSE = 30.0
"""After the budget's ledger gave up (a full disk), seconds between two asks: polling resumes once it works."""
STOP_GRACE = 3.0
"""On stop (a signal, quitting), seconds the polls already sent get to bring their answers back, so that
their Retry-After is journalled and the next process does not poll early (issue 14, item 5)."""
"""Every this many syncs a resuming engine looks for intents of processes that died meanwhile."""
PRECHECK_WINDOW = 16
"""With a pre-check (the storage pre-flight), targets checked ahead of the POSTs at most."""

__all__ = [
    "AUTH_RETRY_INTERVAL",
    "AlreadyExporting",
    "DEFAULT_POLL_INTERVAL",
    "ERROR",
    "EXPORTS_PER_TENANT_PER_DAY",
    "FINAL",
    "INTENT",
    "LEASE_TTL",
    "MIN_POLL_INTERVAL",
    "OperationsEngine",
    "REJECTED",
    "TRACKING",
    "UNCONFIRMED",
]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class AlreadyExporting(Exception):
    """Some users already have an unfinished or unconfirmed export (in any process): nothing was sent.

    Attributes:
        conflicts: those exports.
    """

    def __init__(self, conflicts: list[OperationView]) -> None:
        users = sorted({view.user_id for view in conflicts})
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        super().__init__(
            f"{len(users)} of these people already have an export that is unfinished or unconfirmed ({shown}): "
            "check it first, or force a new one"
        )
        self.conflicts = conflicts


class OperationsEngine:
    """Submits exports and polls their dataPolicyOperations within the tenant's budgets.

    Args:
        client: the Graph client for this tenant.
        journal: the SQLite journal (shared by every process of this user); the engine opens its
            own connection to the same file on its writer thread.
        tenant_key: the token's tenant id, or the Graph URL for an opaque token.
        poll_budget: requests allowed in any hour for this tenant, for every process on the journal.
        clock: where time comes from (a manual clock in tests).
        identity: who submits (a UPN, an app id, ``token from $VAR``): the default ``submitted_by``.
        delivery_check: after an export of this process completes, called with the full storage
            location (memory only) to list what landed there; its ``Delivery`` is journalled.
        budget: a ``PollBudget`` already handed to the Graph client (so listing and retries spend
            from the same one); its ledger becomes the journal's. None: the engine makes one.
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
        identity: str = "",
        delivery_check: Callable[[str], Awaitable[Delivery]] | None = None,
        budget: PollBudget | None = None,
        workers: int = 16,
        submit_concurrency: int = 4,
        flush_interval: float = FLUSH_INTERVAL,
        sync_interval: float = SYNC_INTERVAL,
        lease_ttl: float = LEASE_TTL,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.client = client
        self.journal = journal
        self.journal_path = journal.path
        self.tenant_key = tenant_key
        self.clock: Clock = clock or SystemClock()
        self.identity = identity
        self.delivery_check = delivery_check
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        """This engine's row in the journal's processes table (owner of its intents and leases)."""
        self.writer = JournalWriter(journal.path)
        if budget is None:
            budget = PollBudget(poll_budget, self.clock, reserve=self._reserve_slots)
        else:
            budget.bind(self._reserve_slots)
        self.budget = budget
        self._workers = max(1, workers)
        self._submit_concurrency = max(1, submit_concurrency)
        self._flush_interval = flush_interval
        self._sync_interval = sync_interval
        self._lease_ttl = lease_ttl
        self._heartbeat_timeout = heartbeat_timeout
        self._rows: dict[int, OperationRow] = {}
        self._open: set[int] = set()
        self._heap: list[tuple[float, int, int]] = []
        self._landing: list[tuple[float, int, int]] = []
        """Polls aimed at an operation's finish: when the budget binds they go before the others."""
        self._due: dict[int, float] = {}
        self._seq = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._queue: asyncio.Queue[int] = asyncio.Queue(maxsize=self._workers)
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._subscribers: list[tuple[Callable[[OperationEvent], None], frozenset[str] | None]] = []
        self._first_progress: dict[int, ProgressSample] = {}
        self._error_streak: dict[int, int] = {}
        self._permanent_streak: dict[int, int] = {}
        self._unknown_polls: dict[int, int] = {}
        self._submitted: dict[int, float] = {}
        """When each polled operation was accepted (epoch seconds), for its scheduling."""
        self._locations: dict[int, str] = {}
        """Full storage locations (with their SAS) of this process's exports, for the delivery check only."""
        self._lease_until = 0.0
        self._others_open = 0
        self._version = 0
        self._registered = False
        self._resume = False
        self._syncs = 0
        self._flush_failed = False
        self.posts_in_flight = 0
        """Export POSTs sent and not yet answered (quitting now could leave them unconfirmed)."""
        self.polls_sent = 0
        """Polls sent since start."""
        self.fatal_error: errors.GraphError | None = None
        """The last 401/403: the admin must act before polling (or exporting) can succeed."""
        self.journal_failure: Exception | None = None
        """Why the journal could not be written (a full disk): no further export is sent, and once the
        budget's ledger gave up, polling stopped too (the run ends with its exit code)."""
        self._unjournaled: dict[int, OperationRow] = {}
        """Exports Graph accepted whose operation id is not in the journal yet (the write failed)."""
        self._polling_stopped = False
        self._submit_failure: Exception | None = None
        """Set when this batch's journal write failed: none of its further exports is sent."""
        self._stopping = False
        self._in_flight: dict[int, float] = {}
        """Polls sent and not answered yet: operation key -> when sent."""
        self._quiet = asyncio.Event()
        """Set while no poll is in flight."""
        self._quiet.set()
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

    def show_row(self, row: OperationRow) -> None:
        """Keep a row this process wrote outside the engine (a removal, ``console.ops.removal``) and tell the
        subscribers; never polled (a removal is never ``tracking``)."""
        known = row.key in self._rows
        self._rows[row.key] = row.copy()
        self._emit("changed" if known else "added", row)

    # -- lifecycle --------------------------------------------------------------------

    async def _ensure_open(self) -> None:
        """Open the writer's connection and register this process (once)."""
        if self.writer.closed:
            self.writer = JournalWriter(self.journal_path)
            self._registered = False
        await self.writer.open()
        if not self._registered:
            now = self.clock.now()
            await self.writer.call(
                self.writer.journal.register_process, self.process_id, now, identity=redact(self.identity)
            )
            self._lease_until = now + self._lease_ttl
            self._registered = True

    async def start(self, *, resume: bool = True) -> None:
        """Load the tenant's journal and start polling.

        Args:
            resume: also poll every unfinished operation nobody else polls (``watch`` and the
                console), take over those of processes that die, and convert the intents of dead
                processes to unconfirmed; ``export`` tracks only what it submits.
        """
        if self.running:
            return
        await self._ensure_open()
        journal = self.writer.journal
        now = self.clock.now()
        self._resume = resume
        if resume:
            recovered = await self.writer.call(
                journal.recover_intents,
                self.tenant_key,
                now,
                owner=self.process_id,
                heartbeat_timeout=self._heartbeat_timeout,
            )
            if recovered:
                log.warning("%d interrupted exports marked unconfirmed", len(recovered))
        self._version = await self.writer.call(journal.row_version)
        for row in await self.writer.call(journal.rows, self.tenant_key):
            self._rows[row.key] = row
        if resume:
            await self._claim(now)
        self._count_others()
        self.running = True
        self._polling_stopped = False
        self._stopping = False
        self._update_idle()
        self._tasks.append(asyncio.create_task(self._schedule_loop(), name="ops-scheduler"))
        self._tasks.extend(asyncio.create_task(self._worker(), name=f"ops-worker-{n}") for n in range(self._workers))
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="ops-journal-flush"))
        self._tasks.append(asyncio.create_task(self._sync_loop(), name="ops-journal-sync"))

    async def stop(self, *, release: bool = True) -> None:
        """Stop polling and flush the journal; unfinished operations stay there for ``watch``.

        Args:
            release: give the leases back so another process takes over at once (False leaves them
                to lapse, as a crash would).
        """
        self.running = False
        self._stopping = True
        tasks, self._tasks = self._tasks, []
        tasks.extend(self._side_tasks)
        workers = [task for task in tasks if task.get_name().startswith("ops-worker-")]
        for task in tasks:
            if task not in workers:
                task.cancel()
        await self._let_polls_land()
        for task in workers:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.writer.closed or self.writer._journal is None:
            return
        journal = self.writer.journal
        flushed = False
        for _attempt in range(3):
            if await self._flush():
                flushed = True
                break
        if not flushed:  # the journal lacks the last polls' next times: let the leases lapse (takeover waits)
            log.warning("journal: last changes not written; leases left to lapse instead of given back")
        if release and self._registered and flushed:
            try:
                await self.writer.call(journal.unregister_process, self.process_id)
            except (sqlite3.Error, JournalError) as exc:
                log.warning("journal: leases not given back (they lapse): %s", redact(str(exc)))
        await self.writer.close()
        self._registered = False
        self._open.clear()
        self._heap.clear()
        self._landing.clear()
        self._due.clear()

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
            row = self._rows.get(key)
            if row is None or row.state != TRACKING or key not in self._open:
                continue
            row.next_poll_at = max(row.next_poll_at or now, now + schedule.not_before(row.retry_after))
            self.writer.queue(row)

    async def wait_until_idle(self) -> None:
        """Return when every tracked operation is final (or needs the admin) and no POST is in flight.

        A resuming engine waits for the tenant's operations other processes poll too (it sees them
        finish through the journal); ``export`` (``start(resume=False)``) only for its own.
        """
        await self._idle.wait()

    def _update_idle(self) -> None:
        # A resuming engine (``watch``, the console) also waits for what other processes poll.
        others = self._others_open if self._resume else 0
        if self.posts_in_flight == 0 and (self._polling_stopped or (not self._open and others == 0)):
            self._idle.set()
        else:
            self._idle.clear()

    # -- reads --------------------------------------------------------------------------

    def operations(self) -> list[OperationView]:
        """Every known operation of the tenant (this process's and the others'), oldest first."""
        return [row.view() for row in sorted(self._rows.values(), key=lambda r: r.key)]

    def operation(self, key: int) -> OperationView | None:
        row = self._rows.get(key)
        return row.view() if row else None

    async def history(self, key: int) -> list[PollRecord]:
        """Every kept poll of one operation (the submission first)."""
        await self._ensure_open()
        return await self.writer.call(self.writer.journal.history, key)

    async def notes(self, key: int) -> list[Note]:
        """The notes on one operation, oldest first."""
        await self._ensure_open()
        return await self.writer.call(self.writer.journal.notes, key)

    async def add_note(self, key: int, text: str, author: str | None = None) -> Note:
        """Keep a note on an operation (time and author with it).

        Raises:
            KeyError: no such operation.
        """
        await self._ensure_open()
        note = await self.writer.call(
            self.writer.journal.add_note, key, text, author if author is not None else self.identity, self.clock.now()
        )
        row = self._rows.get(key)
        if row is not None:
            row.notes += 1
            self._emit("changed", row)
        return note

    async def resolve(self, key: int, note: str, author: str | None = None) -> None:
        """Mark an unconfirmed export checked (state resolved), with a note saying what was found.

        Raises:
            KeyError: no such operation.
            ValueError: it is not unconfirmed.
        """
        await self._ensure_open()
        await self.writer.call(
            self.writer.journal.resolve, key, note, author if author is not None else self.identity, self.clock.now()
        )
        row = self._rows.get(key)
        if row is not None:
            row.state = RESOLVED
            if note.strip():
                row.notes += 1
            self._emit("changed", row)

    async def stop_watching(self, key: int) -> None:
        """Stop polling an open export (state stopped); its history is kept.

        Raises:
            KeyError: no such operation.
            ValueError: it is already finished.
        """
        await self._ensure_open()
        await self.writer.call(self.writer.journal.stop_watching, key, self.clock.now(), self.identity)
        row = self._rows.get(key)
        if row is not None:
            row.state = STOPPED
            self._finish(row)
            self._emit("changed", row)

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

    def unfinished_for(self, user_id: str, storage_location: str) -> list[OperationView]:
        """Open exports of ``user_id`` to the same (redacted) location known to this process."""
        safe = redact(storage_location.strip())
        return [
            row.view()
            for row in self._rows.values()
            if row.user_id == user_id and row.storage_location == safe and row.state in UNFINISHED_STATES
        ]

    # -- reconciling unconfirmed exports (console.ops.reconcile) -------------------------

    async def reconcile(self, *, skew: float = CLOCK_SKEW) -> ReconcileReport:
        """Ask Graph (``GET /dataPolicyOperations``) about every unconfirmed export; confirm and watch each found once."""
        return await reconcile_unconfirmed(self, skew=skew)

    async def unconfirmed_exports(self) -> tuple[list[OperationView], set[str]]:
        """The tenant's unconfirmed exports (dead processes' intents first), and every operation id it tracks."""
        await self._ensure_open()
        journal = self.writer.journal
        for row in await self.writer.call(
            journal.recover_intents,
            self.tenant_key,
            self.clock.now(),
            owner=self.process_id,
            heartbeat_timeout=self._heartbeat_timeout,
        ):
            self._rows[row.key] = row
            self._emit("unconfirmed", row)
        rows = await self.writer.call(journal.rows, self.tenant_key)
        tracked = {row.operation_id for row in rows if row.operation_id}
        # Removals have nothing to reconcile against (no dataPolicyOperation): never treated as exports.
        return [row.view() for row in rows if row.state == UNCONFIRMED and row.kind == "export"], tracked

    async def confirm_export(self, key: int, operation: DataPolicyOperation, location: str, note: str) -> OperationView:
        """Confirm an unconfirmed export with the operation Graph listed; a running engine then watches it.

        Raises:
            KeyError, ValueError, DuplicateOperation: as ``OperationJournal.confirm`` (nothing changed).
        """
        await self._ensure_open()
        now = self.clock.now()
        mine = self.running
        # The 202's Retry-After was never seen: the first poll waits what Graph's 202 asks (60 s, the docs'
        # example) from the submission Graph lists, so that no poll comes before it.
        due = now
        if operation.submitted is not None:
            due = max(now, operation.submitted.timestamp() + DEFAULT_POLL_INTERVAL)
        row = await self.writer.call(
            self.writer.journal.confirm,
            key,
            operation_id=operation.id,
            location=location,
            status=operation.status,
            progress=operation.progress,
            submitted_at=_iso(operation.submitted),
            completed_at=_iso(operation.completed),
            note=note,
            author=self.identity,
            at=now,
            owner=self.process_id if mine else None,
            lease_until=now + self._lease_ttl if mine else None,
            next_poll_at=due,
        )
        self._rows[key] = row
        if mine and row.state == TRACKING:
            self._open.add(key)
            if operation.submitted is not None:
                self._submitted[key] = operation.submitted.timestamp()
            self._push(key, due)
            self._update_idle()
        self._emit("status", row)
        return row.view()

    @property
    def active(self) -> int:
        """Operations this process polls."""
        return len(self._open)

    def polling_status(self) -> PollingStatus:
        """The polling state now, read-only (the console's status line renders it)."""
        now = self.clock.now()
        pacer = getattr(self.client, "pacer", None)
        gate = float(getattr(pacer, "gate_until", 0.0) or 0.0)
        return PollingStatus(
            requests_this_hour=self.budget.spent_last_hour(now),
            per_hour=self.budget.per_hour,
            watching=len(self._open),
            next_poll_at=self._earliest() if self._open else None,
            throttled_until=gate if gate > now else None,
            paced=getattr(pacer, "rate", None) is not None,
            shared=self.budget.shared,
            blocked=redact(str(self.fatal_error)) if self.fatal_error is not None else "",
        )

    # -- submission ---------------------------------------------------------------------

    async def submit(
        self,
        targets: Sequence[ExportTarget | str],
        storage_location: str | None = None,
        *,
        case: str = "",
        submitted_by: str | None = None,
        force: bool = False,
        precheck: Callable[[ExportTarget], Awaitable[bool]] | None = None,
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
        items: list[ExportTarget] = []
        for target in targets:
            if isinstance(target, str):
                if storage_location is None:
                    raise ValueError("no storage location given for these exports")
                target = ExportTarget(user_id=target, storage_location=storage_location)
            items.append(
                ExportTarget(
                    user_id=target.user_id,
                    storage_location=validate_storage_location(target.storage_location),
                    display_name=target.display_name,
                    user_principal_name=target.user_principal_name,
                    home_tenant_id=target.home_tenant_id,
                    previous_key=target.previous_key,
                )
            )
        user_ids = [item.user_id for item in items]
        await self._ensure_open()
        await self.check_quota(user_ids)
        if not force:
            found = await self.conflicts(user_ids)
            if found:
                raise AlreadyExporting(found)
        who = self.identity if submitted_by is None else submitted_by
        gate = asyncio.Semaphore(self._submit_concurrency)
        self._submit_failure = None  # a new batch tries the journal again (an intent first, as ever)

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

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.clock.sleep(self._sync_interval)
            try:
                now = self.clock.now()
                await self.writer.call(self.writer.journal.renew, self.process_id, now + self._lease_ttl, now)
                self._lease_until = now + self._lease_ttl
            except JournalError as exc:
                log.warning("journal heartbeat failed; retrying: %s", redact(str(exc)))

    async def _save(self, row: OperationRow, record: PollRecord | None = None) -> bool:
        """Queue a change and write it now (a locked journal is waited for a while); a failed write stays
        queued (the flush loop retries it) and tells no further export to be sent. False when it failed."""
        self.writer.queue(row, record)
        journal = self.writer.journal
        unsaved = dict(self._unjournaled)
        try:
            await self.writer.call(journal.flush, self.clock.now())
        except JournalError as exc:
            self.journal_failure = self._submit_failure = exc
            log.warning("journal write failed for operation %s; kept and retried: %s", row.key, redact(str(exc)))
            return False
        for key in unsaved:  # written with this flush
            self._unjournaled.pop(key, None)
        return True

    async def _flush(self) -> bool:
        """Write what is pending; on success the exports accepted before it are in the journal."""
        unsaved = dict(self._unjournaled)
        if not await self.writer.flush(self.clock.now()):
            return False
        for key in unsaved:
            self._unjournaled.pop(key, None)
        return True

    def unjournaled(self) -> list[OperationView]:
        """Exports Graph accepted whose operation id the journal could not record (print them: only this
        process knows them; the journal shows them unconfirmed)."""
        return [row.view() for row in sorted(self._unjournaled.values(), key=lambda r: r.key)]

    async def _submit_one(self, target: ExportTarget, case: str, who: str) -> SubmitOutcome:
        user_id, location = target.user_id, target.storage_location
        if self._submit_failure is not None:
            # The journal cannot record an intent (or what Graph answered): send no further export.
            text = f"not sent: the journal cannot be written ({redact(str(self._submit_failure))})"
            return SubmitOutcome(user_id, None, SubmitFailure(text, self._submit_failure))
        now = self.clock.now()
        journal = self.writer.journal
        try:
            row = await self.writer.call(
                journal.record_intent,
                self.tenant_key,
                user_id,
                location,
                now,
                owner=self.process_id,
                case=case,
                display_name=target.display_name,
                user_principal_name=target.user_principal_name,
                home_tenant_id=target.home_tenant_id,
                submitted_by=who,
                previous_key=target.previous_key,
                lease_until=now + self._lease_ttl,
            )
        except (sqlite3.Error, JournalError) as exc:
            # No intent on disk, no POST: a crash now must not leave an export nobody knows of.
            self.journal_failure = self._submit_failure = exc
            text = f"the journal could not record the export, so it was not sent: {redact(str(exc))}"
            return SubmitOutcome(user_id, None, SubmitFailure(text, exc))
        self._rows[row.key] = row
        self.posts_in_flight += 1
        self._update_idle()
        try:
            accepted = await self.client.export_personal_data(user_id, location)
        except errors.GraphError as exc:
            unconfirmed = isinstance(exc, errors.ExportUnconfirmed)
            row.state = UNCONFIRMED if unconfirmed else REJECTED
            row.last_error = redact(str(exc))
            row.post_request_id = exc.request_id
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
                row.last_error,
            )
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

        now = self.clock.now()
        row.operation_id = accepted.operation_id or None
        row.location = accepted.location
        row.submitted_at = _iso(datetime.fromtimestamp(now, UTC))
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
        self._open.add(row.key)
        self._locations[row.key] = location
        self._reschedule(row, accepted.retry_after, now)
        # One trip to the writer thread: is the id tracked by another row already? If not, the row is written
        # now (after the 202 in every path: a failed write stays queued and is retried, never lost).
        existing, written = await self.writer.call(self._track_or_find, row, record, self.clock.now(), retry=False)
        if existing is not None:
            self._open.discard(row.key)
            self._due.pop(row.key, None)
            self._locations.pop(row.key, None)
            row.next_poll_at = None
            duplicate = DuplicateOperation(accepted.operation_id, existing)
            return await self._accepted_but_untrackable(row, record, str(duplicate), duplicate)
        # Not written at once: wait out a locked journal a while; until it is written, the id and status URL
        # are kept for the caller to print (``unjournaled``), and no further export of the batch is sent.
        if not written and not await self._save(row, record):
            self._unjournaled[row.key] = row
            log.warning(
                "Graph accepted the export of %s as operation %s (status URL %s) but the journal could not "
                "record it yet",
                user_id,
                row.operation_id or "(no id)",
                _safe_url(row.location),
            )
        self._update_idle()
        self._emit("submitted", row)
        return SubmitOutcome(user_id, row.view())

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

    # -- the shared budget ------------------------------------------------------------

    async def _reserve_slots(self, now: float, want: int) -> Reservation:
        await self._ensure_open()
        budget = self.budget
        plan = await self.writer.call(
            self.writer.journal.reserve_requests,
            self.tenant_key,
            self.process_id,
            now,
            want,
            per_hour=budget.per_hour,
            burst=budget.burst,
            rate=budget.rate,
            grace=budget.grace,
        )
        if plan.slots:
            log.debug("budget: %d slots reserved from the tenant's ledger (%.0f/h)", len(plan.slots), budget.per_hour)
        else:
            log.debug("budget: the tenant's budget is spent for now; waiting %.1f s", plan.wait)
        return plan

    # -- scheduling ---------------------------------------------------------------------

    def _push(self, key: int, due: float, *, landing: bool = False) -> None:
        self._seq += 1
        self._due[key] = due
        heap = self._landing if landing else self._heap
        earliest = self._earliest()
        heapq.heappush(heap, (due, self._seq, key))
        if earliest is None or due < earliest:
            self._wake.set()

    def _head(self, heap: list[tuple[float, int, int]]) -> tuple[float, int, int] | None:
        """The earliest valid entry of a heap (stale entries dropped)."""
        while heap:
            due, _seq, key = heap[0]
            if self._due.get(key) == due:
                return heap[0]
            heapq.heappop(heap)
        return None

    def _earliest(self) -> float | None:
        heads = [h[0] for h in (self._head(self._landing), self._head(self._heap)) if h is not None]
        return min(heads) if heads else None

    def _take_due(self, now: float) -> int | None:
        """The key to poll now: a due landing poll first, else the earliest due poll; None when none is due."""
        for heap in (self._landing, self._heap):
            head = self._head(heap)
            if head is not None and head[0] <= now:
                heapq.heappop(heap)
                del self._due[head[2]]
                return head[2]
        return None

    def _reschedule(self, row: OperationRow, retry_after: float | None, now: float, *, floor: float = 0.0) -> None:
        """Pick the next poll with ``schedule.next_poll_delay`` and queue it."""
        plan = schedule.next_poll(
            retry_after=retry_after,
            fair_interval=self.budget.fair_interval(len(self._open) + self._others_open),
            progress=row.progress,
            first=self._first_progress.get(row.key),
            now=now,
            floor=floor,
            submitted=self._submitted.get(row.key),
        )
        if retry_after is not None:
            row.retry_after = retry_after
        due = now + plan.delay
        row.next_poll_at = due
        self._push(row.key, due, landing=plan.landing)

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
        while True:
            earliest = self._earliest()
            if earliest is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            delay = earliest - self.clock.now()
            if delay > 0:
                await self._sleep_or_wake(delay)
                continue
            try:
                await self.budget.acquire()
            except asyncio.CancelledError:
                raise
            except LedgerUnavailable as exc:  # a full disk: the run ends (with its exit code), never hangs
                self._stop_polling(exc)
                # The console lives on: one more ask of the ledger now and then, polling again once it works.
                await self.clock.sleep(LEDGER_PAUSE)
                continue
            except Exception:  # never let one failure end the scheduler: polling would stop for good
                log.exception("the poll budget failed; retrying")
                await self.clock.sleep(1.0)
                continue
            if self._polling_stopped:
                log.warning("the journal can be written again: polling resumes")
                self._polling_stopped = False
                self._update_idle()
            # The heaps may have changed while waiting on the budget: dispatch a valid entry only if
            # it is due (never poll before Retry-After, whatever happened meanwhile).
            key = self._take_due(self.clock.now())
            if key is None:
                self.budget.refund()
                continue
            await self._queue.put(key)

    async def _flush_loop(self) -> None:
        while True:
            await self.clock.sleep(self._flush_interval)
            ok = await self._flush()
            if not ok and not self._flush_failed:
                log.warning("journal flush failed; the batch is kept and retried")
            self._flush_failed = not ok

    def _count_others(self) -> None:
        self._others_open = sum(
            1 for row in self._rows.values() if row.state == TRACKING and row.location and row.key not in self._open
        )

    async def _claim(self, now: float) -> None:
        claimed = await self.writer.call(
            self.writer.journal.claim,
            self.tenant_key,
            self.process_id,
            now,
            now + self._lease_ttl,
            heartbeat_timeout=self._heartbeat_timeout,
        )
        for row, due in claimed:
            known = self._rows.get(row.key)
            if known is not None and known.state == TRACKING:
                row.polls = max(row.polls, known.polls)
            self._rows[row.key] = row
            self._open.add(row.key)
            self._push(row.key, due)
            if known is not None and self.running:
                self._emit("changed", row)
        if claimed:
            self._update_idle()

    async def sync(self) -> None:
        """One sync with the other processes: heartbeat and leases, takeovers, their new and changed rows."""
        journal = self.writer.journal
        now = self.clock.now()
        held = await self.writer.call(journal.renew, self.process_id, now + self._lease_ttl, now)
        self._lease_until = now + self._lease_ttl
        for key in list(self._open):
            if key not in held and self._rows[key].state == TRACKING:
                # Another process took it (this one lapsed) or the admin stopped it elsewhere.
                self._open.discard(key)
                self._due.pop(key, None)
        changes, version = await self.writer.call(
            journal.changes_since, self.tenant_key, self._version, exclude_writer=self.process_id
        )
        self._version = version
        for row in changes:
            known = self._rows.get(row.key)
            if row.key in self._open:
                if row.state == TRACKING:
                    continue  # ours: this process's copy is the newer one
                self._rows[row.key] = row
                self._finish(row)
            else:
                self._rows[row.key] = row
            self._emit("added" if known is None else "changed", row)
        if self._resume:
            await self._claim(now)
            self._syncs += 1
            if self._syncs % RECOVER_EVERY == 0:
                # A process that died mid-POST while this one runs: its intents become unconfirmed now.
                for row in await self.writer.call(
                    journal.recover_intents,
                    self.tenant_key,
                    now,
                    owner=self.process_id,
                    heartbeat_timeout=self._heartbeat_timeout,
                ):
                    self._rows[row.key] = row
                    self._emit("unconfirmed", row)
        self._count_others()
        self._update_idle()

    async def _sync_loop(self) -> None:
        while True:
            await self.clock.sleep(self._sync_interval)
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a locked or failing journal: the next sync tries again
                log.warning("journal sync failed; retrying: %s", redact(str(exc)))

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
                row = self._rows.get(key)
                if row is not None and row.key in self._open:
                    row.last_error = "internal error while polling; retrying"
                    self._reschedule(row, None, self.clock.now(), floor=ERROR_BACKOFF_CAP / 10)
            finally:
                self._queue.task_done()

    def _stop_polling(self, exc: Exception) -> None:
        """The journal stayed unwritable (the budget's ledger gave up): stop polling, say so, let the run end."""
        if not self._polling_stopped:
            log.error("polling stopped: %s", redact(str(exc)))
        self.journal_failure = exc
        self._polling_stopped = True
        self._update_idle()

    def _finish(self, row: OperationRow) -> None:
        self._open.discard(row.key)
        self._due.pop(row.key, None)
        row.next_poll_at = None
        self._first_progress.pop(row.key, None)
        self._submitted.pop(row.key, None)
        self._error_streak.pop(row.key, None)
        self._permanent_streak.pop(row.key, None)
        self._unknown_polls.pop(row.key, None)
        self._update_idle()

    async def _poll(self, key: int) -> None:
        row = self._rows[key]
        if key not in self._open or not row.location:
            return
        now = self.clock.now()
        if self._stopping:  # dispatched just before the stop: not sent
            self.budget.refund()
            return
        if self._lease_until <= now:
            # The lease may have lapsed (a long-locked journal): another process may poll it now.
            self.budget.refund()
            self._push(key, now + self._sync_interval)
            return
        self.polls_sent += 1
        self._in_flight[key] = now
        self._quiet.clear()
        try:
            result = await self.client.get_operation(row.location, budgeted=True)
        except errors.GraphError as exc:
            self._in_flight.pop(key, None)
            self._poll_failed(row, exc)
            return
        except ValueError as exc:  # an unreadable Location is an error for that operation, not a crash
            self._in_flight.pop(key, None)
            self._poll_failed(row, errors.UnsafeRedirect(redact(str(exc))))
            return
        finally:
            # The answer (or failure) is handled synchronously right after this, before anyone waiting
            # on ``_quiet`` runs: stop() then flushes it.
            self._in_flight.pop(key, None)
            if not self._in_flight:
                self._quiet.set()
        if key not in self._open:  # stopped (or taken) while the poll was in flight
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
            self._submitted[key] = operation.submitted.timestamp()
        if operation.completed is not None:
            row.completed_at = _iso(operation.completed)
        row.last_error = ""
        self._error_streak.pop(key, None)
        self._permanent_streak.pop(key, None)
        if progress is not None and progress > 0 and key not in self._first_progress:
            self._first_progress[key] = ProgressSample(now, progress)
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
        delivered = False
        if is_final(operation.status):
            row.state = FINAL
            row.final_request_id = info.request_id
            self._finish(row)
            delivered = operation.status == "complete"
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
        self.writer.queue(row, record)
        if status_changed:
            self._emit("status", row)
        elif progress_changed:
            self._emit("progress", row)
        else:
            self._emit("polled", row)
        full_location = self._locations.pop(key, None) if row.state != TRACKING else None
        if delivered and full_location is not None and self.delivery_check is not None:
            task = asyncio.create_task(self._check_delivery(row, full_location), name=f"ops-delivery-{key}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

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

    def _poll_failed(self, row: OperationRow, exc: errors.GraphError) -> None:
        if row.key not in self._open:
            return
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
        status = exc.status or 0
        log.debug(
            "poll of operation %s failed: HTTP %s, Retry-After %s, request-id %s, client-request-id %s",
            row.key,
            exc.status,
            exc.retry_after,
            exc.request_id,
            exc.client_request_id,
        )
        if isinstance(exc, (errors.NotFound, errors.UnsafeRedirect)):
            row.state = ERROR
            self._finish(row)
        elif isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):
            self.fatal_error = exc
            self._reschedule(row, exc.retry_after, now, floor=AUTH_RETRY_INTERVAL)
        elif 400 <= status < 500 and status not in (401, 403, 404, 429):
            # Permanent: Graph will answer the same; a bounded number of tries, then stop with the error kept.
            streak = self._permanent_streak.get(row.key, 0) + 1
            self._permanent_streak[row.key] = streak
            if streak >= PERMANENT_ERROR_LIMIT:
                row.state = ERROR
                row.last_error = f"{row.last_error} (refused {streak} times; stopped watching)"
                self._finish(row)
            else:
                wait = backoff_delay(streak, start=ERROR_BACKOFF_START, cap=ERROR_BACKOFF_CAP)
                self._reschedule(row, _error_retry_after(exc), now, floor=wait)
        else:
            streak = self._error_streak.get(row.key, 0) + 1
            self._error_streak[row.key] = streak
            wait = backoff_delay(streak, start=ERROR_BACKOFF_START, cap=ERROR_BACKOFF_CAP)
            self._reschedule(row, _error_retry_after(exc), now, floor=wait)
        self.writer.queue(row, record)
        self._emit("error", row)


def _safe_url(location: str | None) -> str:
    return redact(location) if location else "(none)"


def _error_retry_after(exc: errors.GraphError) -> float:
    """The wait a failed poll's answer asks for: its Retry-After, else none beyond the error backoff.

    Not the 60 s default of an unfinished operation: that would put a minute under every retry, so the
    bounded tries of a permanent 400 would take five minutes instead of the error backoff's seconds.
    """
    return exc.retry_after if exc.retry_after is not None else 0.0


def outcome_exit_code(outcomes: Sequence[SubmitOutcome]) -> int:
    """The CLI's exit code for a batch: 3 when any failed on sign-in or permission, 1 when any failed, else 0."""
    codes = [o.exit_code for o in outcomes if o.exit_code]
    return 3 if 3 in codes else (max(codes) if codes else 0)
