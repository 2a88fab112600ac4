"""The polling path's writes: row changes and poll records batched into one transaction per flush.

``queue`` keeps a copy of the row (latest wins) and the poll record, without IO (fine on the event
loop); ``flush`` writes the batch in one transaction and forgets it only after COMMIT, so a flush that
fails keeps its batch and the next one retries it. A change never reopens a row closed meanwhile
(resolved, stopped elsewhere), nor writes over a row another process owns. The poll history is
bounded (``prune``): per operation its first record and the last ``HISTORY_KEEP_LAST``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from typing import Any

from console.ops.events import PollRecord
from console.ops.journal_db import JournalConnection
from console.ops.journal_model import OperationRow, safe
from console.redact import redact

log = logging.getLogger("console.ops.journal")

HISTORY_KEEP_LAST = 200
"""Poll records kept per operation besides its first (the 202): the details view and the evidence."""
HISTORY_MAX_TOTAL = 500_000
"""Poll records kept in the whole journal; the oldest non-first records go first."""
PRUNE_EVERY = 200
"""Flushes between two prunes of the poll history."""

_UPDATE = (
    "UPDATE operations SET state=?, operation_id=?, location=?, status=?, progress=?, "
    "submitted_at=?, completed_at=?, next_poll_at=?, last_error=?, polls=?, "
    "post_request_id=?, final_request_id=?, delivered=?, retry_after=?, "
    "owner=CASE WHEN ? IN ('intent', 'tracking') THEN owner ELSE NULL END, "
    "lease_until=CASE WHEN ? IN ('intent', 'tracking') THEN lease_until ELSE NULL END, "
    "version=?, written_by=?, updated_at=MAX(updated_at, ?) "
    "WHERE id=? AND (? IS NULL OR owner IS NULL OR owner = ?) "
    # A row closed meanwhile (resolved, stopped elsewhere) is never reopened by a stale change.
    "AND (state IN ('intent', 'tracking') OR state = ?)"
)
_INSERT_POLL = (
    "INSERT INTO polls (operation, at, http_status, retry_after, request_id, client_request_id, "
    "status, progress, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _update_values(r: OperationRow, version: int, me: str | None, stamp: float) -> tuple[Any, ...]:
    """The parameters of ``_UPDATE`` for one row (what it may hold of a secret redacted)."""
    delivered = json.dumps(r.delivered) if r.delivered is not None else None
    return (
        *(r.state, r.operation_id, safe(r.location), r.status, r.progress, r.submitted_at, r.completed_at),
        *(r.next_poll_at, redact(r.last_error), r.polls, r.post_request_id, r.final_request_id, delivered),
        *(r.retry_after, r.state, r.state, version, me, stamp, r.key, me, me, r.state),
    )


def _poll_values(key: int, p: PollRecord) -> tuple[Any, ...]:
    """The parameters of ``_INSERT_POLL`` for one record (its error redacted)."""
    return (
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


class WriteBehind:
    """The batch of row changes and poll records waiting for the next flush (thread-safe)."""

    def __init__(self, connection: JournalConnection) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._rows: dict[int, OperationRow] = {}
        self._polls: list[tuple[int, PollRecord]] = []
        self.writes = 0
        """Rows written so far (for the benchmark's writes-per-second figure)."""
        self.flushes = 0
        self.failed_flushes = 0
        """Flushes that failed and were kept for the next one."""

    def queue(self, row: OperationRow, record: PollRecord | None = None) -> None:
        """Remember a row change (a copy; latest wins) and a history record for the next flush."""
        snapshot = row.copy()
        with self._lock:
            self._rows[row.key] = snapshot
            if record is not None:
                self._polls.append((row.key, record))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._rows) + len(self._polls)

    def forget(self, key: int) -> None:
        """Drop a pending change of a row just closed or confirmed (a stale change must not undo that)."""
        with self._lock:
            self._rows.pop(key, None)

    def flush(self, now: float | None = None) -> None:
        """Write every pending change in one transaction; on failure everything stays pending.

        Raises:
            sqlite3.Error: the transaction failed (rolled back; the batch is kept for the next flush).
        """
        with self._lock:
            if not self._rows and not self._polls:
                return
            rows = dict(self._rows)
            polls = list(self._polls)
        connection = self._connection
        stamp = now if now is not None else 0.0
        me = connection.process_id
        try:
            with connection.transaction():
                version = connection.bump_version()
                connection.db.executemany(_UPDATE, [_update_values(r, version, me, stamp) for r in rows.values()])
                connection.db.executemany(_INSERT_POLL, [_poll_values(key, p) for key, p in polls])
        except sqlite3.Error:
            self.failed_flushes += 1
            raise
        # Only now, after COMMIT, forget what was written (a newer change of a row stays pending).
        with self._lock:
            for key, snapshot in rows.items():
                if self._rows.get(key) is snapshot:
                    del self._rows[key]
            del self._polls[: len(polls)]
        self.writes += len(rows) + len(polls)
        self.flushes += 1
        connection.make_private()
        if self.flushes % PRUNE_EVERY == 0:
            try:
                self.prune()
            except sqlite3.Error as exc:
                log.warning("journal: pruning the poll history failed: %s", redact(str(exc)))

    def try_flush(self) -> None:
        """``flush``, for a read: a failure is logged and the batch stays pending."""
        try:
            self.flush()
        except sqlite3.Error as exc:  # reads go on; the batch stays pending
            log.warning("journal flush failed (kept for the next one): %s", redact(str(exc)))

    def prune(self, keep_last: int = HISTORY_KEEP_LAST, max_total: int = HISTORY_MAX_TOTAL) -> int:
        """Bound the poll history: per operation its first record and the last ``keep_last``; in total ``max_total``.

        Returns:
            How many records were removed.
        """
        db = self._connection.db
        with self._connection.transaction():
            before = db.total_changes
            db.execute(
                "DELETE FROM polls WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "ROW_NUMBER() OVER (PARTITION BY operation ORDER BY rowid) AS n, "
                "COUNT(*) OVER (PARTITION BY operation) AS c FROM polls) WHERE n > 1 AND n <= c - ?)",
                (keep_last,),
            )
            (total,) = db.execute("SELECT COUNT(*) FROM polls").fetchone()
            if total > max_total:
                db.execute(
                    "DELETE FROM polls WHERE rowid IN (SELECT rowid FROM (SELECT rowid, at, "
                    "ROW_NUMBER() OVER (PARTITION BY operation ORDER BY rowid) AS n FROM polls) "
                    "WHERE n > 1 ORDER BY at LIMIT ?)",
                    (total - max_total,),
                )
            return db.total_changes - before
