"""The commands that read (or annotate) the journal only: ``ops``, ``note`` and ``report``.

None of them signs in or touches the network (``console.wiring.open_journal_only``), except
``ops --reconcile``, which asks Graph about the unconfirmed exports (``cmd_ops_reconcile``).
"""

from __future__ import annotations

import argparse
import getpass
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from console.cli.exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageProblem
from console.cli.output import CELL_WIDTH, _cut, clean, json_text, say
from console.ops.events import INTENT, TRACKING, UNCONFIRMED, OperationView, _iso
from console.cli.views import _progress, _when, explain_error, person_name, view_json
from console.ops.journal import COLUMN, OperationJournal, row_from_values
from console.report import _DAYS, _STAMP, SPOOL_IN_MEMORY, _stamp, delivered_json, iso_of, view_of
from console.private import open_private_file
from console.wiring import ConnectionOptions, JournalOnly

if TYPE_CHECKING:
    from console.ops.reconcile import ReconcileReport
    from console.wiring import Services


def cmd_ops(journal_only: JournalOnly, args: argparse.Namespace) -> int:
    """List the journal's operations, filtered by the one status vocabulary and by case."""
    from console.ops.vocabulary import UnknownStatusWord, matches_status, parse_status_word

    word = None
    if args.status:
        try:
            word = parse_status_word(args.status)
        except UnknownStatusWord as exc:
            raise UsageProblem(str(exc)) from None
    now = time.time()
    journal = journal_only.journal
    alive: dict[str | None, bool] = {}
    found: Iterator[OperationView | Sequence[Any]]
    lean = None if word is not None else _JSON_READ if args.json else _TABLE_READ
    found = journal.iter_values(journal_only.tenant_key, _prefilter(word), case=args.case or None, lean=lean)
    if word is not None:
        views: Iterator[OperationView] = (view_of(journal, row_from_values(values), now, alive) for values in found)
        found = (v for v in views if matches_status(v, word))
    if args.json:
        write_json_lines(found, journal, now, alive)
        return EXIT_OK
    print_operations_streamed(found, journal, now, alive)
    return EXIT_OK


def _view(
    item: OperationView | Sequence[Any], journal: OperationJournal, now: float, alive: dict[str | None, bool]
) -> OperationView:
    """The view of a listed item: a view already, or a query tuple (``OperationJournal.iter_values``)."""
    if isinstance(item, OperationView):
        return item
    return view_of(journal, row_from_values(item), now, alive)


def write_json_lines(
    items: Iterable[OperationView | Sequence[Any]],
    journal: OperationJournal,
    now: float,
    alive: dict[str | None, bool],
) -> None:
    """``ops --json``: one ``view_json`` object a line, a thousand lines a write. A tuple of a row that
    is not an intent (its view is the row as it is) becomes the same object without its view."""
    write = sys.stdout.write
    chunk: list[str] = []
    encode = _ENCODE
    for item in items:
        if not isinstance(item, OperationView) and item[_STATE] != INTENT:
            record = _json_record(item)
        else:
            record = view_json(_view(item, journal, now, alive))
        try:  # ``_json_line``, inlined
            chunk.append(encode(record))
        except ValueError:
            chunk.append(json_text(record))
        if len(chunk) == 1000:
            chunk.append("")
            write("\n".join(chunk))
            chunk.clear()
    if chunk:
        chunk.append("")
        write("\n".join(chunk))


def _json_record(values: Sequence[Any]) -> dict[str, object]:
    """``view_json(row_from_values(values).view())``, built from the tuple."""
    (
        operation_id,
        user_id,
        state,
        status,
        progress,
        submitted,
        completed,
        storage,
        error,
        case,
        text,
        name,
        upn,
        kind,
    ) = _JSON_COLUMNS(values)
    return {
        "operationId": operation_id,
        "userId": user_id,
        "status": status or _NOT_YET.get(state, state),
        "progress": None if progress is None or not math.isfinite(progress) else progress,
        "submittedDateTime": iso_of(submitted),
        "completedDateTime": iso_of(completed),
        "storageLocation": storage,
        "state": state,
        "error": explain_error(str(error)) if error else None,
        "key": values[0],
        "case": case,
        "delivered": delivered_json(text) if text else None,
        "displayName": name,
        "userPrincipalName": upn,
        "kind": kind,
    }


_JSON_COLUMNS = itemgetter(
    *(
        COLUMN[name]
        for name in (
            "operation_id",
            "user_id",
            "state",
            "status",
            "progress",
            "submitted_at",
            "completed_at",
            "storage_location",
            "last_error",
            "case_ref",
            "delivered",
            "display_name",
            "user_principal_name",
            "kind",
        )
    )
)
"""The columns an ``ops --json`` object takes from the query's tuple, in ``_json_record``'s order."""
_TABLE_READ = frozenset(
    {
        "user_id",
        "operation_id",
        "status",
        "progress",
        "submitted_at",
        "completed_at",
        "last_error",
        "case_ref",
        "display_name",
        "user_principal_name",
    }
)
"""The columns the table takes from a row that is not an intent (``OperationJournal.iter_values``' ``lean``)."""
_JSON_READ = _TABLE_READ | {"storage_location", "delivered", "kind"}
"""The columns ``_json_record`` takes."""
_STATE = COLUMN["state"]
_STATUS = COLUMN["status"]
_NOT_YET = {INTENT: "submitting", TRACKING: "notStarted"}


def _json_line(record: dict[str, object]) -> str:
    """``json_text(record)``, without its walk over every value when no number is NaN or infinite
    (then the plain encoder writes the same text; it refuses a non-finite number, and the walk runs)."""
    try:
        return _ENCODE(record)
    except ValueError:
        return json_text(record)


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


def _table_when(raw: object) -> str:
    """``_when(iso_of(raw))``: a journal time as the table shows it (``2026-12-01 10:00:00``)."""
    found = _stamp(raw)
    if found is None:
        return _when(iso_of(raw))
    seconds = found[1]
    return f"{seconds[:10]} {seconds[11:]}"


def _prefilter(word: str | None) -> tuple[str, ...] | None:
    """The journal states a row may have to match ``ops --status word`` (None: any), for the query.

    Only narrows: the word's own test still runs on every row read (an intent of a dead process reads
    as unconfirmed, so an intent row stays a candidate for ``unconfirmed`` and the groups with it).
    """
    from console.ops.vocabulary import STATES, matches_status

    if word is None:
        return None
    candidates: list[str] = []
    for state in STATES:
        shown = (state, UNCONFIRMED) if state == INTENT else (state,)
        probes = [_Probe(s, status) for s in shown for status in _PROBE_STATUSES]
        if any(matches_status(probe, word) for probe in probes):
            candidates.append(state)
    return None if len(candidates) == len(STATES) else tuple(candidates)


class _Probe:
    """A state and a status, to ask the vocabulary which journal states a word can match."""

    def __init__(self, state: str, status: str | None) -> None:
        self.state = state
        self.status = status

    @property
    def display_status(self) -> str:
        """As ``OperationView.display_status``: Graph's status, else the journal state."""
        return self.status or {INTENT: "submitting", TRACKING: "notStarted"}.get(self.state, self.state)


_PROBE_STATUSES = (None, "notStarted", "running", "complete", "failed", "someNewStatus")


def print_operations_streamed(
    items: Iterable[OperationView | Sequence[Any]],
    journal: OperationJournal | None = None,
    now: float = 0.0,
    alive: dict[str | None, bool] | None = None,
) -> None:
    """``print_operations``' table, byte for byte, without holding every row: the escaped cells go
    to a temporary file while the column widths are measured, then come back as aligned lines.

    ``items`` are views, or query tuples (``OperationJournal.iter_values`` of ``journal``): the cells of
    a row that is not an intent come straight from its tuple (its view is the row as it is).
    """
    from console.ops.vocabulary import STATE_WORDS, shown_status

    headers = ["NAME", "USER ID", "STATUS", "PROGRESS", "SUBMITTED (UTC)", "COMPLETED (UTC)", "OPERATION", "ERROR"]
    widths = [len("CASE"), *(len(h) for h in headers)]
    with_case = False
    c = COLUMN
    at_case, at_name, at_upn, at_user = c["case_ref"], c["display_name"], c["user_principal_name"], c["user_id"]
    at_progress, at_submitted, at_completed = c["progress"], c["submitted_at"], c["completed_at"]
    at_operation, at_error = c["operation_id"], c["last_error"]
    percents: dict[object, str] = {}
    stamp, days = _STAMP.fullmatch, _DAYS
    # In memory up to SPOOL_IN_MEMORY (a full disk still gets its report), on disk beyond (flat memory).
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, "w+", encoding="utf-8", newline="") as spool:
        chunk: list[str] = []
        for item in items:
            if type(item) is tuple and item[_STATE] != INTENT:
                # The hot loop (100,000 rows): ``_progress`` and ``_table_when`` inlined, with memos.
                state = item[_STATE]
                error = item[at_error]
                case = item[at_case]
                progress = item[at_progress]
                percent = percents.get(progress)
                if percent is None:
                    percent = _progress(progress)
                    if len(percents) < 1000:
                        percents[progress] = percent
                submitted = item[at_submitted]
                if type(submitted) is str and stamp(submitted) and days.get(submitted[:10]):
                    submitted = f"{submitted[:10]} {submitted[11:19]}"
                else:
                    submitted = _table_when(submitted)
                completed = item[at_completed]
                if type(completed) is str and stamp(completed) and days.get(completed[:10]):
                    completed = f"{completed[:10]} {completed[11:19]}"
                else:
                    completed = _table_when(completed)
                raw: tuple[Any, ...] = (
                    case or "-",
                    item[at_name] or item[at_upn] or "-",
                    item[at_user],
                    state if state in STATE_WORDS else item[_STATUS] or _NOT_YET.get(state, state),
                    percent,
                    submitted,
                    completed,
                    item[at_operation] or f"(row {item[0]})",
                    explain_error(error) if error else "",
                )
            else:
                v = item if isinstance(item, OperationView) else _view(item, journal, now, alive or {})  # type: ignore[arg-type]
                case = v.case
                # The cells ``print_operations`` takes from ``view_json``, without building the rest of it.
                raw = (
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
            if case:
                with_case = True
            try:
                plain = "".join(raw).isprintable()
            except TypeError:  # a cell that is not text
                plain = False
            lengths = list(map(len, raw)) if plain else None
            cells: Sequence[str]
            if lengths is not None and max(lengths) <= CELL_WIDTH:  # nearly always: escaping changes nothing
                cells = raw
            else:
                cells = [_cut(clean(t)) for t in raw]
                lengths = list(map(len, cells))
            widths = list(map(max, widths, lengths))
            # Escaped cells hold neither NUL nor a line break: one line, NUL-separated.
            chunk.append("\0".join(cells))
            if len(chunk) == 1000:
                chunk.append("")
                spool.write("\n".join(chunk))
                chunk.clear()
        if chunk:
            chunk.append("")
            spool.write("\n".join(chunk))
        if with_case:
            headers.insert(0, "CASE")
            first = 0
        else:
            first = 1
        line = "  ".join(f"{{:<{w}}}" for w in widths[first:]).format
        write = sys.stdout.write
        write(line(*headers).rstrip() + "\n")
        spool.seek(0)
        out: list[str] = []
        for text in spool:
            out.append(line(*text[:-1].split("\0")[first:]).rstrip())
            if len(out) == 1000:
                out.append("")
                write("\n".join(out))
                out.clear()
        if out:
            out.append("")
            write("\n".join(out))


def author_for(options: ConnectionOptions) -> str:
    """Who writes a note without signing in: the chosen tenant's identity when it is known, else $USER."""
    if options.demo:
        from console.wiring import DEMO_IDENTITY

        return DEMO_IDENTITY
    if options.token_env:
        from console.jwt import claim_str, token_claims

        token = os.environ.get(options.token_env, "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        claims = token_claims(token) if token else None
        who = claim_str(claims, "upn", "preferred_username", "unique_name", "appid", "azp")
        if who:
            return who
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no passwd entry (a container): still say something
        return "unknown"


def cmd_note(journal_only: JournalOnly, args: argparse.Namespace, options: ConnectionOptions) -> int:
    """Add a note to one operation, found by Graph's operation id or by its journal row number."""
    journal = journal_only.journal
    text = args.text.strip()
    if not text:
        raise UsageProblem("the note is empty")
    wanted = args.operation_id.strip()
    row = journal.find_operation(wanted)
    if row is None and wanted.isdigit():
        key = int(wanted)
        row = journal.row(key) if key < 2**63 else None  # SQLite integers are 64-bit
    if row is None or (journal_only.tenant_key is not None and row.tenant_key != journal_only.tenant_key):
        raise UsageProblem(
            f"no operation {clean(wanted)!r} in the journal{' of this tenant' if journal_only.tenant_key else ''}: "
            "give Graph's operation id or the row number `ops` shows"
        )
    author = author_for(options)
    now = time.time()
    ident = clean(row.operation_id or f"journal row {row.key}")
    who = clean(row.user_principal_name or row.user_id)
    try:
        if args.resolve:
            if view_of(journal, row, now).state == UNCONFIRMED and row.state != UNCONFIRMED:
                journal.recover_intents(row.tenant_key, now)  # a dead process's intent: unconfirmed first
            journal.resolve(row.key, text, author, now)
        else:
            journal.add_note(row.key, text, author, now)
    except KeyError:
        raise UsageProblem(f"no operation {clean(wanted)!r} in the journal") from None
    except ValueError as exc:  # not unconfirmed: nothing to resolve
        raise UsageProblem(
            f"cannot resolve {ident} ({who}): {clean(str(exc))}; only an unconfirmed export can be"
        ) from None
    done = "resolved, with a note," if args.resolve else "note added to"
    say(f"{done} {ident} ({who}) by {clean(author)}")
    return EXIT_OK


def parse_since(text: str | None) -> float | None:
    """``--since DATE``: an ISO 8601 date or date-time (UTC unless it says otherwise) as epoch seconds.

    Raises:
        UsageProblem: not a date.
    """
    if text is None:
        return None
    value = text.strip()
    try:
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageProblem(
            f"--since {clean(text)!r} is not a date: use ISO 8601 such as 2026-12-01 or 2026-12-01T09:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def cmd_report(journal_only: JournalOnly, args: argparse.Namespace) -> int:
    """Write the evidence report (stdout, or --output PATH created private to the user)."""
    from console.report import iter_report_rows, write_report

    since = parse_since(args.since)
    now = time.time()
    rows = iter_report_rows(
        journal_only.journal, tenant_key=journal_only.tenant_key, case=args.case, since=since, now=now
    )
    if args.output is None or args.output == "-":
        write_report(rows, args.format, sys.stdout, case=args.case, generated_at=now)
        return EXIT_OK
    try:
        with open_private_file(args.output, encoding="utf-8", newline="") as handle:
            count = write_report(rows, args.format, handle, case=args.case, generated_at=now)
    except OSError as exc:
        say(f"export-console: cannot write {clean(args.output)}: {clean(exc.strerror or exc)}")
        return EXIT_USAGE
    say(f"report of {count} operation(s) written to {clean(args.output)}")
    return EXIT_OK


def print_reconcile(report: ReconcileReport, *, as_json: bool) -> None:
    """What reconciling did: JSON Lines (one object per row) or one line per row; "not offered" said once."""
    if as_json:
        for result in report.results:
            print(json_text(result.to_json()), flush=True)
        if report.not_offered:
            say(f"export-console: {report.summary()}")
        return
    for line in report.lines():
        say(clean(line))
    if report.results and not report.not_offered:
        say(clean(report.summary()))


async def cmd_ops_reconcile(services: Services, args: argparse.Namespace) -> int:
    """``ops --reconcile``: ask Graph about each unconfirmed export; exit 1 while any remain unconfirmed."""
    report = await services.engine.reconcile()
    if not report.results and not args.json:
        say("nothing to reconcile: no unconfirmed exports in the journal")
    print_reconcile(report, as_json=args.json)
    return EXIT_FAILED if report.remaining else EXIT_OK
