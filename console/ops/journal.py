"""The operations journal: SQLite, so a dropped SSH session or a crash loses nothing.

Each submission is written before the POST (intent) and completed after the 202;
a crash in between leaves the row visibly unconfirmed at the next start. Status
changes and poll records are batched into one transaction per flush so that
thousands of operations don't thrash the disk. Storage locations are stored
redacted (``sig=***``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.graph.models import parse_datetime
from console.ops.events import ERROR, FINAL, INTENT, TRACKING, UNCONFIRMED, OperationView, PollRecord
from console.storage import redact

SCHEMA_VERSION = 1
"""Bumped whenever the tables change; an unknown newer version is refused, not overwritten."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations (
    id INTEGER PRIMARY KEY,
    tenant_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    storage_location TEXT NOT NULL,
    state TEXT NOT NULL,
    operation_id TEXT,
    location TEXT,
    status TEXT,
    progress REAL,
    submitted_at TEXT,
    completed_at TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    next_poll_at REAL,
    last_error TEXT NOT NULL DEFAULT '',
    polls INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS operations_tenant_state ON operations (tenant_key, state);
CREATE INDEX IF NOT EXISTS operations_tenant_created ON operations (tenant_key, created_at);
CREATE TABLE IF NOT EXISTS polls (
    operation INTEGER NOT NULL REFERENCES operations (id),
    at REAL NOT NULL,
    http_status INTEGER,
    retry_after REAL,
    request_id TEXT NOT NULL DEFAULT '',
    client_request_id TEXT NOT NULL DEFAULT '',
    status TEXT,
    progress REAL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS polls_operation ON polls (operation);
"""

QUOTA_STATES = (INTENT, UNCONFIRMED, TRACKING, FINAL, ERROR)
"""States whose POST may have reached Graph and so counts against the daily export limits."""


class JournalError(Exception):
    """The journal cannot be opened or is from a newer version of the console."""


@dataclass
class OperationRow:
    """One journal row, mutable inside the engine; ``view()`` makes the immutable snapshot."""

    key: int
    tenant_key: str
    user_id: str
    storage_location: str
    state: str
    operation_id: str | None
    location: str | None
    status: str | None
    progress: float | None
    submitted_at: str | None
    completed_at: str | None
    created_at: float
    next_poll_at: float | None
    last_error: str
    polls: int

    def view(self) -> OperationView:
        return OperationView(
            key=self.key,
            tenant_key=self.tenant_key,
            user_id=self.user_id,
            operation_id=self.operation_id,
            location=self.location,
            storage_location=self.storage_location,
            state=self.state,
            status=self.status,
            progress=self.progress,
            submitted_at=parse_datetime(self.submitted_at),
            completed_at=parse_datetime(self.completed_at),
            created_at=self.created_at,
            next_poll_at=self.next_poll_at,
            last_error=self.last_error,
            polls=self.polls,
        )


_COLUMNS = (
    "id, tenant_key, user_id, storage_location, state, operation_id, location, status, progress, "
    "submitted_at, completed_at, created_at, next_poll_at, last_error, polls"
)


def _row(values: tuple[Any, ...]) -> OperationRow:
    return OperationRow(*values)


class OperationJournal:
    """SQLite journal of export operations (WAL, batched writes, versioned schema).

    Args:
        path: the database file; its directory is created private to the user.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Without a limit the WAL file keeps its high-water size for ever.
            self._db.execute("PRAGMA journal_size_limit=1048576")
            self._db.execute("PRAGMA busy_timeout=5000")
            with self._transaction():
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    self._db.execute(statement)
                found = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if found is None:
                    self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(found[0]) > SCHEMA_VERSION:
                    raise JournalError(
                        f"the journal {self.path} was written by a newer export-console "
                        f"(schema {found[0]}, this one reads {SCHEMA_VERSION}): upgrade the console"
                    )
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None
        self._pending_rows: dict[int, OperationRow] = {}
        self._pending_polls: list[tuple[int, PollRecord]] = []
        self.writes = 0
        """Rows written so far (for the benchmark's writes-per-second figure)."""
        self.flushes = 0

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        """Flush what is pending and close the database."""
        self.flush()
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:  # another process holds the journal: it checkpoints later
            pass
        self._db.close()

    # -- immediate writes (the submission path) --------------------------------------

    def record_intent(self, tenant_key: str, user_id: str, storage_location: str, now: float) -> OperationRow:
        """Write the intent to export before the POST leaves, and commit it."""
        safe = redact(storage_location)
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO operations (tenant_key, user_id, storage_location, state, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (tenant_key, user_id, safe, INTENT, now, now),
            )
        self.writes += 1
        key = cursor.lastrowid
        assert key is not None
        return OperationRow(
            key, tenant_key, user_id, safe, INTENT, None, None, None, None, None, None, now, None, "", 0
        )

    def save_now(self, row: OperationRow, record: PollRecord | None = None, now: float | None = None) -> None:
        """Write one row (and its history record) at once, with everything pending."""
        self._pending_rows[row.key] = row
        if record is not None:
            self._pending_polls.append((row.key, record))
        self.flush(now)

    # -- batched writes (the polling path) --------------------------------------------

    def queue(self, row: OperationRow, record: PollRecord | None = None) -> None:
        """Remember a row change (latest wins) and a history record for the next flush."""
        self._pending_rows[row.key] = row
        if record is not None:
            self._pending_polls.append((row.key, record))

    @property
    def pending(self) -> int:
        return len(self._pending_rows) + len(self._pending_polls)

    def flush(self, now: float | None = None) -> None:
        """Write every pending change in one transaction."""
        if not self._pending_rows and not self._pending_polls:
            return
        rows, self._pending_rows = list(self._pending_rows.values()), {}
        polls, self._pending_polls = self._pending_polls, []
        stamp = now if now is not None else 0.0
        with self._transaction():
            self._db.executemany(
                "UPDATE operations SET state=?, operation_id=?, location=?, status=?, progress=?, submitted_at=?, "
                "completed_at=?, next_poll_at=?, last_error=?, polls=?, updated_at=MAX(updated_at, ?) WHERE id=?",
                [
                    (
                        r.state,
                        r.operation_id,
                        r.location,
                        r.status,
                        r.progress,
                        r.submitted_at,
                        r.completed_at,
                        r.next_poll_at,
                        r.last_error,
                        r.polls,
                        stamp,
                        r.key,
                    )
                    for r in rows
                ],
            )
            self._db.executemany(
                "INSERT INTO polls (operation, at, http_status, retry_after, request_id, client_request_id, "
                "status, progress, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        p.at,
                        p.http_status,
                        p.retry_after,
                        p.request_id,
                        p.client_request_id,
                        p.status,
                        p.progress,
                        p.error,
                    )
                    for key, p in polls
                ],
            )
        self.writes += len(rows) + len(polls)
        self.flushes += 1

    # -- reads ------------------------------------------------------------------------

    def rows(self, tenant_key: str | None = None, states: Iterable[str] | None = None) -> list[OperationRow]:
        """Journal rows, oldest first, optionally of one tenant and some states."""
        self.flush()
        query = f"SELECT {_COLUMNS} FROM operations"
        clauses: list[str] = []
        params: list[Any] = []
        if tenant_key is not None:
            clauses.append("tenant_key = ?")
            params.append(tenant_key)
        if states is not None:
            wanted = list(states)
            clauses.append(f"state IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY id"
        return [_row(values) for values in self._db.execute(query, params)]

    def history(self, key: int) -> list[PollRecord]:
        """Every recorded poll of one operation, oldest first."""
        self.flush()
        return [
            PollRecord(at, status_code, retry_after, request_id, client_request_id, status, progress, error)
            for at, status_code, retry_after, request_id, client_request_id, status, progress, error in self._db.execute(
                "SELECT at, http_status, retry_after, request_id, client_request_id, status, progress, error "
                "FROM polls WHERE operation = ? ORDER BY rowid",
                (key,),
            )
        ]

    def exports_since(self, tenant_key: str, since: float) -> dict[str, int]:
        """Export POSTs per user since ``since`` that may count against Graph's daily limits."""
        self.flush()
        marks = ",".join("?" * len(QUOTA_STATES))
        return {
            user: count
            for user, count in self._db.execute(
                f"SELECT user_id, COUNT(*) FROM operations WHERE tenant_key = ? AND created_at >= ? "
                f"AND state IN ({marks}) GROUP BY user_id",
                (tenant_key, since, *QUOTA_STATES),
            )
        }

    def recover_intents(self, tenant_key: str, now: float) -> list[OperationRow]:
        """Intents left by a crash between POST and record become unconfirmed (never silently dropped)."""
        stranded = self.rows(tenant_key, [INTENT])
        for row in stranded:
            row.state = UNCONFIRMED
            row.last_error = (
                "the console stopped while this export was being submitted: Graph may or may not have "
                "accepted it; check before exporting this user again"
            )
            self.queue(row)
        self.flush(now)
        return stranded

    def size_bytes(self) -> int:
        """Database plus WAL size on disk."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                total += candidate.stat().st_size
        return total


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error: no half-written journal."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
