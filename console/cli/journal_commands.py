"""The commands that read (or annotate) the journal only: ``ops``, ``note`` and ``report``.

None of them signs in or touches the network (``console.wiring.open_journal_only``), except
``ops --reconcile``, which asks Graph about the unconfirmed exports (``cmd_ops_reconcile``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import time
from datetime import UTC, datetime

from typing import TYPE_CHECKING

from console.cli.exitcodes import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageProblem
from console.cli.output import clean, json_text, say
from console.ops.events import UNCONFIRMED
from console.cli.views import print_operations, view_json
from console.report import view_of
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
    rows = journal_only.journal.rows(journal_only.tenant_key, case=args.case or None)
    views = [view_of(journal_only.journal, row, now) for row in rows]
    if word is not None:
        views = [v for v in views if matches_status(v, word)]
    if args.json:
        for view in views:
            print(json_text(view_json(view)))
        return EXIT_OK
    print_operations(views)
    return EXIT_OK


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
        row = next((r for r in journal.rows(journal_only.tenant_key) if r.key == key), None)
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
    from console.report import render_report, report_rows

    since = parse_since(args.since)
    now = time.time()
    rows = report_rows(journal_only.journal, tenant_key=journal_only.tenant_key, case=args.case, since=since, now=now)
    text = render_report(rows, args.format, case=args.case, generated_at=now)
    if args.output is None or args.output == "-":
        print(text, end="")
        return EXIT_OK
    try:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        say(f"export-console: cannot write {clean(args.output)}: {clean(exc.strerror or exc)}")
        return EXIT_USAGE
    say(f"report of {len(rows)} operation(s) written to {clean(args.output)}")
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
