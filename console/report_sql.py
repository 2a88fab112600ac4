"""The CSV report's plain lines made by SQLite, checked by Python a thousand at a time (issue 15).

Most rows of a journal are plain: no intent (whose view depends on its process being alive), no notes,
every text printable with no quote, no comma and no leading ``= + - @``, the times as Graph writes them
and the delivery as ``delivery_to_json`` wrote it. The CSV writer writes such a row as its cells joined
by commas, the delivery's cell (which holds commas) in quotes: ``report._values_line``' line.

``csv_query`` has SQLite make, per row, its cells joined by commas with ``\\x1f`` in place of the
delivery's cell (``printf``: one call), and the delivery's cell with the commas around it. SQLite
makes that line only when it is sure of every cell it computes (the row's state and notes, text and
not a blob, ASCII without NUL, a time in Graph's form on a real day, a delivery of the written shape);
a cell it is unsure of holds a quote, and a row it cannot make has no line. What a cell holds, SQLite
leaves to ``plain_lines``: one ``str`` method over many lines at once finds any quote, comma, control
character or formula start, and only the lines of a chunk that has one are looked at one by one.

Any row without a line is read again by its id and written by the Python path (``csv_reread_query``):
the same columns as ``iter_values(lean=..., evidence=True)``, in id order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from console.ops.events import FINAL, INTENT, TRACKING
from console.ops.journal_model import lean_columns

MAX_NAMES = 64
"""Tenant names (and chosen tenants) the query takes as parameters; with more, the Python path writes."""

CHUNK = 1000
"""Rows checked at a time."""

_NOTES = "(SELECT COUNT(*) FROM notes WHERE notes.operation = operations.id)"
_FIRST_ID = (
    "CASE WHEN post_request_id = '' THEN COALESCE((SELECT request_id FROM polls "
    "WHERE polls.operation = operations.id ORDER BY rowid LIMIT 1), '') ELSE '' END"
)
_FINAL_ID = (
    "CASE WHEN final_request_id = '' AND state = ? THEN COALESCE((SELECT request_id "
    "FROM polls WHERE polls.operation = operations.id AND status IN ('complete', 'failed') "
    "ORDER BY rowid DESC LIMIT 1), '') ELSE '' END"
)
"""The two request ids ``iter_values(evidence=True)`` adds after a row's columns (its expressions)."""

_SURE = "CASE WHEN typeof(request_id) = 'text' AND length(request_id) = length(CAST(request_id AS BLOB)) THEN request_id ELSE '\"' END"
"""A poll's request id in a line: a quote (the line is read again) when it is not ASCII text without NUL."""

_TEXTS = (
    "case_ref",
    "user_id",
    "display_name",
    "user_principal_name",
    "home_tenant_id",
    "operation_id",
    "status",
    "state",
    "submitted_at",
    "completed_at",
    "storage_location",
    "delivered",
    "post_request_id",
    "final_request_id",
    "submitted_by",
    "tenant_key",
    "kind",
)
"""The row's texts a line is made of: none may be a blob, and together they must be as many bytes as
characters (ASCII, and no NUL: ``printf`` stops at one). The journal's columns are TEXT: no number."""

_DAY = "[0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"


def _time(x: str) -> str:
    """``utc_of(x) or ""`` of a time as Graph writes it (without a fraction or with seven digits of one),
    to the second; a quote for any other text (``report._STAMP`` then decides). ``datetime`` moves
    2026-02-30 to March and 24:00 to the next day: the text must be a real moment."""
    return (
        f"CASE WHEN {x} IS NULL THEN '' "
        f"WHEN CASE length({x}) WHEN 28 THEN {x} GLOB '[1-9]{_DAY}.[0-9][0-9][0-9][0-9][0-9][0-9][0-9]Z' "
        f"WHEN 20 THEN {x} GLOB '[1-9]{_DAY}Z' END "
        f"AND CASE WHEN substr({x}, 9, 2) < '29' THEN substr({x}, 6, 2) BETWEEN '01' AND '12' "
        f"AND substr({x}, 12, 2) < '24' "
        f"ELSE datetime(substr({x}, 1, 19), '+0 days') = replace(substr({x}, 1, 19), 'T', ' ') END "
        f"THEN substr({x}, 1, 19) || 'Z' ELSE '\"' END"
    )


_DELIVERY_SHAPE = '{"checked_at": *, "files": *, "bytes": *, "names": [[]*], "request_info": *, "error": ""}'
"""A delivery as ``delivery_to_json`` writes it (``json.dumps``' separators), without an error."""

_DELIVERY_CHECKS = (
    "json_remove({x}, '$.checked_at', '$.files', '$.bytes', '$.names', '$.request_info', '$.error') = '{{}}' "
    "AND json_type({x}, '$.checked_at') = 'real' AND json_type({x}, '$.files') = 'integer' "
    "AND json_type({x}, '$.bytes') = 'integer' AND json_type({x}, '$.names') = 'array' "
    "AND json_type({x}, '$.request_info') IN ('true', 'false') AND json_extract({x}, '$.error') = '' "
    "AND json_extract({x}, '$.files') BETWEEN 0 AND 9007199254740991 "
    "AND json_extract({x}, '$.bytes') BETWEEN 0 AND 9007199254740991 "
    "AND NOT EXISTS (SELECT 1 FROM json_each({x}, '$.names') WHERE type != 'text')"
)
"""The six keys of ``report._written_values``, each once (``json_remove`` takes only the first of a
repeated key), each of its type; files and bytes whole numbers (not ``true``) that SQLite holds exactly."""


def _delivered(x: str) -> str:
    """The delivery's cell with the commas around it (``_delivered_cell``, in quotes), of a text that
    ``json.loads`` and SQLite both read as one object (ASCII without NUL: the row's check; SQLite refuses
    NaN, which ``json.loads`` reads: that row is read again); NULL for any other delivery.
    ``json_type`` fails on text that is not JSON: it runs only inside the ``CASE`` of valid JSON."""
    return (
        f"CASE WHEN {x} IS NULL OR {x} = '' THEN ',,' "
        f"WHEN {x} GLOB '{_DELIVERY_SHAPE}' AND json_valid({x}) THEN CASE WHEN "
        + _DELIVERY_CHECKS.format(x=x)
        + f" THEN printf(',\"%d files, %,d bytes, %s\",', json_extract({x}, '$.files'), "
        f"json_extract({x}, '$.bytes'), CASE json_type({x}, '$.request_info') "
        "WHEN 'true' THEN 'RequestInfo.json present' ELSE 'no RequestInfo.json' END) END END"
    )


def _or(x: str, other: str) -> str:
    """``x or other`` (Python's, of a text or NULL)."""
    return f"CASE WHEN {x} IS NULL OR {x} = '' THEN {other} ELSE {x} END"


def _cells(tenant: str) -> list[str]:
    """The 16 cells of a line but the delivery's, in ``FIELDS`` order (``printf`` writes NULL as empty)."""
    first = _FIRST_ID.replace("SELECT request_id", f"SELECT {_SURE}")
    final = _FINAL_ID.replace("SELECT request_id", f"SELECT {_SURE}")
    return [
        *_TEXTS[:6],
        _or("status", f"CASE WHEN state = '{TRACKING}' THEN 'notStarted' ELSE state END"),
        _time("submitted_at"),
        _time("completed_at"),
        "storage_location",
        _or("post_request_id", first),
        _or("final_request_id", f"CASE WHEN state = '{FINAL}' THEN {final} ELSE '' END"),
        "submitted_by",
        tenant,
        "''",
        "kind",
    ]


def _where(
    tenant_key: str | None, case: str | None, since: float | None, tenants: Collection[str] | None
) -> tuple[str, list[Any]]:
    """``journal_model.select``'s filters, and ``tenants``' (the rows of these tenant keys only)."""
    clauses: list[str] = []
    params: list[Any] = []
    for clause, value in (("tenant_key = ?", tenant_key), ("case_ref = ?", case), ("created_at >= ?", since)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if tenants is not None:
        clauses.append(f"tenant_key IN ({', '.join('?' * len(tenants))})")
        params += sorted(tenants)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def csv_query(
    tenant_key: str | None,
    case: str | None,
    since: float | None,
    tenants: Collection[str] | None,
    names: Mapping[str, str],
) -> tuple[str, list[Any]]:
    """Per row (oldest first, as ``iter_values`` filters them, and only ``tenants``' rows when given):
    its id, its cells joined by commas with ``\\x1f`` in place of the delivery's cell (NULL when SQLite
    cannot make them), and the delivery's cell with its commas (NULL when not of the written shape).
    ``names``: tenant key -> the name shown."""
    params: list[Any] = [FINAL]  # the final id's ``state = ?``
    tenant = "tenant_key"
    if names:
        tenant = "CASE tenant_key " + "WHEN ? THEN ? " * len(names) + "ELSE tenant_key END"
        params += [value for pair in names.items() for value in pair]
    cells = _cells(tenant)
    form = ",".join(["%s"] * 10) + "\x1f" + ",".join(["%s"] * 6)
    blobs = " OR ".join(f"{name} >= X''" for name in _TEXTS)
    chars = " + ".join(f"ifnull(length({name}), 0)" for name in _TEXTS)
    octets = " + ".join(f"ifnull(length(CAST({name} AS BLOB)), 0)" for name in _TEXTS)
    sure = f"typeof(state) = 'text' AND state != '{INTENT}' AND {_NOTES} = 0 AND ({blobs}) IS NOT 1 AND {chars} = {octets}"
    where, filters = _where(tenant_key, case, since, tenants)
    query = (
        f"SELECT id, CASE WHEN {sure} THEN printf('{form}', {', '.join(cells)}) END, {_delivered('delivered')} "
        f"FROM operations{where} ORDER BY id"
    )
    return query, params + filters


def csv_reread_query(columns: Sequence[str], keys: Sequence[int]) -> tuple[str, list[Any]]:
    """The ``iter_values(lean=columns, evidence=True)`` tuples of the rows ``keys``, in id order."""
    marks = ", ".join("?" * len(keys))
    query = f"SELECT {lean_columns(columns)}, {_FIRST_ID}, {_FINAL_ID} FROM operations WHERE id IN ({marks}) ORDER BY id"
    return query, [FINAL, *keys]


_FORMULA = tuple(start + sign for start in (",", "\x1f", "\n") for sign in "=+-@")
"""A cell that starts as ``report._CSV_FORMULA_START`` does (tab and CR: not printable), after a comma,
the delivery's place or the start of a line (``\n``)."""


def _plain(lines: Sequence[str]) -> bool:
    """Whether the writer writes each of ``lines`` (cells joined by 14 commas and one ``\\x1f``) as it
    is: no cell holds a comma, a quote, a ``\\x1f`` or a character that is not printable, and none
    starts a formula."""
    text = "\n" + "\n".join(lines)
    count = len(lines)
    return (
        text.count("\x1f") == count
        and text.count("\n") == count
        and text.count(",") == 14 * count
        and '"' not in text
        and text.replace("\x1f", "").replace("\n", "").isprintable()
        and not any(start in text for start in _FORMULA)
    )


def plain_lines(rows: Sequence[Sequence[Any]]) -> list[str | None]:
    """Per ``csv_query`` row, its CSV line (with its CRLF) when the writer writes it as SQLite made it;
    None for a row to be read again."""
    made: list[str | None] = []
    for _key, line, delivery in rows:
        made.append(None if line is None or delivery is None else line)
    lines = [line for line in made if line is not None]
    if not _plain(lines):
        made = [line if line is not None and _plain((line,)) else None for line in made]
    return [
        None if line is None else line.replace("\x1f", delivery) + "\r\n"
        for line, (_key, _line, delivery) in zip(made, rows, strict=True)
    ]
