"""The operations journal: SQLite, so a dropped SSH session, a crash or a second window loses nothing.

Each submission is written before the POST (intent, with its owner process) and completed after
the 202; a crash in between leaves the row visibly unconfirmed once its owner is known dead.
Status changes and poll records are batched into one transaction per flush; a flush that fails
keeps its batch and the next one retries it (buffers are cleared only after COMMIT).

Every process on one journal shares it: a ``processes`` table with heartbeats (whose intents may
be recovered), a lease on each operation (who polls it and when it is next due), a per-tenant
``ledger`` of the requests reserved in the last hour and a ``pacer`` row (the shared token
bucket), so that all of them together stay inside one poll budget (issue 7, item 2).

Secrets never reach the disk: storage locations, Locations, last errors and poll errors are
redacted on write, whatever the caller passed. Files are created 0600.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from console.errors import ConsoleError
from console.graph.models import parse_datetime
from console.ops.budget import HOUR, Reservation, plan_reservation
from console.ops.schedule import takeover_due
from console.ops.events import (
    ERROR,
    FINAL,
    INTENT,
    OPEN_STATES,
    REJECTED,
    RESOLVED,
    STOPPED,
    TRACKING,
    UNCONFIRMED,
    UNFINISHED_STATES,
    Note,
    OperationView,
    PollRecord,
)

try:
    from console.redact import redact
except ImportError:  # pragma: no cover - before the storage slice's one redaction module existed
    from console.storage import redact

if TYPE_CHECKING:
    from console.storage.blob import Delivery

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 2
"""Bumped whenever the tables change; an unknown newer version is refused, not overwritten."""

HISTORY_KEEP_LAST = 200
"""Poll records kept per operation besides its first (the 202): the details view and the evidence."""
HISTORY_MAX_TOTAL = 500_000
"""Poll records kept in the whole journal; the oldest non-first records go first."""
PRUNE_EVERY = 200
"""Flushes between two prunes of the poll history."""
OPEN_RETRY_SECONDS = 10.0
"""How long opening waits for another process that holds the journal's write lock."""
HEARTBEAT_TIMEOUT = 30.0
"""A process whose heartbeat is older than this is dead: its intents may be recovered."""

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
"""Schema 1 (still created first, so that a new journal and an old one take the same upgrade path)."""

_V2_COLUMNS = (
    ("case_ref", "TEXT NOT NULL DEFAULT ''"),
    ("display_name", "TEXT NOT NULL DEFAULT ''"),
    ("user_principal_name", "TEXT NOT NULL DEFAULT ''"),
    ("home_tenant_id", "TEXT NOT NULL DEFAULT ''"),
    ("submitted_by", "TEXT NOT NULL DEFAULT ''"),
    ("previous_key", "INTEGER"),
    ("post_request_id", "TEXT NOT NULL DEFAULT ''"),
    ("final_request_id", "TEXT NOT NULL DEFAULT ''"),
    ("delivered", "TEXT"),
    ("owner", "TEXT"),
    ("lease_until", "REAL"),
    ("retry_after", "REAL"),
    ("version", "INTEGER NOT NULL DEFAULT 0"),
    ("written_by", "TEXT"),
)
"""Columns schema 2 adds to ``operations`` (issue 10's evidence, and the lease of issue 7)."""

_V2_SCHEMA = """
CREATE INDEX IF NOT EXISTS operations_operation_id ON operations (operation_id);
CREATE INDEX IF NOT EXISTS operations_version ON operations (version);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    operation INTEGER NOT NULL REFERENCES operations (id),
    at REAL NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_operation ON notes (operation);
CREATE TABLE IF NOT EXISTS processes (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    identity TEXT NOT NULL DEFAULT '',
    started REAL NOT NULL,
    heartbeat REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    tenant_key TEXT NOT NULL,
    at REAL NOT NULL,
    count INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ledger_tenant_at ON ledger (tenant_key, at);
CREATE TABLE IF NOT EXISTS pacer (tenant_key TEXT PRIMARY KEY, tat REAL NOT NULL);
"""

_READ_INDEXES = """
CREATE INDEX IF NOT EXISTS operations_state ON operations (state);
CREATE INDEX IF NOT EXISTS operations_case ON operations (case_ref);
CREATE INDEX IF NOT EXISTS operations_created ON operations (created_at);
CREATE INDEX IF NOT EXISTS operations_submitted ON operations (submitted_at)
"""
"""Indexes for the filters of ``ops`` and ``report`` across tenants (status, case, time), added to any
schema-2 journal when it is opened. Not a schema version of their own: a console that predates them
reads and writes the journal as before (only a change of the tables bumps ``SCHEMA_VERSION``)."""

_KIND_COLUMNS = (
    ("kind", "TEXT NOT NULL DEFAULT 'export'"),
    ("target_tenant", "TEXT NOT NULL DEFAULT ''"),
)
"""Columns issue 19 adds to ``operations`` when a journal is opened, like ``_READ_INDEXES``: what a row is
(``export``, or ``removal`` of personal data) and, for an outbound removal, the tenant asked to remove its
copy. Defaults keep every older row an export; a console that predates them never selects them, and its
inserts get the defaults, so no ``SCHEMA_VERSION`` bump."""
EXPORT_KIND = "export"
"""``kind`` of an exportPersonalData row."""
REMOVAL_KIND = "removal"
"""``kind`` of a removePersonalData row (inbound, or outbound with ``target_tenant``): never polled."""

QUOTA_STATES = (INTENT, UNCONFIRMED, TRACKING, FINAL, ERROR, RESOLVED, STOPPED)
"""States whose POST may have reached Graph and so counts against the daily export limits."""


_REMOVAL_INTERRUPTED = (
    "the console stopped while this removal was being sent: Graph may or may not have removed the data; "
    "check before asking again (remove --force)"
)


class JournalError(ConsoleError):
    """The journal cannot be opened or is from a newer version of the console."""

    title = "Journal error"


class DuplicateOperation(ConsoleError):
    """Graph returned an operation id the journal already tracks in another row."""

    def __init__(self, operation_id: str, existing_key: int) -> None:
        super().__init__(
            f"Graph returned operation id {operation_id}, which the journal already tracks as row "
            f"{existing_key}: not tracking it twice"
        )
        self.operation_id = operation_id
        self.existing_key = existing_key


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
    case: str = ""
    display_name: str = ""
    user_principal_name: str = ""
    home_tenant_id: str = ""
    submitted_by: str = ""
    previous_key: int | None = None
    post_request_id: str = ""
    final_request_id: str = ""
    delivered: dict[str, Any] | None = None
    owner: str | None = None
    lease_until: float | None = None
    retry_after: float | None = None
    """The last Retry-After Graph gave this operation (a takeover waits for it)."""
    notes: int = 0
    kind: str = EXPORT_KIND
    """``export`` or ``removal``."""
    target_tenant: str = ""
    """An outbound removal's tenant (the one asked to remove our user's data); empty otherwise."""

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
            case=self.case,
            display_name=self.display_name,
            user_principal_name=self.user_principal_name,
            home_tenant_id=self.home_tenant_id,
            submitted_by=self.submitted_by,
            previous_key=self.previous_key,
            post_request_id=self.post_request_id,
            final_request_id=self.final_request_id,
            delivered=delivery_from_json(self.delivered),
            notes=self.notes,
            kind=self.kind,
            target_tenant=self.target_tenant,
        )

    def copy(self) -> OperationRow:
        return dataclasses.replace(self)


def delivery_from_json(data: dict[str, Any] | None) -> Delivery | None:
    """The storage slice's ``Delivery`` from what the journal keeps (None when unknown or unreadable)."""
    if not data:
        return None
    try:
        from console.storage.blob import Delivery
    except ImportError:  # pragma: no cover - the storage slice not there yet
        return None
    try:
        return Delivery(
            checked_at=float(data.get("checked_at", 0.0)),
            files=int(data.get("files", 0)),
            bytes=int(data.get("bytes", 0)),
            names=tuple(str(n) for n in data.get("names", ())),
            request_info=bool(data.get("request_info", False)),
            error=str(data.get("error", "")),
        )
    except (TypeError, ValueError):
        return None


def delivery_to_json(delivery: Delivery) -> dict[str, Any]:
    """What the journal keeps of a ``Delivery`` (its own field names, redacted error)."""
    return {
        "checked_at": delivery.checked_at,
        "files": delivery.files,
        "bytes": delivery.bytes,
        "names": [redact(str(n)) for n in delivery.names],
        "request_info": delivery.request_info,
        "error": redact(delivery.error),
    }


_COLUMNS = (
    "id, tenant_key, user_id, storage_location, state, operation_id, location, status, progress, "
    "submitted_at, completed_at, created_at, next_poll_at, last_error, polls, case_ref, display_name, "
    "user_principal_name, home_tenant_id, submitted_by, previous_key, post_request_id, final_request_id, "
    "delivered, owner, lease_until, retry_after, "
    "(SELECT COUNT(*) FROM notes WHERE notes.operation = operations.id), kind, target_tenant"
)


COLUMN = {name.strip(): i for i, name in enumerate(_COLUMNS.split(", ")) if not name.startswith("(")}
"""Where each column of ``OperationJournal.iter_values``' tuples is (``notes``: the notes count)."""
_WIDTH = len(_COLUMNS.split(", "))
COLUMN["notes"] = next(
    i for i, name in enumerate(_COLUMNS.split(", ")) if name.startswith("(SELECT COUNT(*) FROM notes")
)


def _lean_columns(wanted: frozenset[str]) -> str:
    """``_COLUMNS`` with every column not in ``wanted`` read on intent rows only (None on the others)."""
    unknown = wanted - set(COLUMN)
    if unknown:
        raise ValueError(f"no such journal columns: {sorted(unknown)}")
    names = _COLUMNS.split(", ")
    return ", ".join(
        name if i in (COLUMN[w] for w in wanted) else f"CASE WHEN state = '{INTENT}' THEN {name} END"
        for i, name in enumerate(names)
    )


def row_from_values(values: Sequence[Any]) -> OperationRow:
    """The row of one tuple from ``OperationJournal.iter_values``."""
    return _row(values[:_WIDTH])


def _row(values: Sequence[Any]) -> OperationRow:
    fields = list(values)
    delivered = fields[23]
    try:
        fields[23] = json.loads(delivered) if delivered else None
    except ValueError:
        fields[23] = None
    return OperationRow(*fields)


def _select(
    columns: str,
    tenant_key: str | None,
    states: Iterable[str] | None,
    case: str | None,
    since: float | None,
) -> tuple[str, list[Any]]:
    """The query of ``rows``/``iter_rows``: oldest first, with the filters that were given."""
    query = f"SELECT {columns} FROM operations"
    clauses: list[str] = []
    params: list[Any] = []
    if tenant_key is not None:
        clauses.append("tenant_key = ?")
        params.append(tenant_key)
    if states is not None:
        wanted = list(states)
        clauses.append(f"state IN ({','.join('?' * len(wanted))})")
        params.extend(wanted)
    if case is not None:
        clauses.append("case_ref = ?")
        params.append(case)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    return query + " ORDER BY id", params


def _safe(text: str | None) -> str | None:
    return None if text is None else redact(text)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def create_private_file(path: Path) -> None:
    """Create ``path`` 0600 before SQLite first opens it (its -wal and -shm files copy that mode).

    Only a file that does not exist yet is opened (``O_EXCL``), never one that does: POSIX ``fcntl``
    locks belong to the process, and closing ANY descriptor of the database file drops every lock
    this process's SQLite connections hold on it. A second connection in a process that has the
    journal open (the engine's writer thread, a report) would then leave the others' locks gone, and
    the next process to close its connection would find itself alone and delete the WAL under them
    (issue 14, item 1). An existing file is made private by ``chmod`` on its path instead.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except OSError:  # it exists (never opened here), or the directory refuses: SQLite says which
        return
    os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is someone else's
        return True
    except OSError:
        return False
    return True


class OperationJournal:
    """SQLite journal of export operations (WAL, batched writes, versioned schema, shared by processes).

    Thread-safe: ``queue()`` may be called from the event loop while another thread flushes.

    Args:
        path: the database file; its directory is created private to the user.
        busy_timeout: seconds SQLite waits for another process's write lock before a write fails
            (a failed flush keeps its batch for the next one).
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._db_lock = threading.RLock()
        self._pending_lock = threading.Lock()
        self.process_id: str | None = None
        """This journal's process row, once ``register_process`` ran: it owns what it writes."""
        create_private_file(self.path)
        # Two processes opening a new journal at once: switching to WAL and creating the schema take
        # the write lock, and the WAL switch does not wait for it; so the opening is retried a while.
        deadline = time.monotonic() + max(busy_timeout, OPEN_RETRY_SECONDS)
        while True:
            try:
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._db.execute(f"PRAGMA busy_timeout={max(0, int(busy_timeout * 1000))}")
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                # Without a limit the WAL file keeps its high-water size for ever.
                self._db.execute("PRAGMA journal_size_limit=1048576")
                self._open_schema()
                break
            except sqlite3.OperationalError as exc:
                self._db.close()
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise JournalError(f"cannot open the journal {self.path}: {redact(str(exc))}") from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"cannot open the journal {self.path}: {redact(str(exc))}") from None
        self._private()
        self._pending_rows: dict[int, OperationRow] = {}
        self._pending_polls: list[tuple[int, PollRecord]] = []
        self.writes = 0
        """Rows written so far (for the benchmark's writes-per-second figure)."""
        self.flushes = 0
        self.failed_flushes = 0
        """Flushes that failed and were kept for the next one."""
        self.pruned = 0
        """Poll records removed by pruning so far."""

    def _private(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            try:
                if candidate.exists() and candidate.stat().st_mode & 0o077:
                    candidate.chmod(0o600)
            except OSError:
                pass

    def _open_schema(self) -> None:
        with self._transaction():
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(found[0]) if found is not None else 0
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"the journal {self.path} was written by a newer export-console "
                    f"(schema {version}, this one reads {SCHEMA_VERSION}): upgrade the console, "
                    "or use another --state-dir"
                )
            if version == SCHEMA_VERSION:
                self._add_kind_columns()
                self._add_read_indexes()
                return
            for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                self._db.execute(statement)
            self._migrate_to_2()
            self._add_kind_columns()
            self._add_read_indexes()
            self._db.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(SCHEMA_VERSION),),
            )
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('row_version', '0')")

    def _add_kind_columns(self) -> None:
        """The columns of ``_KIND_COLUMNS`` when missing (PRAGMA table_info; added once, then found)."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(operations)")}
        for name, declaration in _KIND_COLUMNS:
            if name not in present:
                self._db.execute(f"ALTER TABLE operations ADD COLUMN {name} {declaration}")

    def _add_read_indexes(self) -> None:
        """The indexes of ``_READ_INDEXES`` (created once, then each open finds them: no-ops)."""
        for statement in filter(None, (s.strip() for s in _READ_INDEXES.split(";"))):
            self._db.execute(statement)
        from console.ops.cases import CASE_TABLES  # issue 19's cases: tables of their own, no new schema version

        for statement in CASE_TABLES:
            self._db.execute(statement)

    def _migrate_to_2(self) -> None:
        """Schema 1 -> 2 in place: new columns and tables; what schema 1 kept in clear is redacted."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(operations)")}
        for name, declaration in _V2_COLUMNS:
            if name not in present:
                self._db.execute(f"ALTER TABLE operations ADD COLUMN {name} {declaration}")
        for statement in filter(None, (s.strip() for s in _V2_SCHEMA.split(";"))):
            self._db.execute(statement)
        # Schema 1 stored Graph's error text as given (issue 7): a 400 quoting the SAS kept sig= in clear.
        for key, storage, location, error in self._db.execute(
            "SELECT id, storage_location, location, last_error FROM operations"
        ).fetchall():
            cleaned = (redact(storage), _safe(location), redact(error))
            if cleaned != (storage, location, error):
                self._db.execute(
                    "UPDATE operations SET storage_location=?, location=?, last_error=? WHERE id=?", (*cleaned, key)
                )
        for rowid, error in self._db.execute("SELECT rowid, error FROM polls WHERE error != ''").fetchall():
            if redact(error) != error:
                self._db.execute("UPDATE polls SET error=? WHERE rowid=?", (redact(error), rowid))

    def schema_version(self) -> int:
        with self._db_lock:
            found = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(found[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._db_lock)

    def _bump_version(self) -> int:
        """Inside a transaction: the next row version (another process's sync reads rows past its last)."""
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='row_version'")
        found = self._db.execute("SELECT value FROM meta WHERE key='row_version'").fetchone()
        return int(found[0]) if found else 0

    def close(self) -> None:
        """Flush what is pending (when the disk lets it) and close the database."""
        try:
            self.flush()
        except sqlite3.Error as exc:
            log.warning("journal: %d changes could not be written at close: %s", self.pending, redact(str(exc)))
        with self._db_lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:  # another process holds the journal: it checkpoints later
                pass
            self._db.close()

    # -- immediate writes (the submission path) --------------------------------------

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
        safe = redact(storage_location)
        owner = owner if owner is not None else self.process_id
        with self._transaction():
            version = self._bump_version()
            cursor = self._db.execute(
                "INSERT INTO operations (tenant_key, user_id, storage_location, state, created_at, updated_at, "
                "case_ref, display_name, user_principal_name, home_tenant_id, submitted_by, previous_key, owner, "
                "lease_until, version, written_by, kind, target_tenant) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant_key,
                    user_id,
                    safe,
                    INTENT,
                    now,
                    now,
                    case,
                    display_name,
                    user_principal_name,
                    home_tenant_id,
                    submitted_by,
                    previous_key,
                    owner,
                    lease_until,
                    version,
                    owner,
                    kind,
                    target_tenant,
                ),
            )
        self.writes += 1
        key = cursor.lastrowid
        assert key is not None
        return OperationRow(
            key,
            tenant_key,
            user_id,
            safe,
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

    def tracked_elsewhere(self, tenant_key: str, operation_id: str, key: int) -> int | None:
        """The row that already tracks ``operation_id`` (another than ``key``), if any."""
        with self._db_lock:
            found = self._db.execute(
                "SELECT id FROM operations WHERE tenant_key = ? AND operation_id = ? AND id != ? ORDER BY id LIMIT 1",
                (tenant_key, operation_id, key),
            ).fetchone()
        return int(found[0]) if found else None

    def save_now(self, row: OperationRow, record: PollRecord | None = None, now: float | None = None) -> None:
        """Write one row (and its history record) at once, with everything pending.

        On failure the change stays pending (the next flush retries it) and the error is raised.
        """
        self.queue(row, record)
        self.flush(now)

    # -- batched writes (the polling path) --------------------------------------------

    def queue(self, row: OperationRow, record: PollRecord | None = None) -> None:
        """Remember a row change (a copy; latest wins) and a history record for the next flush."""
        snapshot = row.copy()
        with self._pending_lock:
            self._pending_rows[row.key] = snapshot
            if record is not None:
                self._pending_polls.append((row.key, record))

    @property
    def pending(self) -> int:
        with self._pending_lock:
            return len(self._pending_rows) + len(self._pending_polls)

    def flush(self, now: float | None = None) -> None:
        """Write every pending change in one transaction; on failure everything stays pending.

        Raises:
            sqlite3.Error: the transaction failed (rolled back; the batch is kept for the next flush).
        """
        with self._pending_lock:
            if not self._pending_rows and not self._pending_polls:
                return
            rows = dict(self._pending_rows)
            polls = list(self._pending_polls)
        stamp = now if now is not None else 0.0
        me = self.process_id
        try:
            with self._transaction():
                version = self._bump_version()
                self._db.executemany(
                    "UPDATE operations SET state=?, operation_id=?, location=?, status=?, progress=?, "
                    "submitted_at=?, completed_at=?, next_poll_at=?, last_error=?, polls=?, "
                    "post_request_id=?, final_request_id=?, delivered=?, retry_after=?, "
                    "owner=CASE WHEN ? IN ('intent', 'tracking') THEN owner ELSE NULL END, "
                    "lease_until=CASE WHEN ? IN ('intent', 'tracking') THEN lease_until ELSE NULL END, "
                    "version=?, written_by=?, updated_at=MAX(updated_at, ?) "
                    "WHERE id=? AND (? IS NULL OR owner IS NULL OR owner = ?) "
                    # A row closed meanwhile (resolved, stopped elsewhere) is never reopened by a stale change.
                    "AND (state IN ('intent', 'tracking') OR state = ?)",
                    [
                        (
                            r.state,
                            r.operation_id,
                            _safe(r.location),
                            r.status,
                            r.progress,
                            r.submitted_at,
                            r.completed_at,
                            r.next_poll_at,
                            redact(r.last_error),
                            r.polls,
                            r.post_request_id,
                            r.final_request_id,
                            json.dumps(r.delivered) if r.delivered is not None else None,
                            r.retry_after,
                            r.state,
                            r.state,
                            version,
                            me,
                            stamp,
                            r.key,
                            me,
                            me,
                            r.state,
                        )
                        for r in rows.values()
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
                            redact(p.error),
                        )
                        for key, p in polls
                    ],
                )
        except sqlite3.Error:
            self.failed_flushes += 1
            raise
        # Only now, after COMMIT, forget what was written (a newer change of a row stays pending).
        with self._pending_lock:
            for key, snapshot in rows.items():
                if self._pending_rows.get(key) is snapshot:
                    del self._pending_rows[key]
            del self._pending_polls[: len(polls)]
        self.writes += len(rows) + len(polls)
        self.flushes += 1
        self._private()
        if self.flushes % PRUNE_EVERY == 0:
            try:
                self.prune()
            except sqlite3.Error as exc:
                log.warning("journal: pruning the poll history failed: %s", redact(str(exc)))

    def prune(self, keep_last: int = HISTORY_KEEP_LAST, max_total: int = HISTORY_MAX_TOTAL) -> int:
        """Bound the poll history: per operation its first record and the last ``keep_last``; in total ``max_total``.

        Returns:
            How many records were removed.
        """
        with self._transaction():
            before = self._db.total_changes
            self._db.execute(
                "DELETE FROM polls WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "ROW_NUMBER() OVER (PARTITION BY operation ORDER BY rowid) AS n, "
                "COUNT(*) OVER (PARTITION BY operation) AS c FROM polls) WHERE n > 1 AND n <= c - ?)",
                (keep_last,),
            )
            (total,) = self._db.execute("SELECT COUNT(*) FROM polls").fetchone()
            if total > max_total:
                self._db.execute(
                    "DELETE FROM polls WHERE rowid IN (SELECT rowid FROM (SELECT rowid, at, "
                    "ROW_NUMBER() OVER (PARTITION BY operation ORDER BY rowid) AS n FROM polls) "
                    "WHERE n > 1 ORDER BY at LIMIT ?)",
                    (total - max_total,),
                )
            removed = self._db.total_changes - before
        self.pruned += removed
        return removed

    def poll_count(self) -> int:
        """Poll records kept."""
        with self._db_lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM polls").fetchone()
        return int(count)

    # -- reads ------------------------------------------------------------------------

    def rows(
        self,
        tenant_key: str | None = None,
        states: Iterable[str] | None = None,
        *,
        case: str | None = None,
        since: float | None = None,
    ) -> list[OperationRow]:
        """Journal rows, oldest first, optionally of one tenant, some states, one case, created since."""
        self._try_flush()
        query, params = _select(_COLUMNS, tenant_key, states, case, since)
        with self._db_lock:
            return [_row(values) for values in self._db.execute(query, params).fetchall()]

    def iter_rows(
        self,
        tenant_key: str | None = None,
        states: Iterable[str] | None = None,
        *,
        case: str | None = None,
        since: float | None = None,
    ) -> Iterator[OperationRow]:
        """``rows()`` streamed: one query on a connection of its own, read a chunk at a time.

        Memory stays constant whatever the journal's size, and the lock of the shared connection is
        never held between two rows (the read sees one snapshot of the journal: WAL).
        """
        for values in self.iter_values(tenant_key, states, case=case, since=since):
            yield _row(values)

    def iter_values(
        self,
        tenant_key: str | None = None,
        states: Iterable[str] | None = None,
        *,
        case: str | None = None,
        since: float | None = None,
        evidence: bool = False,
        lean: Iterable[str] | None = None,
    ) -> Iterator[Sequence[Any]]:
        """``iter_rows`` (or with ``evidence``, ``iter_evidence``) as the query's own tuples, for readers
        that print most rows as they are: ``row_from_values`` makes the row of one (columns: ``COLUMN``).

        With ``evidence`` each tuple has the two request ids of ``iter_evidence`` after the row's columns.
        With ``lean`` (names of ``COLUMN``), only those columns are read for every row: the others are
        None except on an intent row (whose view depends on more), which is read whole. Turning 28 values
        into Python objects is most of a read's time; a reader that takes 12 of them reads twice as fast.
        """
        self._try_flush()
        selected = _COLUMNS if lean is None else _lean_columns(frozenset(lean) | {"id", "state"})
        if not evidence:
            query, params = _select(selected, tenant_key, states, case, since)
            return self._stream(query, params)
        columns = (
            f"{selected}, CASE WHEN post_request_id = '' THEN COALESCE((SELECT request_id FROM polls "
            "WHERE polls.operation = operations.id ORDER BY rowid LIMIT 1), '') ELSE '' END, "
            "CASE WHEN final_request_id = '' AND state = ? THEN COALESCE((SELECT request_id "
            "FROM polls WHERE polls.operation = operations.id AND status IN ('complete', 'failed') "
            "ORDER BY rowid DESC LIMIT 1), '') ELSE '' END"
        )
        query, params = _select(columns, tenant_key, states, case, since)
        return self._stream(query, [FINAL, *params])

    def iter_evidence(
        self,
        tenant_key: str | None = None,
        *,
        case: str | None = None,
        since: float | None = None,
    ) -> Iterator[tuple[OperationRow, str, str]]:
        """``iter_rows`` for the evidence report: ``(row, first_request_id, final_request_id)``.

        ``first_request_id`` is the request-id of the operation's first kept poll record, when the
        row has no ``post_request_id``; ``final_request_id`` that of its last complete/failed poll
        record, when a final row has no ``final_request_id``; "" otherwise. Both come from the same
        query (no query per row).
        """
        for values in self.iter_values(tenant_key, case=case, since=since, evidence=True):
            yield _row(values[:-2]), str(values[-2]), str(values[-1])

    def _stream(self, query: str, params: Sequence[Any], chunk: int = 500) -> Iterator[Sequence[Any]]:
        reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            reader.execute("PRAGMA busy_timeout=5000")
            cursor = reader.execute(query, params)
            while batch := cursor.fetchmany(chunk):
                yield from batch
        finally:
            reader.close()

    def row(self, key: int) -> OperationRow | None:
        """One row by its key."""
        self._try_flush()
        with self._db_lock:
            found = self._db.execute(f"SELECT {_COLUMNS} FROM operations WHERE id = ?", (key,)).fetchone()
        return _row(found) if found else None

    def find_operation(self, operation_id: str) -> OperationRow | None:
        """The row tracking Graph's operation id (case-insensitive; the first when several)."""
        self._try_flush()
        with self._db_lock:
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE lower(operation_id) = lower(?) ORDER BY id LIMIT 1",
                (operation_id.strip(),),
            ).fetchone()
        return _row(found) if found else None

    def _try_flush(self) -> None:
        try:
            self.flush()
        except sqlite3.Error as exc:  # reads go on; the batch stays pending
            log.warning("journal flush failed (kept for the next one): %s", redact(str(exc)))

    def history(self, key: int) -> list[PollRecord]:
        """Every kept poll of one operation, oldest first."""
        self._try_flush()
        with self._db_lock:
            found = self._db.execute(
                "SELECT at, http_status, retry_after, request_id, client_request_id, status, progress, error "
                "FROM polls WHERE operation = ? ORDER BY rowid",
                (key,),
            ).fetchall()
        return [PollRecord(*values) for values in found]

    def notes(self, key: int) -> list[Note]:
        """The admin's notes on one operation, oldest first."""
        with self._db_lock:
            found = self._db.execute(
                "SELECT id, operation, at, author, text FROM notes WHERE operation = ? ORDER BY id", (key,)
            ).fetchall()
        return [Note(*values) for values in found]

    def add_note(self, key: int, text: str, author: str, at: float) -> Note:
        """Keep a note on an operation (redacted: a pasted SAS is not kept in clear).

        Raises:
            KeyError: no such operation.
        """
        clean = redact(text.strip())
        with self._transaction():
            if self._db.execute("SELECT 1 FROM operations WHERE id = ?", (key,)).fetchone() is None:
                raise KeyError(key)
            cursor = self._db.execute(
                "INSERT INTO notes (operation, at, author, text) VALUES (?, ?, ?, ?)", (key, at, redact(author), clean)
            )
            self._db.execute(
                "UPDATE operations SET version=?, written_by=? WHERE id=?", (self._bump_version(), self.process_id, key)
            )
        note_key = cursor.lastrowid
        assert note_key is not None
        return Note(note_key, key, at, redact(author), clean)

    def resolve(self, key: int, note: str, author: str, at: float) -> Note:
        """Mark an unconfirmed export checked (state resolved) with a note saying what was found.

        Raises:
            KeyError: no such operation.
            ValueError: it is not unconfirmed.
        """
        return self._close_row(key, RESOLVED, (UNCONFIRMED,), note, author, at)

    def confirm(
        self,
        key: int,
        *,
        operation_id: str,
        location: str,
        status: str | None,
        progress: float | None,
        submitted_at: str | None,
        completed_at: str | None,
        note: str,
        author: str,
        at: float,
        owner: str | None = None,
        lease_until: float | None = None,
        next_poll_at: float | None = None,
    ) -> OperationRow:
        """Confirm an unconfirmed export with the operation Graph listed for it (``console.ops.reconcile``).

        In one transaction: the row must still be unconfirmed and no other row of its tenant may track
        ``operation_id``; it then gets the id, status URL and Graph's status (tracking, or final when
        Graph says so), leased to ``owner`` when given, with ``note`` saying how it was found.

        Raises:
            KeyError: no such operation.
            ValueError: it is not unconfirmed (any more).
            DuplicateOperation: another row already tracks ``operation_id``.
        """
        state = FINAL if status in ("complete", "failed") else TRACKING
        clean = redact(note.strip())
        with self._transaction():
            found = self._db.execute("SELECT state, tenant_key FROM operations WHERE id = ?", (key,)).fetchone()
            if found is None:
                raise KeyError(key)
            if found[0] != UNCONFIRMED:
                raise ValueError(f"operation {key} is {found[0]}, not {UNCONFIRMED}")
            other = self._db.execute(
                "SELECT id FROM operations WHERE tenant_key = ? AND lower(operation_id) = lower(?) AND id != ? LIMIT 1",
                (found[1], operation_id, key),
            ).fetchone()
            if other is not None:
                raise DuplicateOperation(operation_id, int(other[0]))
            tracking = state == TRACKING
            self._db.execute(
                "UPDATE operations SET state=?, operation_id=?, location=?, status=?, progress=?, submitted_at=?, "
                "completed_at=?, last_error='', next_poll_at=?, owner=?, lease_until=?, version=?, written_by=?, "
                "updated_at=MAX(updated_at, ?) WHERE id=?",
                (
                    state,
                    operation_id,
                    _safe(location),
                    status,
                    progress,
                    submitted_at,
                    completed_at,
                    (next_poll_at if next_poll_at is not None else at) if tracking else None,
                    owner if tracking else None,
                    lease_until if tracking else None,
                    self._bump_version(),
                    self.process_id,
                    at,
                    key,
                ),
            )
            if clean:
                self._db.execute(
                    "INSERT INTO notes (operation, at, author, text) VALUES (?, ?, ?, ?)",
                    (key, at, redact(author), clean),
                )
            row = _row(self._db.execute(f"SELECT {_COLUMNS} FROM operations WHERE id = ?", (key,)).fetchone())
        with self._pending_lock:  # a stale pending change (the unconfirmed row) must not undo it
            self._pending_rows.pop(key, None)
        self.writes += 1
        return row

    def stop_watching(self, key: int, at: float, author: str = "", note: str = "") -> Note | None:
        """Stop polling an open (or unconfirmed) export; its history is kept.

        Raises:
            KeyError: no such operation.
            ValueError: it is already finished.
        """
        result = self._close_row(key, STOPPED, (INTENT, TRACKING, UNCONFIRMED), note, author, at)
        return result if note else None

    def _close_row(self, key: int, state: str, allowed: tuple[str, ...], note: str, author: str, at: float) -> Note:
        clean = redact(note.strip())
        with self._transaction():
            found = self._db.execute("SELECT state FROM operations WHERE id = ?", (key,)).fetchone()
            if found is None:
                raise KeyError(key)
            if found[0] not in allowed:
                raise ValueError(f"operation {key} is {found[0]}, not {' or '.join(allowed)}")
            self._db.execute(
                "UPDATE operations SET state=?, owner=NULL, lease_until=NULL, next_poll_at=NULL, version=?, "
                "written_by=?, updated_at=MAX(updated_at, ?) WHERE id=?",
                (state, self._bump_version(), self.process_id, at, key),
            )
            note_key = 0
            if clean:
                cursor = self._db.execute(
                    "INSERT INTO notes (operation, at, author, text) VALUES (?, ?, ?, ?)",
                    (key, at, redact(author), clean),
                )
                note_key = cursor.lastrowid or 0
        with self._pending_lock:  # a stale pending change must not reopen it
            self._pending_rows.pop(key, None)
        return Note(note_key, key, at, redact(author), clean)

    def exports_since(self, tenant_key: str, since: float) -> dict[str, int]:
        """Export POSTs per user since ``since`` that may count against Graph's daily limits."""
        self._try_flush()
        marks = ",".join("?" * len(QUOTA_STATES))
        with self._db_lock:
            found = self._db.execute(
                f"SELECT user_id, COUNT(*) FROM operations WHERE tenant_key = ? AND created_at >= ? "
                f"AND state IN ({marks}) AND kind = 'export' GROUP BY user_id",
                (tenant_key, since, *QUOTA_STATES),
            ).fetchall()
        return {user: count for user, count in found}

    def conflicts(self, tenant_key: str, user_ids: Iterable[str]) -> list[OperationRow]:
        """Unfinished (intent, tracking) or unconfirmed exports of these users, written by any process."""
        wanted = {u.lower() for u in user_ids}
        if not wanted:
            return []
        marks = ",".join("?" * len(UNFINISHED_STATES))
        self._try_flush()
        with self._db_lock:
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE tenant_key = ? AND state IN ({marks}) "
                "AND kind = 'export' ORDER BY id",
                (tenant_key, *sorted(UNFINISHED_STATES)),
            ).fetchall()
        return [row for row in map(_row, found) if row.user_id.lower() in wanted]

    def removals_of(self, tenant_key: str, user_ids: Iterable[str], target_tenant: str = "") -> list[OperationRow]:
        """Removals of these users (to ``target_tenant`` when outbound) that may have reached Graph: sent,
        in flight or unconfirmed (a ``rejected`` one was refused and removed nothing), oldest first."""
        wanted = {u.lower() for u in user_ids}
        if not wanted:
            return []
        self._try_flush()
        with self._db_lock:
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE tenant_key = ? AND kind = ? AND target_tenant = ? "
                "AND state != ? ORDER BY id",
                (tenant_key, REMOVAL_KIND, target_tenant.lower(), REJECTED),
            ).fetchall()
        return [row for row in map(_row, found) if row.user_id.lower() in wanted]

    # -- processes, intents, leases ----------------------------------------------------

    def register_process(self, process_id: str, now: float, *, identity: str = "", pid: int | None = None) -> None:
        """Record this process (its heartbeat tells the others it is alive); its writes carry its id."""
        self.process_id = process_id
        with self._transaction():
            self._db.execute(
                "INSERT INTO processes (id, pid, host, identity, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET heartbeat=excluded.heartbeat",
                (process_id, os.getpid() if pid is None else pid, socket.gethostname(), identity, now, now),
            )

    def heartbeat(self, process_id: str, now: float) -> None:
        with self._transaction():
            self._db.execute("UPDATE processes SET heartbeat=? WHERE id=?", (now, process_id))

    def unregister_process(self, process_id: str) -> None:
        """Leave cleanly: give back every lease (the others take over at the saved next poll)."""
        with self._transaction():
            self._db.execute(
                "UPDATE operations SET owner=NULL, lease_until=NULL, version=? WHERE owner=? AND state=?",
                (self._bump_version(), process_id, TRACKING),
            )
            self._db.execute("DELETE FROM processes WHERE id=?", (process_id,))

    def process_alive(self, owner: str | None, now: float, heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> bool:
        """Whether the process ``owner`` still runs: its heartbeat is fresh and, on this host, its pid exists."""
        if not owner:
            return False
        with self._db_lock:
            found = self._db.execute("SELECT pid, host, heartbeat FROM processes WHERE id=?", (owner,)).fetchone()
        return _alive(found, now, heartbeat_timeout)

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
        text = (
            "the console stopped while this export was being submitted: Graph may or may not have "
            "accepted it; check before exporting this user again"
        )
        with self._transaction():
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE tenant_key=? AND state=? ORDER BY id", (tenant_key, INTENT)
            ).fetchall()
            processes = {
                pid_row[0]: pid_row[1:]
                for pid_row in self._db.execute("SELECT id, pid, host, heartbeat FROM processes").fetchall()
            }
            version = self._bump_version()
            for row in map(_row, found):
                if row.owner is not None and (
                    row.owner == owner or _alive(processes.get(row.owner), now, heartbeat_timeout)
                ):
                    continue
                row.state = UNCONFIRMED
                row.last_error = _REMOVAL_INTERRUPTED if row.kind == REMOVAL_KIND else text
                row.owner = None
                self._db.execute(
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
        with self._transaction():
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE tenant_key=? AND state=? AND location IS NOT NULL "
                "AND (owner IS NULL OR owner != ?) ORDER BY id",
                (tenant_key, TRACKING, owner),
            ).fetchall()
            if not found:
                return claimed
            processes = {
                pid_row[0]: pid_row[1:]
                for pid_row in self._db.execute("SELECT id, pid, host, heartbeat FROM processes").fetchall()
            }
            version = self._bump_version()
            for row in map(_row, found):
                if len(claimed) >= limit:
                    break
                if row.owner is not None:
                    lease = row.lease_until
                    if (lease is None or lease > now) and _alive(processes.get(row.owner), now, heartbeat_timeout):
                        continue
                    # Taken from a dead (or lapsed) owner: wait out what it may have done unrecorded.
                    due = takeover_due(now, row.next_poll_at, lease if lease is not None else now, row.retry_after)
                else:
                    due = row.next_poll_at or now
                changed = self._db.execute(
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
        with self._transaction():
            self._db.execute("UPDATE processes SET heartbeat=? WHERE id=?", (now, owner))
            self._db.execute(
                "UPDATE operations SET lease_until=? WHERE owner=? AND state=?", (lease_until, owner, TRACKING)
            )
            held = {
                key
                for (key,) in self._db.execute(
                    "SELECT id FROM operations WHERE owner=? AND state IN (?, ?)", (owner, INTENT, TRACKING)
                )
            }
        return held

    def take_lease(self, key: int, owner: str, lease_until: float) -> None:
        """Own a row this process just submitted (the 202 arrived)."""
        with self._transaction():
            self._db.execute(
                "UPDATE operations SET owner=?, lease_until=? WHERE id=? AND (owner IS NULL OR owner=?)",
                (owner, lease_until, key, owner),
            )

    def row_version(self) -> int:
        with self._db_lock:
            found = self._db.execute("SELECT value FROM meta WHERE key='row_version'").fetchone()
        return int(found[0]) if found else 0

    def changes_since(
        self, tenant_key: str, version: int, *, exclude_writer: str | None = None
    ) -> tuple[list[OperationRow], int]:
        """Rows of the tenant written after ``version`` by another writer; and the newest version seen."""
        with self._db_lock:
            current = self.row_version()
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE tenant_key=? AND version > ? "
                "AND (written_by IS NULL OR ? IS NULL OR written_by != ?) ORDER BY id",
                (tenant_key, version, exclude_writer, exclude_writer),
            ).fetchall()
        return [_row(values) for values in found], current

    # -- the shared poll budget ------------------------------------------------------------

    def reserve_requests(
        self,
        tenant_key: str,
        owner: str,
        now: float,
        want: int,
        *,
        per_hour: int,
        burst: float,
        rate: float,
        grace: float,
    ) -> Reservation:
        """Reserve up to ``want`` request slots from the tenant's one budget, for every process on this journal.

        One transaction (BEGIN IMMEDIATE serialises the processes) reads the tenant's ledger of the
        last hour and its pacer, plans the slots (``budget.plan_reservation``) and records them.
        """
        with self._transaction():
            self._db.execute("DELETE FROM ledger WHERE tenant_key=? AND at <= ?", (tenant_key, now - 2 * HOUR))
            found = self._db.execute("SELECT tat FROM pacer WHERE tenant_key=?", (tenant_key,)).fetchone()
            tat = float(found[0]) if found else now - burst / rate
            window = self._db.execute(
                "SELECT at, count FROM ledger WHERE tenant_key=? AND at > ? ORDER BY at", (tenant_key, now - HOUR)
            ).fetchall()
            plan = plan_reservation(
                now=now, want=want, tat=tat, window=window, per_hour=per_hour, burst=burst, rate=rate, grace=grace
            )
            if plan.slots:
                self._db.execute(
                    "INSERT INTO ledger (tenant_key, at, count, owner) VALUES (?, ?, ?, ?)",
                    (tenant_key, plan.ledger_at, len(plan.slots), owner),
                )
                self._db.execute(
                    "INSERT INTO pacer (tenant_key, tat) VALUES (?, ?) "
                    "ON CONFLICT(tenant_key) DO UPDATE SET tat=excluded.tat",
                    (tenant_key, plan.tat),
                )
        return plan

    def requests_in_last_hour(self, tenant_key: str, now: float) -> int:
        with self._db_lock:
            (count,) = self._db.execute(
                "SELECT COALESCE(SUM(count), 0) FROM ledger WHERE tenant_key=? AND at > ?", (tenant_key, now - HOUR)
            ).fetchone()
        return int(count)

    def size_bytes(self) -> int:
        """Database plus WAL size on disk."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    def retrying(self, call: Callable[[], T], *, attempts: int = 50, pause: float = 0.1) -> T:
        """Run ``call`` again while another process holds the write lock (blocking: call off the event loop)."""
        for attempt in range(attempts):
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == attempts - 1:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")


def _alive(found: Sequence[Any] | None, now: float, heartbeat_timeout: float) -> bool:
    if found is None:
        return False
    pid, host, beat = found
    if now - float(beat) > heartbeat_timeout:
        return False
    if host == socket.gethostname() and not pid_alive(int(pid)):
        return False
    return True


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back when the body raised: no half-written journal."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                try:
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            elif self._db.in_transaction:
                self._db.execute("ROLLBACK")
        finally:
            self._lock.release()


__all__ = [
    "DuplicateOperation",
    "JournalError",
    "OperationJournal",
    "OperationRow",
    "QUOTA_STATES",
    "SCHEMA_VERSION",
    "OPEN_STATES",
    "ERROR",
    "FINAL",
]
