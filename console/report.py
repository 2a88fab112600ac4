"""The evidence report of a data-subject request: from the journal alone (no token, no network).

What an auditor asks for case DSR-1234: which accounts were exported, when, by whom, where to,
did it finish, and what Graph answered (the request-ids of the export POST and of the final poll).
``iter_report_rows`` reads that from the journal, one dict per operation with exactly ``FIELDS``;
``render_report`` writes it as Markdown (for people: a title with the case, a summary of counts and
dates, then a table), CSV (a header row of exactly ``FIELDS``) or one JSON array. Times are UTC
ISO 8601 (``2026-12-01T10:00:00Z``); the storage location's SAS signature is masked.

The CLI's ``report`` command and the console's "Save report" both call these two functions, the
console in a thread on its own ``OperationJournal`` (WAL lets a reader in beside the writer).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain, islice
from operator import itemgetter
from typing import Any, Literal, TextIO, TypeVar

from console.graph.models import parse_datetime
from console.ops.events import FINAL, INTENT, TRACKING, UNCONFIRMED, OperationView, PollRecord, _iso
from console.ops.journal import COLUMN, OperationJournal, OperationRow, delivery_from_json
from console.ops.journal_model import row_from_lean
from console.redact import redact
from console.text import finite, terminal_safe

T = TypeVar("T")
U = TypeVar("U")

FIELDS = (
    "case",
    "userId",
    "displayName",
    "userPrincipalName",
    "homeTenantId",
    "operationId",
    "status",
    "submittedDateTime",
    "completedDateTime",
    "storageLocation",
    "delivered",
    "exportRequestId",
    "finalRequestId",
    "submittedBy",
    "tenant",
    "notes",
    "kind",
)
"""The report's columns, in order (the CSV header row, the JSON objects' keys)."""

LEFTOVER_ERROR = (
    "the console stopped while this export was being submitted: Graph may or may not have accepted it; "
    "check before exporting this user again"
)
"""Why a crash leftover is unconfirmed (when its row says nothing itself)."""

FINAL_STATUSES = frozenset({"complete", "failed"})
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(_CSV_FORMULA_START)
_FORMULA_NEXT = re.compile(",[" + re.escape("".join(_CSV_FORMULA_START)) + "]")
"""A cell after the first that starts as ``_CSV_FORMULA_START`` does, in cells joined by commas (or, when
a cell holds a comma, text that only looks like one: then the cell-by-cell path decides)."""


def _written_as_joined(line: str) -> bool:
    """Whether the CSV writer writes cells joined into ``line`` as they are: no quote, no character to
    escape, no cell that starts a formula (a cell with a comma still needs its quotes)."""
    return '"' not in line and line.isprintable() and line[:1] not in _FORMULA_FIRST and not _FORMULA_NEXT.search(line)


_CHUNK = 1000
"""Rows of the CSV report checked at a time (``plain_lines``)."""

SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""Characters of a spooled table kept in memory before it moves to a temporary file."""


def iso_utc(epoch: float | None) -> str | None:
    """``2026-12-01T10:00:00Z`` (seconds precision), or None."""
    if epoch is None or not math.isfinite(epoch):
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DATES: dict[int, str] = {}
"""``YYYY-MM-DD`` of a day counted from 1970-01-01, for ``utc_seconds`` (a few thousand at most)."""


def utc_seconds(epoch: float) -> str:
    """``datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")``, by arithmetic when the moment
    is in years 1970-9999 and its fraction is short of the microsecond rounding that reaches the next
    second (a day's text is made once)."""
    whole = int(epoch) if 0 <= epoch < 253402300799 else -1
    if whole < 0 or epoch - whole >= 0.999:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    days, seconds = divmod(whole, 86400)
    day = _DATES.get(days)
    if day is None:
        day = datetime.fromtimestamp(days * 86400, UTC).strftime("%Y-%m-%d")
        if len(_DATES) < 4096:
            _DATES[days] = day
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day}T{hours:02d}:{minutes:02d}:{seconds:02d}Z"


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


_STAMP = re.compile(r"([1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])(?:\.([0-9]*))?Z")
"""A journal time in Graph's own form (``2026-12-01T10:00:00.1234567Z``): read without a datetime."""

_DAYS: dict[str, bool] = {}
"""Whether a ``YYYY-MM-DD`` is a real day (2026-02-30 is not), for ``_stamp``; a few thousand at most."""


def _stamp(raw: object) -> re.Match[str] | None:
    """The match of ``raw`` as Graph writes a time, when it is a real moment (else None: the full parse decides)."""
    found = _STAMP.fullmatch(raw) if type(raw) is str else None
    if found is None:
        return None
    day = raw[:10]  # type: ignore[index]
    real = _DAYS.get(day)
    if real is None:
        try:
            real = datetime.fromisoformat(day).date().isoformat() == day
        except ValueError:
            real = False
        if len(_DAYS) < 4096:
            _DAYS[day] = real
    return found if real else None


def iso_of(raw: object) -> str | None:
    """``_iso(parse_datetime(raw))`` (the JSON form of a journal time), without the datetime when it can."""
    if type(raw) is str and _DAYS.get(raw[:10]):  # a day seen before: no look-up of it again
        found = _STAMP.fullmatch(raw)
    else:
        found = _stamp(raw)
    if found is None:
        return _iso(parse_datetime(raw))
    fraction = (found[2] or "")[:6].ljust(6, "0")
    return f"{found[1]}Z" if fraction == "000000" else f"{found[1]}.{fraction}Z"


def utc_of(raw: object) -> str | None:
    """``_when(parse_datetime(raw))`` (the report's form of a journal time), without the datetime when it can."""
    if type(raw) is str and _DAYS.get(raw[:10]) and _STAMP.fullmatch(raw):
        return f"{raw[:19]}Z"  # a day seen before: no look-up of it again
    found = _stamp(raw)
    if found is None:
        return _when(parse_datetime(raw))
    return f"{found[1]}Z"


def view_of(
    journal: OperationJournal, row: OperationRow, now: float, alive: dict[str | None, bool] | None = None
) -> OperationView:
    """The row as people should read it: the intent of a process that died (a crash between the journal
    and Graph's 202) is ``unconfirmed``, never "submitting"; a live process's intent stays as it is.

    Args:
        alive: owner -> alive, filled as owners are looked up (one look-up per owner in a long listing).
    """
    view = row.view()
    if row.state == INTENT and not _alive(journal, row.owner, now, alive):
        return replace(view, state=UNCONFIRMED, last_error=view.last_error or LEFTOVER_ERROR)
    return view


def _alive(journal: OperationJournal, owner: str | None, now: float, cache: dict[str | None, bool] | None) -> bool:
    if cache is None:
        return journal.process_alive(owner, now)
    found = cache.get(owner)
    if found is None:
        found = cache[owner] = journal.process_alive(owner, now)
    return found


def _status(view: OperationView) -> str:
    if view.state in ("rejected", "unconfirmed", "error", "resolved", "stopped") and view.status is None:
        return view.state
    return view.display_status


def _export_request_id(view: OperationView, history: Sequence[PollRecord]) -> str:
    if view.post_request_id:
        return view.post_request_id
    return history[0].request_id if history else ""


def _final_request_id(view: OperationView, history: Sequence[PollRecord]) -> str:
    if view.final_request_id:
        return view.final_request_id
    if view.state != FINAL:
        return ""
    for record in reversed(history):
        if record.status in FINAL_STATUSES:
            return record.request_id
    return ""


def _notes(journal: OperationJournal, key: int) -> list[dict[str, Any]]:
    return [{"at": iso_utc(note.at), "author": note.author, "text": redact(note.text)} for note in journal.notes(key)]


def row_for(view: OperationView, history: Sequence[PollRecord], notes: list[dict[str, Any]]) -> dict[str, Any]:
    """One operation's report row (exactly ``FIELDS``)."""
    return _report_row(view, _export_request_id(view, history), _final_request_id(view, history), notes)


def _report_row(view: OperationView, export_id: str, final_id: str, notes: list[dict[str, Any]]) -> dict[str, Any]:
    delivered = view.delivered.to_json() if view.delivered is not None else None
    return {
        "case": view.case,
        "userId": view.user_id,
        "displayName": view.display_name,
        "userPrincipalName": view.user_principal_name,
        "homeTenantId": view.home_tenant_id,
        "operationId": view.operation_id or "",
        "status": _status(view),
        "submittedDateTime": _when(view.submitted_at),
        "completedDateTime": _when(view.completed_at),
        "storageLocation": redact(view.storage_location),
        "delivered": delivered,
        "exportRequestId": export_id,
        "finalRequestId": final_id,
        "submittedBy": view.submitted_by,
        "tenant": view.tenant_key,
        "notes": notes,
        "kind": view.kind,
    }


def iter_report_rows(
    journal: OperationJournal,
    *,
    keys: Iterable[int] | None = None,
    tenant_key: str | None = None,
    case: str | None = None,
    since: float | None = None,
    now: float | None = None,
    tenants: Collection[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """The report's rows, oldest first, streamed from one query (constant memory).

    Args:
        journal: the journal to read (nothing else is touched: no token, no network).
        keys: only these journal rows (the console's marked or shown operations).
        tenant_key: only this tenant's operations (None: every tenant).
        case: only this case reference.
        since: only operations recorded at or after this epoch time.
        now: the time against which a process's heartbeat is judged (default: the system clock).
        tenants: only these tenant keys (None: as ``tenant_key`` says).
        names: tenant key -> the saved tenant's name, shown as ``tenant`` (a key not in it is shown as is).
    """
    import time

    rows = ReportRows(journal, keys, tenant_key, case, since, time.time() if now is None else now)
    rows.only_tenants(tenants, names)
    return rows


class ReportRows(Iterator[dict[str, Any]]):
    """``iter_report_rows``' rows: an iterator of report rows (dicts) that the CSV writer may also read
    as cells (``flat_cells``), without the dict of each row that is not an intent."""

    def __init__(
        self,
        journal: OperationJournal,
        keys: Iterable[int] | None,
        tenant_key: str | None,
        case: str | None,
        since: float | None,
        now: float,
    ) -> None:
        self._journal = journal
        self._wanted = set(keys) if keys is not None else None
        self._filters = (tenant_key, case or None, since)
        self._now = now
        self._rows: Iterator[dict[str, Any]] | None = None
        self._tenants: frozenset[str] | None = None
        self._names: Mapping[str, str] = {}

    def only_tenants(self, tenants: Collection[str] | None, names: Mapping[str, str] | None) -> None:
        """Keep only the rows of ``tenants`` (None: every one) and show each tenant by its name in ``names``."""
        self._tenants = frozenset(tenants) if tenants is not None else None
        self._names = names or {}

    def __iter__(self) -> ReportRows:
        return self

    def __next__(self) -> dict[str, Any]:
        if self._rows is None:
            self._rows = self._read(_values_row, lambda row: row)
        return next(self._rows)

    def flat_cells(self) -> Iterator[list[str]]:
        """Each row's ``_flat_cells`` (the CSV and Markdown text of its fields), from the first row that
        has not been read as a dict."""
        if self._rows is not None:
            return (_flat_cells(row) for row in self._rows)
        self._rows = iter(())
        return self._read(_values_cells, _flat_cells)

    def csv_items(self) -> Iterator[str | list[str]]:
        """``flat_cells``, but the CSV line itself (with its CRLF) of a row the writer would write as its
        cells joined by commas: a thousand rows at a time (``plain_lines``), any other row's cells
        (``_values_cells``) for the writer."""
        if self._rows is not None:
            return (_flat_cells(row) for row in self._rows)
        self._rows = iter(())
        return self._chunked()

    def _chunked(self) -> Iterator[str | list[str]]:
        alive: dict[str | None, bool] = {}
        rows = self._values()
        while chunk := list(islice(rows, _CHUNK)):
            for values, line in zip(chunk, plain_lines(chunk), strict=True):
                yield line if line is not None else self._item(values, _values_cells, _flat_cells, alive)

    def _read(
        self,
        plain: Callable[[OperationJournal, Sequence[Any], str, str], T],
        other: Callable[[dict[str, Any]], U],
    ) -> Iterator[T | U]:
        alive: dict[str | None, bool] = {}
        return (self._item(values, plain, other, alive) for values in self._values())

    def _values(self) -> Iterator[Sequence[Any]]:
        """The chosen rows' ``_REPORT_READ`` tuples (with the poll records' request ids), oldest first."""
        tenant_key, case, since = self._filters
        rows = self._named(
            self._journal.iter_values(tenant_key, case=case, since=since, evidence=True, lean=_REPORT_READ)
        )
        wanted = self._wanted
        return rows if wanted is None else (values for values in rows if values[0] in wanted)

    def _item(
        self,
        values: Sequence[Any],
        plain: Callable[[OperationJournal, Sequence[Any], str, str], T],
        other: Callable[[dict[str, Any]], U],
        alive: dict[str | None, bool],
    ) -> T | U:
        """One row's item: ``plain``'s of a row that is not an intent, else ``other``'s of its report row."""
        journal = self._journal
        first_id, final_id = str(values[-2]), str(values[-1])
        if values[_STATE] != INTENT:
            return plain(journal, values, first_id, final_id)
        row = row_from_lean(_REPORT_READ, values)
        view = view_of(journal, row, self._now, alive)
        notes = _notes(journal, row.key) if row.notes else []
        return other(
            _report_row(
                view,
                view.post_request_id or first_id,
                view.final_request_id or (final_id if view.state == FINAL else ""),
                notes,
            )
        )

    def _named(self, found: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """The rows of the chosen tenants, each with its tenant's name in place of its key (when named)."""
        only, names = self._tenants, self._names
        if only is None and not names:
            yield from found
            return
        for values in found:
            key = values[_TENANT]
            if only is not None and key not in only:
                continue
            name = names.get(key)
            yield values if name is None else (*values[:_TENANT], name, *values[_TENANT + 1 :])


_REPORT_READ = tuple(
    name
    for name in COLUMN
    if name not in {"location", "created_at", "next_poll_at", "polls", "previous_key", "lease_until", "retry_after"}
)
"""The columns the report reads (``OperationJournal.iter_values``' ``lean``): an intent's view needs its owner."""
_AT = {name: i for i, name in enumerate(_REPORT_READ)}
_STATE = _AT["state"]
_TENANT = _AT["tenant_key"]
_STATUS = _AT["status"]
_DELIVERED = _AT["delivered"]
_SHOWN_STATES = frozenset({"rejected", "unconfirmed", "error", "resolved", "stopped"})


def _shown_word(state: str, status: str | None) -> str:
    """The status a report row shows for a row that is not an intent: Graph's word, else the journal's."""
    if status:
        return status
    if state in _SHOWN_STATES and status is None:
        return state
    return {TRACKING: "notStarted"}.get(state, state)


def _values_fields(values: Sequence[Any], first_id: str, final_id: str) -> list[Any]:
    """A report row's fields in ``FIELDS`` order, of a row that is not an intent, straight from the
    query's tuple: the times read as Graph wrote them, the storage location as the journal keeps it
    (redacted when written: ``record_intent`` and the schema-1 upgrade are its only writers), and the
    delivery and notes columns as the journal keeps them (for the caller to read)."""
    state = values[_STATE]
    (
        case,
        user_id,
        name,
        upn,
        home,
        operation_id,
        submitted,
        completed,
        storage,
        post_id,
        final,
        by,
        tenant,
        notes,
        kind,
    ) = _REPORT_COLUMNS(values)
    return [
        case,
        user_id,
        name,
        upn,
        home,
        operation_id or "",
        _shown_word(state, values[_STATUS]),
        utc_of(submitted),
        utc_of(completed),
        storage,
        values[_DELIVERED],
        post_id or first_id,
        final or (final_id if state == FINAL else ""),
        by,
        tenant,
        notes,
        kind,
    ]


def _values_row(journal: OperationJournal, values: Sequence[Any], first_id: str, final_id: str) -> dict[str, Any]:
    """``_report_row`` of a row that is not an intent (its view is the row as it is), without the view."""
    fields = _values_fields(values, first_id, final_id)
    delivered = fields[_DELIVERED_AT]
    fields[_DELIVERED_AT] = delivered_json(delivered) if delivered else None
    fields[_NOTES_AT] = _notes(journal, values[0]) if fields[_NOTES_AT] else []
    return dict(zip(FIELDS, fields, strict=True))


def _values_cells(journal: OperationJournal, values: Sequence[Any], first_id: str, final_id: str) -> list[str]:
    """``_flat_cells(_values_row(journal, values, first_id, final_id))``, without the dict."""
    cells = _values_fields(values, first_id, final_id)
    delivered = cells[_DELIVERED_AT]
    cells[_DELIVERED_AT] = _delivered_cell(delivered) if delivered else ""
    cells[_NOTES_AT] = notes_text(_notes(journal, values[0])) if cells[_NOTES_AT] else ""
    if None in cells:
        return ["" if value is None else str(value) for value in cells]
    return list(map(str, cells))


_NOTES = _AT["notes"]


def _delivered_cell(text: str | bytes) -> str:
    """``delivered_text(delivered_json(text))``: what the delivery column's text says, without the
    delivery's object when it is as ``delivery_to_json`` wrote it (its time and names are not shown)."""
    found = _written_delivery(text)
    if found is None:
        return delivered_text(delivered_json(text))
    _checked, files, size, _names, info, error = found
    if error and (error := _redact_known(error)):
        return f"not checked: {error}"
    return f"{files} files, {size:,} bytes, " + ("RequestInfo.json present" if info else "no RequestInfo.json")


_DELIVERY_KEYS = {"checked_at": 0, "files": 0, "bytes": 0, "names": 0, "request_info": 0, "error": 0}.keys()
_UNREAD = object()
"""What ``_scan_whole`` returns for a text it does not read."""

Written = tuple[float, int, int, list[str], bool, str]
"""A delivery's check time, files, bytes, names, whether RequestInfo.json is there, and its error."""


def _scan_whole(text: str | bytes) -> Any:
    """The JSON object of a text that is one from its first character to its last (what ``json.loads``
    runs, unwrapped), else ``_UNREAD`` (then ``json.loads`` decides)."""
    if type(text) is not str or text[:1] != "{":
        return _UNREAD
    try:
        data, end = _SCAN(text, 0)
    except (ValueError, StopIteration):
        return _UNREAD
    return data if end == len(text) else _UNREAD


def _written_values(data: Any) -> Written | None:
    """A parsed delivery's values when it is as ``delivery_to_json`` writes it: every key once, each of its
    own type (else None: the way through the ``Delivery`` decides)."""
    if type(data) is not dict or data.keys() != _DELIVERY_KEYS:
        return None
    found = checked, files, size, names, info, error = (
        data["checked_at"],
        data["files"],
        data["bytes"],
        data["names"],
        data["request_info"],
        data["error"],
    )
    if (
        type(checked) is float
        and type(files) is int
        and type(size) is int
        and type(names) is list
        and all(type(n) is str for n in names)
        and type(info) is bool
        and type(error) is str
    ):
        return found
    return None


def _written_delivery(text: str | bytes) -> Written | None:
    """``_written_values`` of the journal's ``delivered`` text, when it is one JSON object as written."""
    return _written_values(_scan_whole(text))


def delivered_json(text: str | bytes | None) -> dict[str, Any] | None:
    """``Delivery.to_json()`` of the journal's ``delivered`` column, as the view has it (None when there is
    none or it is unreadable): ``delivery_from_json(json.loads(text)).to_json()``.

    What ``delivery_to_json`` wrote (every key, each of its own type) is turned into the same object
    without the ``Delivery`` in between; anything else takes the way through it.
    """
    if not text:
        return None
    data = _scan_whole(text)
    if data is _UNREAD:  # anything else (space around it, bytes): as ``json.loads`` reads it
        try:
            data = json.loads(text)
        except ValueError:
            return None
    found = _written_values(data)
    if found is not None:
        checked, files, size, names, info, error = found
        return {
            "checkedAt": utc_seconds(checked),
            "files": files,
            "bytes": size,
            "names": [_redact_known(n) for n in names],
            "requestInfo": info,
            "error": _redact_known(error),
        }
    found_delivery = delivery_from_json(data)
    return found_delivery.to_json() if found_delivery is not None else None


def delivered_json_text(text: str | bytes, quote: Callable[[str], str]) -> str | None:
    """The JSON text of ``delivered_json(text)`` (``json.dumps``' separators, ``quote`` a string's text) of a
    delivery as ``delivery_to_json`` wrote it, with no dict in between; None for any other text."""
    found = _written_delivery(text)
    if found is None:
        return None
    checked, files, size, names, info, error = found
    shown = ", ".join([quote(_redact_known(n)) for n in names])
    return (
        f'{{"checkedAt": "{utc_seconds(checked)}", "files": {int.__repr__(files)}, "bytes": {int.__repr__(size)}, '
        f'"names": [{shown}], "requestInfo": {"true" if info else "false"}, "error": {quote(_redact_known(error))}}}'
    )


_SCAN: Callable[[str, int], tuple[Any, int]] = getattr(json.decoder.JSONDecoder(), "scan_once")  # noqa: B009
"""The scanner ``json.loads`` runs (its own default decoder's): one value from an index, and where it ends."""

_REDACTED: dict[str, str] = {}
"""``redact`` of texts that come back row after row (blob names such as ``RequestInfo.json``)."""


def _redact_known(text: str) -> str:
    """``redact(text)``, remembered for a few thousand texts (``redact`` is a pure function)."""
    done = _REDACTED.get(text)
    if done is None:
        done = redact(text)
        if len(_REDACTED) < 4096:
            _REDACTED[text] = done
    return done


_REPORT_COLUMNS = itemgetter(
    *(
        _AT[name]
        for name in (
            "case_ref",
            "user_id",
            "display_name",
            "user_principal_name",
            "home_tenant_id",
            "operation_id",
            "submitted_at",
            "completed_at",
            "storage_location",
            "post_request_id",
            "final_request_id",
            "submitted_by",
            "tenant_key",
            "notes",
            "kind",
        )
    )
)
"""The columns a report row takes from the query's tuple, in ``_values_fields``' order."""


# -- the CSV report a thousand rows at a time (issue 15) ----------------------------------------------
#
# ``ReportRows.csv_items`` reads the journal's tuples a chunk at a time. The rows that are no intent and
# have no notes are turned into cells column by column (one comprehension per column, the journal's
# texts as they are) and checked column by column: one ``str`` method over a column's cells joined finds
# a cell that is not text, not printable, holds a quote or a comma, or starts a formula. A row whose
# cells all pass is written as the CSV writer writes it: its cells joined by commas, the delivery's cell
# (which holds commas) in quotes. Any other row (an intent, notes, a cell that failed) is left to the
# row-by-row path (``_values_cells`` and the writer), in its place. The cells are ``_values_fields``',
# made by the same functions (``utc_of``, ``_delivered_cell``): tests/test_report_csv_chunks.py.

_CHUNK_TEXTS = ("case_ref", "user_id", "display_name", "user_principal_name", "home_tenant_id")
_CHUNK_TAIL_TEXTS = ("submitted_by", "tenant_key")
_FIRST_AT, _FINAL_ID_AT = len(_AT), len(_AT) + 1
"""Where ``iter_values(evidence=True)`` puts the two request ids of the poll records."""

_CELL_FORMULA = re.compile('"[' + re.escape("".join(_CSV_FORMULA_START)) + "]")
"""A cell (after the quote that joins it to the one before) that starts as ``_csv_cell``'s formulas do."""


def _when_text(raw: object) -> str:
    """``utc_of(raw) or ""``, without the call for a time as Graph writes it on a day seen before."""
    if type(raw) is str and _DAYS.get(raw[:10]) and _STAMP.fullmatch(raw):
        return f"{raw[:19]}Z"
    return utc_of(raw) or ""


_STAMPS = re.compile(f"(?:{_STAMP.pattern}\n)*{_STAMP.pattern}")
"""Times as Graph writes them, joined by newlines (``report._STAMP`` of each: a digit or a dot is no newline)."""


def _times(column: Sequence[Any]) -> Sequence[str]:
    """``_when_text`` of each time of a column: by one match of the column's times joined, when each is as Graph
    writes it on a day ``_stamp`` has found real before, else one by one."""
    texts = [t for t in column if t is not None]
    try:
        joined = "\n".join(texts)
    except TypeError:  # a time that is not text
        return [_when_text(t) for t in column]
    one_each = joined.count("\n") == len(texts) - 1  # no time holds a newline: one match per time
    if texts and not (one_each and _STAMPS.fullmatch(joined) and all(_DAYS.get(d) for d in {t[:10] for t in texts})):
        return [_when_text(t) for t in column]
    return ["" if t is None else f"{t[:19]}Z" for t in column]


def _chunk_columns(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The 17 cells of each row (not an intent, no notes), column by column: ``_values_fields``' values
    with the times, the delivery and the notes as the CSV shows them (a cell may be None or a blob)."""
    columns = list(zip(*rows, strict=False))  # tuples of one width: strict would only check it again

    def at(name: str) -> Sequence[Any]:
        return columns[_AT[name]]

    state = columns[_STATE]
    status = [s or ("notStarted" if w == TRACKING else w) for s, w in zip(columns[_STATUS], state, strict=True)]
    first = [p or str(f) for p, f in zip(at("post_request_id"), columns[_FIRST_AT], strict=True)]
    final = [
        p or (str(f) if w == FINAL else "")
        for p, f, w in zip(at("final_request_id"), columns[_FINAL_ID_AT], state, strict=True)
    ]
    return [
        *(at(name) for name in _CHUNK_TEXTS),
        [op or "" for op in at("operation_id")],
        status,
        _times(at("submitted_at")),
        _times(at("completed_at")),
        at("storage_location"),
        [_delivery_text(d) if d else "" for d in columns[_DELIVERED]],
        first,
        final,
        *(at(name) for name in _CHUNK_TAIL_TEXTS),
        [""] * len(rows),
        at("kind"),
    ]


def _cell_plain(cell: object, comma: bool) -> bool:
    """Whether the writer writes ``cell`` as it is (``comma``: in quotes when it holds a comma)."""
    return (
        type(cell) is str
        and cell.isprintable()
        and '"' not in cell
        and (comma or "," not in cell)
        and not cell.startswith(_CSV_FORMULA_START)
    )


def _column_plain(column: Sequence[Any], comma: bool) -> bool:
    """``_cell_plain`` of every cell, by one pass of ``str``'s methods over the column's cells joined."""
    try:
        joined = '"' + '"'.join(column)  # a quote before each cell: no cell may hold one
    except TypeError:  # a cell that is not text
        return False
    return (
        joined.count('"') == len(column)
        and joined.isprintable()
        and (comma or "," not in joined)
        and not _CELL_FORMULA.search(joined)
    )


_WRITTEN = re.compile(
    r'\{"checked_at": -?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+), '
    r'"files": (0|[1-9][0-9]*), "bytes": (0|[1-9][0-9]*), '
    r'"names": \[(?:"[^"\\\x00-\x1f]*"(?:, "[^"\\\x00-\x1f]*")*)?\], '
    r'"request_info": (true|false), "error": ""\}'
)
"""A delivery as ``delivery_to_json`` and ``json.dumps`` write it, without an error: its time a float
(a dot or an exponent), files and bytes whole numbers, names texts without an escape."""


def _delivery_text(text: str | bytes) -> str:
    """``_delivered_cell(text)``, by one match for a delivery as it is written (no parse, no dict)."""
    found = _WRITTEN.fullmatch(text) if type(text) is str else None
    if found is None:
        return _delivered_cell(text)
    files, size, info = found.groups()
    return f"{files} files, {int(size):,} bytes, " + (
        "RequestInfo.json present" if info == "true" else "no RequestInfo.json"
    )


def _plain_rows(columns: list[Sequence[Any]], count: int) -> list[bool]:
    """Per row, whether every one of its cells is written as it is (all the cells but the delivery's
    checked at once first, then column by column only when that finds something)."""
    plain = [True] * count
    others = [*columns[:_DELIVERED_AT], *columns[_DELIVERED_AT + 1 :]]
    if _column_plain(list(chain.from_iterable(others)), False):
        columns = [columns[_DELIVERED_AT]]
        first = _DELIVERED_AT
    else:
        first = 0
    for i, column in enumerate(columns, first):
        comma = i == _DELIVERED_AT
        if not _column_plain(column, comma):
            plain = [ok and _cell_plain(cell, comma) for ok, cell in zip(plain, column, strict=True)]
    return plain


def plain_lines(chunk: Sequence[Sequence[Any]]) -> list[str | None]:
    """Per ``iter_values(lean=_REPORT_READ, evidence=True)`` tuple, its CSV line (with its CRLF) when it is
    no intent, has no notes and the writer writes its cells as they are; else None (the row-by-row path)."""
    lines: list[str | None] = [None] * len(chunk)
    at = [i for i, values in enumerate(chunk) if values[_STATE] != INTENT and not values[_NOTES]]
    if not at:
        return lines
    columns = _chunk_columns([chunk[i] for i in at])
    plain = _plain_rows(columns, len(at))
    delivery = columns[_DELIVERED_AT]
    columns[_DELIVERED_AT] = [f'"{cell}"' if type(cell) is str and "," in cell else cell for cell in delivery]
    made = map(",".join, zip(*columns, strict=True)) if all(plain) else _joined(columns, plain)
    for i, ok, line in zip(at, plain, made, strict=True):
        if ok:
            lines[i] = line + "\r\n"
    return lines


def _joined(columns: list[Sequence[Any]], plain: list[bool]) -> list[str]:
    """Each plain row's cells joined by commas ("" for a row that is not plain: its cells may not be text)."""
    return [",".join(cells) if ok else "" for ok, cells in zip(plain, zip(*columns, strict=True), strict=True)]


# -- rendering ------------------------------------------------------------------------------------


def delivered_text(delivered: Mapping[str, Any] | None) -> str:
    """``3 files, 12,345 bytes, RequestInfo.json present`` (or the check's error), for CSV and Markdown."""
    if not delivered:
        return ""
    if delivered.get("error"):
        return f"not checked: {delivered['error']}"
    parts = [f"{delivered.get('files', 0)} files", f"{delivered.get('bytes', 0):,} bytes"]
    parts.append("RequestInfo.json present" if delivered.get("requestInfo") else "no RequestInfo.json")
    return ", ".join(parts)


def notes_text(notes: Sequence[Mapping[str, Any]]) -> str:
    """``2026-12-01T10:00:00Z ann@contoso.com: text; ...`` for CSV and Markdown."""
    return "; ".join(f"{n.get('at') or ''} {n.get('author') or ''}: {n.get('text') or ''}".strip() for n in notes)


def _flat(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    if name == "delivered":
        return delivered_text(value)
    if name == "notes":
        return notes_text(value or [])
    return "" if value is None else str(value)


def _csv_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV-injection advice: a leading quote),
    and that cannot drive the terminal it is printed on (``terminal_safe``: the rest of the text unchanged)."""
    return terminal_safe("'" + text if text.startswith(_CSV_FORMULA_START) else text)


def _md_cell(text: str) -> str:
    text = terminal_safe(text.replace("\r\n", " ").replace("\n", " "))
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;") or " "


class _Summary:
    """The Markdown summary's figures, gathered one row at a time."""

    def __init__(self) -> None:
        self.rows = 0
        self.counts: Counter[str] = Counter()
        self.people: set[str] = set()
        self.first_submitted: str | None = None
        self.last_submitted: str | None = None
        self.last_completed: str | None = None
        self.delivered = 0
        self.tenants: set[str] = set()

    def add(self, r: Mapping[str, Any]) -> None:
        self.rows += 1
        self.counts[str(r.get("status") or "unknown")] += 1
        self.people.add(str(r.get("userId", "")).lower())
        if r.get("submittedDateTime"):
            submitted = str(r["submittedDateTime"])
            if self.first_submitted is None or submitted < self.first_submitted:
                self.first_submitted = submitted
            if self.last_submitted is None or submitted > self.last_submitted:
                self.last_submitted = submitted
        if r.get("completedDateTime"):
            completed = str(r["completedDateTime"])
            if self.last_completed is None or completed > self.last_completed:
                self.last_completed = completed
        if r.get("delivered"):
            self.delivered += 1
        tenant = str(r.get("tenant") or "")
        if tenant:
            self.tenants.add(tenant)

    def lines(self) -> list[str]:
        by_status = ", ".join(
            f"{n} {status}" for status, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return [
            f"- Operations: {self.rows}" + (f" ({by_status})" if self.rows else ""),
            f"- People: {len(self.people)}",
            f"- First submitted: {self.first_submitted or '-'}",
            f"- Last submitted: {self.last_submitted or '-'}",
            f"- Last completed: {self.last_completed or '-'}",
            f"- Delivery checked: {self.delivered}",
            f"- Tenant: {', '.join(_md_cell(t) for t in sorted(self.tenants)) or '-'}",
        ]


def _summary(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    summary = _Summary()
    for row in rows:
        summary.add(row)
    return summary.lines()


def write_markdown(rows: Iterable[Mapping[str, Any]], out: TextIO, *, case: str | None, generated_at: float) -> int:
    """The Markdown report on ``out``; returns the number of rows. The table is spooled to a temporary
    file while the summary (which comes first) is gathered, so memory stays constant."""
    title = f"# Evidence report: case {_md_cell(case)}" if case else "# Evidence report: every case"
    summary = _Summary()
    # In memory up to SPOOL_IN_MEMORY (a full disk still gets its report), on disk beyond (flat memory).
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, "w+", encoding="utf-8", newline="") as spool:
        chunk: list[str] = []
        for row in rows:
            summary.add(row)
            cells = _flat_cells(row)
            if "".join(cells).isprintable():
                # Nearly always: no line break, nothing to escape for the terminal; the Markdown escapes
                # act on each character, so they run once over the row's cells joined by NUL.
                text = "\0".join(cells).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
                if "" in cells:
                    text = "\0".join([cell or " " for cell in text.split("\0")])
                chunk.append("| " + text.replace("\0", " | ") + " |\n")
            else:
                chunk.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |\n")
            if len(chunk) == 1000:
                spool.write("".join(chunk))
                chunk.clear()
        spool.write("".join(chunk))
        head = [
            title,
            "",
            f"Generated {iso_utc(generated_at)} from the export-console journal. Times are UTC; storage "
            "signatures are masked.",
            "",
            "## Summary",
            "",
            *summary.lines(),
            "",
            "## Operations",
            "",
        ]
        out.write("\n".join(head) + "\n")
        if not summary.rows:
            out.write("No operations match.\n")
            return 0
        out.write("| " + " | ".join(FIELDS) + " |\n")
        out.write("|" + "---|" * len(FIELDS) + "\n")
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    return summary.rows


def render_markdown(rows: Sequence[Mapping[str, Any]], *, case: str | None, generated_at: float) -> str:
    buffer = io.StringIO()
    write_markdown(rows, buffer, case=case, generated_at=generated_at)
    return buffer.getvalue()


def write_csv(rows: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """The CSV report on ``out`` (a header of exactly ``FIELDS``, CRLF rows); returns the number of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    parts = [buffer.getvalue()]
    count = 0
    commas = len(FIELDS) - 1
    for cells in rows.csv_items() if isinstance(rows, ReportRows) else map(_flat_cells, rows):
        count += 1
        if type(cells) is str:  # the line itself (``plain_lines``)
            parts.append(cells)
        elif _written_as_joined(line := ",".join(cells)):
            # Nearly always: no cell that ``_csv_cell`` changes, none with a quote or a line break; then
            # the writer's line is the cells joined by commas, a cell with a comma in quotes.
            if line.count(",") != commas:
                line = ",".join([f'"{t}"' if "," in t else t for t in cells])
            parts.append(line + "\r\n")
        else:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_csv_cell(t) for t in cells])
            parts.append(buffer.getvalue())
        if len(parts) >= 1000:  # a chunk at a time: one write to ``out`` per thousand rows
            out.write("".join(parts))
            parts.clear()
    out.write("".join(parts))
    return count


def _flat_cells(row: Mapping[str, Any]) -> list[str]:
    """``[_flat(row, name) for name in FIELDS]``, with fewer calls."""
    try:
        cells = list(_FIELD_VALUES(row))
    except KeyError:  # a field missing: ``_flat`` reads it as None
        return [_flat(row, name) for name in FIELDS]
    delivered = cells[_DELIVERED_AT]
    cells[_DELIVERED_AT] = delivered_text(delivered) if delivered else ""
    notes = cells[_NOTES_AT]
    cells[_NOTES_AT] = notes_text(notes) if notes else ""
    if None in cells:
        return ["" if value is None else str(value) for value in cells]
    return list(map(str, cells))


_FIELD_VALUES = itemgetter(*FIELDS)


_DELIVERED_AT = FIELDS.index("delivered")
_NOTES_AT = FIELDS.index("notes")


def render_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    write_csv(rows, buffer)
    return buffer.getvalue()


def write_json(rows: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """The JSON report on ``out``: one array, byte for byte what ``json.dumps(rows, indent=2)`` writes,
    one object at a time; returns the number of rows."""
    count = 0
    encode = _IndentedObject()
    for row in rows:
        out.write(("[\n  " if count == 0 else ",\n  ") + encode({name: finite(row.get(name)) for name in FIELDS}))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


class _IndentedObject:
    """``json.dumps(obj, indent=2)`` of one report object, one level deep in the array, with the C encoder.

    ``indent`` makes ``json`` fall back on its pure-Python encoder (ten times slower on 100,000 rows).
    The same text comes from the C encoder with the newline and indent in the item separator; each
    non-empty list or dict value (``delivered``, ``notes``) is encoded on its own with ``indent`` and
    put in the place of a marker no text can hold (a random token).
    """

    def __init__(self) -> None:
        import uuid

        self._marker = f"\x00{uuid.uuid4().hex}:"
        self._flat = json.JSONEncoder(separators=(",\n    ", ": "), allow_nan=False).encode

    def __call__(self, obj: Mapping[str, Any]) -> str:
        nested: dict[str, str] = {}
        plain: dict[str, Any] = {}
        for name, value in obj.items():
            if isinstance(value, dict | list) and value:
                marker = f"{self._marker}{name}"
                nested[json.dumps(marker)] = _indented(value).replace("\n", "\n    ")
                plain[name] = marker
            else:
                plain[name] = value
        if not plain:
            return "{}"
        text = "{\n    " + self._flat(plain)[1:-1] + "\n  }"
        for quoted, value in nested.items():
            text = text.replace(quoted, value, 1)
        return text


def _indented(value: Any) -> str:
    """``json.dumps(value, indent=2, allow_nan=False)``: with the C encoder for each text and number when the
    value is dicts (with text keys), lists, texts, integers, booleans and None (a delivery, notes), which
    ``json.dumps`` with an indent would encode in Python; anything else goes to ``json.dumps`` itself."""
    try:
        return _indent(value, "\n")
    except _NotPlain:
        return json.dumps(value, indent=2, allow_nan=False)


class _NotPlain(Exception):
    """A value ``_indent`` leaves to ``json.dumps``."""


def _indent(value: Any, newline: str) -> str:
    kind = type(value)
    if kind is str:
        return _ASCII(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        parts = []
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            parts.append(f"{_ASCII(key)}: {_indent(item, inner)}")
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list:
        if not value:
            return "[]"
        inner = newline + "  "
        return "[" + inner + ("," + inner).join([_indent(item, inner) for item in value]) + newline + "]"
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise _NotPlain


_ASCII: Callable[[str], str] = getattr(json.encoder, "encode_basestring_ascii")  # noqa: B009
"""How ``json.dumps`` writes a text (ASCII only, the C function when there is one)."""


def render_json(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    write_json(rows, buffer)
    return buffer.getvalue()


def write_report(
    rows: Iterable[Mapping[str, Any]],
    fmt: Literal["md", "csv", "json"],
    out: TextIO,
    *,
    case: str | None = None,
    generated_at: float,
) -> int:
    """``render_report`` written to ``out`` as the rows come (constant memory); returns the number of rows."""
    if fmt == "md":
        return write_markdown(rows, out, case=case, generated_at=generated_at)
    if fmt == "csv":
        return write_csv(rows, out)
    if fmt == "json":
        return write_json(rows, out)
    raise ValueError(f"unknown report format {fmt!r}: use md, csv or json")


def render_report(
    rows: Sequence[dict[str, Any]],
    fmt: Literal["md", "csv", "json"],
    *,
    case: str | None = None,
    generated_at: float,
) -> str:
    """The report as text: ``md`` for people, ``csv`` with a header of exactly ``FIELDS``, ``json`` one array."""
    if fmt == "md":
        return render_markdown(rows, case=case, generated_at=generated_at)
    if fmt == "csv":
        return render_csv(rows)
    if fmt == "json":
        return render_json(rows)
    raise ValueError(f"unknown report format {fmt!r}: use md, csv or json")


# -- the two parts of a case's report (issue 19) ------------------------------------------------------

SUBJECT_FIELDS = ("case", "action", "requested", "completed", "status", "account", "deliveredTo", "files")
"""The part for the person: what was exported or removed and when, and where it was delivered. No
internal names (who submitted, the tenant), no notes, no operation or request ids."""

INTERNAL_FIELDS = (
    "case",
    "at",
    "action",
    "by",
    "userId",
    "userPrincipalName",
    "operationId",
    "status",
    "storageLocation",
    "exportRequestId",
    "finalRequestId",
    "due",
    "text",
)
"""The audit trail: every action with its time, who did it, Graph's request ids, notes and the case's
own events (opened, extended with its reason, closed), then the deadline and whether it was met."""

PARTS = ("subject", "internal", "all")


def _container(location: str) -> str:
    """Where the data went, without any query (so without a SAS): ``https://acct.blob.../dsr-1`` or the name."""
    from urllib.parse import urlsplit

    text = redact(location)
    if "://" not in text:
        return text.split("?", 1)[0]
    parts = urlsplit(text)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _subject_status(status: str) -> str:
    if status == "complete":
        return "complete"
    if status in ("failed", "rejected", "error", "stopped", "resolved"):
        return "not completed"
    if status == "requested":
        return "requested"
    return "in progress"


def subject_rows(rows: Iterable[Mapping[str, Any]], removals: frozenset[str] = frozenset()) -> Iterator[dict[str, Any]]:
    """The person's part, from ``iter_report_rows``' rows; ``removals``: the operation ids (or user ids
    without one) of the rows that are removals (the journal's ``kind``), when it records kinds."""
    for row in rows:
        removal = str(row.get("operationId") or row.get("userId")) in removals
        delivered = row.get("delivered") or {}
        names = delivered.get("names") or []
        yield {
            "case": row.get("case") or "",
            "action": "removal" if removal else "export",
            "requested": row.get("submittedDateTime"),
            "completed": None if removal else row.get("completedDateTime"),
            "status": "requested" if removal else _subject_status(str(row.get("status") or "")),
            "account": row.get("userPrincipalName") or row.get("userId") or "",
            "deliveredTo": "" if removal else _container(str(row.get("storageLocation") or "")),
            "files": "" if removal or not delivered else f"{delivered.get('files', 0)}: " + ", ".join(names),
        }


def internal_rows(
    rows: Iterable[Mapping[str, Any]],
    case_events: Iterable[Mapping[str, Any]],
    deadline: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """The audit trail, by time: each operation's submission, completion and notes, the case's events,
    and (last) the deadline with whether it was met. ``case_events``: ``at`` (ISO), ``by``, ``action``,
    ``text``, ``due``; ``deadline``: ``case``, ``due``, ``met`` (text)."""
    trail: list[dict[str, Any]] = []

    def add(**values: Any) -> None:
        trail.append({name: values.get(name, "") for name in INTERNAL_FIELDS})

    for row in rows:
        what = "removal" if row.get("kind") == "removal" else "export"
        common = {
            "case": row.get("case") or "",
            "userId": row.get("userId") or "",
            "userPrincipalName": row.get("userPrincipalName") or "",
            "operationId": row.get("operationId") or "",
            "storageLocation": row.get("storageLocation") or "",
        }
        add(
            **common,
            at=row.get("submittedDateTime") or "",
            action=f"{what} submitted",
            by=row.get("submittedBy") or "",
            status=row.get("status") or "",
            exportRequestId=row.get("exportRequestId") or "",
        )
        if row.get("completedDateTime"):
            add(
                **common,
                at=row.get("completedDateTime"),
                action=f"{what} {row.get('status') or 'final'}",
                by="Graph",
                status=row.get("status") or "",
                finalRequestId=row.get("finalRequestId") or "",
                text=delivered_text(row.get("delivered")),
            )
        for note in row.get("notes") or []:
            add(**common, at=note.get("at") or "", action="note", by=note.get("author") or "", text=note.get("text"))
    for event in case_events:
        add(**event)
    trail.sort(key=lambda r: str(r["at"] or ""))
    if deadline is not None:
        add(case=deadline.get("case", ""), action="deadline", due=deadline.get("due", ""), text=deadline.get("met", ""))
    return trail


def write_part(
    rows: Iterable[Mapping[str, Any]],
    fields: Sequence[str],
    fmt: Literal["md", "csv", "json"],
    out: TextIO,
    *,
    title: str,
    head: Sequence[str] = (),
    generated_at: float,
) -> int:
    """One part of a case's report (``SUBJECT_FIELDS`` or ``INTERNAL_FIELDS``) in md, csv or json, written
    as the rows come; returns the number of rows. The cells go through the same escaping as the report's."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_csv_cell(_flat_part(row, name)) for name in fields])
            count += 1
        return count
    if fmt == "json":
        for row in rows:
            obj = {name: finite(row.get(name)) for name in fields}
            out.write(("[\n  " if count == 0 else ",\n  ") + json.dumps(obj, indent=2).replace("\n", "\n  "))
            count += 1
        out.write("\n]\n" if count else "[]\n")
        return count
    if fmt != "md":
        raise ValueError(f"unknown report format {fmt!r}: use md, csv or json")
    out.write(f"# {_md_cell(title)}\n\nGenerated {iso_utc(generated_at)}. Times are UTC.\n\n")
    for line in head:
        out.write(f"- {_md_cell(line)}\n")
    if head:
        out.write("\n")
    for row in rows:
        if count == 0:
            out.write("| " + " | ".join(fields) + " |\n|" + "---|" * len(fields) + "\n")
        out.write("| " + " | ".join(_md_cell(_flat_part(row, name)) for name in fields) + " |\n")
        count += 1
    if not count:
        out.write("Nothing recorded.\n")
    return count


def _flat_part(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value)
