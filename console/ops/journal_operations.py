"""The submission path's immediate writes: the intent before the POST, the confirmation, the closing.

Each submission is written before the POST (intent, with its owner process) and committed; a crash
between the intent and Graph's 202 leaves the row visibly unconfirmed once its owner is known dead.
An unconfirmed export is confirmed (``confirm``), resolved or stopped by the admin in one transaction
each, with a note saying why; a pending write-behind change of that row is dropped, never replayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.ops.events import FINAL, INTENT, RESOLVED, STOPPED, TRACKING, UNCONFIRMED, Note
from console.ops.journal_db import JournalConnection
from console.ops.journal_model import (
    COLUMNS,
    EXPORT_KIND,
    DuplicateOperation,
    OperationRow,
    iso,
    row_from_values,
    safe,
)
from console.ops.journal_notes import NoteStore
from console.ops.journal_writebehind import WriteBehind
from console.redact import redact

if TYPE_CHECKING:
    from console.graph.models import DataPolicyOperation

_INTENT_COLUMNS = (
    "tenant_key, user_id, storage_location, state, created_at, updated_at, case_ref, display_name, "
    "user_principal_name, home_tenant_id, submitted_by, previous_key, owner, lease_until, version, written_by, "
    "kind, target_tenant"
)
_CONFIRM = (
    "UPDATE operations SET state=?, operation_id=?, location=?, status=?, progress=?, submitted_at=?, "
    "completed_at=?, last_error='', next_poll_at=?, owner=?, lease_until=?, version=?, written_by=?, "
    "updated_at=MAX(updated_at, ?) WHERE id=?"
)


class OperationStore:
    """The ``operations`` rows' immediate writes (the batched ones are ``WriteBehind``'s)."""

    def __init__(self, connection: JournalConnection, pending: WriteBehind, notes: NoteStore) -> None:
        self._connection = connection
        self._pending = pending
        self._notes = notes

    def record_intent(
        self,
        tenant_key: str,
        user_id: str,
        storage_location: str,
        now: float,
        *,
        owner: str | None = None,
        case: str = "",
        display_name: str = "",
        user_principal_name: str = "",
        home_tenant_id: str = "",
        submitted_by: str = "",
        previous_key: int | None = None,
        lease_until: float | None = None,
        kind: str = EXPORT_KIND,
        target_tenant: str = "",
    ) -> OperationRow:
        """Write the intent to export (or to remove, ``kind``) before the POST leaves, and commit it.

        Raises:
            sqlite3.Error: it could not be written (then the POST must not be sent).
        """
        safe_location = redact(storage_location)
        owner = owner if owner is not None else self._connection.process_id
        row = OperationRow(
            0,
            tenant_key,
            user_id,
            safe_location,
            INTENT,
            None,
            None,
            None,
            None,
            None,
            None,
            now,
            None,
            "",
            0,
            case=case,
            display_name=display_name,
            user_principal_name=user_principal_name,
            home_tenant_id=home_tenant_id,
            submitted_by=submitted_by,
            previous_key=previous_key,
            owner=owner,
            lease_until=lease_until,
            kind=kind,
            target_tenant=target_tenant,
        )
        row.key = self._insert_intent(row)
        self._pending.writes += 1
        return row

    def _insert_intent(self, r: OperationRow) -> int:
        connection = self._connection
        with connection.transaction():
            values = (
                *(r.tenant_key, r.user_id, r.storage_location, INTENT, r.created_at, r.created_at, r.case),
                *(r.display_name, r.user_principal_name, r.home_tenant_id, r.submitted_by, r.previous_key),
                *(r.owner, r.lease_until, connection.bump_version(), r.owner, r.kind, r.target_tenant),
            )
            cursor = connection.db.execute(
                f"INSERT INTO operations ({_INTENT_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values
            )
        key = cursor.lastrowid
        assert key is not None
        return key

    def tracked_elsewhere(self, tenant_key: str, operation_id: str, key: int) -> int | None:
        """The row that already tracks ``operation_id`` (another than ``key``), if any."""
        found = self._connection.fetch_one(
            "SELECT id FROM operations WHERE tenant_key = ? AND operation_id = ? AND id != ? ORDER BY id LIMIT 1",
            (tenant_key, operation_id, key),
        )
        return int(found[0]) if found else None

    def confirm(
        self,
        key: int,
        operation: DataPolicyOperation,
        location: str,
        *,
        note: str,
        author: str,
        at: float,
        lease: tuple[str, float] | None = None,
        next_poll_at: float | None = None,
    ) -> OperationRow:
        """Confirm an unconfirmed export with the ``operation`` Graph listed for it (``console.ops.reconcile``).

        In one transaction: the row must still be unconfirmed and no other row of its tenant may track
        the operation's id; it then gets the id, status URL ``location`` and Graph's status (tracking, or
        final when Graph says so), leased when ``lease`` (owner, until) is given, with ``note`` saying how
        it was found.

        Raises:
            KeyError: no such operation.
            ValueError: it is not unconfirmed (any more).
            DuplicateOperation: another row already tracks the operation's id.
        """
        operation_id, status = operation.id, operation.status
        tracking = status not in ("complete", "failed")
        submitted_at, completed_at = iso(operation.submitted), iso(operation.completed)
        graph = (operation_id, safe(location), status, operation.progress, submitted_at, completed_at)
        owner, lease_until = lease or (None, None)
        polling = ((next_poll_at if next_poll_at is not None else at), owner, lease_until) if tracking else (None,) * 3
        db = self._connection.db
        with self._connection.transaction():
            tenant_key = self._check_state(key, (UNCONFIRMED,))
            other = db.execute(
                "SELECT id FROM operations WHERE tenant_key = ? AND lower(operation_id) = lower(?) AND id != ? LIMIT 1",
                (tenant_key, operation_id, key),
            ).fetchone()
            if other is not None:
                raise DuplicateOperation(operation_id, int(other[0]))
            version = self._connection.bump_version()
            state = TRACKING if tracking else FINAL
            db.execute(_CONFIRM, (state, *graph, *polling, version, self._connection.process_id, at, key))
            self._notes.insert(key, note, author, at)
            row = row_from_values(db.execute(f"SELECT {COLUMNS} FROM operations WHERE id = ?", (key,)).fetchone())
        self._pending.forget(key)  # a stale pending change (the unconfirmed row) must not undo it
        self._pending.writes += 1
        return row

    def _check_state(self, key: int, allowed: tuple[str, ...]) -> Any:
        """Inside a transaction: the row's tenant, when the row is in one of the ``allowed`` states.

        Raises:
            KeyError: no such operation.
            ValueError: it is in another state.
        """
        found = self._connection.db.execute("SELECT state, tenant_key FROM operations WHERE id = ?", (key,)).fetchone()
        if found is None:
            raise KeyError(key)
        if found[0] not in allowed:
            raise ValueError(f"operation {key} is {found[0]}, not {' or '.join(allowed)}")
        return found[1]

    def resolve(self, key: int, note: str, author: str, at: float) -> Note:
        """Mark an unconfirmed export checked (state resolved) with a note saying what was found.

        Raises:
            KeyError: no such operation.
            ValueError: it is not unconfirmed.
        """
        return self._close_row(key, RESOLVED, (UNCONFIRMED,), note, author, at)

    def stop_watching(self, key: int, at: float, author: str = "", note: str = "") -> Note | None:
        """Stop polling an open (or unconfirmed) export; its history is kept.

        Raises:
            KeyError: no such operation.
            ValueError: it is already finished.
        """
        result = self._close_row(key, STOPPED, (INTENT, TRACKING, UNCONFIRMED), note, author, at)
        return result if note else None

    def _close_row(self, key: int, state: str, allowed: tuple[str, ...], note: str, author: str, at: float) -> Note:
        connection = self._connection
        with connection.transaction():
            self._check_state(key, allowed)
            connection.db.execute(
                "UPDATE operations SET state=?, owner=NULL, lease_until=NULL, next_poll_at=NULL, version=?, "
                "written_by=?, updated_at=MAX(updated_at, ?) WHERE id=?",
                (state, connection.bump_version(), connection.process_id, at, key),
            )
            written = self._notes.insert(key, note, author, at)
        self._pending.forget(key)  # a stale pending change must not reopen it
        return written
