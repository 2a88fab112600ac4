"""The operations engine: submits exports and watches every operation to its end.

One scheduler keyed on each operation's due time (``poll_queue.PollQueue``) feeds a bounded pool of
async workers (not one sleeping task per operation). When an operation is next due is
``schedule.next_poll`` (a pure function): never before Graph's Retry-After, spread over the
tenant's budget, and, when the budget binds, at the moment its progress says it will finish;
whether there is a next poll at all is ``answers`` (pure functions of Graph's answer).

The engine shares its journal with every other process of this user (issue 7, item 2): its
journal calls run on one writer thread (``engine_link.JournalLink``), it polls only the operations
it holds a lease on, its budget is the tenant's ledger in SQLite (``engine_link.JournalLedger``,
which the budget asks directly), and a sync loop renews its leases, takes over those of dead
processes and picks up rows the others add or change.

One engine serves one tenant; several engines (several tenants) can live in one process: every
piece of state is the engine's own. The engine is assembled from its parts:

- ``engine_core.EngineCore``: the state (rows, one ``TrackedOperation`` per polled operation, the
  poll queue, subscribers) and the helpers the parts share;
- ``engine_submit.SubmitMixin``: export POSTs, quotas, conflicts;
- ``engine_polling.PollingMixin``: the scheduler, the workers, what an answer changes;
- ``engine_sync.SyncMixin``: leases, takeovers, the other processes' rows;
- ``engine_reads.ReadsMixin``: reads, notes, resolve, stop, reconcile.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from console.ops.answers import AUTH_RETRY_INTERVAL, ERROR_BACKOFF_START, PERMANENT_ERROR_LIMIT
from console.ops.budget import EXPORTS_PER_TENANT_PER_DAY
from console.ops.engine_core import LEASE_TTL
from console.ops.engine_polling import LEDGER_PAUSE, PollingMixin
from console.ops.engine_reads import ReadsMixin
from console.ops.engine_submit import AlreadyExporting, SubmitMixin
from console.ops.engine_sync import SyncMixin
from console.ops.events import ERROR, FINAL, INTENT, REJECTED, TRACKING, UNCONFIRMED
from console.ops.journal import JournalError
from console.ops.schedule import DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL
from console.redact import redact

log = logging.getLogger(__name__)

__all__ = [
    "AUTH_RETRY_INTERVAL",
    "AlreadyExporting",
    "DEFAULT_POLL_INTERVAL",
    "ERROR",
    "ERROR_BACKOFF_START",
    "EXPORTS_PER_TENANT_PER_DAY",
    "FINAL",
    "INTENT",
    "LEASE_TTL",
    "LEDGER_PAUSE",
    "MIN_POLL_INTERVAL",
    "OperationsEngine",
    "PERMANENT_ERROR_LIMIT",
    "REJECTED",
    "TRACKING",
    "UNCONFIRMED",
]


class OperationsEngine(SubmitMixin, ReadsMixin, SyncMixin, PollingMixin):
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
            recovered = await self._recover_dead_intents(now, show=False)
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
        await self._close_journal(release)
        self._tracked.clear()
        self._polls.clear()

    async def _close_journal(self, release: bool) -> None:
        """Write what is pending (a few tries), give the leases back when asked and written, close the writer."""
        flushed = False
        for _attempt in range(3):
            if await self._flush():
                flushed = True
                break
        if not flushed:  # the journal lacks the last polls' next times: let the leases lapse (takeover waits)
            log.warning("journal: last changes not written; leases left to lapse instead of given back")
        if release and self._link.registered and flushed:
            try:
                await self.writer.call(self.writer.journal.unregister_process, self.process_id)
            except (sqlite3.Error, JournalError) as exc:
                log.warning("journal: leases not given back (they lapse): %s", redact(str(exc)))
        await self.writer.close()
        self._link.registered = False
