"""``main``: parse, check the command's own input, build the services, run one command, map the exit code.

Errors travel as typed values: every failure becomes one escaped, redacted line on stderr and the
exit code its type declares (``console.cli.exitcodes``), never a traceback. SIGINT, SIGTERM and
SIGHUP stop the run the same way: the journal is flushed and closed, the resume hint printed, and
the process exits 130 (the contract's "interrupted").
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from console.cli.exitcodes import (
    DEBUG_HINT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageProblem,
    exit_code_for_exception,
    is_expected,
)
from console.cli.inputs import (
    GRAPH_HOURLY_LIMIT,
    check_graph_url_option,
    read_user_ids,
    storage_location_from,
)
from console.cli.output import clean, fail, say, silence_stdout, warn
from console.cli.parser import build_parser
from console.cli.views import TENANT_NAMES
from console.redact import redact
from console.wiring import ConnectionOptions, open_journal_only

if TYPE_CHECKING:  # a journal command needs neither the engine nor httpx: imported by the commands that do
    from console.cli.commands import ExportRequest
    from console.wiring import Services

log = logging.getLogger("console.cli")

RESUME_HINT = "unfinished operations stay in the journal; run `export-console watch` to resume"
JOURNAL_COMMANDS = frozenset({"ops", "note", "report", "case"})
"""Commands that read the journal only: no sign-in, no network."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Handled like Ctrl+C (SIGINT is asyncio's own)."""


def options_from(args: argparse.Namespace) -> ConnectionOptions:
    tenants = tuple(dict.fromkeys(args.tenant or ()))  # --tenant may be repeated: each name once, in order
    return ConnectionOptions(
        demo=bool(args.demo),
        graph_url=args.graph_url,
        token_env=args.token_env,
        tenant=tenants[0] if tenants else None,
        state_dir=args.state_dir,
        poll_budget=args.poll_budget,
        poll_budget_given=bool(getattr(args, "poll_budget_given", False)),
        tenants=tenants,
        all_tenants=bool(getattr(args, "all_tenants", False)),
    )


class _TerminalFormatter(logging.Formatter):
    """Log lines for a terminal: secrets masked (the filter) and control characters escaped, line by line."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(clean(line) for line in super().format(record).splitlines())


def _device_code(message: str) -> None:
    """Entra's device-code sentence, on stderr (text from the identity provider: escaped)."""
    for line in message.splitlines():
        say(clean(line))


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time: while the console runs, Textual's capture, so that
    a warning (a retry of a request that got no answer) is never drawn over the console's screen."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_stderr_handler: logging.Handler | None = None


def _configure_logging(verbose: int) -> None:
    global _stderr_handler
    root = logging.getLogger()
    if _stderr_handler is not None:  # main() called again in one process (tests)
        root.removeHandler(_stderr_handler)
    handler = _CurrentStderr()
    handler.setLevel(logging.WARNING - 10 * min(2, verbose))
    handler.setFormatter(_TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    from console.debuglog import RedactingFilter

    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    _stderr_handler = handler
    root.setLevel(min(root.level or logging.WARNING, handler.level))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``export-console`` and ``python -m console``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if args.debug:
        from console.debuglog import setup_debug_log

        try:
            path = setup_debug_log(args.state_dir)
        except OSError as exc:
            return fail(f"cannot open the debug log: {exc.strerror or exc}", EXIT_USAGE)
        say(f"debug log: {clean(str(path))}")
    if args.command == "simulate":
        return run_simulate(args)
    try:
        check_graph_url_option(args.graph_url)
    except UsageProblem as exc:
        return fail(str(exc), EXIT_USAGE)
    if args.poll_budget > GRAPH_HOURLY_LIMIT:
        warn(
            f"--poll-budget {args.poll_budget} is above Graph's limit of {GRAPH_HOURLY_LIMIT:,} requests an hour "
            "per tenant: Graph will throttle (429) before the budget binds"
        )
    from console.cli.fleet_commands import refuse_several

    refused = refuse_several(args.command, options_from(args), reconcile=bool(getattr(args, "reconcile", False)))
    if refused is not None:  # a one-tenant command given several: nothing sent
        return refused
    if args.command is None:
        return run_tui(args)
    if args.command in JOURNAL_COMMANDS and not getattr(args, "reconcile", False):
        return run_journal_command(args)
    return run_async(lambda: run_command(args))


def run_async(make: Callable[[], Awaitable[int]]) -> int:
    """Run a command on a fresh event loop; SIGTERM/SIGHUP (and Ctrl+C) stop it cleanly."""
    import asyncio

    settle_collector()

    received: list[int] = []

    async def runner() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def stop(signum: int) -> None:
            if not received and task is not None:
                received.append(signum)
                task.cancel()

        installed = []
        for signum in STOP_SIGNALS:
            try:
                loop.add_signal_handler(signum, stop, signum)
                installed.append(signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
                pass
        try:
            return await make()
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    try:
        return asyncio.run(runner())
    except (BrokenPipeError, KeyboardInterrupt) as exc:
        return _left(exc)
    except asyncio.CancelledError:
        if not received:
            raise
        name = signal.Signals(received[0]).name
        _hint(f"stopped by {name}")
        return EXIT_INTERRUPTED


def settle_collector() -> None:
    """Tune the garbage collector for a long run (``export --wait``, ``watch``): each poll makes a few
    short-lived objects and keeps almost none, so young collections come every 10,000 allocations rather
    than 700, and what start-up made (modules, classes) is left out of every later full collection
    (``gc.freeze``). Measured on 600 exports (benchmarks/storage_600.py): 278 collections and 0.13 s of
    CPU before, 20 and 0.09 s after, the peak RSS 2 MB more."""
    import gc

    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _left(exc: BrokenPipeError | KeyboardInterrupt) -> int:
    """The exit code of a run whose reader left (`... | head`: not an error worth a traceback) or that
    Ctrl+C interrupted."""
    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return EXIT_OK
    _hint("interrupted")
    return EXIT_INTERRUPTED


def _hint(what: str) -> None:
    try:
        say(f"export-console: {what}: {RESUME_HINT}")
    except OSError:  # the terminal went away with the SSH session (SIGHUP)
        pass


def run_tui(args: argparse.Namespace) -> int:
    from console.tui.entry import run_console

    return run_console(options_from(args), read_only=bool(getattr(args, "read_only", False)))


def run_simulate(args: argparse.Namespace) -> int:
    from console.sim.knobs import apply_simulate_arguments
    from console.sim.server import run_forever
    from console.sim.tenant import SimulatedTenant

    tenant = SimulatedTenant(
        profiles=args.profiles, retry_after=args.retry_after, export_duration=args.duration, page_size=args.page_size
    )
    try:
        apply_simulate_arguments(tenant, args)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
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
        return fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", EXIT_USAGE)
    return EXIT_OK


def read_export_request(args: argparse.Namespace) -> ExportRequest:
    """Everything ``export`` can check before signing in (bad input sends nothing).

    Raises:
        UsageProblem, ValueError: exit 2.
    """
    from console.ops.submission import check_request
    from console.storage import has_signature

    if args.from_file == "-" and args.storage_location_file == "-":
        raise UsageProblem(
            "--from-file - and --storage-location-file - cannot both read standard input: put one in a file"
        )
    user_ids = read_user_ids(args.user_ids, args.from_file)
    location, from_argv = storage_location_from(
        args.storage_location, args.storage_location_env, args.storage_location_file
    )
    location = location.strip()
    if from_argv and has_signature(location):
        warn(
            "--storage-location carries a SAS signature (sig=): other users of this machine can read it in `ps` "
            "(and your shell history keeps it); prefer --storage-location-env VAR or --storage-location-file PATH"
        )
    # The storage rules need no network: refuse what Graph cannot write to before signing in, whatever
    # --no-storage-check says (it skips the network checks only). The SAS is not checked again after sign-in.
    checked = check_request(location, len(user_ids), now=time.time())
    if checked.errors:
        raise UsageProblem(f"{checked.errors[0]} (nothing was sent)")
    for message in dict.fromkeys(checked.warnings):
        warn(clean(message))
    from console.cli.commands import ExportRequest

    return ExportRequest(user_ids=user_ids, checked=checked)


def _failure(exc: BaseException) -> int:
    from console.ops import engine

    already = getattr(engine, "AlreadyExporting", None)
    if already is not None and isinstance(exc, already):
        from console.cli.commands import refuse_conflicts

        return refuse_conflicts(exc.conflicts)
    code = exit_code_for_exception(exc)
    if code == EXIT_FAILED and not is_expected(exc):
        log.debug("unexpected failure", exc_info=True)  # the traceback: in the debug log only
        return fail(f"{type(exc).__name__}: {redact(str(exc))}; {DEBUG_HINT}", code)
    return fail(redact(str(exc)), code)


def report_unjournaled(services: Services) -> bool:
    """Print every export Graph accepted that the journal could not record (id and status URL, redacted):
    only this process knows them. True when there was any (the run then exits non-zero)."""
    engine = getattr(services, "engine", None)
    lost = engine.unjournaled() if engine is not None and hasattr(engine, "unjournaled") else []
    if not lost:
        return False
    reason = getattr(engine, "journal_failure", None)
    why = f" ({clean(redact(str(reason)))})" if reason is not None else ""
    try:
        say(
            f"export-console: Graph accepted {len(lost)} export(s) the journal could not record{why}; "
            "keep these lines (the journal shows them unconfirmed, with no operation id):"
        )
        for view in lost:
            say(
                f"  {clean(view.user_id)}: operation {clean(view.operation_id or '(no id)')}, "
                f"status URL {clean(redact(view.location or '(none)'))}"
            )
    except OSError:  # stderr went away (SIGHUP): nothing more can be said
        pass
    return True


def _check_before_sign_in(
    args: argparse.Namespace, options: ConnectionOptions
) -> tuple[ExportRequest | None, list[tuple[str, str]]]:
    """Every refusal that needs no sign-in: the export's request, the removals' checks (nothing is sent)."""
    request: ExportRequest | None = None
    removals: list[tuple[str, str]] = []
    if args.command == "export":
        from console.cli.remove_commands import refuse_if_read_only

        refuse_if_read_only(args, options, "export")  # --read-only or the saved tenant's read_only = true
        request = read_export_request(args)
    elif args.command == "remove":  # every refusal before sign-in: nothing is sent
        from console.cli.remove_commands import check_removal
        from console.wiring import check_options

        check_options(options)
        removals = check_removal(args, options)
    return request, removals


async def _dispatch_command(
    services: Services,
    args: argparse.Namespace,
    request: ExportRequest | None,
    removals: list[tuple[str, str]],
) -> int:
    """Run the signed-in command named by ``args.command``; its exit code."""
    from console.cli.commands import cmd_export, cmd_profiles, cmd_watch

    if args.command == "profiles":
        return await cmd_profiles(services, args)
    if args.command == "export":
        assert request is not None
        return await cmd_export(services, args, request)
    if args.command == "watch":
        return await cmd_watch(services, args)
    if args.command in ("remove", "outbound"):
        from console.cli.remove_commands import cmd_outbound, cmd_remove

        return await (
            cmd_remove(services, args, removals) if args.command == "remove" else cmd_outbound(services, args)
        )
    if args.command == "ops":  # ops --reconcile: the one ops that asks Graph
        from console.cli.journal_commands import cmd_ops_reconcile

        return await cmd_ops_reconcile(services, args)
    return fail(f"unknown command {args.command}", EXIT_USAGE)


async def _fleet_watch(args: argparse.Namespace, options: ConnectionOptions) -> int:
    """``watch`` over several tenants (``console.cli.fleet_commands``): one line and a code on failure."""
    from console.cli.fleet_commands import run_fleet_watch

    try:
        return await run_fleet_watch(args, options, _device_code, lambda s: watch_services(s, args))
    except Exception as exc:
        return _failure(exc)
    finally:
        from console.storage.pool import close_storage_pools

        await close_storage_pools()


async def run_command(args: argparse.Namespace) -> int:
    """Run one command that talks to Graph; errors become one line on stderr and an exit code."""
    from console.cli.fleet_commands import fleet_watch_wanted

    options = options_from(args)
    try:
        request, removals = _check_before_sign_in(args, options)
    except Exception as exc:
        return _failure(exc)
    if args.command == "watch" and fleet_watch_wanted(options):
        return await _fleet_watch(args, options)
    from console.wiring import open_services

    services: Services | None = None
    code = EXIT_FAILED
    try:
        services = await open_services(options, on_device_code=_device_code)
        TENANT_NAMES.add(services.tenant_key, services.tenant_name)
        code = await _dispatch_command(services, args, request, removals)
    except BrokenPipeError:
        raise
    except Exception as exc:  # journal unreadable, disk full, sign-in failed...: one line, no traceback
        code = _failure(exc)
    finally:
        if services is not None:
            try:
                await services.aclose()
            finally:
                # Also when stopped by a signal (the exit code is then 130 anyway).
                if report_unjournaled(services) and code == EXIT_OK:
                    code = EXIT_FAILED
        from console.storage.pool import close_storage_pools

        await close_storage_pools()
    return code


async def watch_services(services: Services, args: argparse.Namespace) -> int:
    """One tenant's ``watch`` among several: its failures are its own; its services closed when it ends."""
    from console.cli.commands import cmd_watch

    code = EXIT_FAILED
    try:
        code = await cmd_watch(services, args, named=True)
    except BrokenPipeError:
        raise
    except Exception as exc:  # this tenant only: the others go on
        code = _failure(exc)
    finally:
        try:
            await services.aclose()  # no further request for it in this run
        finally:
            if report_unjournaled(services) and code == EXIT_OK:
                code = EXIT_FAILED
    return code


def run_journal_command(args: argparse.Namespace) -> int:
    """``ops``, ``note``, ``report``: the journal only (never a token, never the network)."""
    from console.cli.journal_commands import cmd_note, cmd_ops, cmd_report

    options = options_from(args)
    try:
        journal_only = open_journal_only(options)
    except Exception as exc:
        return _failure(exc)
    TENANT_NAMES.use(journal_only.names)
    try:
        if args.command == "ops" and args.summary:
            from console.cli.fleet_commands import cmd_ops_summary

            return cmd_ops_summary(journal_only, args, options)
        if args.command == "ops":
            return cmd_ops(journal_only, args)
        if args.command == "note":
            return cmd_note(journal_only, args, options)
        if args.command == "case":
            from console.cli.case_commands import cmd_case

            return cmd_case(journal_only, args, options)
        if args.part is not None:  # report --case REF --part subject|internal|all (issue 19)
            from console.cli.case_commands import cmd_case_report

            return cmd_case_report(journal_only, args)
        return cmd_report(journal_only, args)
    except (BrokenPipeError, KeyboardInterrupt) as exc:
        return _left(exc)
    except Exception as exc:
        return _failure(exc)
    finally:
        journal_only.close()
