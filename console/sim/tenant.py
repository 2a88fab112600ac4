"""A whole simulated tenant: its Graph, its identity platform and the tokens they share.

Plug it into httpx in-process (``transport()`` / ``sync_transport()``) or serve it on loopback
(``console.sim.server``). ``DEMO_GRAPH_URL`` and ``DEMO_LOGIN_URL`` are never resolvable hosts:
they only mean something to the in-process transports.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

import httpx

from console.sim.graph import GraphConfig, GraphFaults, RecordedRequest, ServiceLimits, SimulatedGraph
from console.sim.identity import SimulatedIdentity
from console.sim.tokens import TokenStore

DEMO_GRAPH_URL: Final = "https://graph.demo.invalid/beta"
"""Graph base URL of the in-process demo tenant (``.invalid`` never resolves: nothing leaves the process)."""
DEMO_LOGIN_URL: Final = "https://login.demo.invalid"
"""Login authority host of the in-process demo tenant."""
DEMO_TENANT_ID: Final = "5f1c7e2a-9b3d-4c8e-a6f0-2d4b8e1c3a7f"
"""The demo tenant's fixed id (the ``tid`` of its tokens)."""
DEMO_TENANT_DOMAIN: Final = "contoso.onmicrosoft.com"
"""The demo tenant's initial domain."""
DEMO_APP_ID: Final = "0d6f7b4e-3c2a-4f1e-9a8b-7c6d5e4f3a2b"
"""Client id of the demo app registration (``appid`` of app-only tokens)."""
DEMO_APP_ROLES: Final = ("CrossTenantUserProfileSharing.Read.All", "User.Export.All", "User.Read.All")
"""Application permissions granted to the demo app: enough to list, export and poll."""

_GRAPH_PREFIXES: Final = ("/beta/", "/v1.0/")


class SimulatedTenant:
    """One simulated Entra tenant: Graph (``/beta``, ``/v1.0``) plus the identity endpoints.

    Args:
        profiles: how many inbound shared user profiles the tenant has.
        seed: makes profiles and ids deterministic.
        clock: epoch seconds; drives export progress, token expiry and service limits.
        page_size: profiles per list page.
        retry_after: Retry-After seconds on the 202 and unfinished polls (the service says 60).
        export_duration: seconds from submission until an export is final.
        export_duration_jitter: spread of each export's duration as a fraction (0.5: uniformly in
            ``[d * 0.5, d * 1.5]``), drawn deterministically from the seed; 0 for none.
        failing_users: user ids whose exports end ``failed``.
        limits: service limits (defaults: Graph's 1,000/day, 100/day/user, 10,000/hour).
        sleep: how the in-process transport waits out injected delays (``asyncio.sleep``;
            tests may pass ``ManualClock.sleep``).
        tenant_id: defaults to ``DEMO_TENANT_ID``.
        tenant_domain: defaults to ``DEMO_TENANT_DOMAIN``.
    """

    def __init__(
        self,
        *,
        profiles: int = 300,
        seed: int = 7,
        clock: Callable[[], float] = time.time,
        page_size: int = 100,
        retry_after: float = 5.0,
        export_duration: float = 30.0,
        export_duration_jitter: float = 0.0,
        failing_users: Iterable[str] = (),
        limits: ServiceLimits | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tenant_id: str = DEMO_TENANT_ID,
        tenant_domain: str = DEMO_TENANT_DOMAIN,
    ) -> None:
        self.clock = clock
        """The simulator's clock (epoch seconds)."""
        self.sleep = sleep
        """Used by the in-process transport for injected delays."""
        self.tenant_id = tenant_id
        self.tenant_domain = tenant_domain
        self.tokens = TokenStore(clock=clock)
        """Tokens issued by ``identity`` (or ``issue_token``) and accepted by ``graph``."""
        self.graph = SimulatedGraph(
            tokens=self.tokens,
            tenant_id=tenant_id,
            profiles=profiles,
            seed=seed,
            clock=clock,
            config=GraphConfig(
                page_size=page_size,
                retry_after=retry_after,
                export_duration=export_duration,
                export_duration_jitter=export_duration_jitter,
                limits=limits or ServiceLimits(),
            ),
            faults=GraphFaults(failing_users={u.lower() for u in failing_users}),
        )
        """The Graph side; ``graph.config`` and ``graph.faults`` are the knobs."""
        self.identity = SimulatedIdentity(
            tokens=self.tokens, tenant_id=self.tenant_id, tenant_domain=self.tenant_domain, clock=clock
        )
        """The identity side (device code, client credentials, refresh tokens)."""

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every Graph request answered so far (the live list: tests may ``clear()`` it)."""
        return self.graph.requests

    def adopt_operation(self, operation_id: str, user_id: str, storage_location: str, submitted_at: float) -> None:
        """Register an operation submitted before this tenant existed (``SimulatedGraph.adopt_operation``).

        For ``--demo`` restarts: the journal keeps operations that the previous process's simulator
        accepted, and polling them must not 404.
        """
        self.graph.adopt_operation(operation_id, user_id, storage_location, submitted_at)

    def issue_token(self, lifetime: float = 3600.0) -> str:
        """An app-only access token for this tenant, with the demo app's permissions."""
        return self.tokens.issue(
            tenant_id=self.tenant_id,
            subject=DEMO_APP_ID,
            lifetime=lifetime,
            roles=DEMO_APP_ROLES,
            extra={"appid": DEMO_APP_ID, "idtyp": "app"},
        )

    def is_graph_request(self, request: httpx.Request) -> bool:
        """True for ``/beta/...`` and ``/v1.0/...`` paths."""
        return request.url.path.startswith(_GRAPH_PREFIXES)

    def delay_for(self, request: httpx.Request) -> float:
        """Seconds a transport or the loopback server should wait before answering (injected slowness)."""
        return self.graph.delay_for(request) if self.is_graph_request(request) else 0.0

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request synchronously: Graph paths to ``graph``, everything else to ``identity``."""
        if self.is_graph_request(request):
            return self.graph.handle(request)
        response = self.identity.handle(request)
        if response is not None:
            return response
        body = json.dumps({"error": {"code": "NotFound", "message": f"No endpoint at {request.url.path}."}})
        return httpx.Response(404, headers={"Content-Type": "application/json"}, content=body.encode())

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process async transport for ``httpx.AsyncClient`` (honours injected delays)."""
        return SimulatedTransport(self)

    def sync_transport(self) -> httpx.BaseTransport:
        """An in-process sync transport for ``httpx.Client`` (MSAL adapters run in threads)."""
        return SimulatedSyncTransport(self)


class SimulatedTransport(httpx.AsyncBaseTransport):
    """Answers an ``httpx.AsyncClient`` from a ``SimulatedTenant`` without any network."""

    def __init__(self, tenant: SimulatedTenant) -> None:
        self._tenant = tenant

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        delay = self._tenant.delay_for(request)
        if delay > 0:
            await self._tenant.sleep(delay)
        response = self._tenant.handle(request)
        # A fresh response over the bytes: readable with aread()/aiter_bytes() when streamed.
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.read(), extensions=response.extensions
        )


class SimulatedSyncTransport(httpx.BaseTransport):
    """Answers an ``httpx.Client`` from a ``SimulatedTenant`` without any network."""

    def __init__(self, tenant: SimulatedTenant) -> None:
        self._tenant = tenant

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        delay = self._tenant.delay_for(request)
        if delay > 0:
            time.sleep(delay)  # sync callers run in worker threads, never on the event loop
        response = self._tenant.handle(request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.read(), extensions=response.extensions
        )
