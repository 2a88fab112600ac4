"""The evidence report of a data-subject request: from the journal alone (no token, no network).

What an auditor asks for case DSR-1234: which accounts were exported, when, by whom, where to,
did it finish, and what Graph answered (the request-ids of the export POST and of the final poll).
``report_rows`` reads that from the journal, one dict per operation with exactly ``FIELDS``;
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
from dataclasses import replace
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from console.ops.events import FINAL, INTENT, UNCONFIRMED, OperationView, PollRecord
from console.ops.journal import OperationJournal, OperationRow
from console.redact import redact
from console.text import terminal_safe

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
)
"""The report's columns, in order (the CSV header row, the JSON objects' keys)."""

LEFTOVER_ERROR = (
    "the console stopped while this export was being submitted: Graph may or may not have accepted it; "
    "check before exporting this user again"
)
"""Why a crash leftover is unconfirmed (when its row says nothing itself)."""

FINAL_STATUSES = frozenset({"complete", "failed"})
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso_utc(epoch: float | None) -> str | None:
    """``2026-12-01T10:00:00Z`` (seconds precision), or None."""
    if epoch is None or not math.isfinite(epoch):
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def view_of(journal: OperationJournal, row: OperationRow, now: float) -> OperationView:
    """The row as people should read it: the intent of a process that died (a crash between the journal
    and Graph's 202) is ``unconfirmed``, never "submitting"; a live process's intent stays as it is."""
    view = row.view()
    if row.state == INTENT and not journal.process_alive(row.owner, now):
        return replace(view, state=UNCONFIRMED, last_error=view.last_error or LEFTOVER_ERROR)
    return view


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
        "exportRequestId": _export_request_id(view, history),
        "finalRequestId": _final_request_id(view, history),
        "submittedBy": view.submitted_by,
        "tenant": view.tenant_key,
        "notes": notes,
    }


def report_rows(
    journal: OperationJournal,
    *,
    keys: Iterable[int] | None = None,
    tenant_key: str | None = None,
    case: str | None = None,
    since: float | None = None,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """The report's rows, oldest first: every operation of the journal that matches.

    Args:
        journal: the journal to read (nothing else is touched: no token, no network).
        keys: only these journal rows (the console's marked or shown operations).
        tenant_key: only this tenant's operations (None: every tenant).
        case: only this case reference.
        since: only operations recorded at or after this epoch time.
        now: the time against which a process's heartbeat is judged (default: the system clock).
    """
    import time

    wanted = set(keys) if keys is not None else None
    moment = time.time() if now is None else now
    rows: list[dict[str, Any]] = []
    for row in journal.rows(tenant_key, case=case or None, since=since):
        if wanted is not None and row.key not in wanted:
            continue
        view = view_of(journal, row, moment)
        rows.append(row_for(view, journal.history(row.key), _notes(journal, row.key)))
    return rows


# -- rendering ------------------------------------------------------------------------------------


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


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


def _summary(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    counts = Counter(str(r.get("status") or "unknown") for r in rows)
    people = {str(r.get("userId", "")).lower() for r in rows}
    submitted = sorted(str(r["submittedDateTime"]) for r in rows if r.get("submittedDateTime"))
    completed = sorted(str(r["completedDateTime"]) for r in rows if r.get("completedDateTime"))
    tenants = sorted({str(r.get("tenant") or "") for r in rows} - {""})
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    lines = [
        f"- Operations: {len(rows)}" + (f" ({by_status})" if rows else ""),
        f"- People: {len(people)}",
        f"- First submitted: {submitted[0] if submitted else '-'}",
        f"- Last submitted: {submitted[-1] if submitted else '-'}",
        f"- Last completed: {completed[-1] if completed else '-'}",
        f"- Delivery checked: {sum(1 for r in rows if r.get('delivered'))}",
        f"- Tenant: {', '.join(_md_cell(t) for t in tenants) or '-'}",
    ]
    return lines


def render_markdown(rows: Sequence[Mapping[str, Any]], *, case: str | None, generated_at: float) -> str:
    title = f"# Evidence report: case {_md_cell(case)}" if case else "# Evidence report: every case"
    out = [
        title,
        "",
        f"Generated {iso_utc(generated_at)} from the export-console journal. Times are UTC; storage "
        "signatures are masked.",
        "",
        "## Summary",
        "",
        *_summary(rows),
        "",
        "## Operations",
        "",
    ]
    if not rows:
        out.append("No operations match.")
    else:
        out.append("| " + " | ".join(FIELDS) + " |")
        out.append("|" + "---|" * len(FIELDS))
        for row in rows:
            out.append("| " + " | ".join(_md_cell(_flat(row, name)) for name in FIELDS) + " |")
    return "\n".join(out) + "\n"


def render_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([_csv_cell(_flat(row, name)) for name in FIELDS])
    return buffer.getvalue()


def render_json(rows: Sequence[Mapping[str, Any]]) -> str:
    return (
        # ASCII only: control and bidirectional characters become JSON \u escapes (the same data, safe bytes).
        json.dumps(
            [{name: _finite(row.get(name)) for name in FIELDS} for row in rows],
            indent=2,
            allow_nan=False,
            ensure_ascii=True,
        )
        + "\n"
    )


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
