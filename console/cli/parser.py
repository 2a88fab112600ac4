"""The argument parser: the contract's global options and commands, each with an example and the exit codes."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from typing import Any, NoReturn

from console import __version__
from console.cli.exitcodes import EXIT_CODES_HELP
from console.cli.options import add_flags, json_flag
from console.cli.remove_commands import add_removal_commands
from console.ops.budget import DEFAULT_POLL_BUDGET

Command = Callable[..., argparse.ArgumentParser]
"""The parser's subcommand factory: ``command(name, help, *examples)`` gives a subcommand's parser."""

SAS_EXAMPLE = "https://acct.blob.core.windows.net/dsr-{userId}?sv=...&ss=b&srt=co&sp=rwlc&se=...&sig=..."


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``export-console: error: ... (see --help)``, exit 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def _not_empty(what: str) -> Callable[[str], str]:
    """An option value that must say something: an empty one would silently mean the default."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"empty: give {what}")
        if any(not ch.isprintable() for ch in text):
            raise argparse.ArgumentTypeError(f"holds a control character or line break: give {what}")
        return text

    return check


_CASE_REF = _not_empty("a case reference such as DSR-1234, or leave --case out")
"""``--case ""`` (an unset ``$REF``) would export without the case, or list every case: refused instead."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {value}")
    return value


class _PollBudget(argparse.Action):
    """``--poll-budget N``: also notes that it was given (it then overrides a saved tenant's ``poll_budget``)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, _s: Any = None
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.poll_budget_given = True


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {value}")
    return value


_VALUE_OPTIONS = (
    ("--graph-url", "URL", "", "Graph API base including the version (default https://graph.microsoft.com/beta)"),
    (
        "--token-env",
        "VAR",
        "the name of the environment variable holding the token",
        "take a bearer token from this environment variable",
    ),
    (
        "--tenant",
        "NAME",
        "the name of a saved tenant",
        "a saved tenant from config.toml; repeat it for several (watch, ops, report and the console)",
    ),
    (
        "--state-dir",
        "DIR",
        "a directory (or leave the option out for the per-user directories)",
        "keep config, journal, token cache and logs here (or EXPORT_CONSOLE_STATE_DIR)",
    ),
)
"""The global options that take a value: (name, metavar, what an empty value should have been, help)."""

_FLAG_OPTIONS = (
    ("--all-tenants", "every saved tenant in config.toml (watch, ops, report and the console)"),
    ("--read-only", "send nothing that changes anything (removals are refused; issue 19)"),
    (
        "--debug",
        "write a debug log (request ids, throttling and budget decisions; secrets masked); its path is printed",
    ),
)
"""The global on/off options after ``--poll-budget``: (name, help)."""


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The global options, accepted before and after the command (``profiles --demo`` works too)."""
    default: Any = argparse.SUPPRESS if suppress else None
    flag: Any = argparse.SUPPRESS if suppress else False
    group = parser.add_argument_group("tenant")
    group.add_argument("--demo", action="store_true", default=flag, help="use the built-in simulated tenant")
    for name, metavar, empty, help_text in _VALUE_OPTIONS:
        check = _not_empty(empty) if empty else str
        action = "append" if name == "--tenant" else "store"
        group.add_argument(name, metavar=metavar, default=default, type=check, help=help_text, action=action)
    group.add_argument(
        "--poll-budget",
        metavar="N",
        type=_positive_int,
        action=_PollBudget,
        default=argparse.SUPPRESS if suppress else DEFAULT_POLL_BUDGET,
        help=f"requests an hour for this tenant, shared by every process on the journal (default: the saved "
        f"tenant's poll_budget, else {DEFAULT_POLL_BUDGET}; Graph allows 10,000)",
    )
    for name, help_text in _FLAG_OPTIONS:
        group.add_argument(name, action="store_true", default=flag, help=help_text)
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="log diagnostics (request ids, never tokens) to stderr",
    )


def _epilog(*examples: str) -> str:
    lines = ["example:" if len(examples) == 1 else "examples:"]
    lines.extend(f"  {e}" for e in examples)
    return "\n".join(lines) + "\n\n" + EXIT_CODES_HELP


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="export-console",
        description="Export the personal data of Entra inbound shared user profiles. "
        "With no command, opens the console.",
        epilog=_epilog(
            "export-console --demo",
            "export-console --tenant contoso profiles --search garcia",
            "export-console --graph-url http://127.0.0.1:8000/beta --token-env SIM_TOKEN ops --status unfinished",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"export-console {__version__}")
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, *examples: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text.split(". ")[0],
            description=textwrap.fill(help_text, 88),
            epilog=_epilog(*examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(sub, suppress=True)
        return sub

    _add_profiles(command)
    _add_export(command)
    _add_watch(command)
    _add_ops_and_note(command)
    add_removal_commands(command)
    _add_report(command)
    _case_parser(
        command(
            "case",
            "open, extend, close and list data-subject request cases (no sign-in, no network)",
            "export-console --tenant contoso case open DSR-1234 --received 2026-12-01 --subject 'access request'",
            "export-console --tenant contoso case extend DSR-1234 --due 2027-02-01 --reason 'complex request'",
            "export-console --tenant contoso case list --json",
        )
    )

    simulate = command(
        "simulate",
        "serve the simulated tenant on loopback",
        "export-console simulate --port 8000 --profiles 1000",
    )
    _simulate_options(simulate)
    return parser


def _add_profiles(command: Command) -> None:
    """``profiles``: the tenant's inbound shared user profiles (Graph)."""
    profiles = command(
        "profiles",
        "list the tenant's inbound shared user profiles",
        "export-console --tenant contoso profiles --search 'fabrikam garcia' --json",
    )
    profiles.add_argument(
        "--search", metavar="TEXT", help="only profiles whose name, UPN, id or home tenant contain TEXT"
    )
    add_flags(profiles, json_flag("profile"))


def _add_export(command: Command) -> None:
    """``export``: the one command that POSTs (every check first, then one export per profile)."""
    export = command(
        "export",
        "export the personal data of one or more profiles (one storage container per export). Nothing is sent "
        "until every check passed: the users exist, none has an unfinished or unconfirmed export (unless "
        "--force), the daily quota, the SAS (expiry, permissions), and each container's pre-flight. A user "
        "whose container the pre-flight refuses is not exported and is reported (exit 1; exit 2 when nothing "
        "at all was sent); storage out of reach is only a warning.",
        f"SAS='{SAS_EXAMPLE}'",
        "export-console --tenant contoso export --from-file ids.txt --storage-location-env SAS --case DSR-1234 --wait",
    )
    export.add_argument("user_ids", nargs="*", metavar="USER_ID", help="userId of a profile")
    export.add_argument(
        "--from-file", metavar="PATH", help="read user ids from a file, one a line ('-' for stdin; at most 10 MB)"
    )
    where = export.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--storage-location",
        metavar="LOC",
        help="an https SAS URL to a container, or a storage account name; {userId}, {upn} and {date} make one "
        "container per user (a SAS here is visible to other users in ps: prefer the two options below)",
    )
    where.add_argument("--storage-location-env", metavar="VAR", help="take the storage location from this variable")
    where.add_argument(
        "--storage-location-file",
        metavar="PATH",
        help="take the storage location from the first non-empty line of a file ('-' for stdin)",
    )
    export.add_argument("--case", metavar="REF", type=_CASE_REF, help="the data-subject request this export answers")
    add_flags(
        export,
        ("--force", "export even users that already have an unfinished or unconfirmed export"),
        ("--no-storage-check", "skip the pre-flight check of the container (exists, no previous export in it)"),
        ("--wait", "watch the exports until they are final"),
        json_flag("operation event"),
    )


def _add_watch(command: Command) -> None:
    """``watch``: follow every unfinished operation until it is final (Graph)."""
    watch = command(
        "watch",
        "resume every unfinished operation in the journal, until all are final; lists unconfirmed exports",
        "export-console --tenant contoso watch --json",
    )
    add_flags(watch, json_flag("operation event"))


def _add_ops_and_note(command: Command) -> None:
    """``ops`` and ``note``: the journal's operations and their notes (no sign-in, except ``--reconcile``)."""
    ops = command(
        "ops",
        "list the operations in the journal (no sign-in, no network)",
        "export-console --tenant contoso ops --status problem --case DSR-1234",
    )
    ops.add_argument(
        "--status",
        metavar="S",
        help="a status, state or group: running, failed, unconfirmed, unfinished, problem... "
        "(an unknown word lists the valid ones)",
    )
    ops.add_argument("--case", metavar="REF", type=_CASE_REF, help="only operations of this case")
    add_flags(
        ops,
        json_flag("operation"),
        (
            "--summary",
            "one row per tenant: polls this hour against its budget, exports left today, unfinished, failed, "
            "oldest running (with --json: one object per tenant)",
        ),
        (
            "--reconcile",
            "sign in and ask Graph (GET /dataPolicyOperations) about each unconfirmed export: one match "
            "confirms it (then `watch` follows it), none or several leave it unconfirmed; exit 1 while any remain",
        ),
    )

    note = command(
        "note",
        "add a note to an operation (kept with its time and author; shown in the report)",
        "export-console --tenant contoso note d007e3da-cd9b-4b02-8d66-422403c53e3f 'confirmed with the requester'",
        "export-console --tenant contoso note 17 --resolve 'the portal shows no export for this user'",
    )
    note.add_argument("operation_id", metavar="OPERATION_ID", help="Graph's operation id, or the journal row number")
    note.add_argument("text", metavar="TEXT", help="the note")
    add_flags(
        note,
        (
            "--resolve",
            "also mark an unconfirmed export checked (state resolved), with TEXT saying what was found: "
            "watch then stops listing it",
        ),
    )


def _add_report(command: Command) -> None:
    """``report``: the evidence report of the journal's exports (no sign-in, no network)."""
    report = command(
        "report",
        "the evidence report of the journal's exports (no sign-in, no network)",
        "export-console --tenant contoso report --case DSR-1234 --format md --output DSR-1234.md",
    )
    report.add_argument("--case", metavar="REF", type=_CASE_REF, help="only operations of this case")
    report.add_argument("--since", metavar="DATE", help="only operations submitted on or after DATE (ISO 8601, UTC)")
    report.add_argument("--format", choices=("md", "csv", "json"), default="md", help="md (default), csv or json")
    report.add_argument("--output", metavar="PATH", help="write to PATH (default: standard output)")
    report.add_argument(
        "--part",
        choices=("subject", "internal", "all"),
        help="with --case: subject (for the person: no internal names, notes or request ids), internal "
        "(the audit trail and the deadline) or all (both in one report; without --part: the full evidence report)",
    )


def _case_parser(case: argparse.ArgumentParser) -> None:
    """``case open|extend|close|list`` (console.cli.case_commands): the journal only."""
    actions = case.add_subparsers(dest="case_action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, suppress=True)
        return sub

    ref_type = _not_empty("a case reference")
    opened = action("open", "open a case: due one calendar month after receipt unless --due says otherwise")
    opened.add_argument("ref", metavar="REF", type=ref_type, help="the case reference")
    opened.add_argument("--received", metavar="YYYY-MM-DD", help="when the request was received (default: today, UTC)")
    opened.add_argument("--due", metavar="YYYY-MM-DD", help="the due date (at most three months after receipt)")
    opened.add_argument("--subject", metavar="TEXT", default="", help="who asked, or what about")
    extended = action("extend", "move a case's due date later (at most three months after receipt), with a reason")
    extended.add_argument("ref", metavar="REF", type=ref_type, help="the case reference")
    extended.add_argument("--due", metavar="YYYY-MM-DD", required=True, help="the new due date")
    extended.add_argument(
        "--reason", metavar="TEXT", required=True, type=_not_empty("the reason"), help="why (kept with the case)"
    )
    closed = action("close", "close a case, with an optional note")
    closed.add_argument("ref", metavar="REF", type=ref_type, help="the case reference")
    closed.add_argument("--note", metavar="TEXT", default="", help="what was answered")
    listed = action("list", "every case with its deadline, days left, state and operations")
    add_flags(listed, json_flag("case"))


def _simulate_options(simulate: argparse.ArgumentParser) -> None:
    """The simulator's own knobs (console.sim.knobs) plus what the CLI needs to serve it."""
    from console.sim.knobs import add_simulate_arguments

    add_simulate_arguments(simulate)
    taken = set(simulate._option_string_actions)

    def option(name: str, **kwargs: Any) -> None:
        if name not in taken:
            simulate.add_argument(name, **kwargs)

    option("--port", type=_port, default=8000, help="TCP port (default 8000; 0 picks one)")
    option("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    option("--profiles", type=_positive_int, default=300, help="number of profiles (default 300)")
    option("--retry-after", type=float, default=5.0, help="Retry-After seconds on 202s and polls")
    option("--duration", type=float, default=30.0, help="seconds an export takes")
    option("--page-size", type=_positive_int, default=100, help="profiles per page")
    option("--token", help="also accept this bearer token (default: one is printed)")
