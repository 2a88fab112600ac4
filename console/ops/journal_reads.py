"""Reading the operations: lists, streams for ``ops`` and ``report``, one row, its poll history, the quota.

Every read first writes what is pending (``WriteBehind.try_flush``: a failure is logged, the read goes
on). The streamed reads (``iter_values``) are one query on a read-only connection of their own, read a
chunk at a time: memory stays constant whatever the journal's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from console.ops.events import FINAL, REJECTED, UNFINISHED_STATES, PollRecord
from console.ops.journal_db import JournalConnection
from console.ops.journal_model import (
    COLUMNS,
    QUOTA_STATES,
    REMOVAL_KIND,
    WIDTH,
    OperationRow,
    lean_columns,
    row_from_values,
    select,
)
from console.ops.journal_writebehind import WriteBehind

_EVIDENCE = (
    ", CASE WHEN post_request_id = '' THEN COALESCE((SELECT request_id FROM polls "
    "WHERE polls.operation = operations.id ORDER BY rowid LIMIT 1), '') ELSE '' END, "
    "CASE WHEN final_request_id = '' AND state = ? THEN COALESCE((SELECT request_id "
    "FROM polls WHERE polls.operation = operations.id AND status IN ('complete', 'failed') "
    "ORDER BY rowid DESC LIMIT 1), '') ELSE '' END"
)
"""The two request ids ``iter_evidence`` adds to a row (from its poll records, in the same query)."""


class OperationReads:
    """The ``operations`` and ``polls`` tables, read."""

    def __init__(self, connection: JournalConnection, pending: WriteBehind) -> None:
        self._connection = connection
        self._pending = pending

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[OperationRow]:
        self._pending.try_flush()
        return [row_from_values(values) for values in self._connection.fetch(query, params)]

    def rows(self, tenant_key: str | None = None, states: Iterable[str] | None = None) -> list[OperationRow]:
        """Journal rows, oldest first, optionally of one tenant and some states (a case's or a period's rows:
        ``iter_values``)."""
        return self._rows(*select(COLUMNS, tenant_key, states, None, None))

    def iter_values(
        self,
        tenant_key: str | None = None,
        states: Iterable[str] | None = None,
        *,
        case: str | None = None,
        since: float | None = None,
        evidence: bool = False,
        lean: Sequence[str] | None = None,
    ) -> Iterator[Sequence[Any]]:
        """``rows()`` streamed (or with ``evidence``, ``iter_evidence``) as the query's own tuples: one query
        on a connection of its own, read a chunk at a time, for readers that print most rows as they are
        (``row_from_values`` makes the row of one; columns: ``COLUMN``). Memory stays constant whatever the
        journal's size, and the lock of the shared connection is never held between two rows (the read
        sees one snapshot of the journal: WAL).

        With ``evidence`` each tuple has the two request ids of ``iter_evidence`` after the row's columns.
        With ``lean`` (names of ``COLUMN``), the tuples hold only those columns, in that order
        (``row_from_lean`` makes the row of one).
        """
        self._pending.try_flush()
        selected = COLUMNS if lean is None else lean_columns(lean)
        if not evidence:
            return self._connection.stream(*select(selected, tenant_key, states, case, since))
        query, params = select(selected + _EVIDENCE, tenant_key, states, case, since)
        return self._connection.stream(query, [FINAL, *params])

    def iter_evidence(
        self,
        tenant_key: str | None = None,
        *,
        case: str | None = None,
        since: float | None = None,
    ) -> Iterator[tuple[OperationRow, str, str]]:
        """``rows()`` streamed, for the evidence report: ``(row, first_request_id, final_request_id)``.

        ``first_request_id`` is the request-id of the operation's first kept poll record, when the
        row has no ``post_request_id``; ``final_request_id`` that of its last complete/failed poll
        record, when a final row has no ``final_request_id``; "" otherwise. Both come from the same
        query (no query per row).
        """
        for values in self.iter_values(tenant_key, case=case, since=since, evidence=True):
            yield row_from_values(values), str(values[WIDTH]), str(values[WIDTH + 1])

    def row(self, key: int) -> OperationRow | None:
        """One row by its key."""
        found = self._rows(f"SELECT {COLUMNS} FROM operations WHERE id = ?", (key,))
        return found[0] if found else None

    def find_operation(self, operation_id: str) -> OperationRow | None:
        """The row tracking Graph's operation id (case-insensitive; the first when several)."""
        found = self._rows(
            f"SELECT {COLUMNS} FROM operations WHERE lower(operation_id) = lower(?) ORDER BY id LIMIT 1",
            (operation_id.strip(),),
        )
        return found[0] if found else None

    def history(self, key: int) -> list[PollRecord]:
        """Every kept poll of one operation, oldest first."""
        self._pending.try_flush()
        found = self._connection.fetch(
            "SELECT at, http_status, retry_after, request_id, client_request_id, status, progress, error "
            "FROM polls WHERE operation = ? ORDER BY rowid",
            (key,),
        )
        return [PollRecord(*values) for values in found]

    def poll_count(self) -> int:
        """Poll records kept."""
        (count,) = self._connection.fetch_one("SELECT COUNT(*) FROM polls")
        return int(count)

    def exports_since(self, tenant_key: str, since: float) -> dict[str, int]:
        """Export POSTs per user since ``since`` that may count against Graph's daily limits."""
        self._pending.try_flush()
        marks = ",".join("?" * len(QUOTA_STATES))
        found = self._connection.fetch(
            f"SELECT user_id, COUNT(*) FROM operations WHERE tenant_key = ? AND created_at >= ? "
            f"AND state IN ({marks}) AND kind = 'export' GROUP BY user_id",
            (tenant_key, since, *QUOTA_STATES),
        )
        return {user: count for user, count in found}

    def conflicts(self, tenant_key: str, user_ids: Iterable[str]) -> list[OperationRow]:
        """Unfinished (intent, tracking) or unconfirmed exports of these users, written by any process."""
        wanted = {u.lower() for u in user_ids}
        if not wanted:
            return []
        marks = ",".join("?" * len(UNFINISHED_STATES))
        found = self._rows(
            f"SELECT {COLUMNS} FROM operations WHERE tenant_key = ? AND state IN ({marks}) "
            "AND kind = 'export' ORDER BY id",
            (tenant_key, *sorted(UNFINISHED_STATES)),
        )
        return [row for row in found if row.user_id.lower() in wanted]

    def removals_of(self, tenant_key: str, user_ids: Iterable[str], target_tenant: str = "") -> list[OperationRow]:
        """Removals of these users (to ``target_tenant`` when outbound) that may have reached Graph: sent,
        in flight or unconfirmed (a ``rejected`` one was refused and removed nothing), oldest first."""
        wanted = {u.lower() for u in user_ids}
        if not wanted:
            return []
        found = self._rows(
            f"SELECT {COLUMNS} FROM operations WHERE tenant_key = ? AND kind = ? AND target_tenant = ? "
            "AND state != ? ORDER BY id",
            (tenant_key, REMOVAL_KIND, target_tenant.lower(), REJECTED),
        )
        return [row for row in found if row.user_id.lower() in wanted]
