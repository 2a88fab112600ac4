"""Every process on one journal: heartbeats, the recovery of a dead process's intents, and leases.

A ``processes`` row per process (its heartbeat tells the others it is alive). Each tracking operation
has a lease (``owner``, ``lease_until``): who polls it and until when. A process that leaves cleanly
gives its leases back; the intents and leases of a dead one are taken over, never polled twice within
the operation's Retry-After (issue 7, item 2).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from console.ops.events import INTENT, TRACKING, UNCONFIRMED
from console.ops.journal_db import JournalConnection, process_alive
from console.ops.journal_model import COLUMNS, HEARTBEAT_TIMEOUT, REMOVAL_KIND, OperationRow, row_from_values
from console.ops.schedule import takeover_due

_INTERRUPTED = (
    "the console stopped while this export was being submitted: Graph may or may not have "
    "accepted it; check before exporting this user again"
)
_REMOVAL_INTERRUPTED = (
    "the console stopped while this removal was being sent: Graph may or may not have removed the data; "
    "check before asking again (remove --force)"
)


class ProcessStore:
    """The ``processes`` table, and the intents and leases of the ``operations`` rows."""

    def __init__(self, connection: JournalConnection) -> None:
        self._connection = connection

    def register_process(self, process_id: str, now: float, *, identity: str = "", pid: int | None = None) -> None:
        """Record this process (its heartbeat tells the others it is alive); its writes carry its id."""
        self._connection.process_id = process_id
        with self._connection.transaction():
            self._connection.db.execute(
                "INSERT INTO processes (id, pid, host, identity, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET heartbeat=excluded.heartbeat",
                (process_id, os.getpid() if pid is None else pid, socket.gethostname(), identity, now, now),
            )

    def unregister_process(self, process_id: str) -> None:
        """Leave cleanly: give back every lease (the others take over at the saved next poll)."""
        connection = self._connection
        with connection.transaction():
            connection.db.execute(
                "UPDATE operations SET owner=NULL, lease_until=NULL, version=? WHERE owner=? AND state=?",
                (connection.bump_version(), process_id, TRACKING),
            )
            connection.db.execute("DELETE FROM processes WHERE id=?", (process_id,))

    def process_alive(self, owner: str | None, now: float, heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> bool:
        """Whether the process ``owner`` still runs: its heartbeat is fresh and, on this host, its pid exists."""
        if not owner:
            return False
        found = self._connection.fetch_one("SELECT pid, host, heartbeat FROM processes WHERE id=?", (owner,))
        return process_alive(found, now, heartbeat_timeout)

    def _processes(self) -> dict[str, Any]:
        """Inside a transaction: every process row, ``id -> (pid, host, heartbeat)``."""
        found = self._connection.db.execute("SELECT id, pid, host, heartbeat FROM processes").fetchall()
        return {values[0]: values[1:] for values in found}

    def _candidates(self, query: str, params: tuple[Any, ...]) -> list[OperationRow]:
        """Inside a transaction: the rows of ``SELECT COLUMNS FROM operations WHERE query``."""
        found = self._connection.db.execute(f"SELECT {COLUMNS} FROM operations WHERE {query}", params).fetchall()
        return [row_from_values(values) for values in found]

    def recover_intents(
        self,
        tenant_key: str,
        now: float,
        *,
        owner: str | None = None,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    ) -> list[OperationRow]:
        """Intents whose owner is dead become unconfirmed (never silently dropped); a live process's stay.

        Args:
            owner: the calling process (its own intents are in flight, never recovered).
        """
        converted: list[OperationRow] = []
        connection = self._connection
        with connection.transaction():
            found = self._candidates("tenant_key=? AND state=? ORDER BY id", (tenant_key, INTENT))
            processes = self._processes()
            version = connection.bump_version()
            for row in found:
                if row.owner is not None and (
                    row.owner == owner or process_alive(processes.get(row.owner), now, heartbeat_timeout)
                ):
                    continue
                row.state = UNCONFIRMED
                row.last_error = _REMOVAL_INTERRUPTED if row.kind == REMOVAL_KIND else _INTERRUPTED
                row.owner = None
                connection.db.execute(
                    "UPDATE operations SET state=?, last_error=?, owner=NULL, version=?, written_by=?, "
                    "updated_at=MAX(updated_at, ?) WHERE id=? AND state=?",
                    (UNCONFIRMED, row.last_error, version, owner, now, row.key, INTENT),
                )
                converted.append(row)
        return converted

    def claim(
        self,
        tenant_key: str,
        owner: str,
        now: float,
        lease_until: float,
        *,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
        limit: int = 100_000,
    ) -> list[tuple[OperationRow, float]]:
        """Take the lease of every tracking operation nobody (alive) polls; returns each with its earliest due time.

        A lease given back cleanly is due at its saved next poll. One taken from a dead owner is
        due no earlier than its lease's end plus the last Retry-After: the owner may have polled
        just before dying without writing it down, and no operation is polled twice within its
        Retry-After.
        """
        claimed: list[tuple[OperationRow, float]] = []
        connection = self._connection
        with connection.transaction():
            found = self._candidates(
                "tenant_key=? AND state=? AND location IS NOT NULL AND (owner IS NULL OR owner != ?) ORDER BY id",
                (tenant_key, TRACKING, owner),
            )
            if not found:
                return claimed
            processes = self._processes()
            version = connection.bump_version()
            for row in found:
                if len(claimed) >= limit:
                    break
                due = _due(row, now, processes, heartbeat_timeout)
                if due is None:
                    continue
                changed = connection.db.execute(
                    "UPDATE operations SET owner=?, lease_until=?, version=?, written_by=? "
                    "WHERE id=? AND state=? AND (owner IS NULL OR owner=?)",
                    (owner, lease_until, version, owner, row.key, TRACKING, row.owner),
                ).rowcount
                if changed:
                    row.owner, row.lease_until = owner, lease_until
                    claimed.append((row, max(now, due)))
        return claimed

    def renew(self, owner: str, lease_until: float, now: float) -> set[int]:
        """Extend this process's leases and heartbeat; returns the keys it still holds."""
        db = self._connection.db
        with self._connection.transaction():
            db.execute("UPDATE processes SET heartbeat=? WHERE id=?", (now, owner))
            db.execute("UPDATE operations SET lease_until=? WHERE owner=? AND state=?", (lease_until, owner, TRACKING))
            held = {
                key
                for (key,) in db.execute(
                    "SELECT id FROM operations WHERE owner=? AND state IN (?, ?)", (owner, INTENT, TRACKING)
                )
            }
        return held

    def changes_since(
        self, tenant_key: str, version: int, *, exclude_writer: str | None = None
    ) -> tuple[list[OperationRow], int]:
        """Rows of the tenant written after ``version`` by another writer; and the newest version seen."""
        connection = self._connection
        with connection.lock:
            current = connection.row_version()
            found = connection.fetch(
                f"SELECT {COLUMNS} FROM operations WHERE tenant_key=? AND version > ? "
                "AND (written_by IS NULL OR ? IS NULL OR written_by != ?) ORDER BY id",
                (tenant_key, version, exclude_writer, exclude_writer),
            )
        return [row_from_values(values) for values in found], current


def _due(row: OperationRow, now: float, processes: dict[str, Any], heartbeat_timeout: float) -> float | None:
    """When a lease ``claim`` may take is first due (None: its owner is alive and its lease runs)."""
    if row.owner is None:
        return row.next_poll_at or now
    lease = row.lease_until
    if (lease is None or lease > now) and process_alive(processes.get(row.owner), now, heartbeat_timeout):
        return None
    # Taken from a dead (or lapsed) owner: wait out what it may have done unrecorded.
    return takeover_due(now, row.next_poll_at, lease if lease is not None else now, row.retry_after)
