"""``ops``' listing of the journal, as a table or JSON Lines, streamed from one query (issue 15).

Most rows print straight from the query's tuple (``OperationJournal.iter_values`` with ``lean``: only
the columns shown); an intent's view depends on whether its process still lives (``report.view_of``),
so its cells come from its view. What is printed is byte for byte what the view path prints
(``views.print_operations`` and ``views.view_json``: tests/ops/test_read_fast_paths.py).

The table's columns are as wide as their widest cell: the escaped cells go to a temporary file while
the widths are measured, a thousand rows at a time, then come back as aligned lines.
"""

from __future__ import annotations

import json.encoder
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import starmap
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeGuard

from console.cli.output import CELL_WIDTH, _cut, clean, json_text
from console.cli.views import TENANT_NAMES, _progress, _when, explain_error, person_name, view_json
from console.ops.events import INTENT, TRACKING, OperationView, _iso
from console.ops.journal_model import row_from_lean
from console.report import _DAYS, _STAMP, SPOOL_IN_MEMORY, _stamp, delivered_json, delivered_json_text, iso_of, view_of

if TYPE_CHECKING:
    from console.ops.journal import OperationJournal

CHUNK = 1000
"""Rows measured (and lines written) at a time."""

TABLE_COLUMNS = (
    "id",
    "state",
    "owner",
    "case_ref",
    "display_name",
    "user_principal_name",
    "user_id",
    "status",
    "progress",
    "submitted_at",
    "completed_at",
    "operation_id",
    "last_error",
)
"""What the table reads of each row (``iter_values``' ``lean``); an intent's view also needs its owner."""
TENANTS_TABLE_COLUMNS = (*TABLE_COLUMNS, "tenant_key")
"""What the table reads of each row when the journal holds several tenants (the TENANT column)."""
JSON_COLUMNS = (
    *TABLE_COLUMNS,
    "storage_location",
    "delivered",
    "kind",
    "tenant_key",
)
"""What ``ops --json`` reads of each row."""
_STATE = 1
_STATUS = TABLE_COLUMNS.index("status")
_NOT_YET = {INTENT: "submitting", TRACKING: "notStarted"}
HEADERS = (
    "TENANT",
    "CASE",
    "NAME",
    "USER ID",
    "STATUS",
    "PROGRESS",
    "SUBMITTED (UTC)",
    "COMPLETED (UTC)",
    "OPERATION",
    "ERROR",
)
_ALREADY_USED = "StorageLocationAlreadyUsed"
"""``console.storage.sas.STORAGE_LOCATION_ALREADY_USED``: the only error ``explain_error`` changes (the
storage package, and httpx with it, is imported only for a row that has it)."""

Listed = OperationView | Sequence[Any]
"""A listed item: a view, or a ``TABLE_COLUMNS``/``JSON_COLUMNS`` tuple."""


class Views:
    """The view of a listed tuple (an intent's: unconfirmed when its process is dead), for one listing."""

    def __init__(self, journal: OperationJournal | None, columns: Sequence[str], now: float) -> None:
        self._journal = journal
        self._columns = columns
        self._now = now
        self._alive: dict[str | None, bool] = {}

    def __call__(self, item: Listed) -> OperationView:
        if isinstance(item, OperationView):
            return item
        if self._journal is None:
            raise ValueError("a journal tuple needs its journal")
        return view_of(self._journal, row_from_lean(self._columns, item), self._now, self._alive)


def _explain(text: str) -> str:
    """``explain_error(text)``, without importing the storage package for text it leaves as it is."""
    return explain_error(text) if _ALREADY_USED in text else text


# -- JSON Lines ---------------------------------------------------------------------------------------


def write_json_lines(items: Iterable[Listed], views: Views) -> None:
    """``ops --json``: one ``view_json`` object a line, a thousand lines a write. A tuple of a row that
    is not an intent (its view is the row as it is) becomes the same object without its view."""
    write = sys.stdout.write
    chunk: list[str] = []
    for item in items:
        chunk.append(_json_line(item, views) if _plain(item) else _json_view_line(item, views))
        if len(chunk) == CHUNK:
            chunk.append("")
            write("\n".join(chunk))
            chunk.clear()
    if chunk:
        chunk.append("")
        write("\n".join(chunk))


_JSON_CELLS = itemgetter(*(JSON_COLUMNS.index(name) for name in JSON_COLUMNS[3:]))


def _plain(item: Listed) -> TypeGuard[Sequence[Any]]:
    """Whether an item is a tuple of a row that is not an intent (its view is the row as it is)."""
    return not isinstance(item, OperationView) and item[_STATE] != INTENT


def _json_view_line(item: Listed, views: Views) -> str:
    """The line of a view, or of a tuple whose line ``_json_line`` cannot write."""
    record = _json_record(item) if _plain(item) else view_json(views(item))
    try:
        return _ENCODE(record)
    except ValueError:  # a NaN or an infinity: the walk that makes it null
        return json_text(record)


def _json_line(values: Sequence[Any], views: Views) -> str:
    """``_ENCODE(_json_record(values))``, written straight from the tuple (no dict to build and walk): each
    text by the encoder's own C escaping, a number by its repr; a value that is not text where text is
    kept (a blob) or an odd delivery: ``_json_view_line``."""
    try:
        return _json_text(values)
    except (TypeError, ValueError):
        return _json_view_line(values, views)


def _json_text(values: Sequence[Any]) -> str:
    """``_json_line`` without the way round."""
    case, name, upn, user_id, status, progress, submitted, completed, operation_id, error, storage, text, kind, key = (
        _JSON_CELLS(values)
    )
    state = values[_STATE]
    q = _QUOTE
    if progress is None:
        shown = "null"
    elif type(progress) is float:
        shown = _FLOAT(progress) if math.isfinite(progress) else "null"
    elif type(progress) is int:
        shown = _INT(progress)
    else:
        raise TypeError("an odd progress")
    status = status or _NOT_YET.get(state, state)
    submitted, completed = iso_of(submitted), iso_of(completed)
    delivered = (delivered_json_text(text, q) or _ENCODE(delivered_json(text))) if text else "null"
    return (
        f'{{"operationId": {"null" if operation_id is None else q(operation_id)}, '
        f'"userId": {"null" if user_id is None else q(user_id)}, '
        f'"status": {"null" if status is None else q(status)}, "progress": {shown}, '
        f'"submittedDateTime": {"null" if submitted is None else q(submitted)}, '
        f'"completedDateTime": {"null" if completed is None else q(completed)}, '
        f'"storageLocation": {"null" if storage is None else q(storage)}, '
        f'"state": {"null" if state is None else q(state)}, '
        f'"error": {q(_explain(str(error))) if error else "null"}, "key": {_INT(values[0])}, '
        f'"case": {"null" if case is None else q(case)}, '
        f'"delivered": {delivered}, '
        f'"displayName": {"null" if name is None else q(name)}, '
        f'"userPrincipalName": {"null" if upn is None else q(upn)}, '
        f'"kind": {"null" if kind is None else q(kind)}, "tenant": {q(TENANT_NAMES(key))}}}'
    )


_QUOTE: Callable[[str], str] = json.encoder.encode_basestring_ascii
"""The JSON text of a string as ``_ENCODE`` writes it (its own function: ``ensure_ascii``)."""
_FLOAT = float.__repr__
_INT = int.__repr__


def _json_record(values: Sequence[Any]) -> dict[str, object]:
    """``view_json(row.view())`` of a row that is not an intent, built from its ``JSON_COLUMNS`` tuple."""
    case, name, upn, user_id, status, progress, submitted, completed, operation_id, error, storage, text, kind, key = (
        _JSON_CELLS(values)
    )
    state = values[_STATE]
    return {
        "operationId": operation_id,
        "userId": user_id,
        "status": status or _NOT_YET.get(state, state),
        "progress": None if progress is None or not math.isfinite(progress) else progress,
        "submittedDateTime": iso_of(submitted),
        "completedDateTime": iso_of(completed),
        "storageLocation": storage,
        "state": state,
        "error": _explain(str(error)) if error else None,
        "key": values[0],
        "case": case,
        "delivered": delivered_json(text) if text else None,
        "displayName": name,
        "userPrincipalName": upn,
        "kind": kind,
        "tenant": TENANT_NAMES(key),
    }


def _encoder() -> Callable[[object], str]:
    """``json.dumps(value, allow_nan=False, default=str)``, with one encoder made once for every line:
    the C encoder ``json.dumps`` itself makes for each call (a record holds no cycle to check for)."""
    import json.encoder

    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # pragma: no cover - a Python without the C accelerator
        return json.JSONEncoder(allow_nan=False, default=str).encode
    encode = c_make_encoder(None, str, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, False)
    return lambda value: "".join(encode(value, 0))


_ENCODE = _encoder()


# -- the table ----------------------------------------------------------------------------------------


def _table_when(raw: object) -> str:
    """``_when(iso_of(raw))``: a journal time as the table shows it (``2026-12-01 10:00:00``)."""
    found = _stamp(raw)
    if found is None:
        return _when(iso_of(raw))
    seconds = found[1]
    return f"{seconds[:10]} {seconds[11:]}"


class _Cells:
    """The cells of each listed item, as ``print_operations`` shows them (not yet escaped): nine, and
    with ``tenants`` (the tuples end with their tenant key) ten, the tenant's name first.

    ``with_case``: whether any row has a case (then the CASE column is shown); ``with_tenant``: whether
    the rows are of more than one tenant (then the TENANT column is shown).
    """

    def __init__(self, views: Views, *, tenants: bool = False) -> None:
        from console.ops.vocabulary import STATE_WORDS

        self._views = views
        self._state_words = STATE_WORDS
        self._percents: dict[object, str] = {}
        self._names: dict[object, str] = {}
        self.tenants = tenants
        self.with_case = False
        self.with_tenant = False

    def of(self, items: Iterable[Listed]) -> Iterator[tuple[Any, ...]]:
        tuple_cells, view_cells = self._tuple_cells, self._view_cells
        if not self.tenants:
            for item in items:
                yield tuple_cells(item) if type(item) is tuple and item[_STATE] != INTENT else view_cells(item)
            return
        name = self._tenant_name
        for item in items:
            if type(item) is tuple and item[_STATE] != INTENT:
                yield (name(item[-1]), *tuple_cells(item[:-1]))
            else:
                view = self._views(item)
                yield (name(view.tenant_key), *view_cells(view))

    def _tenant_name(self, key: object) -> str:
        """The saved tenant's name of a row's tenant key; a second key shows the TENANT column."""
        name = self._names.get(key)
        if name is None:
            self.with_tenant = self.with_tenant or bool(self._names)
            name = self._names[key] = TENANT_NAMES(str(key))
        return name

    def _tuple_cells(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        """The cells of a row that is not an intent, from its ``TABLE_COLUMNS`` tuple (the hot path)."""
        _id, state, _owner, case, name, upn, user_id, status, progress, submitted, completed, operation, error = item
        if case:
            self.with_case = True
        percent = self._percents.get(progress)
        if percent is None:
            percent = _progress(progress)
            if len(self._percents) < 1000:
                self._percents[progress] = percent
        if type(submitted) is str and _STAMP.fullmatch(submitted) and _DAYS.get(submitted[:10]):
            submitted = f"{submitted[:10]} {submitted[11:19]}"
        else:
            submitted = _table_when(submitted)
        if type(completed) is str and _STAMP.fullmatch(completed) and _DAYS.get(completed[:10]):
            completed = f"{completed[:10]} {completed[11:19]}"
        else:
            completed = _table_when(completed)
        return (
            case or "-",
            name or upn or "-",
            user_id,
            state if state in self._state_words else status or _NOT_YET.get(state, state),
            percent,
            submitted,
            completed,
            operation or f"(row {_id})",
            _explain(error) if error else "",
        )

    def _view_cells(self, item: Listed) -> tuple[Any, ...]:
        """The cells ``print_operations`` takes from ``view_json``, without building the rest of it."""
        from console.ops.vocabulary import shown_status

        v = self._views(item)
        if v.case:
            self.with_case = True
        return (
            v.case or "-",
            person_name(v),
            v.user_id,
            shown_status(v),
            _progress(v.progress),
            _when(_iso(v.submitted_at)),
            _when(_iso(v.completed_at)),
            v.operation_id or f"(row {v.key})",
            explain_error(v.last_error) if v.last_error else "",
        )


def _escaped_columns(chunk: Sequence[Sequence[Any]]) -> list[Sequence[str]]:
    """The chunk's cells as the table prints them (escaped, cut to ``CELL_WIDTH``), column by column."""
    try:
        printable = "".join(map("".join, chunk)).isprintable()
    except TypeError:  # a cell that is not text
        printable = False
    if not printable:  # escaping changes nothing in printable text: only then row by row
        chunk = [[_cut(clean(text)) for text in cells] for cells in chunk]
    columns: list[Sequence[str]] = list(zip(*chunk, strict=True))
    for i, column in enumerate(columns):
        if max(map(len, column)) > CELL_WIDTH:
            columns[i] = list(map(_cut, column))
    return columns


def print_operations_streamed(items: Iterable[Listed], views: Views | None = None, *, tenants: bool = False) -> None:
    """``print_operations``' table, byte for byte, without holding every row: the escaped cells go
    to a temporary file while the column widths are measured, then come back as aligned lines.

    ``tenants``: the tuples are ``TENANTS_TABLE_COLUMNS``' (the journal holds several tenants); the
    TENANT column is shown when the rows listed are of more than one.
    """
    cells = _Cells(views if views is not None else Views(None, TABLE_COLUMNS, 0.0), tenants=tenants)
    headers = HEADERS if tenants else HEADERS[1:]
    widths = [len(h) for h in headers]
    # In memory up to SPOOL_IN_MEMORY (a full disk still gets its report), on disk beyond (flat memory).
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, "w+", encoding="utf-8", newline="") as spool:
        rows = cells.of(items)
        while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
            columns = _escaped_columns(chunk)
            widths = [max(w, *map(len, column)) for w, column in zip(widths, columns, strict=True)]
            # Escaped cells hold neither NUL nor a line break: one line, NUL-separated.
            spool.write("".join(text + "\n" for text in map("\0".join, zip(*columns, strict=True))))
        case = 1 if tenants else 0
        hidden = {case} if not cells.with_case else set()
        if tenants and not cells.with_tenant:
            hidden.add(0)
        line = "  ".join(f"{{{i}:<{w}}}" for i, w in enumerate(widths) if i not in hidden).format
        write = sys.stdout.write
        write(line(*headers).rstrip() + "\n")
        spool.seek(0)
        while lines := spool.readlines(1 << 20):
            split = (text[:-1].split("\0") for text in lines)
            write("".join(text.rstrip() + "\n" for text in starmap(line, split)))


def several_tenants(journal: OperationJournal) -> bool:
    """Whether the journal holds operations of more than one tenant (two index look-ups, no scan)."""
    found = journal.connection.fetch_one(
        "SELECT (SELECT min(tenant_key) FROM operations) != (SELECT max(tenant_key) FROM operations)"
    )
    return bool(found and found[0])
