"""The simulated tenant's Microsoft Graph: profiles, exportPersonalData and dataPolicyOperations.

A stateful, synchronous request handler (``SimulatedGraph.handle``) that answers like the real
service does, quirks included (see ../shared/graph-api.md), with knobs to make it misbehave
(defined in ``console.sim.knobs`` and re-exported here):

* ``GraphConfig``: page size, Retry-After, export duration (and spread), service limits. Mutable at
  run time.
* ``GraphFaults``: injected throttling (counted, storms, sporadic), 5xx, slowness, hangs, dropped
  connections, malformed bodies, odd Locations, odd Retry-After values, failing, stuck and unknown-
  or null-status operations, 401s and 403s, permanent poll errors. Mutable at run time; counted
  faults (``throttle_next``, ``errors_next``, ``drop_next``, ...) count down.

The 202 of an export carries Location and Retry-After as headers with an empty body, as the service
does (msgraph-sdk-raptor#488); ``faults.location`` brings back the docs' body form. The action is
also accepted namespace-qualified (``microsoft.graph.exportPersonalData``), and ``GET
/dataPolicyOperations`` lists operations (``$filter`` on userId and submittedDateTime, ``$top``,
``$orderby``, nextLink paging), or answers as a tenant that does not offer it
(``faults.operations_list_status``).

Graph's rule of one export per storage location is enforced (``config.refuse_reused_location``): a
second export to a container is refused with ``400 StorageLocationAlreadyUsed`` in Graph's words.
When an export completes, ``RequestInfo.json`` and a few data files are written into its location:
into the in-process blob stand-in (``storage``) or, for a loopback URL (Azurite), over HTTP with the
SAS. Operation ids are unique per run (``run_id``), so a restarted demo never reuses the id of an
operation a previous run created.

Time is read from an injected ``clock`` (epoch seconds), so tests can move an export from
``notStarted`` to ``complete`` without waiting. Every request is recorded (``requests``) so tests
can assert timing, e.g. that no poll came before the Retry-After it was given.

Erasure (graph-api.md, "Erasure, the outbound side"): ``removePersonalData`` on an inbound profile and
the outbound family (``GET outboundSharedUserProfiles``, ``.../{userId}/tenants`` and ``POST
.../tenants/{tenantId}/removePersonalData``) answer ``204 No Content`` with a request-id and nothing
to track. Whether a removed profile leaves the list is ``config.removal_hides_profile`` (undocumented;
off by default); ``faults.forbid_removal`` answers 403 naming ``CrossTenantUserProfileSharing.ReadWrite.All``.
``removals`` records every accepted removal.

The handler is thread-safe: one lock guards all state (the loopback server and MSAL adapters
call from other threads).

Where the parts live: this module routes a request, checks its token and the limits; each resource
family answers in its own module (``graph_profiles``, ``graph_exports``, ``graph_operations``,
``graph_removals``) over one shared ``graph_state.GraphState``; ``faults`` injects the faults,
``delivery`` writes finished exports into storage, ``quotas`` keeps the service limits and
``graph_answers`` shapes every answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

from console.net import is_loopback
from console.redact import redact
from console.sim import graph_answers as answers
from console.sim.blob import BlobStore
from console.sim.delivery import ExportDelivery
from console.sim.faults import FaultInjector
from console.sim.graph_answers import Context, format_seconds
from console.sim.graph_exports import (
    STORAGE_LOCATION_ALREADY_USED,
    STORAGE_LOCATION_ALREADY_USED_MESSAGE,
    ExportEndpoints,
)
from console.sim.graph_operations import OperationEndpoints
from console.sim.graph_profiles import ProfileEndpoints
from console.sim.graph_removals import RemovalEndpoints
from console.sim.graph_state import COMPLETE, FAILED, NOT_STARTED, RUNNING, GraphState, PageTokens
from console.sim.knobs import (
    DROP_WHEN,
    EXPORTS,
    LISTS,
    LOCATION_STYLES,
    MALFORMED_KINDS,
    POLLS,
    RETRY_AFTER_HTTP_DATE,
    GraphConfig,
    GraphFaults,
    LocationMode,
    RecordedRequest,
    RequestMatch,
    ServiceLimits,
    add_simulate_arguments,
    apply_knobs,
    apply_simulate_arguments,
    knobs_json,
)
from console.sim.profiles import SimulatedProfile, generate_outbound, generate_profiles
from console.sim.quotas import Quotas
from console.sim.tokens import TokenStore

__all__ = [
    "COMPLETE",
    "DROP_WHEN",
    "EXPORTS",
    "FAILED",
    "LISTS",
    "LOCATION_STYLES",
    "MALFORMED_KINDS",
    "NOT_STARTED",
    "POLLS",
    "RETRY_AFTER_HTTP_DATE",
    "RUNNING",
    "GraphConfig",
    "GraphFaults",
    "LocationMode",
    "RecordedRequest",
    "RequestMatch",
    "STORAGE_LOCATION_ALREADY_USED",
    "STORAGE_LOCATION_ALREADY_USED_MESSAGE",
    "ServiceLimits",
    "SimulatedGraph",
    "add_simulate_arguments",
    "apply_knobs",
    "apply_simulate_arguments",
    "format_seconds",
    "knobs_json",
    "redact_storage_location",
]

_USER_KINDS = ("get", "export", "remove", "outbound_tenants", "outbound_remove")
"""Request kinds whose third path segment is a userId."""


def redact_storage_location(location: str) -> str:
    """The storage location with any SAS signature masked: the signature is a secret (graph-api.md)."""
    return redact(location)


class SimulatedGraph:
    """A tenant's Graph endpoints for inbound shared user profiles and their exports.

    Args:
        tokens: the store whose tokens are accepted (others get 401).
        tenant_id: the tenant; tokens must carry it as ``tid``.
        profiles: how many profiles to generate.
        seed: seed for profiles and ids (same seed, same tenant).
        clock: epoch seconds; drives statuses, limits and the ``Date`` header.
        config: behaviour knobs (defaults from ``GraphConfig``).
        faults: injected faults (defaults: none).
        storage: the in-process blob stand-in that exports to ``*.blob.core.windows.net`` are written into.
        run_id: makes operation ids unique per run; a fresh random one by default (pass one for
            reproducible ids). Profiles and durations depend on ``seed`` only.
        outbound: how many of our own users have data held by other tenants (outbound profiles).
    """

    def __init__(
        self,
        *,
        tokens: TokenStore,
        tenant_id: str,
        profiles: int = 300,
        seed: int = 7,
        clock: Callable[[], float],
        config: GraphConfig | None = None,
        faults: GraphFaults | None = None,
        storage: BlobStore | None = None,
        run_id: str | None = None,
        outbound: int = 12,
    ) -> None:
        self.tokens = tokens
        self.tenant_id = tenant_id
        self.clock = clock
        self.requests: list[RecordedRequest] = []
        """Every request answered, in order (when ``config.record_requests``)."""
        self._lock = threading.RLock()
        self.run_id = run_id if run_id is not None else uuid.uuid4().hex
        """Salts operation ids: a restarted simulator never hands out an id an earlier run created."""
        self._ids = random.Random(seed * 7919 + 1)
        self._state = GraphState(
            tenant_id=tenant_id,
            seed=seed,
            config=config or GraphConfig(),
            faults=faults or GraphFaults(),
            profiles=generate_profiles(profiles, seed),
            outbound=generate_outbound(outbound, seed),
            pages=PageTokens(self._ids),
        )
        self.config = self._state.config
        """Behaviour knobs; mutable at run time (change its fields: the object is shared, never replaced)."""
        self.faults = self._state.faults
        """Injected faults; mutable at run time (change its fields: the object is shared, never replaced)."""
        self._profiles = self._state.profiles
        self._by_id = self._state.by_id
        self._operations = self._state.operations
        self.removals = self._state.removals
        """Every removal answered 204: ``(userId, from-tenant id or None for inbound, request-id)``."""
        self.delivery = ExportDelivery(tenant_id, storage, _is_loopback_url)
        """Writes finished exports into storage (``deliveries``, ``delivery_errors``)."""
        self.delivery_errors = self.delivery.delivery_errors
        """Why a delivery failed (redacted), for tests and the control endpoint."""
        self.injector = FaultInjector(self._state, self._lock, random.Random(f"{seed}:{self.run_id}:faults"))
        self.quotas = Quotas()
        self.profile_api = ProfileEndpoints(self._state)
        self.exports = ExportEndpoints(
            state=self._state,
            faults=self.injector,
            delivery=self.delivery,
            quotas=self.quotas,
            op_ids=random.Random(f"{seed}:{self.run_id}:operations"),
            is_loopback_url=_is_loopback_url,
        )
        self.operations_api = OperationEndpoints(self._state, self.injector)
        self.removal_api = RemovalEndpoints(self._state)

    # ----------------------------------------------------------------- knobs and inspection

    @property
    def profiles(self) -> list[SimulatedProfile]:
        """The profiles currently shared with the tenant (a copy), in list order."""
        with self._lock:
            return list(self._profiles)

    @property
    def outbound(self) -> dict[str, list[str]]:
        """Outbound profiles currently listed: ``{userId: [tenantId, ...]}`` (a copy)."""
        with self._lock:
            return {user: list(tenants) for user, tenants in self._state.outbound.items()}

    def operation_ids(self) -> list[str]:
        """Ids of every export operation submitted so far, in order."""
        with self._lock:
            return list(self._operations)

    def operation(self, operation_id: str) -> dict[str, Any] | None:
        """The operation's JSON as a poll would show it now (without faults), or None."""
        with self._lock:
            op = self._operations.get(operation_id.lower())
            return None if op is None else self.operations_api.operation_json(op, self.clock(), apply_faults=False)

    def exports_used(self, user_id: str | None = None) -> int:
        """Exports accepted in the last 24 hours: for the tenant, or for ``user_id``."""
        with self._lock:
            return self.quotas.exports_used(self.clock(), user_id)

    def delay_for(self, request: httpx.Request) -> float:
        """Seconds the transport should wait before answering ``request`` (``delay``, plus a counted ``hang``)."""
        return self.injector.delay_for(request)

    def connection_fault(self, request: httpx.Request) -> str | None:
        """``before``, ``after`` or ``connect`` when this request's connection is to be dropped, else None.

        Counts ``drop_next`` down. The transport (or the loopback server) acts on it: ``before``
        drops without answering; ``after`` lets ``handle`` act (an export is created) and then drops;
        ``connect`` refuses the connection.
        """
        return self.injector.connection_fault(request)

    def start_storm(
        self, seconds: float, status: int = 429, retry_after: str | None = None, only: RequestMatch | None = None
    ) -> None:
        """Answer every matching request with ``status`` for the next ``seconds`` (simulator clock)."""
        self.faults.storm(self.clock() + seconds, status, retry_after, only)

    def used_locations(self) -> int:
        """How many distinct storage locations hold (or are receiving) an export of this run."""
        with self._lock:
            return len(self._state.used_locations)

    def deliver_due(self) -> int:
        """Write every export that has finished by now into its location; returns how many were written.

        Called before each Graph request and each request to the blob stand-in, so that a poll
        reporting ``complete`` (or a listing after it) finds the files there.
        """
        if not self.delivery.has_pending():
            return 0
        with self._lock:
            if self.faults.stuck_all:
                return 0
            write = self.config.deliver_exports
            return self.delivery.deliver_due(self.clock(), self._operations, self._by_id, write=write)

    def _new_operation_id(self) -> str:
        """A fresh operation id, salted by ``run_id`` and never one already known (submitted or adopted)."""
        return self.exports.new_operation_id()

    def adopt_operation(self, operation_id: str, user_id: str, storage_location: str, submitted_at: float) -> None:
        """Register an export operation that was submitted before this simulator existed.

        For ``--demo`` restarts: the console's journal still holds operations the previous process's
        simulator accepted. The operation gets id ``operation_id`` and behaves as if it had been
        submitted at ``submitted_at`` (epoch seconds on this simulator's clock): the same progress,
        duration, jitter, failing-user and fault rules as a fresh submission. It does **not** count
        against the daily export limits, and the profile need not still be shared. Idempotent: an id
        that is already known (submitted or adopted) is left as it is.

        Raises:
            ValueError: ``operation_id`` or ``user_id`` is empty or contains a ``/``.
        """
        with self._lock:
            self.exports.adopt(operation_id, user_id, storage_location, submitted_at)

    # ----------------------------------------------------------------- entry point

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one Graph request (path ``/beta/...`` or ``/v1.0/...``). Reads the body if needed."""
        body = request.read()
        with self._lock:
            self.deliver_due()
            ctx = self._context(request)
            response = self._dispatch(request, body, ctx)
            response = self.injector.spoil(request, response)
            if self.config.record_requests:
                self.requests.append(
                    RecordedRequest(
                        at=ctx.now,
                        method=request.method,
                        path=request.url.path,
                        query=_decoded_query(request),
                        url=str(request.url),
                        status=response.status_code,
                        retry_after=response.headers.get("Retry-After"),
                        client_request_id=request.headers.get("client-request-id"),
                        request_id=ctx.request_id,
                        kind=ctx.kind,
                        user_id=ctx.user_id,
                        operation_id=ctx.operation_id,
                    )
                )
            return response

    def _context(self, request: httpx.Request) -> Context:
        segments = request.url.path.split("/")
        version = segments[1] if len(segments) > 1 else ""
        base = self.faults.location_base or f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        request_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        return Context(
            now=self.clock(),
            request_id=request_id,
            client_request_id=request.headers.get("client-request-id") or request_id,
            base=base.rstrip("/"),
            version=version,
            method=request.method.upper(),
            path=request.url.path,
        )

    def _dispatch(self, request: httpx.Request, body: bytes, ctx: Context) -> httpx.Response:
        segments = [s for s in ctx.path.split("/")[2:] if s]
        lowered = [s.lower() for s in segments]
        ctx.kind = _classify(ctx.method, lowered)
        if ctx.kind in _USER_KINDS:
            ctx.user_id = segments[2].lower()
        elif ctx.kind == "poll":
            ctx.operation_id = segments[1].lower()
            op = self._operations.get(ctx.operation_id)
            ctx.user_id = op.user_id if op else None
        refused = self._authenticate(request, ctx)
        if refused is None:
            refused = self.injector.refusal(ctx)
        if refused is None and ctx.kind == "export":
            refused = self.quotas.check_exports(self.config, ctx, ctx.user_id or "")
        elif refused is None:
            refused = self.quotas.check_hourly(self.config, ctx)
        if refused is not None:
            return refused
        return self._route(request, body, ctx, segments, lowered)

    def _route(
        self, request: httpx.Request, body: bytes, ctx: Context, segments: list[str], lowered: list[str]
    ) -> httpx.Response:
        """Hand the request to its resource family."""
        kind = ctx.kind
        if kind == "list":
            return self.profile_api.page(request, ctx)
        if kind == "get":
            return self.profile_api.get(ctx)
        if kind == "export":
            return self.exports.export(body, ctx)
        if kind == "remove":
            return self.removal_api.remove(ctx)
        if kind == "outbound_list":
            return self.removal_api.outbound_list(request, ctx)
        if kind == "outbound_tenants":
            return self.removal_api.outbound_tenants(ctx)
        if kind == "outbound_remove":
            return self.removal_api.outbound_remove(ctx, segments[4].lower())
        if kind == "poll":
            return self.operations_api.poll(ctx)
        if kind == "operations":
            return self.operations_api.page(request, ctx)
        return _unroutable(ctx.method, segments, lowered, ctx)

    def _authenticate(self, request: httpx.Request, ctx: Context) -> httpx.Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not header or scheme.lower() != "bearer" or not token:
            return answers.unauthorized(ctx, "Access token is empty.")
        claims = self.tokens.validate(token)
        if claims is None:
            exp = _unverified_exp(token)
            if exp is not None and exp <= ctx.now:
                return answers.unauthorized(ctx, "Access token has expired or is not yet valid.")
            return answers.unauthorized(ctx, "Invalid access token.")
        tid = claims.get("tid")
        if tid is not None and tid != self.tenant_id:
            return answers.unauthorized(ctx, "Access token was issued for another tenant.")
        return None


def _classify(method: str, s: list[str]) -> str:
    if s[:2] == ["directory", "inboundshareduserprofiles"]:
        if len(s) == 2 and method == "GET":
            return "list"
        if len(s) == 3 and s[2] != "$count" and method == "GET":
            return "get"
        # Older generated SDKs send the namespace-qualified action path (graph-api.md): both are accepted.
        if len(s) == 4 and _action(s[3]) == "exportpersonaldata" and method == "POST":
            return "export"
        if len(s) == 4 and _action(s[3]) == "removepersonaldata" and method == "POST":
            return "remove"
    if s[:2] == ["directory", "outboundshareduserprofiles"]:
        if len(s) == 2 and method == "GET":
            return "outbound_list"
        if len(s) == 4 and s[3] == "tenants" and method == "GET":
            return "outbound_tenants"
        if len(s) == 6 and s[3] == "tenants" and _action(s[5]) == "removepersonaldata" and method == "POST":
            return "outbound_remove"
    if len(s) == 2 and s[0] == "datapolicyoperations" and method == "GET":
        return "poll"
    if len(s) == 1 and s[0] == "datapolicyoperations" and method == "GET":
        return "operations"
    return "other"


def _unroutable(method: str, segments: list[str], s: list[str], ctx: Context) -> httpx.Response:
    if s[:2] == ["directory", "inboundshareduserprofiles"]:
        if len(s) == 3 and s[2] == "$count":
            return answers.unsupported_query(ctx, "$count", "inboundSharedUserProfiles")
        allowed = {2: "GET", 3: "GET"}.get(len(s))
        if len(s) == 4 and _action(s[3]) in ("exportpersonaldata", "removepersonaldata"):
            allowed = "POST"
        if allowed is not None:
            # The export page's "HTTP request" section says GET (trap 1): the action is a POST.
            return answers.method_not_allowed(ctx, method, allowed)
    if len(s) in (1, 2) and s[0] == "datapolicyoperations":
        return answers.method_not_allowed(ctx, method, "GET")
    segment = segments[-1] if segments else ctx.version
    return answers.error(ctx, 400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def _is_loopback_url(location: str) -> bool:
    try:
        host = httpx.URL(location).host
    except (httpx.InvalidURL, ValueError):
        return False
    return is_loopback(host)


def _decoded_query(request: httpx.Request) -> str:
    return unquote(request.url.query.decode("ascii", "replace"))


def _unverified_exp(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) else None


def _action(segment: str) -> str:
    """An action segment without its namespace (``microsoft.graph.exportPersonalData`` is ``exportpersonaldata``)."""
    return segment[len("microsoft.graph.") :] if segment.startswith("microsoft.graph.") else segment
