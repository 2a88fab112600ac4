"""``export-console`` with no command: build the console's services from the global options and run it.

Every session comes from ``console.wiring`` (the one composition root), as the CLI's do:

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

from console.clock import Clock, SystemClock
from console.config import ConfigError
from console.demo import (
    DEMO_IDENTITY,
    DEMO_RUNNING,
    DEMO_STORAGE,
    DEMO_TENANTS,
    DemoTenant,
    create_demo_containers,
    demo_poll_budgets,
    demo_saved_tenant,
    demo_signin,
    make_demo_tenant,
)
from console.paths import Paths
from console.tui.services import ConsoleServices, HeaderInfo, LoginService, Session
from console.tui.sessions import SavedTenantLogin, session_from_services
from console.tui.tenants import Sessions
from console.wiring import (
    ConnectionOptions,
    Services,
    UsageError,
    build_services,
    check_options,
    chosen_tenants,
    open_demo,
    open_fleet,
    open_services,
    resolve_paths,
    saved_tenants,
)

__all__ = ["DEMO_RUNNING", "DEMO_STORAGE", "build_console_services", "demo_services", "run_console"]


def run_console(options: ConnectionOptions, *, read_only: bool = False) -> int:
    """Run the console until the admin quits; the process exit code.

    Returns:
        0 after a normal quit; 2 for unusable options; 1 when the app crashed.
    """
    from console.tui.app import ConsoleApp

    try:
        services = build_console_services(options)
        services.read_only = read_only
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
    paths = resolve_paths(options)
    names = chosen_tenants(options, paths) if len(options.tenants) > 1 or options.all_tenants else []
    if len(names) > 1:
        return fleet_services(options, names, clock)
    budget = options.poll_budget if options.poll_budget_given else None  # None: each saved tenant's own
    login = SavedTenantLogin(paths, clock=clock, poll_budget=budget, graph_url=options.graph_url)
    if options.tenant and options.tenant not in {t.name for t in login.tenants()}:
        known = ", ".join(t.name for t in login.tenants()) or "none"
        raise UsageError(f"no saved tenant named {options.tenant!r} (saved: {known})")
    return ConsoleServices(login=login, clock=clock, initial_tenant=options.tenant)


def fleet_services(options: ConnectionOptions, names: list[str], clock: Clock) -> ConsoleServices:
    """Several saved tenants in one console (``--tenant`` repeated, ``--all-tenants``): each signs in without a
    prompt (a token variable, a secret, a certificate or a cached sign-in) through ``wiring.open_fleet``; one
    that cannot is set aside and named when the console opens, and the others open all the same.

    Raises:
        UsageError: none of them could sign in (each one's reason named).
    """
    fleet, opened = asyncio.run(open_fleet(options, names, allow_interactive=False, clock=clock))
    set_aside = [(member.name, member.health.last_error) for member in fleet.set_aside()]
    if not opened:
        reasons = "; ".join(f"{name}: {why}" for name, why in set_aside)
        raise UsageError(f"none of the tenants could sign in without a prompt ({reasons})")
    sessions = []
    for services in opened:
        session = session_from_services(services)
        session.name = services.tenant_name
        sessions.append(session)
    return ConsoleServices(
        session=sessions[0],
        clock=clock,
        tenants=Sessions(sessions, logins=fleet_logins(options, opened[0].paths, clock)) if len(sessions) > 1 else None,
        extra={"set_aside": set_aside},
    )


def fleet_logins(options: ConnectionOptions, paths: Paths, clock: Clock) -> dict[str, LoginService]:
    """How to sign in to each saved tenant again once signed out of: its own ways in, as at start-up (its
    token variable, secret, certificate or cached sign-in silently first, else the device code)."""
    budget = options.poll_budget if options.poll_budget_given else None  # None: each saved tenant's own
    return {
        name: SavedTenantLogin(paths, clock=clock, poll_budget=budget, graph_url=options.graph_url, tenants=[saved])
        for name, saved in saved_tenants(paths).tenants.items()
    }


def demo_services(
    options: ConnectionOptions, *, clock: Clock | None = None, profiles: int | None = None, tenants: int = 3
) -> ConsoleServices:
    """The simulated tenants (``console.demo.DEMO_TENANTS``: contoso, fabrikam throttling hard, northwind on
    a small budget), signed in by themselves, with a few exports running in each; ``tenants=1``: contoso alone.

    Signing out and in again goes through the real MSAL device-code flow against contoso's simulated
    tenant (its identity approves the code by itself), and opens its session through the same wiring.
    """
    clock = clock or SystemClock()
    sim = make_demo_tenant(clock) if profiles is None else make_demo_tenant(clock, profiles=profiles)
    services = open_demo(options, clock=clock, sim=sim)
    first = _named(session_from_services(services), DEMO_TENANTS[0], services)
    others = [_demo_tenant_session(options, spec, services.paths, clock, profiles) for spec in DEMO_TENANTS[1:tenants]]
    budgets = demo_poll_budgets(options.poll_budget)
    logins: dict[str, LoginService] = {
        spec.name: _demo_login(demo_sim, services.paths, clock, budgets[spec.name])
        for spec, demo_sim in zip(DEMO_TENANTS, [sim, *(other for _session, other in others)], strict=False)
    }
    return ConsoleServices(
        session=first,
        login=logins[DEMO_TENANTS[0].name],
        demo=True,
        clock=clock,
        tenants=Sessions([first, *(session for session, _sim in others)], logins=logins) if others else None,
        extra={"simulated_tenant": sim, "simulated_tenants": [sim, *(other for _session, other in others)]},
    )


def _demo_login(sim: Any, paths: Paths, clock: Clock, poll_budget: int) -> SavedTenantLogin:
    """Signing in to the demo tenant ``sim``: the real MSAL device-code flow against its own simulated identity."""
    return SavedTenantLogin(
        paths,
        clock=clock,
        poll_budget=poll_budget,
        demo_tenant=sim,
        make_signin=lambda saved: demo_signin(sim, paths, clock=clock),
        tenants=[demo_saved_tenant(sim)],
    )


def _named(session: Session, spec: DemoTenant, services: Services) -> Session:
    """The demo tenant's session under its saved name (the Tenant column, the pulse strip, the forms)."""
    session.name = spec.name
    session.header = HeaderInfo(f"{spec.domain} (simulated)", services.identity, services.cloud)
    return session


def _demo_tenant_session(
    options: ConnectionOptions, spec: DemoTenant, paths: Paths, clock: Clock, profiles: int | None
) -> tuple[Session, Any]:
    """Another demo tenant: its own simulated Graph, identity and storage, engine and budget, the same journal."""
    from console.auth.base import StaticTokenProvider
    from console.sim.tenant import DEMO_GRAPH_URL

    sim = (
        make_demo_tenant(clock, spec=spec)
        if profiles is None
        else make_demo_tenant(clock, profiles=profiles, spec=spec)
    )
    create_demo_containers(sim)
    services = build_services(
        paths,
        graph_url=DEMO_GRAPH_URL,
        tokens=StaticTokenProvider(sim.issue_token(lifetime=12 * 3600)),
        tenant_key=sim.tenant_id,
        tenant_label=f"{spec.domain} (simulated)",
        identity=DEMO_IDENTITY,
        poll_budget=demo_poll_budgets(options.poll_budget)[spec.name],
        clock=clock,
        graph_transport=sim.transport(),
        sim=sim,
        seed=True,
    )
    return _named(session_from_services(services), spec, services), sim
