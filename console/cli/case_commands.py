"""``case open|extend|close|list``: data-subject request cases in the journal (no sign-in, no network).

Dates are UTC calendar dates (``YYYY-MM-DD``); every change is kept as a dated event with its author
(``console.ops.cases``). A bad date, a due date out of the legal range or an unknown case: exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from console.cli.exitcodes import EXIT_OK, EXIT_USAGE, UsageProblem
from console.cli.journal_commands import author_for
from console.cli.output import clean, json_text, print_table, say
from console.ops.cases import Case, CaseError, CaseStore, parse_date, utc_date
from console.private import open_private_file
from console.wiring import ConnectionOptions, JournalOnly


def now() -> float:
    """The current time (tests replace it to move the calendar)."""
    return time.time()


def _date_option(name: str, text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise UsageProblem(f"{name} {exc}") from None


def cmd_case(journal_only: JournalOnly, args: argparse.Namespace, options: ConnectionOptions) -> int:
    """Run one ``case`` action; the rules' refusals are usage errors (exit 2, nothing written)."""
    store = CaseStore(journal_only.journal)
    at = now()
    today = utc_date(at)
    action = args.case_action
    if action == "list":
        return _list(store, journal_only.tenant_key, today, as_json=args.json)
    author = author_for(options)
    try:
        if action == "open":
            received = _date_option("--received", args.received) if args.received else today
            due = _date_option("--due", args.due) if args.due else None
            case = store.open(
                journal_only.tenant_key or "",
                args.ref,
                received=received,
                due=due,
                subject=args.subject.strip(),
                author=author,
                at=at,
            )
            say(
                f"case {clean(case.ref)} opened by {clean(author)}: received {case.received.isoformat()}, "
                f"due {case.due.isoformat()} ({case.days_left(today)} day(s) left)"
            )
        elif action == "extend":
            due = _date_option("--due", args.due)
            case = store.extend(journal_only.tenant_key, args.ref, due=due, reason=args.reason, author=author, at=at)
            say(f"case {clean(case.ref)} extended by {clean(author)}: due {case.due.isoformat()}")
        else:
            case = store.close(journal_only.tenant_key, args.ref, note=args.note, author=author, at=at)
            say(f"case {clean(case.ref)} closed by {clean(author)}")
    except CaseError as exc:
        raise UsageProblem(str(exc)) from None
    return EXIT_OK


def case_record(store: CaseStore, case: Case, today: date) -> dict[str, Any]:
    """A case as ``case list --json`` writes it."""
    counts = store.counts(case)
    return {
        "case": case.ref,
        "subject": case.subject,
        "received": case.received.isoformat(),
        "due": case.due.isoformat(),
        "daysLeft": case.days_left(today),
        "state": case.shown_state(today),
        "exports": counts.exports,
        "complete": counts.complete,
        "failed": counts.failed,
        "removals": counts.removals,
    }


_HEADERS = ("CASE", "SUBJECT", "RECEIVED", "DUE", "DAYS LEFT", "STATE", "EXPORTS", "COMPLETE", "FAILED", "REMOVALS")


def _list(store: CaseStore, tenant_key: str | None, today: date, *, as_json: bool) -> int:
    records = [case_record(store, case, today) for case in store.cases(tenant_key)]
    if as_json:
        for record in records:
            print(json_text(record), flush=True)
        return EXIT_OK
    if not records:
        say("no cases in the journal: `case open REF` opens one")
        return EXIT_OK
    print_table(_HEADERS, [list(record.values()) for record in records])
    return EXIT_OK


@dataclass(frozen=True)
class ReportPart:
    """One part of a case's report, ready to write."""

    rows: Iterator[dict[str, Any]]
    fields: tuple[str, ...]
    title: str
    head: list[str]
    name: str
    """``subject`` or ``internal`` (the ``part`` column of ``--part all`` in csv and json)."""


def _find_case(store: CaseStore, tenant_key: str | None, ref: str) -> Case | None:
    try:
        return store.find(tenant_key, ref)
    except CaseError:
        return None  # exports filed under a case never opened: the trail still stands, without a deadline


def _subject_part(journal_only: JournalOnly, case: Case | None, ref: str, since: Any, at: float) -> ReportPart:
    """The part for the person: what was exported or removed, when and where; no internal names or ids."""
    from console.report import SUBJECT_FIELDS, iter_report_rows, subject_rows

    store = CaseStore(journal_only.journal)
    rows = iter_report_rows(journal_only.journal, tenant_key=journal_only.tenant_key, case=ref, since=since, now=at)
    head = [f"Request received: {case.received.isoformat()}", f"Answer due: {case.due.isoformat()}"] if case else []
    parts = subject_rows(rows, store.removal_ids(journal_only.tenant_key, ref))
    return ReportPart(parts, SUBJECT_FIELDS, f"Your request {ref}: what was done with your data", head, "subject")


def _internal_part(journal_only: JournalOnly, case: Case | None, ref: str, since: Any, at: float) -> ReportPart:
    """The audit trail: every action with time, author, request-ids and notes, the case's events, the deadline."""
    from console.ops.cases import deadline_text
    from console.report import INTERNAL_FIELDS, internal_rows, iso_utc, iter_report_rows

    store = CaseStore(journal_only.journal)
    rows = iter_report_rows(journal_only.journal, tenant_key=journal_only.tenant_key, case=ref, since=since, now=at)
    if case is None:
        trail = internal_rows(rows, [], None)
        return ReportPart(iter(trail), INTERNAL_FIELDS, f"Audit trail: case {ref}", [NEVER_OPENED], "internal")
    today = utc_date(at)
    events = [
        {
            "case": ref,
            "at": iso_utc(e.at),
            "action": f"case {e.kind}",
            "by": e.author,
            "due": e.due.isoformat() if e.due else "",
            "text": e.text,
        }
        for e in store.events(case)
    ]
    deadline = {"case": ref, "due": case.due.isoformat(), "met": deadline_text(case, today)}
    head = [
        f"Received: {case.received.isoformat()}",
        f"Due: {case.due.isoformat()}",
        f"State: {case.shown_state(today)}",
        f"Deadline: {deadline['met']}",
    ]
    trail = internal_rows(rows, events, deadline)
    return ReportPart(iter(trail), INTERNAL_FIELDS, f"Audit trail: case {ref}", head, "internal")


NEVER_OPENED = "No case record: this case was never opened (no deadline)"


def _write_parts(parts: list[ReportPart], fmt: Any, out: TextIO, at: float) -> int:
    """Write one part, or (``--part all``) both in one report: md as two sections, csv and json as one
    table whose ``part`` column says which part each row belongs to (the person's rows hold only theirs)."""
    from console.report import write_part

    if len(parts) == 1 or fmt == "md":
        count = 0
        for part in parts:
            count += write_part(part.rows, part.fields, fmt, out, title=part.title, head=part.head, generated_at=at)
            out.write("\n" if fmt == "md" and part is not parts[-1] else "")
        return count
    fields = ("part", *dict.fromkeys(name for part in parts for name in part.fields))
    rows = ({"part": part.name, **row} for part in parts for row in part.rows)
    return write_part(rows, fields, fmt, out, title="", generated_at=at)


def cmd_case_report(journal_only: JournalOnly, args: argparse.Namespace) -> int:
    """``report --case REF --part subject|internal|all``: the person's part, the audit trail, or both (issue 19)."""
    from console.cli.journal_commands import parse_since

    if not args.case:
        raise UsageProblem(f"--part {args.part} is the report of one case: give --case REF")
    ref = args.case.strip()
    since = parse_since(args.since)
    at = now()
    case = _find_case(CaseStore(journal_only.journal), journal_only.tenant_key, ref)
    makers = {"subject": [_subject_part], "internal": [_internal_part], "all": [_subject_part, _internal_part]}
    parts = [make(journal_only, case, ref, since, at) for make in makers[args.part]]
    if args.output is None or args.output == "-":
        _write_parts(parts, args.format, sys.stdout, at)
        return EXIT_OK
    try:
        with open_private_file(args.output, encoding="utf-8", newline="") as handle:
            count = _write_parts(parts, args.format, handle, at)
    except OSError as exc:
        say(f"export-console: cannot write {clean(args.output)}: {clean(exc.strerror or exc)}")
        return EXIT_USAGE
    what = "both parts" if args.part == "all" else f"{args.part} part"
    say(f"{what} of case {clean(ref)}: {count} row(s) written to {clean(args.output)}")
    return EXIT_OK
