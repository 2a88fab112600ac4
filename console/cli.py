"""Command line: the headless commands over the engine, or the Textual console.

Contract (the core issue): global options, then a command::

    export-console [--demo | --graph-url URL --token-env VAR | --tenant NAME]
                   [--state-dir DIR] [--poll-budget N] COMMAND
      profiles [--search TEXT] [--json]
      export USER_ID... [--from-file PATH|-] --storage-location LOC [--wait] [--json]
      watch [--json]
      ops [--status S] [--json]
      simulate [--port N] [--profiles N]

Exit codes: 0 all good, 1 an export failed or errored, 2 usage or input error,
3 authentication or permission error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from console import __version__
from console.graph import errors
from console.ops.budget import DEFAULT_POLL_BUDGET
from console.ops.events import EventKind, OperationEvent, OperationView
from console.services import ConnectionOptions, Services, UsageError, open_services
from console.storage import validate_storage_location

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INTERRUPTED = 130

PRINTED_EVENTS: frozenset[EventKind] = frozenset(
    {"submitted", "status", "progress", "error", "unconfirmed", "rejected"}
)
"""Events worth a JSON line (a poll that changed nothing is not)."""
LOOKUP_ONE_BY_ONE = 50
"""Up to this many user ids are checked with one GET each; more, by listing every profile once."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {value}")
    return value


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("tenant")
    group.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the built-in simulated tenant (no credentials)",
    )
    group.add_argument(
        "--graph-url",
        metavar="URL",
        default=default,
        help="Graph API base including the version (default https://graph.microsoft.com/beta)",
    )
    group.add_argument(
        "--token-env", metavar="VAR", default=default, help="take a bearer token from this environment variable"
    )
    group.add_argument("--tenant", metavar="NAME", default=default, help="a saved tenant from config.toml")
    group.add_argument(
        "--state-dir",
        metavar="DIR",
        default=default,
        help="keep config, journal and token cache here (or EXPORT_CONSOLE_STATE_DIR)",
    )
    group.add_argument(
        "--poll-budget",
        metavar="N",
        type=_positive_int,
        default=argparse.SUPPRESS if suppress else DEFAULT_POLL_BUDGET,
        help=f"polls an hour for this tenant (default {DEFAULT_POLL_BUDGET}; Graph allows 10,000)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="log diagnostics (request ids, never tokens) to stderr",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="export-console",
        description="Export the personal data of Entra inbound shared user profiles. "
        "With no command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"export-console {__version__}")
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, suppress=True)
        return sub

    profiles = command("profiles", "list the tenant's inbound shared user profiles")
    profiles.add_argument(
        "--search", metavar="TEXT", help="only profiles whose name, UPN, id or home tenant contain TEXT"
    )
    profiles.add_argument("--json", action="store_true", help="JSON Lines: one object per profile")

    export = command("export", "export the personal data of one or more profiles")
    export.add_argument("user_ids", nargs="*", metavar="USER_ID", help="userId of a profile")
    export.add_argument("--from-file", metavar="PATH", help="read user ids from a file, one a line ('-' for stdin)")
    export.add_argument(
        "--storage-location",
        metavar="LOC",
        required=True,
        help="an https SAS URL to a container, or a storage account name",
    )
    export.add_argument("--wait", action="store_true", help="watch the exports until they are final")
    export.add_argument("--json", action="store_true", help="JSON Lines: one object per operation event")

    watch = command("watch", "resume every unfinished operation in the journal, until all are final")
    watch.add_argument("--json", action="store_true", help="JSON Lines: one object per operation event")

    ops = command("ops", "list the operations in the journal")
    ops.add_argument("--status", metavar="S", help="only operations in this status (e.g. running, failed, unconfirmed)")
    ops.add_argument("--json", action="store_true", help="JSON Lines: one object per operation")

    simulate = command("simulate", "serve the simulated tenant on loopback")
    simulate.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000; 0 picks one)")
    simulate.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    simulate.add_argument("--profiles", type=_positive_int, default=300, help="number of profiles (default 300)")
    simulate.add_argument("--retry-after", type=float, default=5.0, help="Retry-After seconds on 202s and polls")
    simulate.add_argument("--duration", type=float, default=30.0, help="seconds an export takes")
    simulate.add_argument("--page-size", type=_positive_int, default=100, help="profiles per page")
    simulate.add_argument("--token", help="also accept this bearer token (default: one is printed)")
    return parser


def options_from(args: argparse.Namespace) -> ConnectionOptions:
    return ConnectionOptions(
        demo=bool(args.demo),
        graph_url=args.graph_url,
        token_env=args.token_env,
        tenant=args.tenant,
        state_dir=args.state_dir,
        poll_budget=args.poll_budget,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``export-console`` and ``python -m console``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(2, args.verbose),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "simulate":
        return run_simulate(args)
    if args.command is None:
        return run_tui(args)
    try:
        return asyncio.run(run_command(args))
    except BrokenPipeError:
        # `... | head`: the reader left; not an error worth a traceback.
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print(
            "interrupted: unfinished operations stay in the journal; run `export-console watch` to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def run_tui(args: argparse.Namespace) -> int:
    from console.tui.entry import run_console

    return run_console(options_from(args))


def run_simulate(args: argparse.Namespace) -> int:
    from console.sim.server import run_forever
    from console.sim.tenant import SimulatedTenant

    tenant = SimulatedTenant(
        profiles=args.profiles, retry_after=args.retry_after, export_duration=args.duration, page_size=args.page_size
    )
    token = args.token or tenant.issue_token(lifetime=30 * 86400)
    if args.token:
        tenant.tokens.accept(args.token, {"tid": tenant.tenant_id})

    def ready(base_url: str) -> None:
        print(f"simulated tenant {tenant.tenant_domain} ({tenant.tenant_id}) on {base_url}", flush=True)
        print(f"graph url: {base_url}/beta", flush=True)
        print(f"token: {token}", flush=True)
        print("Ctrl+C stops it.", file=sys.stderr, flush=True)

    try:
        run_forever(tenant, args.host, args.port, ready)
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as exc:
        print(f"export-console: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def fail(message: str, code: int) -> int:
    print(f"export-console: {message}", file=sys.stderr)
    return code


async def run_command(args: argparse.Namespace) -> int:
    """Run one headless command; errors become one line on stderr and an exit code."""
    # Validate the command's own input before signing in: bad input submits nothing.
    try:
        if args.command == "export":
            user_ids = read_user_ids(args.user_ids, args.from_file)
            location = validate_storage_location(args.storage_location)
    except (UsageError, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE)
    services: Services | None = None
    try:
        services = await open_services(options_from(args), on_device_code=_stderr_line)
        if args.command == "profiles":
            return await cmd_profiles(services, args)
        if args.command == "export":
            return await cmd_export(services, args, user_ids, location)
        if args.command == "watch":
            return await cmd_watch(services, args)
        if args.command == "ops":
            return cmd_ops(services, args)
        return fail(f"unknown command {args.command}", EXIT_USAGE)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except errors.GraphError as exc:
        return fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        raise
    except Exception as exc:  # journal unreadable, disk full...: one line, no traceback
        logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
        return fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
    finally:
        if services is not None:
            await services.aclose()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _stderr_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_user_ids(positional: Sequence[str], from_file: str | None) -> list[str]:
    """User ids from the command line and ``--from-file`` (one a line; blank lines and # comments skipped).

    Raises:
        UsageError: no ids, an unreadable file, or duplicates.
    """
    ids = [item.strip() for item in positional if item.strip()]
    if from_file is not None:
        try:
            if from_file == "-":
                text = sys.stdin.read()
            else:
                with open(from_file, encoding="utf-8-sig") as handle:
                    text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"cannot read --from-file {from_file}: {reason}") from None
        for line in text.splitlines():
            item = line.split("#", 1)[0].strip().strip(",").strip()
            if item:
                ids.append(item)
    if not ids:
        raise UsageError("no user ids given: pass USER_ID... or --from-file PATH")
    seen: set[str] = set()
    duplicates: list[str] = []
    for item in ids:
        folded = item.lower()
        if folded in seen and item not in duplicates:
            duplicates.append(item)
        seen.add(folded)
    if duplicates:
        raise UsageError(f"duplicate user ids (each may be exported once per run): {', '.join(duplicates)}")
    return ids


# -- profiles ------------------------------------------------------------------------------


def profile_matches(profile: Any, needle: str) -> bool:
    """Case-insensitive match over name, UPN, userId and home tenant."""
    return needle in (
        f"{profile.display_name}\n{profile.user_principal_name}\n{profile.user_id}\n{profile.home_tenant_id}".lower()
    )


async def cmd_profiles(services: Services, args: argparse.Namespace) -> int:
    needle = (args.search or "").strip().lower()
    shown: list[Any] = []
    loaded = 0
    progress = sys.stderr.isatty() and not args.json
    async for page in services.client.list_profiles():
        loaded += len(page)
        for profile in page:
            if needle and not profile_matches(profile, needle):
                continue
            if args.json:
                print(json.dumps(profile.to_json()), flush=False)
            else:
                shown.append(profile)
        if args.json:
            sys.stdout.flush()
        if progress:
            print(f"\rloading profiles… {loaded}", end="", file=sys.stderr, flush=True)
    if progress:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    if not args.json:
        print_table(
            ["DISPLAY NAME", "USER PRINCIPAL NAME", "USER ID", "HOME TENANT"],
            [[p.display_name, p.user_principal_name, p.user_id, p.home_tenant_id] for p in shown],
        )
        print(f"{len(shown)} of {loaded} profiles", file=sys.stderr)
    return EXIT_OK


# -- export / watch ------------------------------------------------------------------------


class EventPrinter:
    """Prints operation events as JSON Lines, or keeps a one-line live summary on a TTY."""

    def __init__(self, services: Services, *, as_json: bool, stream: TextIO = sys.stdout) -> None:
        self.services = services
        self.as_json = as_json
        self.stream = stream
        self.live = (not as_json) and sys.stderr.isatty()
        self.watched: dict[int, OperationView] = {}
        self.closed = False

    def __call__(self, event: OperationEvent) -> None:
        self.watched[event.operation.key] = event.operation
        if self.as_json and event.kind in PRINTED_EVENTS and not self.closed:
            record = {"event": event.kind, **event.operation.to_json()}
            try:
                print(json.dumps(record), file=self.stream, flush=True)
            except BrokenPipeError:
                # The reader went away (`| head`): stop printing, keep watching; the journal has it all.
                self.closed = True
                _silence_stdout()

    async def summarise(self) -> None:
        """Redraw the one-line summary twice a second (TTY only)."""
        if not self.live:
            return
        while True:
            counts: dict[str, int] = {}
            for view in self.watched.values():
                counts[view.display_status] = counts.get(view.display_status, 0) + 1
            parts = " · ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            engine = self.services.engine
            print(f"\r\033[K{parts or 'waiting'} · polls {engine.polls_sent}", end="", file=sys.stderr, flush=True)
            await asyncio.sleep(0.5)

    def clear(self) -> None:
        if self.live:
            print("\r\033[K", end="", file=sys.stderr, flush=True)

    def final_table(self) -> None:
        if self.as_json:
            return
        views = sorted(self.watched.values(), key=lambda v: v.key)
        print_operations(views)


def _progress(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "-"


def exit_code_for(views: Sequence[OperationView], *, waited: bool, fatal: errors.GraphError | None) -> int:
    if fatal is not None and any(v.state not in ("final",) for v in views):
        return EXIT_AUTH
    for view in views:
        if view.state in ("rejected", "unconfirmed", "error", "intent"):
            return EXIT_FAILED
        if view.state == "final" and view.status != "complete":
            return EXIT_FAILED
        if waited and view.state == "tracking":
            return EXIT_FAILED
    return EXIT_OK


async def _wait(services: Services, printer: EventPrinter) -> None:
    """Until every tracked operation is final, or an authentication/permission error stops progress."""
    engine = services.engine
    summary = asyncio.create_task(printer.summarise())
    try:
        while True:
            idle = asyncio.create_task(engine.wait_until_idle())
            done, _ = await asyncio.wait({idle}, timeout=1.0)
            if done:
                return
            idle.cancel()
            if engine.fatal_error is not None:
                return
    finally:
        summary.cancel()
        printer.clear()


async def ensure_known_users(services: Services, user_ids: Sequence[str]) -> None:
    """Every id must be a profile of this tenant before anything is submitted.

    Raises:
        UsageError: unknown ids (exit 2).
    """
    unknown: list[str] = []
    if len(user_ids) <= LOOKUP_ONE_BY_ONE:
        gate = asyncio.Semaphore(8)

        async def check(user_id: str) -> None:
            async with gate:
                try:
                    await services.client.get_profile(user_id)
                except (errors.NotFound, errors.BadRequest):
                    unknown.append(user_id)

        await asyncio.gather(*(check(u) for u in user_ids))
    else:
        known: set[str] = set()
        async for page in services.client.list_profiles():
            known.update(p.user_id.lower() for p in page)
        unknown = [u for u in user_ids if u.lower() not in known]
    if unknown:
        listed = ", ".join(sorted(unknown)[:10]) + (" …" if len(unknown) > 10 else "")
        raise UsageError(f"unknown user id{'s' if len(unknown) > 1 else ''} (no inbound shared profile): {listed}")


async def cmd_export(services: Services, args: argparse.Namespace, user_ids: list[str], location: str) -> int:
    engine = services.engine
    await ensure_known_users(services, user_ids)
    try:
        report = engine.check_quota(user_ids)
    except errors.QuotaExceeded as exc:
        raise UsageError(str(exc)) from None
    printer = EventPrinter(services, as_json=args.json)
    engine.subscribe(printer, kinds=PRINTED_EVENTS)
    await engine.start(resume=False)
    outcomes = await engine.submit(user_ids, location)
    if not args.json:
        accepted = sum(1 for o in outcomes if o.accepted)
        print(
            f"submitted {accepted} of {len(outcomes)} exports; {report.tenant_left - len(outcomes)} of "
            f"{report.tenant_limit} left today for the tenant",
            file=sys.stderr,
        )
    if args.wait and any(o.accepted for o in outcomes):
        await _wait(services, printer)
    printer.final_table()
    views = [o.operation for o in outcomes if o.operation is not None]
    latest = [engine.operation(v.key) or v for v in views]
    if any(o.error_type in ("AuthenticationError", "PermissionDenied") for o in outcomes):
        return EXIT_AUTH
    return exit_code_for(latest, waited=args.wait, fatal=engine.fatal_error if args.wait else None)


async def cmd_watch(services: Services, args: argparse.Namespace) -> int:
    engine = services.engine
    printer = EventPrinter(services, as_json=args.json)
    engine.subscribe(printer, kinds=PRINTED_EVENTS)
    await engine.start(resume=True)
    watching = [v for v in engine.operations() if v.state == "tracking"]
    for view in watching:
        printer.watched[view.key] = view
    if not watching:
        if not args.json:
            print("nothing to watch: every operation in the journal is final", file=sys.stderr)
        return EXIT_OK
    if not args.json:
        print(f"watching {len(watching)} unfinished operations", file=sys.stderr)
    await _wait(services, printer)
    printer.final_table()
    latest = [engine.operation(v.key) or v for v in watching]
    if engine.fatal_error is not None and any(v.state == "tracking" for v in latest):
        print(f"export-console: {engine.fatal_error}", file=sys.stderr)
        return EXIT_AUTH
    return exit_code_for(latest, waited=True, fatal=None)


def cmd_ops(services: Services, args: argparse.Namespace) -> int:
    rows = services.journal.rows(services.tenant_key)
    views = [row.view() for row in rows]
    if args.status:
        wanted = args.status.strip().lower()
        views = [v for v in views if wanted in (v.display_status.lower(), v.state.lower(), (v.status or "").lower())]
    if args.json:
        for view in views:
            print(json.dumps(view.to_json()))
        return EXIT_OK
    print_operations(views)
    return EXIT_OK


def print_operations(views: Sequence[OperationView]) -> None:
    """The final table of ``export``/``watch`` and the listing of ``ops``."""
    rows = []
    for v in views:
        record = v.to_json()
        rows.append(
            [
                v.user_id,
                v.display_status,
                _progress(v.progress),
                _when(record["submittedDateTime"]),
                _when(record["completedDateTime"]),
                v.operation_id or "-",
                v.last_error[:60],
            ]
        )
    print_table(["USER ID", "STATUS", "PROGRESS", "SUBMITTED", "COMPLETED", "OPERATION", "ERROR"], rows)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], stream: TextIO = sys.stdout) -> None:
    """A plain aligned table (scripts should use --json)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = min(60, max(widths[i], len(cell)))
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers).rstrip(), file=stream)
    for row in rows:
        print(line.format(*(c[:60] for c in row)).rstrip(), file=stream)


if __name__ == "__main__":
    raise SystemExit(main())
