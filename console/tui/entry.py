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

from console.clock import Clock, SystemClock
from console.config import ConfigError
from console.demo import DEMO_RUNNING, DEMO_STORAGE, demo_saved_tenant, demo_signin, make_demo_tenant
from console.tui.services import ConsoleServices
from console.tui.sessions import SavedTenantLogin, session_from_services
from console.wiring import ConnectionOptions, UsageError, check_options, open_demo, open_services, resolve_paths

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
    login = SavedTenantLogin(paths, clock=clock, poll_budget=options.poll_budget, graph_url=options.graph_url)
    if options.tenant and options.tenant not in {t.name for t in login.tenants()}:
        known = ", ".join(t.name for t in login.tenants()) or "none"
        raise UsageError(f"no saved tenant named {options.tenant!r} (saved: {known})")
    return ConsoleServices(login=login, clock=clock, initial_tenant=options.tenant)


def demo_services(
    options: ConnectionOptions, *, clock: Clock | None = None, profiles: int | None = None
) -> ConsoleServices:
    """The simulated tenant, signed in by itself, with a few exports running.

    Signing out and in again goes through the real MSAL device-code flow against the same simulated
    tenant (its identity approves the code by itself), and opens its session through the same wiring.
    """
    clock = clock or SystemClock()
    sim = make_demo_tenant(clock) if profiles is None else make_demo_tenant(clock, profiles=profiles)
    services = open_demo(options, clock=clock, sim=sim)
    login = SavedTenantLogin(
        services.paths,
        clock=clock,
        poll_budget=options.poll_budget,
        demo_tenant=sim,
        make_signin=lambda saved: demo_signin(sim, services.paths, clock=clock),
        tenants=[demo_saved_tenant(sim)],
    )
    return ConsoleServices(
        session=session_from_services(services),
        login=login,
        demo=True,
        clock=clock,
        extra={"simulated_tenant": sim},
    )
