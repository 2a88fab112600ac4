"""The ``--demo``: one in-process simulated tenant (Graph, identity and blob storage) and its setup.

What makes the demo a demo lives here, in one place: its constants, the simulated tenant with one
export that fails, the containers its exports go to, the dozen exports already running when it starts,
and its sign-in over the simulator's identity. ``console.wiring`` builds the demo's ``Services`` from
these, the same way it builds every other session.

The simulator is imported inside the functions that use it: importing this module (the wiring does)
never loads ``console.sim``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from console.clock import Clock, SystemClock
from console.graph.models import parse_datetime
from console.ops.events import ExportTarget

if TYPE_CHECKING:
    from console.auth.signin import SignIn
    from console.config import SavedTenant
    from console.ops.engine import OperationsEngine
    from console.ops.journal import OperationJournal
    from console.paths import Paths

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
    "DEMO_TENANTS",
    "DEMO_TENANT_NAME",
    "DemoTenant",
    "adopt_journal_operations",
    "create_demo_containers",
    "demo_container",
    "demo_location",
    "demo_prepare_storage",
    "demo_saved_tenant",
    "demo_signin",
    "demo_warm_up",
    "make_demo_tenant",
    "make_demo_tenants",
    "demo_poll_budgets",
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
DEMO_CASE = "demo"
"""The case of the exports the demo seeds (once per journal: their presence says it was seeded)."""
DEMO_APPROVE_AFTER = 2.5
"""Seconds after which the demo's device code approves itself."""
_FAILING_PROFILE = 4
"""The index of the demo profile whose export fails, as some do (only in a tenant of more than 7)."""


@dataclass(frozen=True)
class DemoTenant:
    """One of the demo's simulated tenants and what makes it behave as it does (issue 18)."""

    name: str
    """Its saved name: the Tenant column, ``tenant:NAME``, the pulse strip."""
    tenant_id: str
    domain: str
    seed: int
    """Its own people (a different seed: other names, other ids)."""
    running: int = DEMO_RUNNING
    """Exports already running when the demo starts."""
    throttle: float = 0.0
    """Share of its polls Graph answers 429 (with ``throttle_retry_after``): a tenant that throttles hard."""
    throttle_retry_after: str = "12"
    poll_budget: int | None = None
    """Polls an hour for this tenant (None: ``--poll-budget``): a small budget shows in the pulse strip."""


DEMO_TENANTS: tuple[DemoTenant, ...] = (
    DemoTenant("contoso", "5f1c7e2a-9b3d-4c8e-a6f0-2d4b8e1c3a7f", "contoso.onmicrosoft.com", 7),
    DemoTenant(
        "fabrikam", "8a2d4f6b-1c3e-4b5a-9d7f-3e5c7a9b1d2f", "fabrikam.onmicrosoft.com", 11, running=6, throttle=0.4
    ),
    DemoTenant(
        "northwind", "c3e5a7b9-2d4f-4a6c-8e1b-5f7d9b1c3e4a", "northwind.onmicrosoft.com", 13, running=4, poll_budget=120
    ),
)
"""The demo's tenants: contoso as usual (the first: ``DEMO_TENANT_ID``), fabrikam throttling hard,
northwind on a small poll budget. A newcomer sees at once what the pulse strip and the Tenant column are for."""
DEMO_TENANT_NAME = DEMO_TENANTS[0].name
"""The first demo tenant's saved name (contoso), the one every front end shows: the console, ``--demo ops``,
``--demo export`` (its token cache stays in memory)."""


def demo_poll_budgets(default: int) -> dict[str, int]:
    """Each demo tenant's polls an hour, as the demo console gives them (its own, else ``default``)."""
    return {spec.name: spec.poll_budget or default for spec in DEMO_TENANTS}


def make_demo_tenant(
    clock: Clock | None = None, *, profiles: int = DEMO_PROFILES, spec: DemoTenant | None = None
) -> Any:
    """One in-process simulated tenant of --demo (Graph, identity and storage): contoso unless ``spec``."""
    from console.sim.knobs import POLLS
    from console.sim.tenant import SimulatedTenant

    now = (clock or SystemClock()).now
    extra: dict[str, Any] = {}
    if spec is not None:
        extra = {"tenant_id": spec.tenant_id, "tenant_domain": spec.domain, "seed": spec.seed}
    sim: Any = SimulatedTenant(
        profiles=profiles,
        clock=now,
        retry_after=DEMO_RETRY_AFTER,
        export_duration=DEMO_EXPORT_DURATION,
        export_duration_jitter=DEMO_DURATION_JITTER,
        **extra,
    )
    sim.demo_running = spec.running if spec is not None else DEMO_RUNNING
    sim.demo_name = spec.name if spec is not None else DEMO_TENANT_NAME  # its saved name (demo_saved_tenant)
    if spec is not None and spec.throttle:
        faults = sim.graph.faults
        faults.sporadic_fraction = spec.throttle
        faults.sporadic_retry_after = spec.throttle_retry_after
        faults.sporadic_only = POLLS
    failing = _failing_profile(sim.graph.profiles)
    if failing is not None:
        sim.graph.faults.failing_users.add(failing.user_id.lower())
    return sim


def make_demo_tenants(clock: Clock | None = None, *, profiles: int = DEMO_PROFILES) -> list[tuple[DemoTenant, Any]]:
    """Every demo tenant with its own simulated Graph, identity and storage."""
    return [(spec, make_demo_tenant(clock, profiles=profiles, spec=spec)) for spec in DEMO_TENANTS]


def _failing_profile(people: list[Any]) -> Any:
    """The profile whose export the demo fails, or None in a tenant too small to spare one."""
    return people[_FAILING_PROFILE] if len(people) > 7 else None


def demo_location(user_id: str) -> str:
    """``DEMO_STORAGE`` resolved for one profile (its own container)."""
    from console.storage import resolve_location  # the storage package brings httpx: not for a journal read

    return resolve_location(DEMO_STORAGE, user_id=user_id)


def demo_container(user_id: str) -> str:
    """The demo container of one profile: the first path segment of its resolved location."""
    return urlsplit(demo_location(user_id)).path.strip("/").split("/")[0]


def create_demo_containers(sim: Any) -> None:
    """Create every profile's own container in the blob stand-in, so pre-flight passes for
    ``DEMO_STORAGE`` from the warm-up and from the export form alike."""
    for profile in sim.graph.profiles:
        sim.storage.create_container(DEMO_ACCOUNT, demo_container(profile.user_id))


def demo_prepare_storage(sim: Any) -> Callable[[list[str]], None]:
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


def demo_warm_up(engine: OperationsEngine, sim: Any) -> Callable[[], Awaitable[None]]:
    """The demo's "a dozen exports already running" step, once per journal (one of them fails)."""
    people = sim.graph.profiles

    async def warm_up() -> None:
        # Once per journal: a restart of the demo resumes what it seeded, it never adds another batch.
        if any(view.case == DEMO_CASE for view in engine.operations()):
            return
        running = sum(1 for view in engine.operations() if not view.is_done)
        wanted = max(0, int(getattr(sim, "demo_running", DEMO_RUNNING)) - running)
        if not wanted or not people:
            return
        offset = (len(engine.operations()) * 7) % max(1, len(people) - wanted)
        chosen = people[offset : offset + wanted]
        failing = _failing_profile(people)
        if failing is not None and failing not in chosen and not running:
            chosen[-1] = failing
        quota = await engine.quota()
        if quota.tenant_left < len(chosen):
            return
        await engine.submit(_demo_targets(chosen), case=DEMO_CASE)

    return warm_up


def _demo_targets(chosen: list[Any]) -> list[ExportTarget]:
    """One ExportTarget each, with its own resolved location (Graph refuses a reused one)."""
    return [ExportTarget.of(p, demo_location(p.user_id)) for p in chosen]


def demo_saved_tenant(sim: Any) -> SavedTenant:
    """A saved tenant pointing at the simulator's in-process login and Graph hosts, under the demo tenant's name."""
    from console.config import SavedTenant, SignInMethod
    from console.sim.tenant import DEMO_GRAPH_URL, DEMO_LOGIN_URL

    return SavedTenant(
        name=getattr(sim, "demo_name", DEMO_TENANT_NAME),
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
