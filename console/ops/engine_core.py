"""The engine's state and the helpers every part of it shares (see ``console.ops.engine``).

``EngineCore`` holds what one engine knows of its tenant: every row (``_rows``), the operations this
process polls (one ``TrackedOperation`` each, ``_tracked``), the poll queue, the subscribers, and
the link to the journal. The parts (submission, polling, sync, reads) build on it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypedDict, Unpack

from console.clock import Clock, SystemClock
from console.graph import errors
from console.ops import schedule
from console.ops.budget import DEFAULT_POLL_BUDGET, PollBudget
from console.ops.engine_link import JournalLedger, JournalLink
from console.ops.events import EventKind, OperationEvent, OperationView, PollRecord, Someone, names_of
from console.ops.journal import HEARTBEAT_TIMEOUT, JournalError, OperationJournal, OperationRow
from console.ops.poll_queue import PollQueue
from console.ops.tracked import TrackedOperation
from console.ops.writer import JournalWriter
from console.redact import redact

if TYPE_CHECKING:
    from console.graph.client import GraphClient
    from console.storage.blob import Delivery

log = logging.getLogger("console.ops.engine")

FLUSH_INTERVAL = 0.5
"""Seconds between batched journal writes."""
SYNC_INTERVAL = 2.0
"""Seconds between two syncs with the other processes (heartbeat, leases, their new rows)."""
LEASE_TTL = 30.0
"""A lease not renewed for this long lapses: another process takes the operation over."""

Subscriber = tuple[Callable[[OperationEvent], None], frozenset[str] | None]


class IntentMore(TypedDict, total=False):
    """What ``record_intent_for`` passes on to ``record_intent`` as it is."""

    previous_key: int | None
    lease_until: float | None
    kind: str
    target_tenant: str


class EngineCore:
    """What one engine knows of its tenant and the helpers its parts share (``OperationsEngine``'s
    base: see it for the arguments)."""

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
        self._link = JournalLink(
            journal.path, self.process_id, identity=identity, clock=self.clock, lease_ttl=lease_ttl
        )
        self.budget = budget if budget is not None else PollBudget(poll_budget, self.clock)
        # The tenant's ledger in the journal: the budget asks it directly, never through the engine.
        self.budget.bind(JournalLedger(self._link, tenant_key, self.budget.pace))
        self._workers = max(1, workers)
        self._submit_concurrency = max(1, submit_concurrency)
        self._flush_interval = flush_interval
        self._sync_interval = sync_interval
        self._lease_ttl = lease_ttl
        self._heartbeat_timeout = heartbeat_timeout
        self._init_state()

    def _init_state(self) -> None:
        self._rows: dict[int, OperationRow] = {}
        """Every operation of the tenant this engine knows (its own and the other processes')."""
        self._tracked: dict[int, TrackedOperation] = {}
        """The operations this process polls, one record each."""
        self._polls = PollQueue()
        self._idle = asyncio.Event()
        self._queue: asyncio.Queue[int] = asyncio.Queue(maxsize=self._workers)
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._subscribers: list[Subscriber] = []
        self._others_open = 0
        self._version = 0
        """The journal's row version this engine has seen (``sync`` reads what changed after it)."""
        self._syncs = 0
        self._resume = False
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

    @property
    def writer(self) -> JournalWriter:
        """The engine's journal writer thread (its link's)."""
        return self._link.writer

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

    # -- state ----------------------------------------------------------------------------

    async def _ensure_open(self) -> None:
        """Open the writer's connection and register this process (once)."""
        await self._link.ensure_open()

    async def wait_until_idle(self) -> None:
        """Return when every tracked operation is final (or needs the admin) and no POST is in flight.

        A resuming engine waits for the tenant's operations other processes poll too (it sees them
        finish through the journal); ``export`` (``start(resume=False)``) only for its own.
        """
        await self._idle.wait()

    def _update_idle(self) -> None:
        # A resuming engine (``watch``, the console) also waits for what other processes poll.
        others = self._others_open if self._resume else 0
        if self.posts_in_flight == 0 and (self._polling_stopped or (not self._tracked and others == 0)):
            self._idle.set()
        else:
            self._idle.clear()

    @property
    def active(self) -> int:
        """Operations this process polls."""
        return len(self._tracked)

    def _track(self, row: OperationRow) -> TrackedOperation:
        """Poll ``row`` from now on: its one record (one already kept stays, with its streaks)."""
        self._rows[row.key] = row
        tracked = self._tracked.get(row.key)
        if tracked is None:
            tracked = self._tracked[row.key] = TrackedOperation(row)
        else:
            tracked.row = row
        return tracked

    def _finish(self, row: OperationRow) -> None:
        """This process polls ``row`` no more (it ended, was stopped or taken): its record goes."""
        self._tracked.pop(row.key, None)
        self._polls.discard(row.key)
        row.next_poll_at = None
        self._update_idle()

    def _stop_polling(self, exc: Exception) -> None:
        """The journal stayed unwritable (the budget's ledger gave up): stop polling, say so, let the run end."""
        if not self._polling_stopped:
            log.error("polling stopped: %s", redact(str(exc)))
        self.journal_failure = exc
        self._polling_stopped = True
        self._update_idle()

    def _reschedule(
        self, tracked: TrackedOperation, retry_after: float | None, now: float, *, floor: float = 0.0
    ) -> None:
        """Pick the next poll with ``schedule.next_poll`` and queue it."""
        row = tracked.row
        plan = schedule.next_poll(
            retry_after=retry_after,
            fair_interval=self.budget.fair_interval(len(self._tracked) + self._others_open),
            progress=row.progress,
            first=tracked.first_progress,
            now=now,
            floor=floor,
            submitted=tracked.submitted,
        )
        if retry_after is not None:
            row.retry_after = retry_after
        due = now + plan.delay
        row.next_poll_at = due
        self._polls.push(row.key, due, landing=plan.landing)

    async def _recover_dead_intents(self, now: float, *, show: bool = True) -> list[OperationRow]:
        """Intents of processes that died mid-POST become unconfirmed (kept and told when ``show``)."""
        rows = await self.writer.call(
            self.writer.journal.recover_intents,
            self.tenant_key,
            now,
            owner=self.process_id,
            heartbeat_timeout=self._heartbeat_timeout,
        )
        if show:
            for row in rows:
                self._rows[row.key] = row
                self._emit("unconfirmed", row)
        return rows

    async def _heartbeat_loop(self) -> None:
        """Without the sync loop (an engine never started) the heartbeat still beats while POSTs are in
        flight, so that no other process takes this one's intents for a crash's leftovers."""
        while True:
            await self.clock.sleep(self._sync_interval)
            try:
                await self._link.renew(self.clock.now())
            except JournalError as exc:
                log.warning("journal heartbeat failed; retrying: %s", redact(str(exc)))

    # -- journal writes -----------------------------------------------------------------

    async def record_intent_for(
        self, target: Someone, location: str, now: float, *, case: str, who: str, **more: Unpack[IntentMore]
    ) -> OperationRow:
        """Write the intent for ``target`` (as this process's, sent by ``who``) before its request leaves.

        Raises:
            sqlite3.Error, JournalError: it could not be written (then the request must not be sent).
        """
        journal, names = self.writer.journal, names_of(target)
        return await self.writer.grouped(
            journal.record_intent,
            self.tenant_key,
            target.user_id,
            location,
            now,
            owner=self.process_id,
            case=case,
            **names,
            submitted_by=who,
            **more,
        )

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
