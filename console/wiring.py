"""The one composition root: builds the Graph client, the journal and the engine, once.

Every way in goes through here, for the CLI and the console alike:

* ``open_services(options)``: a saved tenant (``--tenant``, after sign-in), a handed-in token
  (``--graph-url URL --token-env VAR``) or the in-process demo (``--demo``);
* ``services_for_signin(signin, ...)``: a ``SignIn`` the console's login pane completed;
* ``open_demo(options)``: the demo, synchronously (the console builds it before its loop starts);
* ``open_journal_only(options)``: the journal alone, for ``ops``, ``report`` and ``note``, which never
  sign in and never touch the network.

One set of option rules (``check_options``, ``check_saved_graph_url``) serves the CLI, the console and
saved tenants. No UI here: the CLI and the app both receive a ready ``Services``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from typing import TYPE_CHECKING, Any

from console.auth.base import StaticTokenProvider, TokenProvider, tenant_key_for
from console.clock import Clock, SystemClock
from console.graph.client import DEFAULT_GRAPH_URL, GraphClient, is_token_text, validate_graph_url
from console.errors import UsageError  # the one "bad input, exit 2" class (it was defined here)
from console.graph.models import parse_datetime
from console.jwt import claim_str, token_claims
from console.ops.budget import DEFAULT_POLL_BUDGET, PollBudget
from console.ops.engine import OperationsEngine
from console.ops.events import ExportTarget
from console.ops.journal import OperationJournal
from console.paths import STATE_DIR_ENV, Paths
from console.storage import resolve_location
from console.storage.blob import Delivery, inspect_delivery

if TYPE_CHECKING:
    import httpx

    from console.auth.signin import SignIn
    from console.config import SavedTenant

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_APPROVE_AFTER",
    "DEMO_CASE",
    "DEMO_EXPORT_DURATION",
    "DEMO_IDENTITY",
    "DEMO_PROFILES",
    "DEMO_RETRY_AFTER",
    "DEMO_RUNNING",
    "DEMO_STORAGE",
    "DEMO_TENANT_NAME",
    "ConnectionOptions",
    "JournalOnly",
    "Services",
    "UsageError",
    "adopt_journal_operations",
    "check_options",
    "check_saved_graph_url",
    "check_token_text",
    "demo_container",
    "demo_location",
    "demo_saved_tenant",
    "demo_signin",
    "identity_of",
    "journal_for",
    "journal_path_for",
    "make_demo_tenant",
    "open_demo",
    "open_journal_only",
    "open_services",
    "resolve_paths",
    "services_for_signin",
]

DEMO_PROFILES = 300
"""Profiles in the demo tenant: enough to make search worth having."""
DEMO_RETRY_AFTER = 2.0
"""Retry-After in the demo: short, so a newcomer sees exports move."""
DEMO_EXPORT_DURATION = 25.0
"""Seconds a demo export takes from notStarted to complete."""
DEMO_DURATION_JITTER = 0.6
"""Spread of the demo's export durations (a fraction of it), so they don't all finish at once."""
DEMO_RUNNING = 12
"""The demo keeps at least this many exports on the go when it starts."""
DEMO_ACCOUNT = "contosoexports"
"""The demo's (simulated) storage account."""
DEMO_STORAGE = (
    f"https://{DEMO_ACCOUNT}.blob.core.windows.net/dsr-{{userId}}"
    "?sv=2024-05-04&ss=b&srt=co&sp=rcwl&se=2099-12-31T00:00:00Z&sig=demo-not-a-secret"
)
"""Where the demo's exports go: a TEMPLATE, one container per profile (Graph refuses a reused location,
../shared/graph-api.md "One export per storage location"). The containers live in the simulator's blob
stand-in; the signature is fake and masked everywhere anyway."""
DEMO_IDENTITY = "demo admin"
"""Who submits in the demo."""
DEMO_TENANT_NAME = "demo"
"""Saved-tenant name used for the demo (its token cache stays in memory)."""
DEMO_CASE = "demo"
"""The case of the exports the demo seeds (once per journal: their presence says it was seeded)."""
DEMO_APPROVE_AFTER = 2.5
"""Seconds after which the demo's device code approves itself."""


@dataclass(frozen=True)
class ConnectionOptions:
    """The global options of the core contract."""

    demo: bool = False
    """``--demo``: the in-process simulated tenant."""
    graph_url: str | None = None
    """``--graph-url``: the Graph base URL (with ``/beta`` or ``/v1.0``); only with ``--token-env`` or ``--tenant``."""
    token_env: str | None = None
    """``--token-env``: the environment variable holding a Graph access token."""
    tenant: str | None = None
    """``--tenant``: the name of a saved tenant."""
    state_dir: str | None = None
    """``--state-dir``: where config, journal and caches live."""
    poll_budget: int = DEFAULT_POLL_BUDGET
    """``--poll-budget``: requests an hour for the tenant."""


@dataclass
class Services:
    """Everything a command or the app needs, built once."""

    paths: Paths
    """State paths."""
    journal: OperationJournal
    """The operations journal the engine writes."""
    client: GraphClient
    """The Graph client (one per session)."""
    engine: OperationsEngine
    """The operations engine over ``client`` and ``journal``."""
    tenant_key: str
    """The key operations are journalled under (the tenant id, or the Graph URL for an opaque token)."""
    graph_url: str
    """The validated Graph base URL."""
    tokens: TokenProvider
    """The client's token provider."""
    tenant_label: str
    """What the header shows as the tenant."""
    identity: str
    """Who submits: the signed-in UPN, the app id for app-only, ``token from $VAR``, ``demo admin``."""
    cloud: str = "global"
    """The saved tenant's cloud."""
    demo: Any = None
    """The in-process SimulatedTenant in --demo, else None."""
    storage_transport: httpx.AsyncBaseTransport | None = None
    """The demo's blob stand-in transport (pre-flight, delivery check), else None for the network."""
    warm_up: Callable[[], Awaitable[None]] | None = None
    """The demo's "a few exports already running" step; None elsewhere."""
    storage_suggestion: str = ""
    """A location the export form starts with: the demo's own storage (its fake SAS works there), else ''."""
    prepare_storage: Callable[[list[str]], None] | None = None
    """The demo creates the containers of the locations its form proposes (as an admin would before
    exporting); None elsewhere."""
    signin: SignIn | None = None
    """The ``SignIn`` behind ``tokens`` for a saved tenant, else None."""
    saved_tenant: SavedTenant | None = None
    """The saved tenant signed in to, else None."""
    shared_profiles_available: bool = True
    """False in a national cloud: Graph has no shared-profile APIs there."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Kept for older callers (``signin``, ``saved_tenant``)."""

    @property
    def journal_path(self) -> Path:
        """The journal file (another reader, e.g. the report, opens its own connection on it)."""
        return self.journal.path

    async def aclose(self) -> None:
        """Stop polling, flush and close the journal and the connections."""
        try:
            await self.engine.stop()
        finally:
            await self.client.aclose()
            self.journal.close()


@dataclass
class JournalOnly:
    """The journal without a client: ``ops``, ``report`` and ``note`` (never a sign-in, never the network)."""

    journal: OperationJournal
    """The journal (the demo's own file with ``--demo``)."""
    tenant_key: str | None
    """Rows of this tenant only; None means every tenant in the journal."""
    paths: Paths
    """State paths."""

    def close(self) -> None:
        """Close the journal."""
        self.journal.close()


# ---------------------------------------------------------------------------------------------- rules


def check_options(options: ConnectionOptions) -> None:
    """The one set of option rules (CLI and console).

    Raises:
        UsageError: a non-positive poll budget; more than one way to reach a tenant (``--demo`` with
            ``--tenant``, ``--token-env`` or ``--graph-url`` included: the demo never talks to another
            endpoint); ``--graph-url`` without ``--token-env`` or ``--tenant``; a graph URL that
            ``validate_graph_url`` refuses.
    """
    if options.poll_budget < 1:
        raise UsageError("--poll-budget must be a positive number of requests an hour")
    for name, value in (
        ("--state-dir", options.state_dir),
        ("--tenant", options.tenant),
        ("--token-env", options.token_env),
    ):
        if value is not None and not value.strip():
            # An empty value must never quietly mean "the default" (issue 14: `--tenant ""` POSTed).
            raise UsageError(f"{name} is empty: give a value or leave the option out")
    if options.demo:
        others = [
            name
            for name, on in (
                ("--tenant", bool(options.tenant)),
                ("--token-env", bool(options.token_env)),
                ("--graph-url", options.graph_url is not None),
            )
            if on
        ]
        if others:
            raise UsageError(f"--demo uses its own simulated tenant: it cannot be combined with {', '.join(others)}")
    if options.tenant and options.token_env:
        raise UsageError("choose one of --tenant, --token-env")
    if options.graph_url is not None:
        if not options.token_env and not options.tenant:
            raise UsageError("--graph-url needs --token-env VAR (the variable holding the access token)")
        try:
            validate_graph_url(options.graph_url)
        except ValueError as exc:
            raise UsageError(f"--graph-url: {exc}") from None


def check_token_text(token: str, variable: str) -> None:
    """Refuse a handed-in token that no Authorization header can carry, before anything is sent.

    A line break (CR/LF), a space or any other control or non-ASCII character means the token was
    mangled on its way into the variable; sending it would fail in the HTTP library (and was retried
    in silence, issue 14). It is the user's input, refused before any request: exit 2, like an unset
    variable (exit 3 is for a token Graph or Entra refused).

    Raises:
        UsageError: naming the variable, never the token.
    """
    if not is_token_text(token):
        raise UsageError(
            f"the token in ${variable} holds a line break, a space or another character no access token has: "
            "nothing was sent (copy the token into the variable again)"
        )


def check_saved_graph_url(saved: SavedTenant) -> str:
    """A saved tenant's Graph base URL, under the same rule as ``--graph-url``.

    A loopback ``http://127.0.0.1:PORT/beta`` is accepted as ``--graph-url`` accepts it, so a saved
    tenant can point at ``export-console simulate``.

    Raises:
        UsageError: the URL is not one ``validate_graph_url`` accepts.
    """
    try:
        return validate_graph_url(saved.graph_base_url)
    except ValueError as exc:
        raise UsageError(f"tenant {saved.name}: graph_url: {exc}") from None


def resolve_paths(options: ConnectionOptions) -> Paths:
    """The state paths of these options, created.

    Raises:
        UsageError: the state directory cannot be used (a file, under a file, a symlink loop, too
            long a name, not writable...): one sentence naming it, before anything is sent.
    """
    if options.state_dir is not None and not options.state_dir.strip():
        raise UsageError("--state-dir is empty: give a directory or leave the option out")
    paths = Paths.resolve(options.state_dir)
    source = "--state-dir" if options.state_dir else (STATE_DIR_ENV if os.environ.get(STATE_DIR_ENV) else "")
    for directory in sorted({paths.config_dir, paths.data_dir, paths.cache_dir}):
        problem = _directory_problem(directory)
        if problem:
            shown = str(directory) if len(str(directory)) <= 120 else f"{str(directory)[:100]}…"
            named = f"{source} {shown}" if source else f"the state directory {shown}"
            raise UsageError(f"cannot keep the console's state in {named}: {problem}")
    try:
        paths.ensure()
    except OSError as exc:
        raise UsageError(f"cannot keep the console's state in {paths.data_dir}: {exc.strerror or exc}") from None
    return paths


_DIRECTORY_ERRORS = {
    errno.EEXIST: "it exists and is not a directory",
    errno.ENOTDIR: "a part of that path is a file, not a directory",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ELOOP: "the path is a symbolic link loop",
    errno.ENOENT: "a part of that path does not exist and cannot be created",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
}


def _directory_problem(directory: Path) -> str:
    """Why ``directory`` cannot hold the console's files (creating it if missing), or "" when it can."""
    try:
        try:
            os.stat(directory)  # a symlink loop raises ELOOP here (mkdir would only say "exists")
        except FileNotFoundError:
            pass
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        if exc.errno in _DIRECTORY_ERRORS:
            return _DIRECTORY_ERRORS[exc.errno]
        return (exc.strerror or type(exc).__name__).lower()
    if not directory.is_dir():
        return "it exists and is not a directory"
    if not os.access(directory, os.W_OK | os.X_OK):
        return "it is not writable by this user"
    return ""


def journal_for(paths: Paths, demo: bool) -> OperationJournal:
    """The journal file: the demo keeps its own so it never mixes with a real tenant's.

    Raises:
        UsageError: something other than a file sits where the journal goes (a directory, a device).
    """
    path = journal_path_for(paths, demo)
    if (path.exists() or path.is_symlink()) and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise UsageError(f"the journal {path} is {kind}: move it away or choose another --state-dir (nothing was sent)")
    return OperationJournal(path)


def journal_path_for(paths: Paths, demo: bool) -> Path:
    """Where ``journal_for`` opens the journal."""
    path = paths.journal_file
    return path.with_name("journal-demo.sqlite3") if demo else path


# ------------------------------------------------------------------------------------ journal only


def open_journal_only(options: ConnectionOptions) -> JournalOnly:
    """The journal for ``ops``, ``report`` and ``note``: never signs in, never reads the network.

    The tenant key comes from the options without any request:

    * ``--demo``: the demo tenant's id (a constant: ``console.sim.tenant.DEMO_TENANT_ID``), on the
      demo's own journal;
    * ``--token-env VAR`` holding a JWT: its ``tid`` claim (read, not verified); an opaque token
      gives the Graph URL, as ``open_services`` keys it; an unset variable gives None;
    * ``--tenant NAME``: the saved tenant's ``tenant`` when it is a tenant id (a GUID), else None;
    * otherwise None: rows of every tenant in the journal.

    Raises:
        UsageError: the options break ``check_options``.
        console.ops.journal.JournalError: the journal cannot be opened.
    """
    check_options(options)
    paths = resolve_paths(options)
    tenant_key: str | None = None
    if options.demo:
        from console.sim.tenant import DEMO_TENANT_ID

        tenant_key = DEMO_TENANT_ID
    elif options.token_env:
        token = os.environ.get(options.token_env, "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if token:
            check_token_text(token, options.token_env)
            graph_url = options.graph_url or DEFAULT_GRAPH_URL
            tenant_key = tenant_key_for(token, validate_graph_url(graph_url))
    elif options.tenant:
        tenant_key = _saved_tenant_id(paths, options.tenant)
    return JournalOnly(journal=journal_for(paths, options.demo), tenant_key=tenant_key, paths=paths)


def _saved_tenant_id(paths: Paths, name: str) -> str | None:
    import uuid

    from console.config import ConfigError, load_config

    try:
        saved = load_config(paths).tenant(name)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        return str(uuid.UUID(saved.tenant))
    except ValueError:
        return None  # a domain name: its id is known only after sign-in


# ------------------------------------------------------------------------------------------ engine


def _make_engine(
    client: GraphClient,
    journal: OperationJournal,
    *,
    tenant_key: str,
    poll_budget: int,
    clock: Clock,
    identity: str,
    delivery_check: Callable[[str], Awaitable[Delivery]] | None,
    budget: PollBudget,
) -> OperationsEngine:
    """The engine: who submits (``identity``) and how a delivery is checked come from the wiring."""
    return OperationsEngine(
        client,
        journal,
        tenant_key=tenant_key,
        poll_budget=poll_budget,
        clock=clock,
        identity=identity,
        delivery_check=delivery_check,
        budget=budget,
    )


def _delivery_check(transport: httpx.AsyncBaseTransport | None) -> Callable[[str], Awaitable[Delivery]]:
    """``console.storage.blob.inspect_delivery`` over ``transport`` (None: the network)."""

    async def check(location: str) -> Delivery:
        return await inspect_delivery(location, transport=transport)

    return check


def _assemble(
    *,
    paths: Paths,
    graph_url: str,
    provider: TokenProvider,
    tenant_key: str,
    identity: str,
    poll_budget: int,
    clock: Clock,
    demo: bool,
    graph_transport: httpx.AsyncBaseTransport | None = None,
    storage_transport: httpx.AsyncBaseTransport | None = None,
    before_engine: Callable[[OperationJournal], object] | None = None,
) -> tuple[GraphClient, OperationJournal, OperationsEngine]:
    """The journal, then the client and the engine over it (the journal is closed if the rest fails)."""
    journal = journal_for(paths, demo)
    try:
        if before_engine is not None:
            before_engine(journal)
        # One budget for the tenant: the engine's polls, the client's retries and profile listing all
        # spend from it, and the engine keeps its ledger in the journal shared by every process.
        budget = PollBudget(poll_budget, clock)
        client = GraphClient(graph_url, provider, transport=graph_transport, clock=clock, budget=budget)
        engine = _make_engine(
            client,
            journal,
            tenant_key=tenant_key,
            poll_budget=poll_budget,
            clock=clock,
            identity=identity,
            delivery_check=_delivery_check(storage_transport),
            budget=budget,
        )
    except BaseException:
        journal.close()
        raise
    return client, journal, engine


# -------------------------------------------------------------------------------------- saved tenant


def identity_of(signin: SignIn) -> str:
    """Who submits for a signed-in tenant: the user's UPN, or the app id (client id) for app-only."""
    saved = signin.tenant
    if saved.method.app_only:
        return saved.client_id
    account = signin.account
    return account.username if account and account.username else saved.name


def services_for_signin(
    signin: SignIn,
    paths: Paths,
    *,
    poll_budget: int = DEFAULT_POLL_BUDGET,
    clock: Clock | None = None,
    graph_url: str | None = None,
    graph_transport: httpx.AsyncBaseTransport | None = None,
    demo_tenant: Any = None,
    tokens: TokenProvider | None = None,
) -> Services:
    """The services of a signed-in saved tenant (the login pane's and ``--tenant``'s).

    Args:
        signin: a ``SignIn`` with an account.
        paths: state paths.
        poll_budget: requests an hour.
        clock: the engine's clock.
        graph_url: overrides the saved tenant's graph URL (``--tenant X --graph-url U``).
        graph_transport: the simulator's transport in the demo, else None for the network.
        demo_tenant: the demo's SimulatedTenant when this is the demo's sign-in.
        tokens: a token provider in place of ``signin.provider`` (tests).

    Raises:
        UsageError: the Graph URL is unusable.
    """
    clock = clock or SystemClock()
    saved = signin.tenant
    if graph_url is not None:
        try:
            url = validate_graph_url(graph_url)
        except ValueError as exc:
            raise UsageError(f"--graph-url: {exc}") from None
    else:
        url = check_saved_graph_url(saved)
    account = signin.account
    tenant_key = (account.tenant_id if account and account.tenant_id else "") or url.rstrip("/")
    tenant_label = saved.name if saved.tenant in saved.name else f"{saved.name} ({saved.tenant})"
    identity = identity_of(signin)
    storage_transport = _storage_transport(demo_tenant) if demo_tenant is not None else None
    provider: TokenProvider = tokens or signin.provider
    client, journal, engine = _assemble(
        paths=paths,
        graph_url=url,
        provider=provider,
        tenant_key=tenant_key,
        identity=identity,
        poll_budget=poll_budget,
        clock=clock,
        demo=demo_tenant is not None,
        graph_transport=graph_transport,
        storage_transport=storage_transport,
    )
    return Services(
        paths=paths,
        journal=journal,
        client=client,
        engine=engine,
        tenant_key=tenant_key,
        graph_url=url,
        tokens=provider,
        tenant_label=tenant_label,
        identity=identity,
        cloud=saved.cloud,
        demo=demo_tenant,
        storage_transport=storage_transport,
        storage_suggestion=DEMO_STORAGE if demo_tenant is not None else "",
        prepare_storage=_demo_prepare_storage(demo_tenant) if demo_tenant is not None else None,
        signin=signin,
        saved_tenant=saved,
        shared_profiles_available=saved.shared_profiles_available or graph_url is not None or bool(saved.graph_url),
        extras={"signin": signin, "saved_tenant": saved},
    )


# ---------------------------------------------------------------------------------------------- demo


def make_demo_tenant(clock: Clock | None = None, *, profiles: int = DEMO_PROFILES) -> Any:
    """The in-process simulated tenant used by --demo (one per process: Graph, identity and storage)."""
    from console.sim.tenant import SimulatedTenant

    now = (clock or SystemClock()).now
    sim = SimulatedTenant(
        profiles=profiles,
        clock=now,
        retry_after=DEMO_RETRY_AFTER,
        export_duration=DEMO_EXPORT_DURATION,
        export_duration_jitter=DEMO_DURATION_JITTER,
    )
    people = sim.graph.profiles
    if len(people) > 7:
        sim.graph.faults.failing_users.add(people[4].user_id.lower())  # one export fails, as some do
    return sim


def _storage_transport(sim: Any) -> httpx.AsyncBaseTransport:
    """The simulator's blob stand-in transport (``https://*.blob.core.windows.net`` in-process)."""
    transport: httpx.AsyncBaseTransport = sim.storage_transport()
    return transport


def demo_location(user_id: str) -> str:
    """``DEMO_STORAGE`` resolved for one profile (its own container)."""
    return resolve_location(DEMO_STORAGE, user_id=user_id)


def demo_container(user_id: str) -> str:
    """The demo container of one profile: the first path segment of its resolved location."""
    return urlsplit(demo_location(user_id)).path.strip("/").split("/")[0]


def _create_demo_containers(sim: Any, user_ids: list[str]) -> None:
    """Create the demo's containers in the blob stand-in so that pre-flight passes."""
    for user_id in user_ids:
        sim.storage.create_container(DEMO_ACCOUNT, demo_container(user_id))


def _demo_prepare_storage(sim: Any) -> Callable[[list[str]], None]:
    """Create, in the demo's blob stand-in, the containers of locations on the demo's storage account."""

    def prepare(locations: list[str]) -> None:
        for location in locations:
            parts = urlsplit(location)
            container = parts.path.strip("/").split("/")[0]
            if (parts.hostname or "").lower().startswith(f"{DEMO_ACCOUNT}.") and container:
                sim.storage.create_container(DEMO_ACCOUNT, container)

    return prepare


def adopt_journal_operations(sim: Any, journal: OperationJournal, tenant_key: str) -> int:
    """The in-process demo tenant forgets everything when the process exits; the journal does not.

    Hand the simulator the demo's unfinished operations so that a restart resumes them, as it
    would against Graph. The export started when Graph accepted it (``submitted_at``), falling back
    to when the row was written.
    """
    adopted = 0
    for row in journal.rows(tenant_key, ["tracking"]):
        if row.operation_id:
            submitted = parse_datetime(row.submitted_at)
            at = submitted.timestamp() if submitted else row.created_at
            sim.adopt_operation(row.operation_id, row.user_id, row.storage_location, at)
            adopted += 1
    return adopted


def _demo_warm_up(engine: OperationsEngine, sim: Any) -> Callable[[], Awaitable[None]]:
    people = sim.graph.profiles

    async def warm_up() -> None:
        # Once per journal: a restart of the demo resumes what it seeded, it never adds another batch.
        if any(view.case == DEMO_CASE for view in engine.operations()):
            return
        running = sum(1 for view in engine.operations() if not view.is_done)
        wanted = max(0, DEMO_RUNNING - running)
        if not wanted or not people:
            return
        offset = (len(engine.operations()) * 7) % max(1, len(people) - wanted)
        chosen = people[offset : offset + wanted]
        if len(people) > 7 and people[4] not in chosen and not running:
            chosen[-1] = people[4]
        quota = await engine.quota()
        if quota.tenant_left < len(chosen):
            return
        await engine.submit(_demo_targets(chosen), case=DEMO_CASE)

    return warm_up


def _demo_targets(chosen: list[Any]) -> list[ExportTarget]:
    """One ExportTarget each, with its own resolved location (Graph refuses a reused one)."""
    return [
        ExportTarget(
            user_id=p.user_id,
            storage_location=demo_location(p.user_id),
            display_name=p.display_name,
            user_principal_name=p.user_principal_name,
            home_tenant_id=p.home_tenant_id,
        )
        for p in chosen
    ]


def open_demo(
    options: ConnectionOptions,
    *,
    clock: Clock | None = None,
    tokens: TokenProvider | None = None,
    sim: Any = None,
) -> Services:
    """The demo's services: one SimulatedTenant for Graph, identity and storage (sync; sends nothing).

    Args:
        options: ``--demo`` and its state dir and poll budget.
        clock: the engine's and the simulator's clock.
        tokens: a token provider instead of the simulator's app token (tests).
        sim: a SimulatedTenant to use instead of ``make_demo_tenant`` (tests, benchmarks).

    Raises:
        UsageError: the options break ``check_options``.
    """
    check_options(options)
    from console.sim.tenant import DEMO_GRAPH_URL

    clock = clock or SystemClock()
    paths = resolve_paths(options)
    sim = sim if sim is not None else make_demo_tenant(clock)
    provider: TokenProvider = tokens or StaticTokenProvider(sim.issue_token(lifetime=12 * 3600))
    tenant_key = sim.tenant_id
    storage_transport = _storage_transport(sim)
    # Every profile's own container exists in the stand-in, so pre-flight passes for DEMO_STORAGE
    # from the warm-up and from the export form alike.
    _create_demo_containers(sim, [p.user_id for p in sim.graph.profiles])
    client, journal, engine = _assemble(
        paths=paths,
        graph_url=DEMO_GRAPH_URL,
        provider=provider,
        tenant_key=tenant_key,
        identity=DEMO_IDENTITY,
        poll_budget=options.poll_budget,
        clock=clock,
        demo=True,
        graph_transport=sim.transport(),
        storage_transport=storage_transport,
        before_engine=lambda journal: adopt_journal_operations(sim, journal, tenant_key),
    )
    return Services(
        paths=paths,
        journal=journal,
        client=client,
        engine=engine,
        tenant_key=tenant_key,
        graph_url=DEMO_GRAPH_URL,
        tokens=provider,
        tenant_label=f"{sim.tenant_domain} (simulated)",
        identity=DEMO_IDENTITY,
        demo=sim,
        storage_transport=storage_transport,
        warm_up=_demo_warm_up(engine, sim),
        storage_suggestion=DEMO_STORAGE,
        prepare_storage=_demo_prepare_storage(sim),
    )


def demo_saved_tenant(sim: Any) -> SavedTenant:
    """A saved tenant pointing at the simulator's in-process login and Graph hosts."""
    from console.config import SavedTenant, SignInMethod
    from console.sim.tenant import DEMO_GRAPH_URL, DEMO_LOGIN_URL

    return SavedTenant(
        name=DEMO_TENANT_NAME,
        tenant=sim.tenant_domain,
        method=SignInMethod.DEVICE_CODE,
        authority=f"{DEMO_LOGIN_URL}/{sim.tenant_id}",
        graph_url=DEMO_GRAPH_URL,
    )


def demo_signin(
    sim: Any, paths: Paths, *, approve_after: float | None = DEMO_APPROVE_AFTER, clock: Clock | None = None
) -> SignIn:
    """A ``SignIn`` over the simulator's identity, not yet signed in (the demo's login pane).

    The real MSAL device-code flow runs against the in-process identity, which approves the code
    by itself after ``approve_after`` seconds (None waits for ``sim.identity.approve()``).
    """
    from console.auth.signin import SignIn
    from console.auth.transport import TransportHttpClient

    identity = sim.identity
    identity.auto_approve_after = approve_after
    identity.poll_interval = 1
    return SignIn(
        demo_saved_tenant(sim),
        paths,
        http_client=TransportHttpClient(sim.sync_transport()),
        persist=False,
        clock=clock,
    )


# ------------------------------------------------------------------------------------- open_services


async def open_services(
    options: ConnectionOptions,
    *,
    on_device_code: Callable[[str], None] | None = None,
    clock: Clock | None = None,
    tokens: TokenProvider | None = None,
    graph_transport: httpx.AsyncBaseTransport | None = None,
    sign_in_http_client: Any = None,
) -> Services:
    """Build the client, journal and engine for the chosen tenant.

    Args:
        options: the global options.
        on_device_code: receives the device-code message (and why a saved sign-in was not usable).
        clock: the engine's clock.
        tokens: a token provider in place of the sign-in's (tests).
        graph_transport: the Graph client's transport (tests; None: the network, TLS per console/tls.py).
        sign_in_http_client: MSAL's requests-like client (tests; ``TransportHttpClient``).

    Raises:
        UsageError: options that cannot work together, a missing token variable, an unsafe URL.
        console.graph.errors.GraphError: sign-in failed (exit 3).
    """
    check_options(options)
    clock = clock or SystemClock()
    if options.demo:
        return open_demo(options, clock=clock, tokens=tokens)
    paths = resolve_paths(options)
    if options.tenant:
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
        if options.graph_url is None:
            check_saved_graph_url(saved)  # before any sign-in
        signin = await sign_in_saved_tenant(
            saved,
            paths,
            interactive_prompt=on_device_code or (lambda _m: None),
            clock=clock,
            http_client=sign_in_http_client,
        )
        services = services_for_signin(
            signin,
            paths,
            poll_budget=options.poll_budget,
            clock=clock,
            graph_url=options.graph_url,
            graph_transport=graph_transport,
            tokens=tokens,
        )
        return services
    if options.token_env:
        try:
            graph_url = validate_graph_url(options.graph_url or DEFAULT_GRAPH_URL)
        except ValueError as exc:
            raise UsageError(f"--graph-url: {exc}") from None
        try:
            static = StaticTokenProvider.from_env(options.token_env)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        provider = tokens or static
        token = await static.get_token()
        check_token_text(token, options.token_env)
        tenant_key = tenant_key_for(token, graph_url)
        tenant_label = tenant_key if tenant_key != graph_url.rstrip("/") else graph_url
        identity = f"token from ${options.token_env}"
        upn = claim_str(token_claims(token), "upn", "preferred_username")
        client, journal, engine = _assemble(
            paths=paths,
            graph_url=graph_url,
            provider=provider,
            tenant_key=tenant_key,
            identity=identity,
            poll_budget=options.poll_budget,
            clock=clock,
            demo=False,
            graph_transport=graph_transport,
        )
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
            extras={"token_user": upn} if upn else {},
        )
    raise UsageError("no tenant chosen: use --demo, --tenant NAME (a saved tenant), or --graph-url URL --token-env VAR")
