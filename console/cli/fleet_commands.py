"""Several tenants on the command line: choosing them, ``watch`` over several, and ``ops --summary``.

``--tenant NAME`` may be repeated and ``--all-tenants`` takes every saved tenant. ``watch``, ``ops`` and
``report`` accept several; the commands that send something or act on one tenant's data (``export``,
``profiles``, ``remove``, ``outbound``, ``note``, ``case``) refuse several with exit 2 before anything is
sent. ``watch`` with no tenant option resumes every saved tenant that has unfinished operations and can
sign in without a prompt, and names each one it cannot (exit 1 when any are left).
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from console.cli.exitcodes import EXIT_AUTH, EXIT_FAILED, EXIT_OK, EXIT_USAGE, worst
from console.cli.output import clean, fail, json_text, say
from console.cli.views import TENANT_NAMES
from console.ops.fleet import Fleet, TenantPulse, journal_tenant_keys, pulse_from_journal
from console.redact import redact

if TYPE_CHECKING:
    from console.ops.journal import OperationJournal
    from console.wiring import ConnectionOptions, JournalOnly, Services

ONE_TENANT_COMMANDS = frozenset({"export", "profiles", "remove", "outbound", "note", "case"})
"""Commands that act on exactly one tenant."""


def several(options: ConnectionOptions) -> bool:
    """Whether the options choose more than one tenant (``--tenant`` twice or more, or ``--all-tenants``)."""
    return options.all_tenants or len(options.tenants) > 1


def refuse_several(command: str | None, options: ConnectionOptions, *, reconcile: bool = False) -> int | None:
    """Exit 2 (nothing sent) for a one-tenant command given several tenants; None when it may run."""
    if command in ONE_TENANT_COMMANDS and several(options):
        return fail(f"{command} acts on one tenant: name it with --tenant", EXIT_USAGE)
    if command == "ops" and reconcile and several(options):
        return fail("ops --reconcile acts on one tenant: name it with --tenant", EXIT_USAGE)
    return None


def fleet_watch_wanted(options: ConnectionOptions) -> bool:
    """``watch`` over several tenants: several chosen, or no tenant option at all (resume every tenant)."""
    return several(options) or not (options.demo or options.token_env or options.tenant)


# -- watch over several tenants ----------------------------------------------------------------------


WatchOne = Callable[["Services"], Awaitable[int]]
"""One tenant's ``watch`` (``run.watch_services``): its exit code, its services closed when it returns."""


async def run_fleet_watch(
    args: argparse.Namespace, options: ConnectionOptions, on_device_code: Any, watch: WatchOne
) -> int:
    """``watch`` over several tenants at once: each with its own engine; a failing one is named and set aside."""
    from console.clock import SystemClock
    from console.wiring import chosen_tenants, journal_for, open_fleet, resolve_paths, resumable_tenants

    paths = resolve_paths(options)
    cannot: dict[str, str] = {}
    explicit = several(options)
    if explicit:
        names = chosen_tenants(options, paths)
    else:
        from console.wiring import saved_tenants

        if not saved_tenants(paths).tenants:
            return fail(
                "no tenant chosen: use --demo, --tenant NAME (a saved tenant), or --graph-url URL --token-env VAR",
                EXIT_USAGE,
            )
        journal = journal_for(paths, False)
        try:
            names, cannot = resumable_tenants(paths, journal)
        finally:
            journal.close()
    fleet, opened = await open_fleet(
        options, names, allow_interactive=explicit, on_device_code=on_device_code, clock=SystemClock()
    )
    failed = fleet.set_aside()
    for member in failed:
        _set_aside(member.name, member.health.last_error)
    for name, why in cannot.items():
        say(f"export-console: tenant {clean(name)}: cannot resume without a prompt: {clean(why)}")
    TENANT_NAMES.use({s.tenant_key: s.tenant_name for s in opened})
    if not opened and not failed and not cannot and not args.json:
        say("nothing to watch: no saved tenant has unfinished operations in the journal")
    import asyncio  # here: `ops` and `report` import this module and need no event loop

    codes = await asyncio.gather(*(_watch_one(fleet, services, watch) for services in opened))
    if failed or cannot or fleet.set_aside():
        codes.append(EXIT_FAILED)
    return worst(list(codes) or [EXIT_OK])


async def _watch_one(fleet: Fleet, services: Services, watch: WatchOne) -> int:
    """One tenant's ``watch``; a sign-in Graph refuses (401/403) sets it aside (its services are closed)."""
    name = services.tenant_name
    fleet.add(name, services.engine, poll_budget=services.engine.budget.per_hour)
    code = await watch(services)
    fatal = services.engine.fatal_error
    if fatal is not None or code == EXIT_AUTH:
        error = str(fatal) if fatal is not None else "sign-in failed"
        fleet.sign_in_failed(name, error)
        _set_aside(name, error)
        code = EXIT_FAILED
    return code


def _set_aside(name: str, error: str) -> None:
    say(f"export-console: tenant {clean(name)}: set aside (its operations stay in the journal): {clean(redact(error))}")


# -- ops across tenants, and ops --summary -------------------------------------------------------------


def rows_of_tenants(
    journal: OperationJournal, keys: Sequence[str], states: tuple[str, ...] | None, case: str | None, lean: Any
) -> Iterator[Sequence[Any]]:
    """``iter_values`` of several tenants, merged oldest first (by journal row number)."""
    streams: list[Iterable[Sequence[Any]]] = [journal.iter_values(key, states, case=case, lean=lean) for key in keys]
    return heapq.merge(*streams, key=lambda values: int(values[0]))


def warn_unknown(journal_only: JournalOnly) -> None:
    """Name the chosen tenants whose operations cannot be picked out yet (never signed in)."""
    for name in journal_only.unknown:
        say(f"export-console: tenant {clean(name)}: its tenant id is known only after it signed in once: not listed")


SUMMARY_HEADERS = ("TENANT", "SIGN-IN", "STATE", "POLLS/HOUR", "EXPORTS LEFT", "UNFINISHED", "FAILED", "OLDEST RUNNING")


def summary_pulses(journal_only: JournalOnly, options: ConnectionOptions) -> list[TenantPulse]:
    """The pulse of each chosen tenant (each tenant in the journal when none is chosen), from the journal."""
    journal = journal_only.journal
    if journal_only.tenant_keys is not None:
        keys: list[str] = list(journal_only.tenant_keys)
    elif journal_only.tenant_key is not None:
        keys = [journal_only.tenant_key]
    else:
        keys = journal_tenant_keys(journal)
    from console.config import poll_budget_for
    from console.demo import demo_poll_budgets
    from console.wiring import saved_tenants

    saved = {} if options.demo else saved_tenants(journal_only.paths).tenants
    given = options.poll_budget if options.poll_budget_given else None  # else each saved tenant's own
    own = demo_poll_budgets(options.poll_budget) if options.demo else {}
    now = time.time()
    pulses = []
    for key in keys:
        name = journal_only.name_of(key)
        budget = own.get(name) or poll_budget_for(saved.get(name), given, options.poll_budget)
        pulses.append(pulse_from_journal(journal, key, name, now=now, poll_budget=budget))
    return pulses


def cmd_ops_summary(journal_only: JournalOnly, args: argparse.Namespace, options: ConnectionOptions) -> int:
    """``ops --summary``: one row per tenant with its pulse (text, or ``--json``: one object per tenant)."""
    warn_unknown(journal_only)
    pulses = summary_pulses(journal_only, options)
    if args.json:
        for pulse in pulses:
            print(json_text(pulse.to_json()), flush=True)
        return EXIT_OK
    from console.cli.output import print_table

    rows = [_summary_cells(p) for p in pulses]
    print_table(SUMMARY_HEADERS, rows)
    return EXIT_OK


def _summary_cells(pulse: TenantPulse) -> list[str]:
    oldest = "-"
    if pulse.oldest_running_since is not None:
        oldest = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(pulse.oldest_running_since))
    return [
        pulse.tenant,
        "yes" if pulse.signed_in else "no",
        pulse.state,
        f"{pulse.polls_this_hour}/{pulse.poll_budget}",
        str(pulse.exports_left_today),
        str(pulse.unfinished),
        str(pulse.failed),
        oldest,
    ]
