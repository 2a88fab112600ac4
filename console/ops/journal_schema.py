"""The journal's tables, in one place: schema 1, the migration to schema 2, and what opening adds.

``open_schema`` runs inside the opening transaction of ``journal_db.JournalConnection``: a new
journal and an old one take the same path (schema 1 first, then each upgrade), a newer one is
refused rather than overwritten. Columns and indexes added on opening (issue 19's ``kind``, the read
indexes, the case tables) are not a schema version of their own: a console that predates them still
reads and writes the journal, so only a change of the tables bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.ops.journal_model import JournalError, safe
from console.redact import redact

SCHEMA_VERSION = 2
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
schema-2 journal when it is opened."""

_KIND_COLUMNS = (
    ("kind", "TEXT NOT NULL DEFAULT 'export'"),
    ("target_tenant", "TEXT NOT NULL DEFAULT ''"),
)
"""Columns issue 19 adds to ``operations`` when a journal is opened, like ``_READ_INDEXES``: what a row is
(``export``, or ``removal`` of personal data) and, for an outbound removal, the tenant asked to remove its
copy. Defaults keep every older row an export; a console that predates them never selects them, and its
inserts get the defaults."""

CASE_TABLES = (
    """CREATE TABLE IF NOT EXISTS cases (
    tenant_key TEXT NOT NULL,
    ref TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    received TEXT NOT NULL,
    due TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    opened_at REAL NOT NULL,
    closed_at REAL,
    PRIMARY KEY (tenant_key, ref)
)""",
    """CREATE TABLE IF NOT EXISTS case_events (
    id INTEGER PRIMARY KEY,
    tenant_key TEXT NOT NULL,
    ref TEXT NOT NULL,
    at REAL NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    due TEXT
)""",
    "CREATE INDEX IF NOT EXISTS case_events_case ON case_events (tenant_key, ref)",
)
"""Issue 19's data-subject request cases (``console.ops.cases``), created on every open when missing."""


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def open_schema(db: sqlite3.Connection, path: Path) -> None:
    """Inside a transaction: bring the journal to ``SCHEMA_VERSION`` (creating it when new).

    Raises:
        JournalError: the journal is from a newer console.
    """
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    found = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(found[0]) if found is not None else 0
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"the journal {path} was written by a newer export-console "
            f"(schema {version}, this one reads {SCHEMA_VERSION}): upgrade the console, "
            "or use another --state-dir"
        )
    if version < SCHEMA_VERSION:
        for statement in _statements(_SCHEMA):
            db.execute(statement)
        _migrate_to_2(db)
    _add_columns(db, _KIND_COLUMNS)
    for statement in (*_statements(_READ_INDEXES), *CASE_TABLES):
        db.execute(statement)
    if version < SCHEMA_VERSION:
        db.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (str(SCHEMA_VERSION),),
        )
        db.execute("INSERT OR IGNORE INTO meta VALUES ('row_version', '0')")


def _add_columns(db: sqlite3.Connection, columns: tuple[tuple[str, str], ...]) -> None:
    """The ``operations`` columns missing of ``columns`` (PRAGMA table_info; added once, then found)."""
    present = {row[1] for row in db.execute("PRAGMA table_info(operations)")}
    for name, declaration in columns:
        if name not in present:
            db.execute(f"ALTER TABLE operations ADD COLUMN {name} {declaration}")


def _migrate_to_2(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2 in place: new columns and tables; what schema 1 kept in clear is redacted."""
    _add_columns(db, _V2_COLUMNS)
    for statement in _statements(_V2_SCHEMA):
        db.execute(statement)
    # Schema 1 stored Graph's error text as given (issue 7): a 400 quoting the SAS kept sig= in clear.
    for key, storage, location, error in db.execute(
        "SELECT id, storage_location, location, last_error FROM operations"
    ).fetchall():
        cleaned = (redact(storage), safe(location), redact(error))
        if cleaned != (storage, location, error):
            db.execute("UPDATE operations SET storage_location=?, location=?, last_error=? WHERE id=?", (*cleaned, key))
    for rowid, error in db.execute("SELECT rowid, error FROM polls WHERE error != ''").fetchall():
        if redact(error) != error:
            db.execute("UPDATE polls SET error=? WHERE rowid=?", (redact(error), rowid))


def schema_version(db: sqlite3.Connection) -> int:
    """The journal's schema version (the caller holds the connection's lock)."""
    found = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(found[0])
