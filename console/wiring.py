"""The one composition root: builds the Graph client, the journal and the engine, once.

Every way in goes through here, for the CLI and the console alike:

* ``open_services(options)``: a saved tenant (``--tenant``, after sign-in), a handed-in token
  (``--graph-url URL --token-env VAR``) or the in-process demo (``--demo``);
* ``services_for_signin(signin, ...)``: a ``SignIn`` the console's login pane completed;
* ``open_demo(options)``: the demo, synchronously (the console builds it before its loop starts);
* ``open_journal_only(options)``: the journal alone, for ``ops``, ``report`` and ``note``, which never
  sign in and never touch the network.

One set of option rules (``check_options``, ``check_saved_graph_url``) serves the CLI, the console and
saved tenants, and one function (``build_services``) builds every ``Services``. What makes the demo a
demo lives in ``console.demo``. No UI here: the CLI and the app both receive a ready ``Services``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.auth.base import StaticTokenProvider, TokenProvider, tenant_key_for
from console.clock import Clock, SystemClock
from console.config import SignInMethod, poll_budget_for
from console.demo import (
    DEMO_CASE,
    DEMO_IDENTITY,
    DEMO_PROFILES,
    DEMO_RUNNING,
    DEMO_STORAGE,
    DEMO_TENANT_NAME,
    DEMO_TENANTS,
    adopt_journal_operations,
    create_demo_containers,
    demo_location,
    demo_prepare_storage,
    demo_saved_tenant,
    demo_signin,
    demo_warm_up,
    make_demo_tenant,
)
from console.errors import UsageError  # the one "bad input, exit 2" class (it was defined here)
from console.ops.budget import DEFAULT_POLL_BUDGET
from console.ops.journal import OperationJournal
from console.paths import STATE_DIR_ENV, Paths

if TYPE_CHECKING:  # the client, the engine and storage bring httpx: imported where a command needs them
    import httpx

    from console.auth.signin import SignIn
    from console.config import Config, SavedTenant
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.fleet import Fleet
    from console.storage.blob import Delivery

__all__ = [
    # The demo's names that callers have always imported from here (they live in console.demo).
    "DEMO_CASE",
    "DEMO_IDENTITY",
    "DEMO_PROFILES",
    "DEMO_RUNNING",
    "DEMO_STORAGE",
    "demo_location",
    "demo_saved_tenant",
    "demo_signin",
    "make_demo_tenant",
    # The composition root's own.
    "ConnectionOptions",
    "JournalOnly",
    "Services",
    "UsageError",
    "build_services",
    "check_options",
    "check_saved_graph_url",
    "check_token_text",
    "chosen_tenants",
    "identity_of",
    "journal_for",
    "journal_path_for",
    "open_demo",
    "open_fleet",
    "open_journal_only",
    "open_services",
    "remember_tenant_key",
    "resumable_tenants",
    "saved_tenant_key",
    "tenant_names",
    "resolve_paths",
    "services_for_signin",
]


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
    poll_budget_given: bool = True
    """False: ``poll_budget`` is only the default (no ``--poll-budget`` given): a saved tenant's own goes first."""
    tenants: tuple[str, ...] = ()
    """Every ``--tenant NAME`` given (``tenant`` is the first); several: ``watch``, ``ops``, ``report``."""
    all_tenants: bool = False
    """``--all-tenants``: every saved tenant."""


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
    tenant_name: str = ""
    """The saved tenant's name (``demo`` for the demo; the tenant key for a bare ``--token-env``)."""

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
    names: dict[str, str] = field(default_factory=dict)
    """Tenant key -> saved tenant's name, for every tenant whose key is known without signing in."""
    tenant_keys: tuple[str, ...] | None = None
    """With several tenants chosen: the keys of those whose key is known (None: as ``tenant_key`` says)."""
    unknown: tuple[str, ...] = ()
    """Tenants chosen whose key is not known yet (never signed in: nothing of theirs can be picked out)."""

    def covers(self, tenant_key: str) -> bool:
        """Whether the options chose the rows of ``tenant_key`` (``tenant_keys`` first, else ``tenant_key``)."""
        if self.tenant_keys is not None:
            return tenant_key in self.tenant_keys
        return self.tenant_key is None or tenant_key == self.tenant_key

    def name_of(self, tenant_key: str) -> str:
        """The saved tenant's name of ``tenant_key``, else the key itself."""
        return self.names.get(tenant_key, tenant_key)

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
    if options.all_tenants and (options.demo or options.token_env or options.tenant):
        raise UsageError(
            "--all-tenants takes every saved tenant: it cannot be combined with --demo, --tenant or --token-env"
        )
    if options.graph_url is not None:
        if not options.token_env and not options.tenant:
            raise UsageError("--graph-url needs --token-env VAR (the variable holding the access token)")
        checked_graph_url(options.graph_url)


def checked_graph_url(url: str) -> str:
    """``url`` under ``validate_graph_url``'s rule, as an option (``--graph-url``) is checked.

    Raises:
        UsageError: naming ``--graph-url`` and what is wrong with it.
    """
    from console.graph.client import validate_graph_url

    try:
        return validate_graph_url(url)
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
    from console.graph.policy import is_token_text

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
    from console.graph.client import validate_graph_url

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

    * ``--demo``: the first demo tenant's id (``console.sim.tenant.DEMO_TENANT_ID``, contoso) for the
      one-tenant commands, and every demo tenant (``console.demo.DEMO_TENANTS``, the three the demo console
      runs) in ``tenant_keys`` for ``ops`` and ``report``, on the demo's own journal;
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

        tenant_key = DEMO_TENANT_ID  # one-tenant commands (case, note): contoso; ops and report: ``tenant_keys``
    elif options.token_env:
        token = os.environ.get(options.token_env, "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if token:
            from console.graph.client import DEFAULT_GRAPH_URL, validate_graph_url

            check_token_text(token, options.token_env)
            graph_url = options.graph_url or DEFAULT_GRAPH_URL
            tenant_key = tenant_key_for(token, validate_graph_url(graph_url))
    elif options.tenant:
        tenant_key = _saved_tenant_id(paths, options.tenant)
    names = tenant_names(paths, demo=options.demo)
    if tenant_key is not None and options.token_env:
        names.setdefault(tenant_key, tenant_key)
    only = JournalOnly(journal=journal_for(paths, options.demo), tenant_key=tenant_key, paths=paths, names=names)
    if options.demo:
        only.tenant_keys = tuple(spec.tenant_id for spec in DEMO_TENANTS)
        return only
    chosen = chosen_tenants(options, paths)
    if len(chosen) > 1 or options.all_tenants:
        keys = {name: key for key, name in names.items()}
        only.tenant_key = None
        only.tenant_keys = tuple(keys[name] for name in chosen if name in keys)
        only.unknown = tuple(name for name in chosen if name not in keys)
    return only


def chosen_tenants(options: ConnectionOptions, paths: Paths) -> list[str]:
    """The saved tenants' names the options choose: every ``--tenant``, or with ``--all-tenants`` every saved one.

    Raises:
        UsageError: a name no saved tenant has, or ``config.toml`` is wrong.
    """
    names = list(options.tenants) or ([options.tenant] if options.tenant else [])
    if not names and not options.all_tenants:
        return []
    config = saved_tenants(paths)
    if options.all_tenants:
        return list(config.tenants)
    for name in names:
        config.tenant(name)  # no such tenant: a ConfigError (exit 2) naming the saved ones
    return names


def _saved_tenant_id(paths: Paths, name: str) -> str | None:
    saved = saved_tenants(paths).tenant(name)
    return saved_tenant_key(saved) or _remembered_names(paths).get(name)


def saved_tenants(paths: Paths) -> Config:
    """``config.toml``'s saved tenants.

    Raises:
        UsageError: the file is wrong (a ``ConfigError``: naming the table and key).
    """
    from console.config import ConfigError, load_config

    try:
        return load_config(paths)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def saved_tenant_key(saved: SavedTenant) -> str | None:
    """The key a saved tenant's operations are journalled under, when it is known without a request.

    ``token_env``: the token's tenant (``tid``), or the Graph URL for an opaque token (as ``open_services``
    keys it), when the variable is set; otherwise the tenant id when ``tenant`` is a GUID; else None (a
    domain: its id is known after sign-in, and remembered then).
    """
    import uuid

    if saved.method is SignInMethod.TOKEN_ENV:
        from console.auth.signin import env_token
        from console.graph.client import validate_graph_url

        try:
            token = env_token(saved)
            return tenant_key_for(token, validate_graph_url(saved.graph_base_url)) if token else None
        except (ValueError, UsageError):  # an unusable URL or token: said at sign-in
            return None
    try:
        return str(uuid.UUID(saved.tenant))
    except ValueError:
        return None


_NAMES_FILE = "tenant-names.json"
"""In the data dir: saved tenant name -> the key its operations are journalled under (learnt at sign-in)."""


def _remembered_names(paths: Paths) -> dict[str, str]:
    """Saved tenant name -> tenant key, as remembered at their last sign-in ({} when none)."""
    import json

    try:
        data = json.loads((paths.data_dir / _NAMES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def remember_tenant_key(paths: Paths, name: str, tenant_key: str) -> None:
    """Remember which key a saved tenant's operations carry (a domain's id is known only after sign-in)."""
    import json

    from console.private import write_private_file

    known = _remembered_names(paths)
    if known.get(name) == tenant_key:
        return
    known[name] = tenant_key
    try:
        write_private_file(paths.data_dir / _NAMES_FILE, json.dumps(known, sort_keys=True).encode("utf-8"))
    except OSError:  # a read-only or full disk: names fall back to the keys
        pass


def tenant_names(paths: Paths, *, demo: bool = False) -> dict[str, str]:
    """Tenant key -> saved tenant's name, for every saved tenant whose key is known (and the demo's).

    A ``config.toml`` that cannot be read names nothing here (the command that needs a saved tenant says why).
    """
    names = {key: name for name, key in _remembered_names(paths).items()}
    if demo:
        names.update({spec.tenant_id: spec.name for spec in DEMO_TENANTS})
        return names
    try:
        saved_ones = list(saved_tenants(paths).tenants.values())
    except UsageError:
        saved_ones = []
    for saved in saved_ones:
        key = saved_tenant_key(saved)
        if key is not None:
            names[key] = saved.name
    return names


# ---------------------------------------------------------------------------------------- assembly


def build_services(
    paths: Paths,
    *,
    graph_url: str,
    tokens: TokenProvider,
    tenant_key: str,
    tenant_label: str,
    identity: str,
    poll_budget: int,
    clock: Clock,
    graph_transport: httpx.AsyncBaseTransport | None = None,
    sim: Any = None,
    seed: bool = False,
    signin: SignIn | None = None,
    shared_profiles_available: bool = True,
    tenant_name: str = "",
) -> Services:
    """The one place a ``Services`` is built: the journal, then the client and the engine over it.

    ``sim``: the demo's SimulatedTenant (own journal file, blob stand-in, storage) or None; ``seed`` (``--demo``'s
    start): it adopts the journal's unfinished exports and ``warm_up`` seeds a dozen once per journal.
    """
    from console.graph.client import GraphClient
    from console.ops.budget import PollBudget
    from console.ops.engine import OperationsEngine

    storage_transport: httpx.AsyncBaseTransport | None = sim.storage_transport() if sim is not None else None
    journal = journal_for(paths, sim is not None)
    with _closed_on_failure(journal):
        if seed:
            adopt_journal_operations(sim, journal, tenant_key)
        # One budget for the tenant: the engine's polls, the client's retries and profile listing all
        # spend from it, and the engine keeps its ledger in the journal shared by every process.
        budget = PollBudget(poll_budget, clock)
        client = GraphClient(graph_url, tokens, transport=graph_transport, clock=clock, budget=budget)
        engine = OperationsEngine(
            client,
            journal,
            tenant_key=tenant_key,
            poll_budget=poll_budget,
            clock=clock,
            identity=identity,
            delivery_check=_delivery_check(storage_transport),
            budget=budget,
        )
    return Services(
        paths=paths,
        journal=journal,
        client=client,
        engine=engine,
        tenant_key=tenant_key,
        graph_url=graph_url,
        tokens=tokens,
        tenant_label=tenant_label,
        identity=identity,
        storage_transport=storage_transport,
        **_demo_parts(sim, engine, seed),
        **_signin_parts(signin, tenant_name, tenant_key),
        shared_profiles_available=shared_profiles_available,
    )


def _signin_parts(signin: SignIn | None, tenant_name: str, tenant_key: str) -> dict[str, Any]:
    """What ``Services`` holds of the sign-in: it, its saved tenant and cloud, and the tenant's name."""
    saved = signin.tenant if signin is not None else None
    return {
        "signin": signin,
        "saved_tenant": saved,
        "cloud": saved.cloud if saved is not None else "global",
        "tenant_name": tenant_name or (saved.name if saved is not None else tenant_key),
    }


def _demo_parts(sim: Any, engine: OperationsEngine, seed: bool) -> dict[str, Any]:
    """What ``Services`` holds of the demo (its simulator, warm-up, storage), or the empty values elsewhere."""
    return {
        "demo": sim,
        "warm_up": demo_warm_up(engine, sim) if seed else None,
        "storage_suggestion": DEMO_STORAGE if sim is not None else "",
        "prepare_storage": demo_prepare_storage(sim) if sim is not None else None,
    }


@contextmanager
def _closed_on_failure(journal: OperationJournal) -> Iterator[None]:
    """Close ``journal`` if what is built over it fails (and let the failure through)."""
    try:
        yield
    except BaseException:
        journal.close()
        raise


def _delivery_check(transport: httpx.AsyncBaseTransport | None) -> Callable[[str], Awaitable[Delivery]]:
    """``console.storage.blob.inspect_delivery`` over ``transport`` (None: the network)."""

    from console.storage.blob import inspect_delivery

    async def check(location: str) -> Delivery:
        return await inspect_delivery(location, transport=transport)

    return check


# ------------------------------------------------------------------------------------------ ways in


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
    create_demo_containers(sim)
    return build_services(
        paths,
        graph_url=DEMO_GRAPH_URL,
        tokens=tokens or StaticTokenProvider(sim.issue_token(lifetime=12 * 3600)),
        tenant_key=sim.tenant_id,
        tenant_label=f"{sim.tenant_domain} (simulated)",
        identity=DEMO_IDENTITY,
        poll_budget=options.poll_budget,
        clock=clock,
        graph_transport=sim.transport(),
        sim=sim,
        seed=True,
        tenant_name=DEMO_TENANT_NAME,
    )


def identity_of(signin: SignIn) -> str:
    """Who submits for a signed-in tenant: the user's UPN, or the app id (client id) for app-only."""
    saved = signin.tenant
    if saved.method is SignInMethod.TOKEN_ENV:
        return f"token from ${saved.token_env}"
    if saved.method.app_only:
        return saved.client_id
    account = signin.account
    return account.username if account and account.username else saved.name


def services_for_signin(
    signin: SignIn,
    paths: Paths,
    *,
    poll_budget: int | None = None,
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
        poll_budget: requests an hour (None: the saved tenant's ``poll_budget``, else the default).
        clock: the engine's clock.
        graph_url: overrides the saved tenant's graph URL (``--tenant X --graph-url U``).
        graph_transport: the simulator's transport in the demo, else None for the network.
        demo_tenant: the demo's SimulatedTenant when this is the demo's sign-in.
        tokens: a token provider in place of ``signin.provider`` (tests).

    Raises:
        UsageError: the Graph URL is unusable.
    """
    saved = signin.tenant
    url = checked_graph_url(graph_url) if graph_url is not None else check_saved_graph_url(saved)
    account = signin.account
    tenant_key = (account.tenant_id if account and account.tenant_id else "") or url.rstrip("/")
    if demo_tenant is None:
        remember_tenant_key(paths, saved.name, tenant_key)
    return build_services(
        paths,
        graph_url=url,
        tokens=tokens or signin.provider,
        tenant_key=tenant_key,
        tenant_label=saved.name if saved.tenant in saved.name else f"{saved.name} ({saved.tenant})",
        identity=identity_of(signin),
        poll_budget=poll_budget_for(saved, poll_budget, DEFAULT_POLL_BUDGET),
        clock=clock or SystemClock(),
        graph_transport=graph_transport,
        sim=demo_tenant,
        signin=signin,
        shared_profiles_available=saved.shared_profiles_available or graph_url is not None or bool(saved.graph_url),
    )


async def open_services(
    options: ConnectionOptions,
    *,
    on_device_code: Callable[[str], None] | None = None,
    clock: Clock | None = None,
    tokens: TokenProvider | None = None,
    graph_transport: httpx.AsyncBaseTransport | None = None,
    sign_in_http_client: Any = None,
    allow_interactive: bool = True,
) -> Services:
    """Build the client, journal and engine for the chosen tenant.

    Args:
        options: the global options.
        on_device_code: receives the device-code message (and why a saved sign-in was not usable).
        clock: the engine's clock.
        tokens: a token provider in place of the sign-in's (tests).
        graph_transport: the Graph client's transport (tests; None: the network, TLS per console/tls.py).
        sign_in_http_client: MSAL's requests-like client (tests; ``TransportHttpClient``).
        allow_interactive: False refuses a saved tenant that would need a prompt (a device code).

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
        signin = await _sign_in_saved(options, paths, clock, on_device_code, sign_in_http_client, allow_interactive)
        return services_for_signin(
            signin,
            paths,
            poll_budget=options.poll_budget if options.poll_budget_given else None,
            clock=clock,
            graph_url=options.graph_url,
            graph_transport=graph_transport,
            tokens=tokens,
        )
    if options.token_env:
        return await _open_token_env(options, paths, clock, tokens, graph_transport)
    raise UsageError("no tenant chosen: use --demo, --tenant NAME (a saved tenant), or --graph-url URL --token-env VAR")


async def _sign_in_saved(
    options: ConnectionOptions,
    paths: Paths,
    clock: Clock,
    on_device_code: Callable[[str], None] | None,
    http_client: Any,
    allow_interactive: bool = True,
) -> SignIn:
    """Sign in to the saved tenant ``--tenant`` names, after every check that needs no request.

    Raises:
        UsageError: no such tenant, a national cloud without a ``graph_url``, an unusable saved URL.
    """
    from console.auth.headless import sign_in_saved_tenant
    from console.config import ConfigError, load_config

    try:
        saved = load_config(paths).tenant(options.tenant or "")
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if not saved.shared_profiles_available and not options.graph_url and not saved.graph_url:
        raise UsageError(
            f"tenant {saved.name} is in the {saved.cloud} cloud: Microsoft offers the inbound shared user "
            "profile APIs (list, export) only in the global service"
        )
    if options.graph_url is None:
        check_saved_graph_url(saved)  # before any sign-in
    return await sign_in_saved_tenant(
        saved,
        paths,
        interactive_prompt=on_device_code or (lambda _m: None),
        clock=clock,
        http_client=http_client,
        allow_interactive=allow_interactive,
    )


async def _open_token_env(
    options: ConnectionOptions,
    paths: Paths,
    clock: Clock,
    tokens: TokenProvider | None,
    graph_transport: httpx.AsyncBaseTransport | None,
) -> Services:
    """The services of ``--token-env VAR`` (and ``--graph-url``): the token is checked before any request.

    Raises:
        UsageError: an unusable URL, an unset variable, a token no header can carry.
    """
    from console.graph.client import DEFAULT_GRAPH_URL

    variable = options.token_env or ""
    graph_url = checked_graph_url(options.graph_url or DEFAULT_GRAPH_URL)
    try:
        static = StaticTokenProvider.from_env(variable)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    token = await static.get_token()
    check_token_text(token, variable)
    tenant_key = tenant_key_for(token, graph_url)
    return build_services(
        paths,
        graph_url=graph_url,
        tokens=tokens or static,
        tenant_key=tenant_key,
        tenant_label=tenant_key if tenant_key != graph_url.rstrip("/") else graph_url,
        identity=f"token from ${variable}",
        poll_budget=options.poll_budget,
        clock=clock,
        graph_transport=graph_transport,
    )


async def open_fleet(
    options: ConnectionOptions,
    names: Sequence[str],
    *,
    allow_interactive: bool = True,
    on_device_code: Callable[[str], None] | None = None,
    clock: Clock | None = None,
    sign_in_http_client: Any = None,
) -> tuple[Fleet, list[Services]]:
    """One ``Services`` per saved tenant named (each its own sign-in, client, budget and engine; one clock),
    and the ``Fleet`` over them: each signed-in tenant's engine, each one whose sign-in failed set aside
    with why (nothing was sent for it; the others open all the same). Used by ``watch`` with several
    tenants; the console can use it as well. The caller starts the engines and closes every ``Services``.

    Args:
        options: the global options (``--state-dir``, ``--poll-budget``, ``--graph-url``).
        names: saved tenants' names.
        allow_interactive: False refuses a tenant that would need a device code (``watch`` with no tenant).
        on_device_code: receives the device-code messages when prompts are allowed.
        clock: every engine's clock, and the fleet's.
        sign_in_http_client: MSAL's requests-like client (tests).
    """
    from console.ops.fleet import Fleet

    clock = clock or SystemClock()
    fleet = Fleet(clock)
    opened: list[Services] = []
    for name in names:
        one = replace(options, tenant=name, tenants=(name,), all_tenants=False)
        try:
            services = await open_services(
                one,
                on_device_code=on_device_code,
                clock=clock,
                sign_in_http_client=sign_in_http_client,
                allow_interactive=allow_interactive,
            )
        except Exception as exc:  # this tenant only: the others go on
            fleet.sign_in_failed(name, str(exc), poll_budget=options.poll_budget)
            continue
        opened.append(services)
        fleet.add(services.tenant_name, services.engine)
    return fleet, opened


def resumable_tenants(paths: Paths, journal: OperationJournal) -> tuple[list[str], dict[str, str]]:
    """``watch`` with no tenant: the saved tenants with unfinished operations that sign in without a prompt.

    Returns:
        The names to resume, and the tenants (name, or key when no saved tenant is known for it) that
        have unfinished operations but cannot be resumed, each with why.
    """
    from console.ops.fleet import tenants_with_unfinished

    config = saved_tenants(paths)
    names = tenant_names(paths)
    chosen: list[str] = []
    cannot: dict[str, str] = {}
    for key in sorted(tenants_with_unfinished(journal)):
        name = names.get(key)
        saved = config.tenants.get(name) if name is not None else None
        if saved is None:
            cannot[name or key] = "no saved tenant in config.toml signs in to it"
            continue
        why = _prompt_needed(saved, paths)
        if why:
            cannot[saved.name] = why
        else:
            chosen.append(saved.name)
    return chosen, cannot


def _prompt_needed(saved: SavedTenant, paths: Paths) -> str:
    """Why signing in to ``saved`` would need a prompt, or '' when it can sign in without one."""
    if saved.method is SignInMethod.TOKEN_ENV:
        return "" if os.environ.get(saved.token_env or "", "").strip() else f"${saved.token_env} is not set"
    if saved.method is SignInMethod.CLIENT_SECRET:
        variable = saved.client_secret_env or ""
        return (
            "" if variable and os.environ.get(variable, "").strip() else "its client secret is not in the environment"
        )
    if saved.method is SignInMethod.CERTIFICATE:
        return ""
    if paths.token_cache_file(saved.name).exists():
        return ""
    return f"it signs in with a device code and has no saved sign-in: run `export-console --tenant {saved.name} watch`"
