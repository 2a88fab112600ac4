"""The commands that read (or annotate) the journal only: ``ops``, ``note`` and ``report``.

None of them signs in or touches the network (``console.wiring.open_journal_only``), except
``ops --reconcile``, which asks Graph about the unconfirmed exports (``cmd_ops_reconcile``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.cli.exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageProblem
from console.cli.output import clean, json_text, say
from console.ops.events import INTENT, TRACKING, UNCONFIRMED, OperationView
from console.private import open_private_file

if TYPE_CHECKING:
    from console.ops.reconcile import ReconcileReport
    from console.wiring import ConnectionOptions, JournalOnly, Services


def cmd_ops(journal_only: JournalOnly, args: argparse.Namespace) -> int:
    """List the journal's operations, filtered by the one status vocabulary and by case."""
    from console.cli.journal_listing import (
        JSON_COLUMNS,
        TABLE_COLUMNS,
        TENANTS_TABLE_COLUMNS,
        Views,
        print_operations_streamed,
        several_tenants,
        write_json_lines,
    )
    from console.ops.vocabulary import UnknownStatusWord, matches_status, parse_status_word

    word = None
    if args.status:
        try:
            word = parse_status_word(args.status)
        except UnknownStatusWord as exc:
            raise UsageProblem(str(exc)) from None
    journal = journal_only.journal
    # The table's TENANT column: read only when the journal holds several tenants (the query stays lean).
    chosen_all = journal_only.tenant_key is None or journal_only.tenant_keys is not None
    tenants = not args.json and chosen_all and several_tenants(journal)
    columns = JSON_COLUMNS if args.json else TENANTS_TABLE_COLUMNS if tenants else TABLE_COLUMNS
    views = Views(journal, columns, time.time())
    found: Iterable[OperationView | Sequence[Any]]
    if journal_only.tenant_keys is not None:  # several tenants
        from console.cli.fleet_commands import rows_of_tenants, warn_unknown

        warn_unknown(journal_only)
        found = rows_of_tenants(journal, journal_only.tenant_keys, _prefilter(word), args.case or None, columns)
    else:
        found = journal.iter_values(journal_only.tenant_key, _prefilter(word), case=args.case or None, lean=columns)
    if word is not None:
        found = (v for v in map(views, found) if matches_status(v, word))
    if args.json:
        write_json_lines(found, views)
    else:
        print_operations_streamed(found, views, tenants=tenants)
    return EXIT_OK


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
    from console.report import view_of

    journal = journal_only.journal
    text = args.text.strip()
    if not text:
        raise UsageProblem("the note is empty")
    wanted = args.operation_id.strip()
    row = journal.find_operation(wanted)
    if row is None and wanted.isdigit():
        key = int(wanted)
        row = journal.row(key) if key < 2**63 else None  # SQLite integers are 64-bit
    if row is None or not journal_only.covers(row.tenant_key):
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
    if journal_only.tenant_keys is not None:
        from console.cli.fleet_commands import warn_unknown

        warn_unknown(journal_only)
    rows = iter_report_rows(
        journal_only.journal,
        tenant_key=journal_only.tenant_key if journal_only.tenant_keys is None else None,  # several: ``tenants``
        case=args.case,
        since=since,
        now=now,
        tenants=journal_only.tenant_keys,
        names=journal_only.names,
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
