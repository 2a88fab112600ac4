"""The engine's reads and the admin's actions on one operation: notes, resolve, stop, reconcile."""

from __future__ import annotations

from console.graph.models import DataPolicyOperation
from console.ops.engine_core import EngineCore
from console.ops.events import RESOLVED, STOPPED, TRACKING, UNCONFIRMED, Note, OperationView, PollRecord
from console.ops.reconcile import CLOCK_SKEW, ReconcileReport
from console.ops.reconcile import reconcile as reconcile_unconfirmed
from console.ops.schedule import DEFAULT_POLL_INTERVAL


class ReadsMixin(EngineCore):
    """What the front ends read and do to one operation."""

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

    # -- reconciling unconfirmed exports (console.ops.reconcile) -------------------------

    async def reconcile(self, *, skew: float = CLOCK_SKEW) -> ReconcileReport:
        """Ask Graph (``GET /dataPolicyOperations``) about every unconfirmed export; confirm and watch each found once."""
        return await reconcile_unconfirmed(self, skew=skew)

    async def unconfirmed_exports(self) -> tuple[list[OperationView], set[str]]:
        """The tenant's unconfirmed exports (dead processes' intents first), and every operation id it tracks."""
        await self._ensure_open()
        await self._recover_dead_intents(self.clock.now())
        rows = await self.writer.call(self.writer.journal.rows, self.tenant_key)
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
            operation,
            location,
            note=note,
            author=self.identity,
            at=now,
            lease=(self.process_id, now + self._lease_ttl) if mine else None,
            next_poll_at=due,
        )
        self._rows[key] = row
        if mine and row.state == TRACKING:
            tracked = self._track(row)
            if operation.submitted is not None:
                tracked.submitted = operation.submitted.timestamp()
            self._polls.push(key, due)
            self._update_idle()
        self._emit("status", row)
        return row.view()
