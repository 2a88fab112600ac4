"""The engine's sync with the other processes on the same journal (issue 7, item 2).

Every ``SYNC_INTERVAL`` a loop renews this process's heartbeat and leases, lets go of what another
process took, picks up the rows the others added or changed, and (a resuming engine) takes over
the operations of processes that died. A flush loop writes the batched changes meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

from console.ops.engine_core import EngineCore
from console.ops.events import TRACKING
from console.redact import redact

log = logging.getLogger("console.ops.engine")

FLUSH_WARN_AFTER = 4
"""Failed flushes in a row (about 2 s of them) before the admin hears of it: a write lock another process
or engine holds a moment is no news (the next flush writes the batch), a full disk fails every one."""

RECOVER_EVERY = 5
"""Every this many syncs a resuming engine looks for intents of processes that died meanwhile."""


class SyncMixin(EngineCore):
    """Leases, takeovers and the other processes' rows."""

    def _count_others(self) -> None:
        self._others_open = sum(
            1 for row in self._rows.values() if row.state == TRACKING and row.location and row.key not in self._tracked
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
            self._track(row)
            self._polls.push(row.key, due)
            if known is not None and self.running:
                self._emit("changed", row)
        if claimed:
            self._update_idle()

    async def sync(self) -> None:
        """One sync with the other processes: heartbeat and leases, takeovers, their new and changed rows."""
        now = self.clock.now()
        held = await self._link.renew(now)
        for key, tracked in list(self._tracked.items()):
            if key not in held and tracked.row.state == TRACKING:
                # Another process took it (this one lapsed) or the admin stopped it elsewhere.
                self._tracked.pop(key, None)
                self._polls.discard(key)
        changes, version = await self.writer.call(
            self.writer.journal.changes_since, self.tenant_key, self._version, exclude_writer=self.process_id
        )
        self._version = version
        for row in changes:
            known = self._rows.get(row.key)
            if row.key in self._tracked:
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
                await self._recover_dead_intents(now)
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

    async def _flush_loop(self) -> None:
        failed = 0
        while True:
            await self.clock.sleep(self._flush_interval)
            if await self._flush():
                if failed >= FLUSH_WARN_AFTER:
                    log.warning("journal writes work again: the changes kept meanwhile are written")
                failed = 0
                continue
            failed += 1
            if failed == FLUSH_WARN_AFTER:
                log.warning(
                    "journal writes have failed %d times in a row (another process may hold the journal, or the "
                    "disk is full); the changes are kept and retried",
                    failed,
                )
