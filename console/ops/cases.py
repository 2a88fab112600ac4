"""Data-subject request cases (issue 19): a reference, a subject, a legal deadline and a dated history.

GDPR Art. 12(3) gives one month from receipt to answer, extendable by two further months. Periods
are counted as EU Regulation 1182/71 counts them: a period of months ends on the day of the last
month that has the same number as the day it started from, or on that month's last day when it has
no such day (31 January + 1 month = 28 February, or 29 February in a leap year). Dates are UTC
calendar dates, kept as ``YYYY-MM-DD``.

The cases live in the operations journal, in two tables created on opening when missing (like the
journal's read indexes: no schema version of their own, so an older console still reads the
journal). Every change to a case is an event with its time and author: opened, extended (with its
reason), closed (with its note). Exports carry the case reference in ``operations.case_ref``.
"""

from __future__ import annotations

import calendar
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from console.errors import UsageError
from console.ops.journal_schema import CASE_TABLES

if TYPE_CHECKING:
    from console.ops.journal import OperationJournal

OPEN = "open"
OVERDUE = "overdue"
CLOSED = "closed"

OPENED = "opened"
EXTENDED = "extended"
CLOSED_EVENT = "closed"

ANSWER_MONTHS = 1
"""GDPR Art. 12(3): one month from receipt."""
MAX_MONTHS = 3
"""... extendable by two further months: three in all."""
ALERT_DAYS = 5
"""An open case this close to its due date raises an alert in the console."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# -- deadline arithmetic (pure) ---------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    """``start`` plus whole calendar months, ending on the month's last day when it has no such day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def default_due(received: date) -> date:
    """The answer is due one calendar month after receipt."""
    return add_months(received, ANSWER_MONTHS)


def latest_due(received: date) -> date:
    """The furthest an extension may go: three calendar months after receipt."""
    return add_months(received, MAX_MONTHS)


def days_left(due: date, today: date) -> int:
    """Calendar days from today to the due date (negative once it has passed)."""
    return (due - today).days


def case_state(state: str, due: date, today: date) -> str:
    """``closed``, ``overdue`` (open and today is after the due date) or ``open``."""
    if state == CLOSED:
        return CLOSED
    return OVERDUE if today > due else OPEN


def utc_date(epoch: float) -> date:
    """The UTC calendar date of a moment."""
    return datetime.fromtimestamp(epoch, UTC).date()


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` calendar date.

    Raises:
        ValueError: anything else (with a message naming the expected form).
    """
    value = text.strip()
    if not _DATE.fullmatch(value):
        raise ValueError(f"{text!r} is not a date: give YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date: give YYYY-MM-DD") from None


# -- the store ----------------------------------------------------------------------------------


class CaseError(UsageError, ValueError):
    """A case change the rules refuse (unknown case, a due date out of range, already closed...)."""

    title = "Case refused"


@dataclass(frozen=True)
class Case:
    """One data-subject request."""

    tenant_key: str
    ref: str
    subject: str
    received: date
    due: date
    state: str
    opened_at: float
    closed_at: float | None

    def shown_state(self, today: date) -> str:
        return case_state(self.state, self.due, today)

    def days_left(self, today: date) -> int:
        return days_left(self.due, today)


@dataclass(frozen=True)
class CaseEvent:
    """A dated change of a case, with its author."""

    at: float
    author: str
    kind: str
    text: str
    due: date | None


@dataclass(frozen=True)
class CaseCounts:
    """What the journal holds for a case."""

    exports: int = 0
    complete: int = 0
    failed: int = 0
    removals: int = 0


def _case(values: tuple[object, ...]) -> Case:
    tenant_key, ref, subject, received, due, state, opened_at, closed_at = values
    return Case(
        tenant_key=str(tenant_key),
        ref=str(ref),
        subject=str(subject),
        received=date.fromisoformat(str(received)),
        due=date.fromisoformat(str(due)),
        state=str(state),
        opened_at=float(opened_at),  # type: ignore[arg-type]
        closed_at=None if closed_at is None else float(closed_at),  # type: ignore[arg-type]
    )


_COLUMNS = "tenant_key, ref, subject, received, due, state, opened_at, closed_at"


class CaseStore:
    """The cases of one journal, over its connection (and its lock)."""

    def __init__(self, journal: OperationJournal) -> None:
        self._connection = journal.connection
        self._db: sqlite3.Connection = journal.connection.db
        self._lock = journal.connection.lock

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._connection.transaction():
            yield

    def get(self, tenant_key: str, ref: str) -> Case | None:
        with self._lock:
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM cases WHERE tenant_key=? AND ref=?", (tenant_key, ref)
            ).fetchone()
        return None if found is None else _case(found)

    def find(self, tenant_key: str | None, ref: str) -> Case:
        """The case ``ref`` of this tenant (any tenant when None, if only one has it).

        Raises:
            CaseError: no such case, or several tenants have one by that name.
        """
        if tenant_key is not None:
            case = self.get(tenant_key, ref)
            if case is None:
                raise CaseError(f"no case {ref!r} in the journal: open it first with `case open {ref}`")
            return case
        with self._lock:
            found = self._db.execute(f"SELECT {_COLUMNS} FROM cases WHERE ref=?", (ref,)).fetchall()
        if not found:
            raise CaseError(f"no case {ref!r} in the journal: open it first with `case open {ref}`")
        if len(found) > 1:
            raise CaseError(f"{len(found)} tenants have a case {ref!r}: choose one with --tenant or --token-env")
        return _case(found[0])

    def cases(self, tenant_key: str | None) -> list[Case]:
        """Every case of the tenant (of every tenant when None), by due date."""
        query = f"SELECT {_COLUMNS} FROM cases"
        params: tuple[str, ...] = ()
        if tenant_key is not None:
            query += " WHERE tenant_key=?"
            params = (tenant_key,)
        with self._lock:
            found = self._db.execute(query + " ORDER BY due, ref", params).fetchall()
        return [_case(values) for values in found]

    def events(self, case: Case) -> list[CaseEvent]:
        with self._lock:
            found = self._db.execute(
                "SELECT at, author, kind, text, due FROM case_events WHERE tenant_key=? AND ref=? ORDER BY at, id",
                (case.tenant_key, case.ref),
            ).fetchall()
        return [
            CaseEvent(
                at=float(at),
                author=str(author),
                kind=str(kind),
                text=str(text),
                due=None if due is None else date.fromisoformat(str(due)),
            )
            for at, author, kind, text, due in found
        ]

    def open(
        self,
        tenant_key: str,
        ref: str,
        *,
        received: date,
        due: date | None = None,
        subject: str = "",
        author: str,
        at: float,
    ) -> Case:
        """Open a case: due one month after receipt unless given (never before receipt, nor past three months).

        Raises:
            CaseError: the reference is empty or taken, or the due date is out of range.
        """
        ref = ref.strip()
        if not ref:
            raise CaseError("the case reference is empty")
        due = default_due(received) if due is None else due
        check_due(received, due)
        with self._write():
            if self._db.execute("SELECT 1 FROM cases WHERE tenant_key=? AND ref=?", (tenant_key, ref)).fetchone():
                raise CaseError(f"the case {ref!r} is already open")
            self._db.execute(
                f"INSERT INTO cases ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (tenant_key, ref, subject, received.isoformat(), due.isoformat(), OPEN, at),
            )
            self._event(tenant_key, ref, at, author, OPENED, f"received {received.isoformat()}", due)
        return Case(tenant_key, ref, subject, received, due, OPEN, at, None)

    def extend(self, tenant_key: str | None, ref: str, *, due: date, reason: str, author: str, at: float) -> Case:
        """Move an open case's due date later, at most three months after receipt, with a reason.

        Raises:
            CaseError: unknown or closed case, no reason, or a due date not later or past the limit.
        """
        case = self.find(tenant_key, ref)
        if not reason.strip():
            raise CaseError("an extension needs a reason (--reason TEXT): the person must be told why")
        if case.state == CLOSED:
            raise CaseError(f"the case {ref!r} is closed")
        if due <= case.due:
            raise CaseError(f"--due {due.isoformat()} is not later than the case's due date {case.due.isoformat()}")
        check_due(case.received, due)
        with self._write():
            self._db.execute(
                "UPDATE cases SET due=? WHERE tenant_key=? AND ref=?", (due.isoformat(), case.tenant_key, case.ref)
            )
            self._event(case.tenant_key, case.ref, at, author, EXTENDED, reason.strip(), due)
        return Case(**{**case.__dict__, "due": due})

    def close(self, tenant_key: str | None, ref: str, *, note: str = "", author: str, at: float) -> Case:
        """Close an open case, with an optional note.

        Raises:
            CaseError: unknown or already closed case.
        """
        case = self.find(tenant_key, ref)
        if case.state == CLOSED:
            raise CaseError(f"the case {ref!r} is already closed")
        with self._write():
            self._db.execute(
                "UPDATE cases SET state=?, closed_at=? WHERE tenant_key=? AND ref=?",
                (CLOSED, at, case.tenant_key, case.ref),
            )
            self._event(case.tenant_key, case.ref, at, author, CLOSED_EVENT, note.strip(), None)
        return Case(**{**case.__dict__, "state": CLOSED, "closed_at": at})

    def _event(self, tenant_key: str, ref: str, at: float, author: str, kind: str, text: str, due: date | None) -> None:
        self._db.execute(
            "INSERT INTO case_events (tenant_key, ref, at, author, kind, text, due) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tenant_key, ref, at, author, kind, text, None if due is None else due.isoformat()),
        )

    def has_kind_column(self) -> bool:
        """Whether the journal records the kind of each operation (export or removal): issue 19's erasure."""
        with self._lock:
            return any(row[1] == "kind" for row in self._db.execute("PRAGMA table_info(operations)"))

    def counts(self, case: Case) -> CaseCounts:
        """Exports (complete, failed) and removals the journal holds for the case."""
        kind = self.has_kind_column()
        export_only = " AND kind != 'removal'" if kind else ""
        where = "case_ref=?" + ("" if not case.tenant_key else " AND tenant_key=?")
        params: tuple[str, ...] = (case.ref,) if not case.tenant_key else (case.ref, case.tenant_key)
        with self._lock:
            exports, complete, failed = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(status='complete'), 0), "
                f"COALESCE(SUM(status='failed' OR state='error'), 0) FROM operations WHERE {where}{export_only}",
                params,
            ).fetchone()
            removals = 0
            if kind:
                removals = self._db.execute(
                    f"SELECT COUNT(*) FROM operations WHERE {where} AND kind='removal'", params
                ).fetchone()[0]
        return CaseCounts(int(exports), int(complete), int(failed), int(removals))

    def removal_ids(self, tenant_key: str | None, ref: str) -> frozenset[str]:
        """The operation ids (user ids when there is none) of the case's removals ({} before the journal has kinds)."""
        if not self.has_kind_column():
            return frozenset()
        where = "case_ref=? AND kind='removal'" + ("" if tenant_key is None else " AND tenant_key=?")
        params: tuple[str, ...] = (ref,) if tenant_key is None else (ref, tenant_key)
        with self._lock:
            found = self._db.execute(
                f"SELECT COALESCE(NULLIF(operation_id, ''), user_id) FROM operations WHERE {where}", params
            ).fetchall()
        return frozenset(str(value) for (value,) in found)


def deadline_text(case: Case, today: date) -> str:
    """Whether the deadline was met: ``met (closed 2026-12-20, 11 day(s) early)``, ``missed (...)``,
    ``open, 5 day(s) left`` or ``overdue by 3 day(s)``."""
    if case.state == CLOSED and case.closed_at is not None:
        closed = utc_date(case.closed_at)
        margin = (case.due - closed).days
        if margin >= 0:
            return f"met (closed {closed.isoformat()}, {margin} day(s) before the due date)"
        return f"missed (closed {closed.isoformat()}, {-margin} day(s) late)"
    left = days_left(case.due, today)
    return f"open, {left} day(s) left" if left >= 0 else f"overdue by {-left} day(s)"


def check_due(received: date, due: date) -> None:
    """A due date no earlier than receipt and no later than three months after it.

    Raises:
        CaseError: out of that range.
    """
    if due < received:
        raise CaseError(f"the due date {due.isoformat()} is before the request was received ({received.isoformat()})")
    limit = latest_due(received)
    if due > limit:
        raise CaseError(
            f"the due date {due.isoformat()} is past {limit.isoformat()}, three months after receipt "
            f"({received.isoformat()}): GDPR Art. 12(3) allows one month plus two at most"
        )


def ensure_case(journal: OperationJournal, tenant_key: str, ref: str, today: date, author: str) -> bool:
    """Open the case ``ref`` (received today, due a month later) unless it exists; True when it opened one.

    For ``export --case REF`` and ``remove --case REF``: a case never opened is opened by its first action.
    """
    import time

    ref = ref.strip()
    if not ref:
        return False
    store = CaseStore(journal)
    if store.get(tenant_key, ref) is not None:
        return False
    try:
        store.open(tenant_key, ref, received=today, author=author, at=time.time())
    except CaseError:  # another process opened it meanwhile
        return False
    return True


def today_utc(now: float | None = None) -> date:
    """Today's UTC calendar date."""
    import time

    return utc_date(time.time() if now is None else now)


__all__ = [
    "ALERT_DAYS",
    "CASE_TABLES",
    "CLOSED",
    "Case",
    "CaseCounts",
    "CaseError",
    "CaseEvent",
    "CaseStore",
    "OPEN",
    "OVERDUE",
    "add_months",
    "case_state",
    "check_due",
    "days_left",
    "deadline_text",
    "default_due",
    "ensure_case",
    "latest_due",
    "parse_date",
    "today_utc",
    "utc_date",
]
