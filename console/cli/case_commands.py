"""``case open|extend|close|list``: data-subject request cases in the journal (no sign-in, no network).

Dates are UTC calendar dates (``YYYY-MM-DD``); every change is kept as a dated event with its author
(``console.ops.cases``). A bad date, a due date out of the legal range or an unknown case: exit 2.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

from console.cli.exitcodes import EXIT_OK, UsageProblem
from console.cli.journal_commands import author_for
from console.cli.output import clean, json_text, print_table, say
from console.ops.cases import Case, CaseError, CaseStore, parse_date, utc_date
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
