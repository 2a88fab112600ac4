"""A whole simulated tenant: its Graph, its identity platform and the tokens they share.

Plug it into httpx in-process (``transport()`` / ``sync_transport()``) or serve it on loopback
(``console.sim.server``). ``DEMO_GRAPH_URL`` and ``DEMO_LOGIN_URL`` are never resolvable hosts:
they only mean something to the in-process transports. ``storage`` is the in-process blob stand-in
(``storage_transport()`` serves ``https://*.blob.core.windows.net``) that finished exports are
written into.

The control endpoint (loopback server and in-process alike): ``GET /_sim/knobs`` shows every knob,
``POST /_sim/knobs`` with a JSON object sets them (``console.sim.knobs.apply_knobs``: fields of
``GraphFaults`` and ``GraphConfig``, plus ``reset``, ``storm_seconds``, ``revoke_tokens``, ``limits``);
``GET /_sim/operations`` lists every accepted export (the simulator's record, for crash tests) and
``GET /_sim/requests?since=N`` the recorded Graph requests from index N.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from typing import Any, Final

import httpx

from console.sim.blob import BlobStore, BlobTransport
from console.sim.graph import GraphConfig, GraphFaults, RecordedRequest, ServiceLimits, SimulatedGraph
from console.sim.identity import SimulatedIdentity
from console.sim.knobs import apply_knobs, knobs_json
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
CONTROL_PREFIX: Final = "/_sim/"
"""Paths of the simulator's control endpoint (knobs, the record of operations and requests)."""


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
        faults: injected faults from the start (``failing_users`` is added to them).
        refuse_reused_location: refuse a second export to a container (``StorageLocationAlreadyUsed``),
            as Graph does; on by default.
        run_id: salts operation ids (unique per run); a random one by default.
        storage: the blob stand-in; a fresh one on this clock by default.
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
        faults: GraphFaults | None = None,
        refuse_reused_location: bool = True,
        run_id: str | None = None,
        storage: BlobStore | None = None,
    ) -> None:
        self.clock = clock
        """The simulator's clock (epoch seconds)."""
        self.sleep = sleep
        """Used by the in-process transport for injected delays."""
        self.tenant_id = tenant_id
        self.tenant_domain = tenant_domain
        self.tokens = TokenStore(clock=clock)
        """Tokens issued by ``identity`` (or ``issue_token``) and accepted by ``graph``."""
        self.storage = storage if storage is not None else BlobStore(clock=clock)
        """The in-process blob stand-in (``https://{account}.blob.core.windows.net``): finished exports land here."""
        faults = faults if faults is not None else GraphFaults()
        faults.failing_users |= {u.lower() for u in failing_users}
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
                refuse_reused_location=refuse_reused_location,
            ),
            faults=faults,
            storage=self.storage,
            run_id=run_id,
        )
        self.storage.before_request = self.graph.deliver_due
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

    @property
    def faults(self) -> GraphFaults:
        """The Graph's injected faults (``graph.faults``), mutable at run time."""
        return self.graph.faults

    def set_knobs(self, knobs: dict[str, Any]) -> list[str]:
        """Set knobs by name (``console.sim.knobs.apply_knobs``)."""
        return apply_knobs(self, knobs)

    def storage_transport(self) -> httpx.AsyncBaseTransport:
        """An in-process async transport serving the blob stand-in (the demo's storage)."""
        return BlobTransport(self.storage)

    def connection_fault(self, request: httpx.Request) -> str | None:
        """Whether to drop this request's connection (``GraphFaults.drop_next``): before, after, connect or None."""
        return self.graph.connection_fault(request) if self.is_graph_request(request) else None

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
        if request.url.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        response = self.identity.handle(request)
        if response is not None:
            return response
        body = json.dumps({"error": {"code": "NotFound", "message": f"No endpoint at {request.url.path}."}})
        return httpx.Response(404, headers={"Content-Type": "application/json"}, content=body.encode())

    def _control(self, request: httpx.Request) -> httpx.Response:
        """The control endpoint: knobs, the record of operations and of requests."""
        path = request.url.path[len(CONTROL_PREFIX) :].strip("/")
        method = request.method.upper()
        try:
            if path == "knobs" and method == "POST":
                payload = json.loads(request.read() or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("POST /_sim/knobs takes a JSON object of knob names and values")
                changed = self.set_knobs(payload)
                return _json_response(200, {"changed": changed, "knobs": knobs_json(self)})
            if path == "knobs" and method == "GET":
                return _json_response(200, knobs_json(self))
            if path == "operations" and method == "GET":
                ops = [self.graph.operation(op_id) for op_id in self.graph.operation_ids()]
                return _json_response(200, {"value": [op for op in ops if op is not None]})
            if path == "requests" and method == "GET":
                since = int(request.url.params.get("since", "0") or 0)
                records = self.graph.requests[max(0, since) :]
                return _json_response(200, {"next": since + len(records), "value": [asdict(r) for r in records]})
        except ValueError as exc:
            return _json_response(400, {"error": {"code": "BadKnob", "message": str(exc)}})
        return _json_response(404, {"error": {"code": "NotFound", "message": f"No control endpoint {path!r}."}})

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
        drop, delay = _connection(self._tenant, request)
        if delay > 0:
            await self._tenant.sleep(delay)
        return _answer(self._tenant, request, drop)


class SimulatedSyncTransport(httpx.BaseTransport):
    """Answers an ``httpx.Client`` from a ``SimulatedTenant`` without any network."""

    def __init__(self, tenant: SimulatedTenant) -> None:
        self._tenant = tenant

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        drop, delay = _connection(self._tenant, request)
        if delay > 0:
            time.sleep(delay)  # sync callers run in worker threads, never on the event loop
        return _answer(self._tenant, request, drop)


def _connection(tenant: SimulatedTenant, request: httpx.Request) -> tuple[str | None, float]:
    """The connection fault this request meets (a refused connection raised here) and its delay."""
    drop = tenant.connection_fault(request)
    if drop == "connect":
        raise httpx.ConnectError("simulated: connection refused", request=request)
    return drop, tenant.delay_for(request)


def _answer(tenant: SimulatedTenant, request: httpx.Request, drop: str | None) -> httpx.Response:
    """The tenant's answer, unless the connection drops before or after it is given."""
    if drop == "before":
        raise httpx.ReadError("simulated: connection reset by peer", request=request)
    response = tenant.handle(request)
    if drop == "after":
        raise httpx.RemoteProtocolError("simulated: server disconnected without sending a response", request=request)
    # A fresh response over the bytes: readable with aread()/aiter_bytes() when streamed.
    return httpx.Response(
        response.status_code, headers=response.headers, content=response.read(), extensions=response.extensions
    )


def _json_response(status: int, data: Any) -> httpx.Response:
    body = json.dumps(data, default=str, allow_nan=False).encode()
    return httpx.Response(status, headers={"Content-Type": "application/json"}, content=body)
