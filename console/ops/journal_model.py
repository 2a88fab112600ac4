"""What the journal's stores share: the row (``OperationRow``), its columns and queries, the errors.

No SQL connection here: the stores (``journal_operations``, ``journal_writebehind``, ``journal_notes``,
``journal_processes``, ``journal_ledger``) build their statements from these names, and readers that
print most rows as they are (``ops``, ``report``) index the query's tuples with ``COLUMN``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.errors import ConsoleError
from console.graph.models import parse_datetime
from console.ops.events import ERROR, FINAL, INTENT, RESOLVED, STOPPED, TRACKING, UNCONFIRMED, OperationView
from console.redact import redact

if TYPE_CHECKING:
    from console.storage.blob import Delivery

EXPORT_KIND = "export"
"""``kind`` of an exportPersonalData row."""
REMOVAL_KIND = "removal"
"""``kind`` of a removePersonalData row (inbound, or outbound with ``target_tenant``): never polled."""

QUOTA_STATES = (INTENT, UNCONFIRMED, TRACKING, FINAL, ERROR, RESOLVED, STOPPED)
"""States whose POST may have reached Graph and so counts against the daily export limits."""

HEARTBEAT_TIMEOUT = 30.0
"""A process whose heartbeat is older than this is dead: its intents may be recovered."""


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
        """The immutable snapshot the front ends see (times and delivery as values, no lease)."""
        fields = {name: self.__dict__[name] for name in _VIEW_FIELDS}
        fields["submitted_at"] = parse_datetime(self.submitted_at)
        fields["completed_at"] = parse_datetime(self.completed_at)
        fields["delivered"] = delivery_from_json(self.delivered)
        return OperationView(**fields)

    def copy(self) -> OperationRow:
        # The fields as they are (no ``__init__`` to run, no ``__post_init__`` to apply): a shallow copy,
        # as ``dataclasses.replace`` made, at a fraction of its cost (it runs once per poll).
        clone = object.__new__(OperationRow)
        clone.__dict__.update(self.__dict__)
        return clone


_VIEW_FIELDS = tuple(field.name for field in dataclasses.fields(OperationView))
"""The view's fields, each named as the row's: ``view()`` copies them, then turns the journal's texts
(``submitted_at``, ``completed_at``, ``delivered``) into values; the lease fields stay the engine's."""


def iso(value: datetime | None) -> str | None:
    """A time as the journal keeps it (UTC, ``Z``)."""
    if not value:
        return None
    return _utc_iso(value) if value.tzinfo is UTC else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@functools.lru_cache(maxsize=4096)
def _utc_iso(value: datetime) -> str:
    """``iso`` of a UTC time, remembered: every poll of an operation gives the same submitted time again."""
    return value.isoformat().replace("+00:00", "Z")


def delivery_from_json(data: dict[str, Any] | None) -> Delivery | None:
    """The storage slice's ``Delivery`` from what the journal keeps (None when unknown or unreadable)."""
    if not data:
        return None
    from console.storage.blob import Delivery  # only for a row with a delivery: httpx comes with it

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


COLUMNS = (
    "id, tenant_key, user_id, storage_location, state, operation_id, location, status, progress, "
    "submitted_at, completed_at, created_at, next_poll_at, last_error, polls, case_ref, display_name, "
    "user_principal_name, home_tenant_id, submitted_by, previous_key, post_request_id, final_request_id, "
    "delivered, owner, lease_until, retry_after, "
    "(SELECT COUNT(*) FROM notes WHERE notes.operation = operations.id), kind, target_tenant"
)
"""The columns of an ``OperationRow``, in its fields' order (the notes count as a sub-query)."""

_NAMES = COLUMNS.split(", ")
COLUMN = {name.strip(): i for i, name in enumerate(_NAMES) if not name.startswith("(")}
"""Where each column of ``OperationJournal.iter_values``' tuples is (``notes``: the notes count)."""
WIDTH = len(_NAMES)
COLUMN["notes"] = next(i for i, name in enumerate(_NAMES) if name.startswith("(SELECT COUNT(*) FROM notes"))
_DELIVERED = COLUMN["delivered"]


def lean_columns(names: Sequence[str]) -> str:
    """The select list of only ``names`` (of ``COLUMN``), in that order: what ``iter_values(lean=names)`` reads.

    Turning 30 values into Python objects is most of a read's time: a reader that takes 12 of them
    reads twice as fast. ``row_from_lean`` makes the row of such a tuple (the other fields None).
    """
    unknown = set(names) - set(COLUMN)
    if unknown:
        raise ValueError(f"no such journal columns: {sorted(unknown)}")
    return ", ".join(_NAMES[COLUMN[name]] for name in names)


def row_from_lean(names: Sequence[str], values: Sequence[Any]) -> OperationRow:
    """The row of one ``iter_values(lean=names)`` tuple: the columns not read are None."""
    full: list[Any] = [None] * WIDTH
    for name, value in zip(names, values, strict=False):
        full[COLUMN[name]] = value
    return row_from_values(full)


def row_from_values(values: Sequence[Any]) -> OperationRow:
    """The row of one tuple from ``OperationJournal.iter_values`` (its first ``WIDTH`` values)."""
    fields = list(values[:WIDTH])
    delivered = fields[_DELIVERED]
    try:
        fields[_DELIVERED] = json.loads(delivered) if delivered else None
    except ValueError:
        fields[_DELIVERED] = None
    return OperationRow(*fields)


def select(
    columns: str,
    tenant_key: str | None,
    states: Iterable[str] | None,
    case: str | None,
    since: float | None,
) -> tuple[str, list[Any]]:
    """The query of ``rows``/``iter_values``: oldest first, with the filters that were given."""
    clauses: list[str] = []
    params: list[Any] = []
    for clause, value in (("tenant_key = ?", tenant_key), ("case_ref = ?", case), ("created_at >= ?", since)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if states is not None:
        wanted = list(states)
        clauses.append(f"state IN ({','.join('?' * len(wanted))})")
        params.extend(wanted)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return f"SELECT {columns} FROM operations{where} ORDER BY id", params


def safe(text: str | None) -> str | None:
    """``redact``, keeping None."""
    return None if text is None else redact(text)
