"""The operations journal: SQLite, so a dropped SSH session, a crash or a second window loses nothing.

``OperationJournal`` is the one object the engine, the console and the CLI hold. It opens one
connection (``journal_db.JournalConnection``: WAL, 0600 files, one transaction helper, the schema and
its migrations from ``journal_schema``) and puts one store per concern over it:

* ``journal_operations.OperationStore``: the submission path's immediate writes. Each submission is
  written before the POST (intent, with its owner process) and completed after the 202; a crash in
  between leaves the row visibly unconfirmed once its owner is known dead;
* ``journal_writebehind.WriteBehind``: status changes and poll records batched into one transaction
  per flush; a flush that fails keeps its batch and the next one retries it (cleared after COMMIT);
* ``journal_reads.OperationReads``: lists, streams (``ops``, ``report``), history, the quota;
* ``journal_notes.NoteStore``: the admin's notes;
* ``journal_processes.ProcessStore``: processes with heartbeats (whose intents may be recovered) and
  a lease on each operation (who polls it and when it is next due);
* ``journal_ledger.LedgerStore``: a per-tenant ledger of the requests reserved in the last hour and
  a pacer (the shared token bucket), so that every process together stays inside one poll budget;
* ``console.ops.cases.CaseStore``: the data-subject request cases (built by its callers).

Their methods are the journal's own (``journal.flush``, ``journal.claim``...): the stores' by
inheritance (``OperationJournal`` derives from each store class), the write-behind's by name.
Secrets never reach the disk: storage locations, Locations, last errors, poll errors and notes are
redacted on write, whatever the caller passed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from console.ops.events import ERROR, FINAL, OPEN_STATES, PollRecord
from console.ops.journal_db import JournalConnection, create_private_file, pid_alive, retrying
from console.ops.journal_ledger import LedgerStore
from console.ops.journal_model import (
    COLUMN,
    EXPORT_KIND,
    HEARTBEAT_TIMEOUT,
    QUOTA_STATES,
    REMOVAL_KIND,
    DuplicateOperation,
    JournalError,
    OperationRow,
    delivery_from_json,
    delivery_to_json,
    iso,
    row_from_values,
)
from console.ops.journal_notes import NoteStore
from console.ops.journal_operations import OperationStore
from console.ops.journal_processes import ProcessStore
from console.ops.journal_reads import OperationReads
from console.ops.journal_schema import SCHEMA_VERSION, schema_version
from console.ops.journal_writebehind import WriteBehind
from console.redact import redact

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Counted:
    """A figure of the journal's ``WriteBehind`` (read-only)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __get__(self, journal: OperationJournal, owner: type | None = None) -> int:
        return int(getattr(journal.write_behind, self._name))


class OperationJournal(OperationStore, OperationReads, ProcessStore, LedgerStore, NoteStore):
    """SQLite journal of export operations (WAL, batched writes, versioned schema, shared by processes).

    Its stores' methods are its own by inheritance (each store's state is its connection and, for
    the two that read or write operations, the write-behind); ``WriteBehind`` stays a part of it.

    Thread-safe: ``queue()`` may be called from the event loop while another thread flushes.

    Args:
        path: the database file; its directory is created private to the user.
        busy_timeout: seconds SQLite waits for another process's write lock before a write fails
            (a failed flush keeps its batch for the next one).
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.connection = connection = JournalConnection(path, busy_timeout=busy_timeout)
        self.path = connection.path
        self.write_behind = pending = WriteBehind(connection)
        self.queue = pending.queue
        self.flush = pending.flush
        self.prune = pending.prune
        OperationStore.__init__(self, connection, pending, notes=self)
        OperationReads.__init__(self, connection, pending)
        ProcessStore.__init__(self, connection)
        LedgerStore.__init__(self, connection)
        NoteStore.__init__(self, connection)
        self.row_version = connection.row_version
        self.size_bytes = connection.size_bytes

    @property
    def process_id(self) -> str | None:
        """This journal's process row, once ``register_process`` ran: it owns what it writes."""
        return self.connection.process_id

    pending = _Counted("pending")
    """Row changes and poll records waiting for the next flush."""
    writes = _Counted("writes")
    """Rows written so far (for the benchmark's writes-per-second figure)."""
    flushes = _Counted("flushes")
    failed_flushes = _Counted("failed_flushes")
    """Flushes that failed and were kept for the next one."""

    @property
    def _db(self) -> sqlite3.Connection:
        return self.connection.db

    def schema_version(self) -> int:
        with self.connection.lock:
            return schema_version(self.connection.db)

    def save_now(self, row: OperationRow, record: PollRecord | None = None, now: float | None = None) -> None:
        """Write one row (and its history record) at once, with everything pending.

        On failure the change stays pending (the next flush retries it) and the error is raised.
        """
        self.queue(row, record)
        self.flush(now)

    def retrying(self, call: Callable[[], T], *, attempts: int = 50, pause: float = 0.1) -> T:
        """Run ``call`` again while another process holds the write lock (blocking: call off the event loop)."""
        return retrying(call, attempts=attempts, pause=pause)

    def close(self) -> None:
        """Flush what is pending (when the disk lets it) and close the database."""
        try:
            self.flush()
        except sqlite3.Error as exc:
            log.warning("journal: %d changes could not be written at close: %s", self.pending, redact(str(exc)))
        self.connection.close()


__all__ = [
    "COLUMN",
    "DuplicateOperation",
    "ERROR",
    "EXPORT_KIND",
    "FINAL",
    "HEARTBEAT_TIMEOUT",
    "JournalError",
    "OPEN_STATES",
    "OperationJournal",
    "OperationRow",
    "QUOTA_STATES",
    "REMOVAL_KIND",
    "SCHEMA_VERSION",
    "create_private_file",
    "delivery_from_json",
    "delivery_to_json",
    "iso",
    "pid_alive",
    "row_from_values",
]
