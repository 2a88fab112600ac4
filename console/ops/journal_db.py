"""The journal's one connection and its one transaction helper, shared by every store.

Opening creates the file 0600 (never re-opening an existing one: see ``create_private_file``),
switches to WAL, and brings the schema up to date (``journal_schema``), retrying a while when another
process holds the write lock. ``transaction()`` is BEGIN IMMEDIATE ... COMMIT under the connection's
lock, rolled back when its body raised: no half-written journal. ``stream`` reads on a read-only
connection of its own, a chunk at a time (constant memory, the shared lock never held between rows).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from console.ops.journal_model import JournalError
from console.ops.journal_schema import open_schema
from console.redact import redact

T = TypeVar("T")

OPEN_RETRY_SECONDS = 10.0
"""How long opening waits for another process that holds the journal's write lock."""


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock."""
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


def process_alive(found: Sequence[Any] | None, now: float, heartbeat_timeout: float) -> bool:
    """Whether a ``processes`` row ``(pid, host, heartbeat)`` is a live process: fresh, and running here."""
    if found is None:
        return False
    pid, host, beat = found
    if now - float(beat) > heartbeat_timeout:
        return False
    if host == socket.gethostname() and not pid_alive(int(pid)):
        return False
    return True


class Transaction:
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

    def __exit__(self, exc_type: object, _exc: object, _tb: object) -> None:
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


class JournalConnection:
    """One SQLite connection to the journal file, its lock, and who this process is on it.

    Args:
        path: the database file; its directory is created private to the user.
        busy_timeout: seconds SQLite waits for another process's write lock before a write fails.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.lock = threading.RLock()
        self.process_id: str | None = None
        """This journal's process row, once ``register_process`` ran: it owns what it writes."""
        self._private = False
        create_private_file(self.path)
        self.db = self._open(busy_timeout)
        self.make_private()

    def _open(self, busy_timeout: float) -> sqlite3.Connection:
        # Two processes opening a new journal at once: switching to WAL and creating the schema take
        # the write lock, and the WAL switch does not wait for it; so the opening is retried a while.
        deadline = time.monotonic() + max(busy_timeout, OPEN_RETRY_SECONDS)
        while True:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute(f"PRAGMA busy_timeout={max(0, int(busy_timeout * 1000))}")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                # Without a limit the WAL file keeps its high-water size for ever.
                db.execute("PRAGMA journal_size_limit=1048576")
                with Transaction(db, self.lock):
                    open_schema(db, self.path)
                return db
            except sqlite3.OperationalError as exc:
                db.close()
                if not is_busy(exc) or time.monotonic() > deadline:
                    raise JournalError(f"cannot open the journal {self.path}: {redact(str(exc))}") from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"cannot open the journal {self.path}: {redact(str(exc))}") from None

    def make_private(self) -> None:
        """The database, its WAL and shared memory 0600 (SQLite creates the last two with the umask).

        Once this connection has seen all three private, later calls check nothing: while it is open
        SQLite keeps the WAL and shared memory (it removes them only when the last connection closes), so
        none of them can come back with the umask's mode (a check per write was three ``stat`` calls).
        """
        if self._private:
            return
        private = 0
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            try:
                if candidate.stat().st_mode & 0o077:
                    candidate.chmod(0o600)
                private += 1
            except OSError:  # not there (yet), or not ours to change
                pass
        self._private = private == 3

    def transaction(self) -> Transaction:
        """BEGIN IMMEDIATE ... COMMIT under the lock (``with journal.transaction(): ...``)."""
        return Transaction(self.db, self.lock)

    def bump_version(self) -> int:
        """Inside a transaction: the next row version (another process's sync reads rows past its last)."""
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='row_version'")
        return self._row_version()

    def row_version(self) -> int:
        """The newest row version written (by any process)."""
        with self.lock:
            return self._row_version()

    def _row_version(self) -> int:
        found = self.db.execute("SELECT value FROM meta WHERE key='row_version'").fetchone()
        return int(found[0]) if found else 0

    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of one query, under the lock."""
        with self.lock:
            return self.db.execute(query, params).fetchall()

    def fetch_one(self, query: str, params: Sequence[Any] = ()) -> Any:
        """The first row of one query (None when none), under the lock."""
        with self.lock:
            return self.db.execute(query, params).fetchone()

    def stream(self, query: str, params: Sequence[Any], chunk: int = 500) -> Iterator[Sequence[Any]]:
        """One query's rows on a read-only connection of its own, ``chunk`` at a time (one WAL snapshot)."""
        reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            reader.execute("PRAGMA busy_timeout=5000")
            cursor = reader.execute(query, params)
            while batch := cursor.fetchmany(chunk):
                yield from batch
        finally:
            reader.close()

    def size_bytes(self) -> int:
        """Database plus WAL size on disk."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    def close(self) -> None:
        """Checkpoint (when no other process holds the journal) and close."""
        with self.lock:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:  # another process holds the journal: it checkpoints later
                pass
            self.db.close()


def retrying(call: Callable[[], T], *, attempts: int = 50, pause: float = 0.1) -> T:
    """Run ``call`` again while another process holds the write lock (blocking: call off the event loop)."""
    for attempt in range(attempts):
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")
