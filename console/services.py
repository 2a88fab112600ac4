"""Builds the console's services from the global options: shared by the CLI and the Textual app.

No UI here: the CLI and the app both receive a ready ``Services``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.auth.base import StaticTokenProvider, TokenProvider, tenant_key_for
from console.clock import Clock, SystemClock
from console.graph.client import DEFAULT_GRAPH_URL, GraphClient, validate_graph_url
from console.graph.models import parse_datetime
from console.ops.budget import DEFAULT_POLL_BUDGET
from console.ops.engine import OperationsEngine
from console.ops.journal import OperationJournal
from console.paths import Paths

DEMO_PROFILES = 300
"""Profiles in the demo tenant: enough to make search worth having."""
DEMO_RETRY_AFTER = 2.0
"""Retry-After in the demo: short, so a newcomer sees exports move."""
DEMO_EXPORT_DURATION = 25.0
"""Seconds a demo export takes from notStarted to complete."""


class UsageError(Exception):
    """Bad options or input: a one-line message and exit code 2."""


@dataclass(frozen=True)
class ConnectionOptions:
    """The global options of the core contract."""

    demo: bool = False
    graph_url: str | None = None
    token_env: str | None = None
    tenant: str | None = None
    state_dir: str | None = None
    poll_budget: int = DEFAULT_POLL_BUDGET


@dataclass
class Services:
    """Everything a command or the app needs, built once."""

    paths: Paths
    journal: OperationJournal
    client: GraphClient
    engine: OperationsEngine
    tenant_key: str
    graph_url: str
    tokens: TokenProvider
    tenant_label: str
    """What the header shows as the tenant."""
    identity: str
    """Who is signed in (UPN, app, or 'token from $VAR')."""
    cloud: str = "global"
    demo: Any = None
    """The in-process SimulatedTenant in --demo, else None."""
    extras: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Stop polling, flush and close the journal and the connections."""
        await self.engine.stop()
        await self.client.aclose()
        self.journal.close()


def check_options(options: ConnectionOptions) -> None:
    """Refuse options that cannot work together.

    Raises:
        UsageError: a non-positive poll budget, or more than one way to reach a tenant.
    """
    if options.poll_budget < 1:
        raise UsageError("--poll-budget must be a positive number of requests an hour")
    chosen = [
        name
        for name, on in (
            ("--demo", options.demo),
            ("--tenant", bool(options.tenant)),
            ("--token-env", bool(options.token_env)),
        )
        if on
    ]
    if len(chosen) > 1:
        raise UsageError(f"choose one of {', '.join(chosen)}")


def resolve_paths(options: ConnectionOptions) -> Paths:
    paths = Paths.resolve(options.state_dir)
    paths.ensure()
    return paths


def journal_for(paths: Paths, demo: bool) -> OperationJournal:
    """The journal file: the demo keeps its own so it never mixes with a real tenant's."""
    path = paths.journal_file
    if demo:
        path = path.with_name("journal-demo.sqlite3")
    return OperationJournal(path)


def make_demo_tenant(clock: Clock | None = None) -> Any:
    """The in-process simulated tenant used by --demo."""
    from console.sim.tenant import SimulatedTenant

    now = (clock or SystemClock()).now
    return SimulatedTenant(
        profiles=DEMO_PROFILES,
        clock=now,
        retry_after=DEMO_RETRY_AFTER,
        export_duration=DEMO_EXPORT_DURATION,
        export_duration_jitter=0.6,
    )


def adopt_journal_operations(sim: Any, journal: OperationJournal, tenant_key: str) -> int:
    """The in-process demo tenant forgets everything when the process exits; the journal does not.

    Hand the simulator the demo's unfinished operations so that a restart resumes them, as it
    would against Graph.
    """
    adopted = 0
    for row in journal.rows(tenant_key, ["tracking"]):
        if row.operation_id:
            submitted = parse_datetime(row.submitted_at)
            at = submitted.timestamp() if submitted else row.created_at
            sim.adopt_operation(row.operation_id, row.user_id, row.storage_location, at)
            adopted += 1
    return adopted


async def open_services(
    options: ConnectionOptions,
    *,
    on_device_code: Callable[[str], None] | None = None,
    clock: Clock | None = None,
    tokens: TokenProvider | None = None,
) -> Services:
    """Build the client, journal and engine for the chosen tenant.

    Raises:
        UsageError: options that cannot work together, a missing token variable, an unsafe URL.
        console.graph.errors.GraphError: sign-in failed (exit 3).
    """
    check_options(options)
    clock = clock or SystemClock()
    paths = resolve_paths(options)
    transport = None
    sim = None
    cloud = "global"
    extras: dict[str, Any] = {}
    if options.demo:
        from console.sim.tenant import DEMO_GRAPH_URL

        sim = make_demo_tenant(clock)
        graph_url = DEMO_GRAPH_URL
        transport = sim.transport()
        token = sim.issue_token(lifetime=12 * 3600)
        provider: TokenProvider = tokens or StaticTokenProvider(token)
        tenant_key = sim.tenant_id
        tenant_label = f"{sim.tenant_domain} (simulated)"
        identity = "demo admin"
    elif options.tenant:
        from console.auth.headless import sign_in_saved_tenant
        from console.config import ConfigError, load_config

        try:
            saved = load_config(paths).tenant(options.tenant)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        if not saved.shared_profiles_available and not options.graph_url and not saved.graph_url:
            raise UsageError(
                f"tenant {saved.name} is in the {saved.cloud} cloud: Microsoft offers the inbound shared user "
                "profile APIs (list, export) only in the global service"
            )
        signin = await sign_in_saved_tenant(saved, paths, interactive_prompt=on_device_code or (lambda _m: None))
        account = signin.account
        try:
            graph_url = validate_graph_url(options.graph_url or saved.graph_base_url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        provider = tokens or signin.provider
        tenant_key = (account.tenant_id if account and account.tenant_id else "") or graph_url
        tenant_label = saved.name if saved.tenant in saved.name else f"{saved.name} ({saved.tenant})"
        identity = account.username if account else saved.method.value
        cloud = saved.cloud
        extras["signin"] = signin
        extras["saved_tenant"] = saved
    elif options.token_env:
        try:
            graph_url = validate_graph_url(options.graph_url or DEFAULT_GRAPH_URL)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            static = StaticTokenProvider.from_env(options.token_env)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        provider = tokens or static
        token = await static.get_token()
        tenant_key = tenant_key_for(token, graph_url)
        tenant_label = tenant_key if tenant_key != graph_url else graph_url
        identity = f"token from ${options.token_env}"
    else:
        raise UsageError(
            "no tenant chosen: use --demo, --tenant NAME (a saved tenant), or --graph-url URL --token-env VAR"
        )
    if options.graph_url and not options.tenant and not options.token_env and not options.demo:
        raise UsageError("--graph-url needs --token-env VAR (or a saved --tenant)")
    client = GraphClient(graph_url, provider, transport=transport, clock=clock)
    try:
        journal = journal_for(paths, options.demo)
    except Exception:
        await client.aclose()
        raise
    if sim is not None:
        adopt_journal_operations(sim, journal, tenant_key)
    engine = OperationsEngine(client, journal, tenant_key=tenant_key, poll_budget=options.poll_budget, clock=clock)
    return Services(
        paths=paths,
        journal=journal,
        client=client,
        engine=engine,
        tenant_key=tenant_key,
        graph_url=graph_url,
        tokens=provider,
        tenant_label=tenant_label,
        identity=identity,
        cloud=cloud,
        demo=sim,
        extras=extras,
    )


def environment_token_present(variable: str) -> bool:
    return bool(os.environ.get(variable, "").strip())
