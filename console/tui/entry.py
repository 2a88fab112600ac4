"""``export-console`` with no command: build the console's services from the global options and run it.

* ``--demo``: the in-process simulated tenant, signed in by itself, a few exports already running;
  signing out and in again shows the simulated device code being approved.
* ``--graph-url URL --token-env VAR``: that endpoint with that token (nothing to sign out of).
* ``--tenant NAME``: the login pane on that saved tenant, signing in silently when the cache allows.
* nothing: the login pane with the saved tenants.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from console.auth.base import StaticTokenProvider
from console.clock import Clock, SystemClock
from console.config import ConfigError
from console.graph.client import GraphClient
from console.ops.engine import OperationsEngine
from console.ops.events import TRACKING
from console.services import (
    ConnectionOptions,
    UsageError,
    check_options,
    journal_for,
    make_demo_tenant,
    open_services,
    resolve_paths,
)
from console.tui.services import ConsoleServices, HeaderInfo, Session
from console.tui.sessions import SavedTenantLogin, session_from_services

DEMO_STORAGE = (
    "https://contosoexports.blob.core.windows.net/shared-users?sv=2024-05-04&sr=c&sp=cw&sig=demo-not-a-secret"
)
"""Where the demo's exports go (the simulator never contacts it; its signature is masked everywhere)."""
DEMO_RUNNING = 12
"""The demo keeps at least this many exports on the go when it starts."""
DEMO_DURATION_JITTER = 0.6
"""Spread of the demo's export durations (a fraction of it), so they don't all finish at once."""


def run_console(options: ConnectionOptions) -> int:
    """Run the console until the admin quits; the process exit code.

    Returns:
        0 after a normal quit; 2 for unusable options; 1 when the app crashed.
    """
    from console.tui.app import ConsoleApp

    try:
        services = build_console_services(options)
    except (UsageError, ConfigError, ValueError) as exc:
        print(f"export-console: {exc}", file=sys.stderr)
        return 2
    app = ConsoleApp(services)
    app.run()
    return app.return_code or 0


def build_console_services(options: ConnectionOptions, *, clock: Clock | None = None) -> ConsoleServices:
    """The console's services for these options (nothing is sent to Graph yet).

    Raises:
        UsageError: options that cannot work together, a missing token variable, an unsafe URL.
        ConfigError: config.toml is wrong.
    """
    clock = clock or SystemClock()
    check_options(options)
    if options.demo:
        return demo_services(options, clock=clock)
    if options.token_env:
        services = asyncio.run(open_services(options, clock=clock))
        return ConsoleServices(session=session_from_services(services), clock=clock)
    if options.graph_url:
        raise UsageError("--graph-url needs --token-env VAR (or a saved --tenant)")
    paths = resolve_paths(options)
    login = SavedTenantLogin(paths, clock=clock, poll_budget=options.poll_budget)
    if options.tenant and options.tenant not in {t.name for t in login.tenants()}:
        known = ", ".join(t.name for t in login.tenants()) or "none"
        raise UsageError(f"no saved tenant named {options.tenant!r} (saved: {known})")
    return ConsoleServices(login=login, clock=clock, initial_tenant=options.tenant)


def demo_services(
    options: ConnectionOptions, *, clock: Clock | None = None, profiles: int | None = None
) -> ConsoleServices:
    """The simulated tenant, signed in by itself, with a few exports running."""
    from console.auth.demo import demo_saved_tenant, demo_signin
    from console.sim.tenant import DEMO_GRAPH_URL

    clock = clock or SystemClock()
    paths = resolve_paths(options)
    sim: Any = make_demo_tenant(clock)
    if profiles is not None:
        from console.sim.tenant import SimulatedTenant

        sim = SimulatedTenant(
            profiles=profiles,
            clock=clock.now,
            retry_after=sim.graph.config.retry_after,
            export_duration=sim.graph.config.export_duration,
        )
    sim.graph.config.export_duration_jitter = DEMO_DURATION_JITTER
    people = sim.graph.profiles
    if len(people) > 7:
        sim.graph.faults.failing_users.add(people[4].user_id.lower())  # one export fails, as some do
    transport = sim.transport()
    journal = journal_for(paths, True)
    # Operations a previous demo accepted: the new simulator must know them, or polling would 404.
    for row in journal.rows(sim.tenant_id, [TRACKING]):
        if row.operation_id:
            sim.adopt_operation(row.operation_id, row.user_id, row.storage_location, row.created_at)
    client = GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(sim.issue_token(lifetime=12 * 3600)), transport=transport, clock=clock
    )
    engine = OperationsEngine(client, journal, tenant_key=sim.tenant_id, poll_budget=options.poll_budget, clock=clock)

    async def close() -> None:
        await engine.stop()
        await client.aclose()
        journal.close()

    async def warm_up() -> None:
        running = sum(1 for view in engine.operations() if not view.is_done)
        wanted = max(0, DEMO_RUNNING - running)
        if not wanted:
            return
        offset = (len(engine.operations()) * 7) % max(1, len(people) - wanted)
        user_ids = [p.user_id for p in people[offset : offset + wanted]]
        if people[4].user_id not in user_ids and not running:
            user_ids[-1] = people[4].user_id
        quota = engine.quota()
        if quota.tenant_left < len(user_ids):
            return
        await engine.submit(user_ids, DEMO_STORAGE)

    session = Session(
        engine=engine,
        profiles=client.list_profiles,
        header=HeaderInfo(f"{sim.tenant_domain} (simulated)", "demo app (app-only)", "global"),
        close=close,
        warm_up=warm_up,
    )
    login = SavedTenantLogin(
        paths,
        clock=clock,
        poll_budget=options.poll_budget,
        demo=True,
        make_signin=lambda saved: demo_signin(sim, paths, clock=clock),
        graph_transport=transport,
        tenants=[demo_saved_tenant(sim)],
    )
    return ConsoleServices(session=session, login=login, demo=True, clock=clock, extra={"simulated_tenant": sim})
