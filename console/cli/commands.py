"""The commands that talk to Graph: ``profiles``, ``export`` and ``watch``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from console.cli.exitcodes import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageProblem,
    exit_code_for_views,
    outcome_exit_code,
    worst,
)
from console.cli.output import clean, fail, json_text, print_table, say, warn
from console.cli.views import PRINTED_EVENTS, EventPrinter, explain_error, unconfirmed_line
from console.graph import errors
from console.graph.models import InboundSharedUserProfile
from console.ops.engine import AlreadyExporting
from console.ops.events import (
    FINAL,
    TRACKING,
    UNCONFIRMED,
    ExportTarget,
    OperationEvent,
    OperationView,
    QuotaReport,
    SubmitOutcome,
)
from console.ops.submission import RequestCheck, Submission, case_opened_text, plan_locations, targets_for
from console.wiring import Services

DELIVERY_WAIT = 10.0
"""After ``--wait``/``watch``, seconds to wait for the delivery checks of the exports that completed."""


# -- profiles ------------------------------------------------------------------------------


def profile_matches(profile: InboundSharedUserProfile, needle: str) -> bool:
    """Every word of ``needle`` found (case-insensitive) in the name, UPN, userId or home tenant."""
    haystack = (
        f"{profile.display_name}\n{profile.user_principal_name}\n{profile.user_id}\n{profile.home_tenant_id}".lower()
    )
    return all(word in haystack for word in needle.split())


async def cmd_profiles(services: Services, args: argparse.Namespace) -> int:
    needle = (args.search or "").strip().lower()
    shown: list[InboundSharedUserProfile] = []
    loaded = 0
    progress = sys.stderr.isatty() and not args.json
    looped: list[errors.PagingLoop] = []
    async for page in until_loop(services.client.list_profiles(), looped):
        loaded += len(page)
        for profile in page:
            if needle and not profile_matches(profile, needle):
                continue
            if args.json:
                print(json_text(profile.to_json()), flush=False)
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
        say(f"{len(shown)} of {loaded} profiles")
    if looped:  # every page read was shown; the exit code says the list may be cut short
        return fail(str(looped[0]), EXIT_FAILED)
    return EXIT_OK


async def until_loop(
    pages: AsyncIterator[list[InboundSharedUserProfile]], looped: list[errors.PagingLoop]
) -> AsyncIterator[list[InboundSharedUserProfile]]:
    """The pages of a listing, ending quietly where Graph's paging loops (the error is kept in ``looped``)."""
    try:
        async for page in pages:
            yield page
    except errors.PagingLoop as exc:
        looped.append(exc)


class ProfileDirectory:
    """The tenant's profiles, listed once for the run (never one GET per user)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._by_id: dict[str, InboundSharedUserProfile] | None = None
        self._looped: list[errors.PagingLoop] = []

    async def by_id(self) -> dict[str, InboundSharedUserProfile]:
        if self._by_id is None:
            found: dict[str, InboundSharedUserProfile] = {}
            async for page in until_loop(self._services.client.list_profiles(), self._looped):
                for profile in page:
                    found[profile.user_id.lower()] = profile
            if self._looped:
                warn(f"{self._looped[0]}: going on with the profiles read")
            self._by_id = found
        return self._by_id

    async def resolve(self, user_ids: Sequence[str]) -> list[InboundSharedUserProfile]:
        """The profile of every id, in order.

        Raises:
            UsageProblem: unknown ids (exit 2), listed.
        """
        known = await self.by_id()
        unknown = [u for u in user_ids if u.lower() not in known]
        if unknown and self._looped:  # not "unknown": the listing was cut short (exit 1, nothing sent)
            raise self._looped[0]
        if unknown:
            listed = ", ".join(clean(u) for u in sorted(unknown)[:10]) + (" …" if len(unknown) > 10 else "")
            raise UsageProblem(
                f"unknown user id{'s' if len(unknown) > 1 else ''} (no inbound shared profile): {listed}"
            )
        return [known[u.lower()] for u in user_ids]


# -- export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRequest:
    """What ``export`` was asked, read and checked before sign-in."""

    user_ids: list[str]
    checked: RequestCheck
    """The storage location or template (may hold a SAS: memory only) and its SAS rules' findings, made once
    (their warnings already printed)."""


def conflict_lines(conflicts: Sequence[OperationView]) -> list[str]:
    out = []
    for view in conflicts:
        who = view.user_principal_name or view.user_id
        ident = view.operation_id or f"journal row {view.key}"
        out.append(f"  {clean(who)} ({clean(view.user_id)}): {clean(view.display_status)}, {clean(ident)}")
    return out


def refuse_conflicts(conflicts: Sequence[OperationView]) -> int:
    users = sorted({v.user_id for v in conflicts})
    say(
        f"export-console: {len(users)} of these users already have an unfinished or unconfirmed export "
        "(nothing was sent; check them with `ops --status unfinished`, or pass --force to export again):"
    )
    for line in conflict_lines(conflicts):
        say(line)
    return EXIT_USAGE


def build_targets(
    request: ExportRequest,
    profiles: Sequence[InboundSharedUserProfile],
    now: float,
    *,
    previous: dict[str, int] | None = None,
) -> list[ExportTarget]:
    """One target per profile, with the template resolved for each (and, for ``--force``, the journal row
    it exports again, keyed by lower-case user id), after every storage rule (``console.ops.submission``,
    the console's form applies the same; the SAS checked before sign-in is not checked again): an error
    refuses the whole export, a warning not printed yet goes to stderr.

    Raises:
        UsageProblem: a rule broken (named; nothing is sent): a bad location, a profile whose value breaks
            the container rule, two profiles resolving to the same container.
    """
    checked = request.checked
    plan = plan_locations(checked.location, profiles, now=now, checked=checked)
    if plan.errors:
        more = f" (and {len(plan.errors) - 3} more)" if len(plan.errors) > 3 else ""
        raise UsageProblem("; ".join(clean(e) for e in plan.errors[:3]) + more + " (nothing was sent)")
    for message in plan.warnings:
        if message not in checked.warnings:
            warn(clean(message))
    return targets_for(profiles, plan.locations, previous=previous)


class ExportPreflight:
    """The export's storage pre-flight as a pipeline stage: each target checked just before its POST.

    ``engine.submit(precheck=...)`` calls ``check`` for each target at most a bounded window ahead of
    the POSTs, so the first POST leaves as soon as the first container passes (never after all of
    them). A refused target is reported at once (its JSON line, its ``not exported`` line) and never
    POSTed; a network failure to storage is a warning, never a refusal; an unreachable storage
    account is one line with the checks it skipped (``finish``), as in the console
    (``console.storage.rules.PreflightRun``).
    """

    def __init__(self, services: Services, printer: EventPrinter, *, case: str) -> None:
        from console.storage.rules import PreflightRun

        self._run = PreflightRun(getattr(services, "storage_transport", None))
        self._printer = printer
        self._case = case
        self.refused: list[tuple[ExportTarget, str]] = []

    async def check(self, target: ExportTarget) -> bool:
        result = await self._run.check(target.storage_location)
        for note in self._run.warnings():
            warn(f"storage pre-flight: {clean(note)}")
        if result.ok:
            return True
        reason = result.refused or "the storage location was refused by the pre-flight check"
        self.refused.append((target, reason))
        self._printer.refused_before += 1
        if self._printer.as_json:
            self._printer.line(json_text(refused_record(target, reason, self._case)))
        self._printer.wipe()  # the progress line comes back at its next redraw, under this one
        say(
            f"export-console: not exported: {clean(target.user_principal_name or target.user_id)} "
            f"({clean(target.user_id)}): {clean(reason)}"
        )
        return False

    def finish(self) -> None:
        """Say once each storage account found unreachable, with the checks skipped."""
        for note in self._run.unreachable():
            warn(f"storage pre-flight: {clean(note)}")


def refused_record(target: ExportTarget, reason: str, case: str) -> dict[str, Any]:
    """The JSON Lines object for a user the pre-flight kept back (nothing was sent)."""
    from console.redact import redact

    return {
        "event": "refused",
        "operationId": None,
        "userId": target.user_id,
        "status": "refused",
        "progress": None,
        "submittedDateTime": None,
        "completedDateTime": None,
        "storageLocation": redact(target.storage_location),
        "state": "refused",
        "error": reason,
        "key": None,
        "case": case,
        "delivered": None,
        "displayName": target.display_name,
        "userPrincipalName": target.user_principal_name,
    }


async def cmd_export(services: Services, args: argparse.Namespace, request: ExportRequest) -> int:
    """Export, after every check that can refuse without spending a daily export (``console.ops.submission``).

    Order: the users exist (one paged listing); none already has an unfinished or unconfirmed
    export (unless --force); the daily quota; the template resolved per user; the storage rules (any
    breach refuses the whole batch: nothing sent). Then, per user and in order, the pre-flight of
    the container (unless --no-storage-check) and the POST as soon as it passes, the checks a
    bounded window ahead of the POSTs (``ExportPreflight``). A user whose container the pre-flight refuses
    is not exported and is reported; the others are. Exit 2 when nothing at all was sent, else the
    worst outcome (a refused user counts as failed: 1).
    """
    engine = services.engine
    profiles = await ProfileDirectory(services).resolve(request.user_ids)
    submission = Submission(engine, identity=services.identity)
    try:
        cleared = await submission.prepare([p.user_id for p in profiles], force=args.force)
    except AlreadyExporting as exc:
        return refuse_conflicts(exc.conflicts)
    if cleared.conflicts:
        say(f"exporting again (--force) {len({v.user_id for v in cleared.conflicts})} user(s) with an earlier export:")
        for line in conflict_lines(cleared.conflicts):
            say(line)
    targets = build_targets(request, profiles, engine.clock.now(), previous=cleared.previous)
    printer = EventPrinter(as_json=args.json, polls=lambda: engine.polls_sent)
    preflight: ExportPreflight | None = None
    if args.no_storage_check:
        engine.delivery_check = None  # --no-storage-check: no storage call at all (the rules above still apply)
    else:
        preflight = ExportPreflight(services, printer, case=args.case or "")
    engine.subscribe(printer, kinds=PRINTED_EVENTS)
    await engine.start(resume=False)
    # On a terminal, stderr shows "sending 340/1,000 · accepted 338 · refused 2" while the POSTs go out.
    printer.sending, printer.refused_before = len(targets), 0
    printer.start_progress()
    try:
        check = preflight.check if preflight is not None else None
        sent = await submission.send(targets, case=args.case or "", force=args.force, precheck=check, cleared=cleared)
    except AlreadyExporting as exc:  # another process submitted them meanwhile
        return refuse_conflicts(exc.conflicts)
    finally:
        printer.redraw()  # the last count, then the line goes before anything else is printed
        printer.sending = None
        printer.clear()
    if sent.case_opened:
        say(f"export-console: {case_opened_text(clean(sent.case_opened))}")
    return await export_outcome(services, args, printer, sent.outcomes, preflight, cleared.quota)


async def export_outcome(
    services: Services,
    args: argparse.Namespace,
    printer: EventPrinter,
    outcomes: list[SubmitOutcome],
    preflight: ExportPreflight | None,
    report: QuotaReport,
) -> int:
    """What ``export`` says once the POSTs are answered (and, with --wait, the exports final), and its exit code."""
    engine = services.engine
    for outcome in outcomes:
        if outcome.operation is None and outcome.error:  # never sent (the journal could not record it)
            say(f"export-console: not exported: {clean(outcome.user_id)}: {clean(outcome.error)}")
    refused = preflight.refused if preflight is not None else []
    if preflight is not None:
        preflight.finish()
    printer.flush()
    if not outcomes and refused:
        say("export-console: nothing was sent (every storage location was refused by the pre-flight check)")
        return EXIT_USAGE
    if not args.json:
        accepted = sum(1 for o in outcomes if o.accepted)
        say(
            f"submitted {accepted} of {len(outcomes)} exports; {max(0, report.tenant_left - len(outcomes))} of "
            f"{report.tenant_limit} left today for the tenant"
        )
    codes = [outcome_exit_code(o) for o in outcomes]
    if refused:
        codes.append(EXIT_FAILED)
    views = [o.operation for o in outcomes if o.operation is not None]
    if args.wait and any(o.accepted for o in outcomes):
        await wait_for(services, printer)
        await wait_for_deliveries(services, [v.key for v in views])
    latest = [engine.operation(v.key) or v for v in views]
    printer.final_table(latest)
    codes.append(exit_code_for_views(latest, waited=args.wait))
    if args.wait and engine.fatal_error is not None and any(v.state == TRACKING for v in latest):
        say(f"export-console: {clean(explain_error(str(engine.fatal_error)))}")
        codes.append(EXIT_AUTH)
    return worst(codes)


async def wait_for_deliveries(services: Services, keys: Sequence[int], timeout: float = DELIVERY_WAIT) -> None:
    """Let the engine record what landed in storage for the exports that just completed (the evidence)."""
    engine = services.engine
    if getattr(engine, "delivery_check", None) is None:
        return
    pending: set[int] = set()
    for key in keys:
        view = engine.operation(key)
        if view is not None and view.state == FINAL and view.status == "complete" and view.delivered is None:
            pending.add(key)
    if not pending:
        return
    done = asyncio.Event()

    def delivered(event: OperationEvent) -> None:
        pending.discard(event.operation.key)
        if not pending:
            done.set()

    unsubscribe = engine.subscribe(delivered, kinds=["delivered"])
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        pass
    finally:
        unsubscribe()
    from console.storage.pool import storage_pool

    for note in storage_pool(getattr(services, "storage_transport", None)).unreachable():
        warn(f"delivery check: {clean(note)}")


async def wait_for(services: Services, printer: EventPrinter) -> None:
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
        printer.redraw()  # the final count, then the line goes before the table
        printer.clear()


# -- watch ---------------------------------------------------------------------------------


async def cmd_watch(services: Services, args: argparse.Namespace, *, named: bool = False) -> int:
    """Resume every unfinished operation; list every unconfirmed export; exit 1 while any remain.

    ``named``: one tenant among several (``watch --tenant a --tenant b``): its lines and table name it.
    """
    engine = services.engine
    who = f"tenant {clean(services.tenant_name)}: " if named else ""
    printer = EventPrinter(as_json=args.json, polls=lambda: engine.polls_sent)
    engine.subscribe(printer, kinds=PRINTED_EVENTS | {"added"})
    await engine.start(resume=True)
    from console.cli.journal_commands import print_reconcile  # (and the report: not needed by the other commands)

    # Unconfirmed exports Graph lists after all are confirmed and watched (console.ops.reconcile).
    print_reconcile(await engine.reconcile(), as_json=False)
    views = engine.operations()
    unconfirmed = [v for v in views if v.state == UNCONFIRMED and v.kind == "export"]  # removals: nothing to watch
    watching = [v for v in views if v.state == TRACKING]
    printer.track(watching)
    for view in unconfirmed:
        if args.json:
            printer.emit(view, "unconfirmed")
        else:
            say(unconfirmed_line(view))
    printer.flush()
    if not watching:
        if unconfirmed:
            say(f"export-console: nothing to watch, but {len(unconfirmed)} unconfirmed export(s) need checking")
            return EXIT_FAILED
        if not args.json:
            say(f"{who}nothing to watch: every operation in the journal is final")
        return EXIT_OK
    if not args.json:
        say(f"{who}watching {len(watching)} unfinished operations")
    await wait_for(services, printer)
    await wait_for_deliveries(services, sorted(printer.watched))
    keys = set(printer.watched)
    latest = [v for v in engine.operations() if v.key in keys]
    if named and not args.json:
        printer.clear()
        print(f"{who.rstrip()}", flush=True)
    printer.final_table(latest)
    codes = [exit_code_for_views([v for v in latest if v.state != UNCONFIRMED], waited=True)]
    if engine.fatal_error is not None and any(v.state == TRACKING for v in latest):
        say(f"export-console: {clean(str(engine.fatal_error))}")
        codes.append(EXIT_AUTH)
    remaining = [v for v in engine.operations() if v.state == UNCONFIRMED and v.kind == "export"]
    new = [v for v in remaining if v.key not in {u.key for u in unconfirmed}]
    if not args.json:  # in JSON each one already had its "unconfirmed" event
        for view in new:
            say(unconfirmed_line(view))
    if remaining:
        say(f"export-console: {len(remaining)} unconfirmed export(s) remain: check them before exporting again")
        codes.append(EXIT_FAILED)
    return worst(codes)
