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
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import logging
import math
import random
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any, Final
from urllib.parse import quote, unquote

import httpx

from console.net import is_loopback
from console.redact import redact
from console.sim.blob import REQUEST_INFO, BlobAddress, BlobStore, blob_address
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

log = logging.getLogger(__name__)

STORAGE_LOCATION_ALREADY_USED: Final = "StorageLocationAlreadyUsed"
"""Graph's error code for a storage location that already holds an export (graph-api.md)."""
STORAGE_LOCATION_ALREADY_USED_MESSAGE: Final = (
    "Storage destination has already been used for an export. "
    "If this is not true, delete 'RequestInfo.json' from the container and try again."
)
"""Graph's words for it, verbatim."""

NOT_STARTED: Final = "notStarted"
RUNNING: Final = "running"
COMPLETE: Final = "complete"
FAILED: Final = "failed"

_JSON_TYPE: Final = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_GRAPH_APP_ID: Final = "00000003-0000-0000-c000-000000000000"
_UNSUPPORTED_QUERY_OPTIONS: Final = ("$top", "$skip", "$count")
_STORAGE_NAME_RE: Final = re.compile(r"^[A-Za-z0-9]{3,24}$")
_FILTER_STARTSWITH_RE: Final = re.compile(
    r"^\s*startswith\(\s*(displayName|userPrincipalName)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE
)
_FILTER_EQ_RE: Final = re.compile(
    r"^\s*(userId|homeTenantId|userPrincipalName)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE
)


def redact_storage_location(location: str) -> str:
    """The storage location with any SAS signature masked: the signature is a secret (graph-api.md)."""
    return redact(location)


def format_seconds(seconds: float) -> str:
    """Delta-seconds for a Retry-After header: ``5`` for whole numbers, ``2.128`` otherwise."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _iso(ts: float) -> str:
    # Graph sends 7 fractional digits and a Z; the client must cope (models.parse_datetime).
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass
class _Operation:
    id: str
    seq: int
    user_id: str
    storage_location: str
    """Already redacted: the SAS signature is never shown."""
    submitted_at: float
    duration: float
    queue_time: float
    fail_at: float | None
    unknown_status: str | None
    string_progress: bool
    stuck: bool = False
    null_status: bool = False
    target: str = field(default="", repr=False)
    """The full location (with the SAS), in memory only: where the export is written when it completes."""
    delivered: bool = False
    adopted: bool = False


@dataclass
class _Context:
    now: float
    request_id: str
    client_request_id: str
    base: str
    """``scheme://host`` for absolute links (the request's, unless ``location_base``)."""
    version: str
    kind: str = "other"
    user_id: str | None = None
    operation_id: str | None = None
    method: str = "GET"
    path: str = ""


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
        self.config = config or GraphConfig()
        """Behaviour knobs; mutable at run time."""
        self.faults = faults or GraphFaults()
        """Injected faults; mutable at run time."""
        self.requests: list[RecordedRequest] = []
        """Every request answered, in order (when ``config.record_requests``)."""
        self._lock = threading.RLock()
        self._profiles: list[SimulatedProfile] = generate_profiles(profiles, seed)
        self._by_id: dict[str, SimulatedProfile] = {p.user_id: p for p in self._profiles}
        self._operations: dict[str, _Operation] = {}
        self._outbound: dict[str, list[str]] = generate_outbound(outbound, seed)
        self.removals: list[tuple[str, str | None, str]] = []
        """Every removal answered 204: ``(userId, from-tenant id or None for inbound, request-id)``."""
        self._removed: set[str] = set()
        self._seed = seed
        self.run_id = run_id if run_id is not None else uuid.uuid4().hex
        """Salts operation ids: a restarted simulator never hands out an id an earlier run created."""
        self.storage = storage
        """The blob stand-in exports are written into (None: nothing written in-process)."""
        self.deliveries: list[tuple[str, str]] = []
        """``(operation id, redacted location)`` of every export written into storage."""
        self.delivery_errors: list[str] = []
        """Why a delivery failed (redacted), for tests and the control endpoint."""
        self._used_locations: set[str] = set()
        self._pending: list[tuple[float, str]] = []
        self._op_ids = random.Random(f"{seed}:{self.run_id}:operations")
        self._faults_rng = random.Random(f"{seed}:{self.run_id}:faults")
        self._ids = random.Random(seed * 7919 + 1)
        self._exports_tenant: deque[float] = deque()
        self._exports_user: dict[str, deque[float]] = {}
        self._hourly: deque[float] = deque()
        self._token_salt = f"{self._ids.getrandbits(32):08x}"

    # ----------------------------------------------------------------- inspection

    @property
    def profiles(self) -> list[SimulatedProfile]:
        """The profiles currently shared with the tenant (a copy), in list order."""
        with self._lock:
            return list(self._profiles)

    @property
    def outbound(self) -> dict[str, list[str]]:
        """Outbound profiles currently listed: ``{userId: [tenantId, ...]}`` (a copy)."""
        with self._lock:
            return {user: list(tenants) for user, tenants in self._outbound.items()}

    def operation_ids(self) -> list[str]:
        """Ids of every export operation submitted so far, in order."""
        with self._lock:
            return list(self._operations)

    def operation(self, operation_id: str) -> dict[str, Any] | None:
        """The operation's JSON as a poll would show it now (without faults), or None."""
        with self._lock:
            op = self._operations.get(operation_id.lower())
            return None if op is None else self._operation_json(op, self.clock(), apply_faults=False)

    def exports_used(self, user_id: str | None = None) -> int:
        """Exports accepted in the last 24 hours: for the tenant, or for ``user_id``."""
        with self._lock:
            now = self.clock()
            window = self._exports_tenant if user_id is None else self._exports_user.get(user_id.lower(), deque())
            return sum(1 for t in window if t > now - 86_400)

    def delay_for(self, request: httpx.Request) -> float:
        """Seconds the transport should wait before answering ``request`` (``delay``, plus a counted ``hang``)."""
        faults = self.faults
        method, path = request.method, request.url.path
        wait = 0.0
        if faults.delay > 0 and _applies(faults.delay_only, method, path):
            wait = faults.delay
        if faults.hang_next > 0:
            with self._lock:
                if faults.hang_next > 0 and _applies(faults.hang_only, method, path):
                    faults.hang_next -= 1
                    wait += max(0.0, faults.hang_seconds)
        return wait

    def connection_fault(self, request: httpx.Request) -> str | None:
        """``before``, ``after`` or ``connect`` when this request's connection is to be dropped, else None.

        Counts ``drop_next`` down. The transport (or the loopback server) acts on it: ``before``
        drops without answering; ``after`` lets ``handle`` act (an export is created) and then drops;
        ``connect`` refuses the connection.
        """
        faults = self.faults
        if faults.drop_next <= 0:
            return None
        with self._lock:
            if faults.drop_next > 0 and _applies(faults.drop_only, request.method, request.url.path):
                faults.drop_next -= 1
                return faults.drop_when
        return None

    def start_storm(
        self, seconds: float, status: int = 429, retry_after: str | None = None, only: RequestMatch | None = None
    ) -> None:
        """Answer every matching request with ``status`` for the next ``seconds`` (simulator clock)."""
        self.faults.storm(self.clock() + seconds, status, retry_after, only)

    def used_locations(self) -> int:
        """How many distinct storage locations hold (or are receiving) an export of this run."""
        with self._lock:
            return len(self._used_locations)

    # ----------------------------------------------------------------- delivery into storage

    def deliver_due(self) -> int:
        """Write every export that has finished by now into its location; returns how many were written.

        Called before each Graph request and each request to the blob stand-in, so that a poll
        reporting ``complete`` (or a listing after it) finds the files there.
        """
        if not self._pending:
            return 0
        written = 0
        with self._lock:
            if self.faults.stuck_all:
                return 0
            now = self.clock()
            while self._pending and self._pending[0][0] <= now:
                _, op_id = heapq.heappop(self._pending)
                op = self._operations.get(op_id)
                if op is None or op.delivered or op.stuck:
                    continue
                op.delivered = True
                if self.config.deliver_exports and self._write_export(op, failed=op.fail_at is not None):
                    written += 1
        return written

    def _write_export(self, op: _Operation, *, failed: bool) -> bool:
        address = blob_address(op.target) if "://" in op.target else None
        if address is None or not address.container:
            return False  # an account name or another host: nowhere the simulator can write
        files = self._export_files(op, failed=failed)
        try:
            if self.storage is not None and not address.base.startswith("http://"):
                for name, (data, content_type) in files.items():
                    self.storage.put_blob(
                        address.account, address.container, name, data, content_type, create_container=True
                    )
            elif _is_loopback_url(op.target):
                _put_over_http(op.target, address, files)
            else:
                return False
        except (httpx.HTTPError, KeyError, OSError, ValueError) as exc:
            message = redact(f"writing export {op.id} to {op.storage_location} failed: {exc}")
            self.delivery_errors.append(message)
            log.warning("%s", message)
            return False
        self.deliveries.append((op.id, op.storage_location))
        return True

    def _export_files(self, op: _Operation, *, failed: bool) -> dict[str, tuple[bytes, str]]:
        end = op.fail_at if op.fail_at is not None else op.duration
        info = {
            "operationId": op.id,
            "userId": op.user_id,
            "tenantId": self.tenant_id,
            "storageLocation": op.storage_location,
            "submittedDateTime": _iso(op.submitted_at),
            "completedDateTime": _iso(op.submitted_at + end),
            "status": FAILED if failed else COMPLETE,
        }
        files: dict[str, tuple[bytes, str]] = {
            REQUEST_INFO: (json.dumps(info, indent=2).encode(), "application/json"),
        }
        if failed:
            return files
        profile = self._by_id.get(op.user_id)
        data = profile.to_json() if profile is not None else {"userId": op.user_id}
        prefix = f"{op.user_id}/"
        files[prefix + "profile.json"] = (json.dumps(data, indent=2).encode(), "application/json")
        shared = [
            {"resource": "Teams shared channel", "name": f"Project {i + 1}", "lastAccess": _iso(op.submitted_at)}
            for i in range(1 + len(op.id) % 3)
        ]
        files[prefix + "sharedResources.json"] = (json.dumps(shared, indent=2).encode(), "application/json")
        rows = "timestamp,activity\n" + "".join(f"{_iso(op.submitted_at - 86400 * i)},signIn\n" for i in range(5))
        files[prefix + "activity.csv"] = (rows.encode(), "text/csv")
        return files

    def _location_used(self, key: str, location: str) -> bool:
        """True when the location already holds an export: accepted in this run, or RequestInfo.json is there."""
        if key in self._used_locations:
            return True
        address = blob_address(location)
        if address is None or not address.container:
            return False
        if self.storage is not None and not address.base.startswith("http://"):
            return self.storage.get_blob(address.account, address.container, REQUEST_INFO) is not None
        if _is_loopback_url(location):
            try:
                with httpx.Client(timeout=2.0, trust_env=False) as http:
                    response = http.head(_blob_url(location, address, REQUEST_INFO), headers=_BLOB_HEADERS)
            except httpx.HTTPError:
                return False
            return response.status_code == 200
        return False

    def _new_operation_id(self) -> str:
        """A fresh operation id, salted by ``run_id`` and never one already known (submitted or adopted)."""
        while True:
            op_id = str(uuid.UUID(int=self._op_ids.getrandbits(128), version=4))
            if op_id not in self._operations:
                return op_id

    # ----------------------------------------------------------------- restarts

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
        op_id = operation_id.strip().lower()
        user = user_id.strip().lower()
        for name, value in (("operation_id", op_id), ("user_id", user)):
            if not value or "/" in value:
                raise ValueError(f"{name} must be a non-empty path segment, not {value!r}")
        with self._lock:
            if op_id in self._operations:
                return
            op = self._new_operation(op_id, user, storage_location.strip(), float(submitted_at))
            op.adopted = True
            op.delivered = True  # its files (if any) were written by the run that accepted it
            self._operations[op_id] = op
            key = _location_key(storage_location.strip())
            if key:
                self._used_locations.add(key)

    # ----------------------------------------------------------------- entry point

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one Graph request (path ``/beta/...`` or ``/v1.0/...``). Reads the body if needed."""
        body = request.read()
        with self._lock:
            self.deliver_due()
            ctx = self._context(request)
            response = self._dispatch(request, body, ctx)
            response = self._spoil(request, ctx, response)
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

    def _context(self, request: httpx.Request) -> _Context:
        segments = request.url.path.split("/")
        version = segments[1] if len(segments) > 1 else ""
        base = self.faults.location_base or f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        request_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        return _Context(
            now=self.clock(),
            request_id=request_id,
            client_request_id=request.headers.get("client-request-id") or request_id,
            base=base.rstrip("/"),
            version=version,
            method=request.method.upper(),
            path=request.url.path,
        )

    def _dispatch(self, request: httpx.Request, body: bytes, ctx: _Context) -> httpx.Response:
        method = request.method.upper()
        path = request.url.path
        segments = [s for s in path.split("/")[2:] if s]
        lowered = [s.lower() for s in segments]
        kind = self._classify(method, lowered)
        ctx.kind = kind
        if kind in ("get", "export", "remove", "outbound_tenants", "outbound_remove"):
            ctx.user_id = segments[2].lower()
        elif kind == "poll":
            ctx.operation_id = segments[1].lower()
            op = self._operations.get(ctx.operation_id)
            ctx.user_id = op.user_id if op else None

        denied = self._authenticate(request, ctx)
        if denied is not None:
            return denied
        faults = self.faults
        if faults.forbid_all:
            return self._error(
                ctx,
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation. The application needs "
                "CrossTenantUserProfileSharing.Read.All (or ReadWrite.All); a delegated caller also needs Global Reader.",
            )
        if faults.forbid_removal and kind in ("remove", "outbound_remove"):
            # graph-api.md: removal needs ReadWrite.All, listing and export only Read.All.
            return self._error(
                ctx,
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation. removePersonalData requires the "
                "CrossTenantUserProfileSharing.ReadWrite.All permission.",
            )
        if faults.unauthorized_next > 0 and _applies(faults.unauthorized_only, method, path):
            faults.unauthorized_next -= 1
            return self._unauthorized(ctx, "Access token has been revoked.")
        if faults.storm_until > ctx.now and _applies(faults.storm_only, method, path):
            return self._fault_status(ctx, faults.storm_status, faults.storm_retry_after)
        if faults.sporadic_fraction > 0 and _applies(faults.sporadic_only, method, path):
            if self._faults_rng.random() < faults.sporadic_fraction:
                return self._fault_status(ctx, faults.sporadic_status, faults.sporadic_retry_after)
        if faults.throttle_next > 0 and (faults.throttle_only is None or faults.throttle_only.matches(method, path)):
            faults.throttle_next -= 1
            headers = {"Retry-After": faults.throttle_retry_after} if faults.throttle_retry_after is not None else {}
            return self._error(ctx, 429, "TooManyRequests", "Too many requests. Please retry later.", headers)
        if faults.errors_next > 0 and (faults.errors_only is None or faults.errors_only.matches(method, path)):
            faults.errors_next -= 1
            headers = {"Retry-After": faults.error_retry_after} if faults.error_retry_after is not None else {}
            code, message = _SERVER_ERRORS.get(faults.error_status, ("generalException", "An error occurred."))
            return self._error(ctx, faults.error_status, code, message, headers)

        if kind == "export":
            limited = self._check_export_quota(ctx, ctx.user_id or "")
        else:
            limited = self._check_hourly_quota(ctx)
        if limited is not None:
            return limited

        if kind == "list":
            return self._list(request, ctx)
        if kind == "get":
            return self._get(ctx)
        if kind == "export":
            return self._export(body, ctx)
        if kind == "remove":
            return self._remove(ctx)
        if kind == "outbound_list":
            return self._outbound_list(request, ctx)
        if kind == "outbound_tenants":
            return self._outbound_tenants(ctx)
        if kind == "outbound_remove":
            return self._outbound_remove(ctx, segments[4].lower())
        if kind == "poll":
            return self._poll(ctx)
        if kind == "operations":
            return self._list_operations(request, ctx)
        return self._unroutable(method, segments, lowered, ctx)

    @staticmethod
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

    # ----------------------------------------------------------------- auth and limits

    def _authenticate(self, request: httpx.Request, ctx: _Context) -> httpx.Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not header or scheme.lower() != "bearer" or not token:
            return self._unauthorized(ctx, "Access token is empty.")
        claims = self.tokens.validate(token)
        if claims is None:
            exp = _unverified_exp(token)
            if exp is not None and exp <= ctx.now:
                return self._unauthorized(ctx, "Access token has expired or is not yet valid.")
            return self._unauthorized(ctx, "Invalid access token.")
        tid = claims.get("tid")
        if tid is not None and tid != self.tenant_id:
            return self._unauthorized(ctx, "Access token was issued for another tenant.")
        return None

    def _fault_status(self, ctx: _Context, status: int, retry_after: str | None) -> httpx.Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        if status == 429:
            return self._error(ctx, 429, "TooManyRequests", "Too many requests. Please retry later.", headers)
        code, message = _SERVER_ERRORS.get(status, ("generalException", "An error occurred."))
        return self._error(ctx, status, code, message, headers)

    def _spoil(self, request: httpx.Request, ctx: _Context, response: httpx.Response) -> httpx.Response:
        """A successful answer with its body spoiled (``malformed_next``/``malformed_kind``), or it as it is."""
        faults = self.faults
        if faults.malformed_next <= 0 or not 200 <= response.status_code < 300:
            return response
        if not (faults.malformed_only or POLLS).matches(request.method, request.url.path):
            return response
        faults.malformed_next -= 1
        body = response.read()
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        kind = faults.malformed_kind
        if kind == "truncated":
            body = body[: max(1, len(body) // 2)]
        elif kind == "html":
            headers["content-type"] = "text/html; charset=utf-8"
            body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
        elif kind in ("nan", "infinity"):
            try:
                data = json.loads(body)
            except ValueError:
                data = {}
            if isinstance(data, dict):
                data["progress"] = math.nan if kind == "nan" else math.inf
            body = json.dumps(data, allow_nan=True).encode()
        elif kind == "empty":
            body = b""
        else:
            body = b"[]"
        return httpx.Response(response.status_code, headers=headers, content=body)

    def _unauthorized(self, ctx: _Context, message: str) -> httpx.Response:
        challenge = (
            'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
            f'client_id="{_GRAPH_APP_ID}"'
        )
        return self._error(ctx, 401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge})

    def _check_hourly_quota(self, ctx: _Context) -> httpx.Response | None:
        # graph-api.md: "any other request 10,000 an hour", and no Retry-After on these 429s.
        window = self._hourly
        while window and window[0] <= ctx.now - 3600:
            window.popleft()
        if len(window) >= self.config.limits.requests_per_hour:
            return self._error(
                ctx,
                429,
                "TooManyRequests",
                f"Too many requests: the limit of {self.config.limits.requests_per_hour} data policy requests "
                "per hour for this tenant was reached.",
            )
        window.append(ctx.now)
        return None

    def _check_export_quota(self, ctx: _Context, user_id: str) -> httpx.Response | None:
        # graph-api.md: exportPersonalData 1,000 a day per tenant and 100 a day per subject; 429 without Retry-After.
        limits = self.config.limits
        cutoff = ctx.now - 86_400
        tenant = self._exports_tenant
        while tenant and tenant[0] <= cutoff:
            tenant.popleft()
        user = self._exports_user.get(user_id)
        while user and user[0] <= cutoff:
            user.popleft()
        if len(tenant) >= limits.exports_per_day:
            return self._error(
                ctx,
                429,
                "TooManyRequests",
                f"Too many requests: the limit of {limits.exports_per_day} exportPersonalData requests per day "
                "for this tenant was reached.",
            )
        if user is not None and len(user) >= limits.exports_per_user_per_day:
            return self._error(
                ctx,
                429,
                "TooManyRequests",
                f"Too many requests: the limit of {limits.exports_per_user_per_day} exportPersonalData requests "
                "per day for this user was reached.",
            )
        return None

    # ----------------------------------------------------------------- endpoints

    def _list(self, request: httpx.Request, ctx: _Context) -> httpx.Response:
        params = request.url.params
        for option in _UNSUPPORTED_QUERY_OPTIONS:
            if option in params:
                # graph-api.md trap 9: the collection's metadata marks $top/$skip/$count unsupported.
                return self._error(
                    ctx,
                    400,
                    "Request_UnsupportedQuery",
                    f"Query option '{option}' is not supported on inboundSharedUserProfiles.",
                )
        if "$search" in params:
            return self._error(
                ctx,
                400,
                "Request_UnsupportedQuery",
                "Query option '$search' is not supported on inboundSharedUserProfiles.",
            )
        offset = 0
        filter_text = params.get("$filter", "")
        skiptoken = params.get("$skiptoken")
        if skiptoken is not None:
            decoded = self._decode_skiptoken(skiptoken)
            if decoded is None:
                return self._error(
                    ctx,
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                )
            offset, filter_text = decoded
        predicate = _parse_filter(filter_text) if filter_text else None
        if filter_text and predicate is None:
            return self._error(
                ctx,
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for inboundSharedUserProfiles.",
            )
        matching = self._profiles if predicate is None else [p for p in self._profiles if predicate(p)]
        size = max(1, self.config.page_size)
        page = matching[offset : offset + size]
        listing = f"{ctx.base}/{ctx.version}/directory/inboundSharedUserProfiles"
        if self.faults.empty_pages_next > 0:
            self.faults.empty_pages_next -= 1
            page, size = [], 0  # an empty page whose nextLink goes on where it stood
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/inboundSharedUserProfiles",
            "value": [p.to_json() for p in page],
        }
        if offset + size < len(matching):
            token = self._encode_skiptoken(offset + size, filter_text)
            # Absolute, on the request's scheme and host; the client must follow it as given.
            data["@odata.nextLink"] = f"{listing}?$skiptoken={token}"
        elif self.faults.next_link_loop:
            data["@odata.nextLink"] = listing
        elif self.faults.next_link_restart:
            data["@odata.nextLink"] = f"{listing}?$skiptoken={self._encode_skiptoken(0, filter_text)}"
        return self._json(ctx, 200, data)

    def _encode_skiptoken(self, offset: int, filter_text: str) -> str:
        junk = f"{self._ids.getrandbits(64):016x}"
        raw = json.dumps([self._token_salt, offset, filter_text, junk], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def _decode_skiptoken(self, token: str) -> tuple[int, str] | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            salt, offset, filter_text, _junk = json.loads(raw)
        except (ValueError, TypeError, binascii.Error):
            return None
        if salt != self._token_salt or not isinstance(offset, int) or offset < 0 or not isinstance(filter_text, str):
            return None
        return offset, filter_text

    def _get(self, ctx: _Context) -> httpx.Response:
        profile = self._by_id.get(ctx.user_id or "")
        if profile is None:
            return self._profile_not_found(ctx)
        data = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/inboundSharedUserProfiles/$entity"}
        data.update(profile.to_json())
        return self._json(ctx, 200, data)

    def _profile_not_found(self, ctx: _Context) -> httpx.Response:
        return self._error(
            ctx,
            404,
            "Request_ResourceNotFound",
            f"Resource '{ctx.user_id}' does not exist or one of its queried reference-property objects are not present.",
        )

    def _export(self, body: bytes, ctx: _Context) -> httpx.Response:
        user_id = ctx.user_id or ""
        if user_id not in self._by_id:
            return self._profile_not_found(ctx)
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return self._error(ctx, 400, "BadRequest", "The request body is not valid JSON.")
        if not isinstance(payload, dict):
            return self._error(ctx, 400, "BadRequest", "Request body with the parameter 'storageLocation' is required.")
        if "bindingParameter" in payload:
            # graph-api.md trap 7: the binding parameter is the profile in the URL, never a body field.
            return self._error(
                ctx,
                400,
                "BadRequest",
                "The parameter 'bindingParameter' in the request payload is not a valid parameter for the operation "
                "'exportPersonalData'.",
            )
        location = payload.get("storageLocation")
        if not isinstance(location, str) or not location.strip():
            return self._error(
                ctx, 400, "BadRequest", "The parameter 'storageLocation' is required and must be a non-empty string."
            )
        refusal = _storage_location_refusal(location.strip())
        if refusal:
            return self._error(ctx, 400, "BadRequest", refusal)
        key = _location_key(location.strip())
        if self.config.refuse_reused_location and key and self._location_used(key, location.strip()):
            # graph-api.md "One export per storage location": Graph's own words, verbatim.
            return self._error(ctx, 400, STORAGE_LOCATION_ALREADY_USED, STORAGE_LOCATION_ALREADY_USED_MESSAGE)

        op_id = self._new_operation_id()
        op = self._new_operation(op_id, user_id, location.strip(), ctx.now)
        self._operations[op_id] = op
        if key:
            self._used_locations.add(key)
        end = op.fail_at if op.fail_at is not None else op.duration
        heapq.heappush(self._pending, (op.submitted_at + end, op_id))
        self._exports_tenant.append(ctx.now)
        self._exports_user.setdefault(user_id, deque()).append(ctx.now)
        ctx.operation_id = op_id

        # graph-api.md traps 2, 3, 5: Location and Retry-After are headers with an empty body (what the
        # service sends, msgraph-sdk-raptor#488; the docs show them in a body), Location points at /v1.0
        # even when called on /beta, and the 202 carries no profile. ``faults.location`` picks the form.
        location_url = _odd_location(self.faults.location_style, ctx, op_id)
        mode = self.faults.location
        in_headers = mode in ("header", "header_and_body", "none")
        in_body = mode in ("header_and_body", "body_only", "none")
        headers: dict[str, str] = {}
        data: dict[str, Any] = {}
        if mode != "none":
            if in_headers:
                headers["Location"] = location_url
            if in_body:
                data["Location"] = location_url
        retry_after = self._retry_after(ctx.now, ctx)
        if retry_after is not None:
            if in_headers:
                headers["Retry-After"] = retry_after
            if in_body:
                data["Retry-After"] = _body_number(retry_after)
        if not in_body:
            return self._respond(ctx, 202, b"", headers)
        return self._json(ctx, 202, data, headers)

    def _new_operation(self, op_id: str, user_id: str, location: str, submitted_at: float) -> _Operation:
        """An operation as the service would create it now (faults and config read at this moment)."""
        faults = self.faults
        config = self.config
        seq = len(self._operations) + 1
        duration = max(0.0, config.export_duration)
        jitter = min(max(config.export_duration_jitter, 0.0), 1.0)
        if jitter > 0 and duration > 0:
            # Seeded by tenant seed and id (str seeds hash with SHA-512: stable across processes),
            # so the draw neither disturbs the id stream nor changes when the operation is adopted.
            draw = random.Random(f"{self._seed}:{op_id}").uniform(-jitter, jitter)
            duration = max(0.0, duration * (1.0 + draw))
        unknown = None
        if user_id in faults.unknown_status_users or (
            faults.unknown_status_every and seq % faults.unknown_status_every == 0
        ):
            unknown = faults.unknown_status
        failing = user_id in faults.failing_users or bool(faults.failing_every and seq % faults.failing_every == 0)
        return _Operation(
            id=op_id,
            seq=seq,
            user_id=user_id,
            storage_location=redact_storage_location(location),
            submitted_at=submitted_at,
            duration=duration,
            queue_time=duration * min(max(config.queue_fraction, 0.0), 1.0),
            fail_at=duration * min(max(config.failure_point, 0.0), 1.0) if failing else None,
            unknown_status=unknown,
            string_progress=bool(faults.string_progress_every) and seq % faults.string_progress_every == 0,
            stuck=user_id in faults.stuck_users or bool(faults.stuck_every and seq % faults.stuck_every == 0),
            null_status=user_id in faults.null_status_users
            or bool(faults.null_status_every and seq % faults.null_status_every == 0),
            target=location,
        )

    def _remove(self, ctx: _Context) -> httpx.Response:
        user_id = ctx.user_id or ""
        profile = self._by_id.get(user_id)
        if profile is None and user_id not in self._removed:
            return self._profile_not_found(ctx)
        # Whether the profile then leaves the list is undocumented (graph-api.md): a knob, off by default.
        if profile is not None and self.config.removal_hides_profile:
            del self._by_id[user_id]
            self._profiles.remove(profile)
        self._removed.add(user_id)
        self.removals.append((user_id, None, ctx.request_id))
        return self._respond(ctx, 204, b"", {})

    def _outbound_list(self, request: httpx.Request, ctx: _Context) -> httpx.Response:
        offset = 0
        skiptoken = request.url.params.get("$skiptoken")
        if skiptoken is not None:
            decoded = self._decode_skiptoken(skiptoken)
            if decoded is None or decoded[1] != _OUTBOUND_MARK:
                return self._error(
                    ctx,
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                )
            offset = decoded[0]
        users = list(self._outbound)
        size = max(1, self.config.page_size)
        page = users[offset : offset + size]
        listing = f"{ctx.base}/{ctx.version}/directory/outboundSharedUserProfiles"
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/outboundSharedUserProfiles",
            "value": [{"userId": user} for user in page],
        }
        if offset + size < len(users):
            data["@odata.nextLink"] = f"{listing}?$skiptoken={self._encode_skiptoken(offset + size, _OUTBOUND_MARK)}"
        return self._json(ctx, 200, data)

    def _outbound_tenants(self, ctx: _Context) -> httpx.Response:
        tenants = self._outbound.get(ctx.user_id or "")
        if tenants is None:
            return self._profile_not_found(ctx)
        data = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/outboundSharedUserProfiles"
            f"('{ctx.user_id}')/tenants",
            "value": [{"tenantId": tenant} for tenant in tenants],
        }
        return self._json(ctx, 200, data)

    def _outbound_remove(self, ctx: _Context, tenant_id: str) -> httpx.Response:
        user_id = ctx.user_id or ""
        tenants = self._outbound.get(user_id)
        if tenants is None or (tenant_id not in tenants and (user_id, tenant_id) not in self._removed_outbound()):
            return self._error(
                ctx,
                404,
                "Request_ResourceNotFound",
                f"Resource '{tenant_id}' does not exist or one of its queried reference-property objects are not present.",
            )
        if self.config.removal_hides_profile and tenant_id in tenants:
            tenants.remove(tenant_id)
        self.removals.append((user_id, tenant_id, ctx.request_id))
        return self._respond(ctx, 204, b"", {})

    def _removed_outbound(self) -> set[tuple[str, str]]:
        return {(user, tenant) for user, tenant, _ in self.removals if tenant is not None}

    def _poll(self, ctx: _Context) -> httpx.Response:
        if self.faults.forbid_polls:
            # graph-api.md: polling needs User.Export.All / User.Read.All, unlike the export itself.
            return self._error(
                ctx,
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation. Reading dataPolicyOperations requires the "
                "User.Export.All permission (or User.Read.All).",
            )
        if self.faults.poll_error is not None:
            status = self.faults.poll_error
            code = {400: "BadRequest", 404: "Request_ResourceNotFound", 409: "Conflict", 410: "Gone"}.get(
                status, "BadRequest"
            )
            return self._error(ctx, status, code, f"Invalid request: the operation cannot be read ({status}).")
        op = self._operations.get(ctx.operation_id or "")
        if op is None:
            return self._error(
                ctx,
                404,
                "Request_ResourceNotFound",
                f"Resource '{ctx.operation_id}' does not exist or one of its queried reference-property objects are not present.",
            )
        data = self._operation_json(op, ctx.now, apply_faults=True)
        data = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#dataPolicyOperations/$entity", **data}
        headers: dict[str, str] = {}
        if data["completedDateTime"] is None:
            retry_after = self._retry_after(ctx.now, ctx)
            if retry_after is not None:
                headers["Retry-After"] = retry_after
        if self.faults.malformed_polls_next > 0:
            self.faults.malformed_polls_next -= 1
            text = json.dumps(data)
            return self._respond(
                ctx, 200, text[: max(1, len(text) // 2)].encode(), {"Content-Type": _JSON_TYPE, **headers}
            )
        return self._json(ctx, 200, data, headers)

    def _list_operations(self, request: httpx.Request, ctx: _Context) -> httpx.Response:
        """``GET /dataPolicyOperations``: the collection Microsoft's SDK generates (no docs page covers it).

        Understands ``$filter`` on ``userId eq '...'`` and ``submittedDateTime ge|gt|le|lt <date>`` (joined by
        ``and``), ``$top`` (the page size), ``$orderby=submittedDateTime [asc|desc]``, and pages with an
        opaque ``$skiptoken`` in ``@odata.nextLink``. Knobs: ``operations_list_status`` (a tenant that does
        not offer it) and ``ignore_operations_filter`` (every operation, whatever the filter).
        """
        status = self.faults.operations_list_status
        if status is not None:
            return self._operations_not_offered(ctx, status)
        params = request.url.params
        for option in ("$search", "$skip", "$count", "$expand"):
            if option in params:
                return self._error(
                    ctx,
                    400,
                    "Request_UnsupportedQuery",
                    f"Query option '{option}' is not supported on dataPolicyOperations.",
                )
        query = [params.get("$filter", ""), params.get("$top", ""), params.get("$orderby", "")]
        offset = 0
        skiptoken = params.get("$skiptoken")
        if skiptoken is not None:
            decoded = self._decode_skiptoken(skiptoken)
            packed = _unpack_query(decoded[1]) if decoded is not None else None
            if decoded is None or packed is None:
                return self._error(
                    ctx,
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                )
            offset, query = decoded[0], packed
        filter_text, top_text, order_text = query
        size = max(1, self.config.page_size)
        if top_text:
            try:
                size = int(top_text)
            except ValueError:
                size = 0
            if not 1 <= size <= 999:
                return self._error(ctx, 400, "BadRequest", f"Invalid value '{top_text}' for $top: 1 to 999.")
        parsed = _parse_operations_filter(filter_text) if filter_text else ([], None)
        if parsed is None:
            return self._error(
                ctx,
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for dataPolicyOperations.",
            )
        predicates, ctx.user_id = parsed
        descending = False
        if order_text:
            match = re.fullmatch(r"\s*submittedDateTime(?:\s+(asc|desc))?\s*", order_text, re.IGNORECASE)
            if match is None:
                return self._error(
                    ctx,
                    400,
                    "Request_UnsupportedQuery",
                    f"Unsupported $orderby '{order_text}' on dataPolicyOperations.",
                )
            descending = (match.group(1) or "").lower() == "desc"
        operations = sorted(self._operations.values(), key=lambda op: (op.submitted_at, op.seq), reverse=descending)
        if not self.faults.ignore_operations_filter:
            operations = [op for op in operations if all(p(op) for p in predicates)]
        page = operations[offset : offset + size]
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#dataPolicyOperations",
            "value": [self._operation_json(op, ctx.now, apply_faults=True) for op in page],
        }
        if offset + size < len(operations):
            token = self._encode_skiptoken(offset + size, json.dumps(query))
            data["@odata.nextLink"] = f"{ctx.base}/{ctx.version}/dataPolicyOperations?$skiptoken={token}"
        return self._json(ctx, 200, data)

    def _operations_not_offered(self, ctx: _Context, status: int) -> httpx.Response:
        """What a tenant that does not offer ``GET /dataPolicyOperations`` may answer (graph-api.md: 400/403/404/405)."""
        if status == 403:
            return self._error(
                ctx, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if status == 404:
            return self._error(ctx, 404, "Request_ResourceNotFound", "Resource 'dataPolicyOperations' does not exist.")
        if status == 405:
            return self._error(
                ctx, 405, "Request_BadRequest", "The HTTP method 'GET' is not allowed on this resource.", {"Allow": ""}
            )
        return self._error(ctx, status, "BadRequest", "Resource not found for the segment 'dataPolicyOperations'.")

    def _operation_json(self, op: _Operation, now: float, *, apply_faults: bool) -> dict[str, Any]:
        elapsed = now - op.submitted_at
        end = op.fail_at if op.fail_at is not None else op.duration
        completed: str | None = None
        if op.stuck or (self.faults.stuck_all and not op.delivered and elapsed >= op.queue_time):
            # A stuck export: running for ever, its progress frozen where it stopped.
            frozen = min(elapsed, max(op.queue_time, end * 0.42))
            status: str | None = RUNNING
            progress = _progress(op, frozen) if elapsed >= op.queue_time else 0.0
            if elapsed < op.queue_time:
                status = NOT_STARTED
            elif apply_faults and op.null_status:
                status = None
        elif elapsed >= end:
            status = FAILED if op.fail_at is not None else COMPLETE
            progress = _progress(op, end)
            completed = _iso(op.submitted_at + end)
        elif elapsed < op.queue_time:
            status, progress = NOT_STARTED, 0.0
        else:
            status = (op.unknown_status or RUNNING) if apply_faults else RUNNING
            if apply_faults and op.null_status:
                status = None
            progress = _progress(op, elapsed)
        progress_value: float | str = progress
        if apply_faults and op.string_progress:
            progress_value = format_seconds(progress)
        return {
            "id": op.id,
            "status": status,
            "progress": progress_value,
            "storageLocation": op.storage_location,
            "userId": op.user_id,
            "submittedDateTime": _iso(op.submitted_at),
            "completedDateTime": completed,
        }

    def _unroutable(self, method: str, segments: list[str], s: list[str], ctx: _Context) -> httpx.Response:
        if s[:2] == ["directory", "inboundshareduserprofiles"]:
            if len(s) == 3 and s[2] == "$count":
                return self._error(
                    ctx,
                    400,
                    "Request_UnsupportedQuery",
                    "Query option '$count' is not supported on inboundSharedUserProfiles.",
                )
            allowed = {2: "GET", 3: "GET"}.get(len(s))
            if len(s) == 4 and _action(s[3]) in ("exportpersonaldata", "removepersonaldata"):
                allowed = "POST"
            if allowed is not None:
                # The export page's "HTTP request" section says GET (trap 1): the action is a POST.
                return self._error(
                    ctx,
                    405,
                    "Request_BadRequest",
                    f"The HTTP method '{method}' is not allowed on this resource; use {allowed}.",
                    {"Allow": allowed},
                )
        if len(s) in (1, 2) and s[0] == "datapolicyoperations":
            return self._error(
                ctx,
                405,
                "Request_BadRequest",
                f"The HTTP method '{method}' is not allowed on this resource; use GET.",
                {"Allow": "GET"},
            )
        segment = segments[-1] if segments else ctx.version
        return self._error(ctx, 400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    # ----------------------------------------------------------------- responses

    def _retry_after(self, now: float, ctx: _Context | None = None) -> str | None:
        faults = self.faults
        if faults.retry_after_only is not None and (
            ctx is None or not faults.retry_after_only.matches(ctx.method, ctx.path)
        ):
            return format_seconds(max(0.0, self.config.retry_after))
        if faults.omit_retry_after:
            return None
        if faults.retry_after_value == RETRY_AFTER_HTTP_DATE:
            return formatdate(now + self.config.retry_after, usegmt=True)
        if faults.retry_after_value is not None:
            return faults.retry_after_value
        return format_seconds(max(0.0, self.config.retry_after))

    def _error(
        self, ctx: _Context, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        data = {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.fromtimestamp(ctx.now, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": ctx.request_id,
                    "client-request-id": ctx.client_request_id,
                },
            }
        }
        return self._json(ctx, status, data, headers)

    def _json(self, ctx: _Context, status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        body = json.dumps(data, separators=(",", ":")).encode()
        return self._respond(ctx, status, body, {"Content-Type": _JSON_TYPE, **(headers or {})})

    def _respond(self, ctx: _Context, status: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
        all_headers = {
            "Cache-Control": "no-cache",
            "request-id": ctx.request_id,
            "client-request-id": ctx.client_request_id,
            "x-ms-ags-diagnostic": _DIAGNOSTIC,
            "Strict-Transport-Security": "max-age=31536000",
            "Date": formatdate(ctx.now, usegmt=True),
            **headers,
        }
        return httpx.Response(status, headers=all_headers, content=body)


_OUTBOUND_MARK: Final = "\x00outbound"
"""Stands in a skiptoken's filter slot for a page of outbound profiles (never a valid $filter)."""

_SERVER_ERRORS: Final[dict[int, tuple[str, str]]] = {
    500: ("generalException", "An internal server error occurred."),
    502: ("BadGateway", "The server received an invalid response from an upstream server."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("GatewayTimeout", "The gateway timed out waiting for the service."),
}

_DIAGNOSTIC: Final = json.dumps(
    {
        "ServerInfo": {
            "DataCenter": "Simulated",
            "Slice": "E",
            "Ring": "5",
            "ScaleUnit": "000",
            "RoleInstance": "SIM0000001",
        }
    },
    separators=(",", ":"),
)


_BLOB_HEADERS: Final = {"x-ms-version": "2021-08-06", "x-ms-blob-type": "BlockBlob"}
"""Headers of the simulated Graph's own blob writes (Put Blob of a block blob)."""


def _applies(match: RequestMatch | None, method: str, path: str) -> bool:
    return match is None or match.matches(method, path)


def _odd_location(style: str, ctx: _Context, op_id: str) -> str:
    """The 202's Location in the style a fault asks for (graph-api.md traps 3 and 6)."""
    path = f"/v1.0/dataPolicyOperations/{op_id}"
    scheme, _, host = ctx.base.partition("://")
    host = host.split("/", 1)[0]
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if style == "same_version":
        return f"{ctx.base}/{ctx.version}/dataPolicyOperations/{op_id}"
    if style == "foreign_host":
        return f"https://evil.example{path}"
    if style == "bad_port":
        return f"{scheme}://{bare}:99999{path}"
    if style == "ipv6":
        return f"{scheme}://[::1]:8443{path}"
    if style == "bad_ipv6":
        return f"{scheme}://[::1{path}"
    if style == "relative":
        return path
    if style == "garbage":
        return "not a location ::"
    return f"{ctx.base}{path}"


def _location_key(location: str) -> str:
    """What identifies a storage location for Graph's one-export rule: the container, SAS ignored.

    ``""`` for a plain account name (Graph picks the container there; never refused).
    """
    if "://" not in location:
        return ""
    address = blob_address(location)
    if address is not None and address.container:
        return f"{address.base.lower()}/{address.container.lower()}"
    try:
        url = httpx.URL(location)
    except (httpx.InvalidURL, ValueError):
        return ""
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace').lower()}{url.path.rstrip('/').lower()}"


def _is_loopback_url(location: str) -> bool:
    try:
        host = httpx.URL(location).host
    except (httpx.InvalidURL, ValueError):
        return False
    return is_loopback(host)


def _blob_url(location: str, address: BlobAddress, name: str) -> str:
    """The URL of blob ``name`` in the location's container, with the location's SAS query."""
    query = location.split("?", 1)[1].split("#", 1)[0] if "?" in location else ""
    url = f"{address.base}/{quote(address.container)}/{quote(name)}"
    return f"{url}?{query}" if query else url


def _put_over_http(location: str, address: BlobAddress, files: dict[str, tuple[bytes, str]]) -> None:
    """Write the export into a loopback blob service (Azurite) with the location's SAS, as Graph would."""
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        for name, (data, content_type) in files.items():
            response = http.put(
                _blob_url(location, address, name),
                content=data,
                headers={**_BLOB_HEADERS, "Content-Type": content_type},
            )
            if response.status_code not in (200, 201):
                code = response.headers.get("x-ms-error-code", str(response.status_code))
                raise ValueError(f"the blob service answered {response.status_code} {code} for {name}")


def _decoded_query(request: httpx.Request) -> str:
    return unquote(request.url.query.decode("ascii", "replace"))


def _progress(op: _Operation, at: float) -> float:
    span = op.duration - op.queue_time
    if span <= 0:
        return 100.0
    return round(min(100.0, max(0.0, (at - op.queue_time) / span * 100.0)), 1)


def _body_number(value: str) -> int | float | str:
    """Retry-After for the 202 body: a number when it is one (the docs' example shows 60), else the text."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


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


def _storage_location_refusal(location: str) -> str | None:
    """Graph's 400 message for an unusable storage location, or None when its shape is acceptable.

    Both forms are accepted (graph-api.md): a storage account name (the docs' ``MyStorageAccount``)
    or an https URL (a SAS URL to a container, as for the sibling user export). The simulator also
    takes plain http to a loopback host: a local blob emulator (Azurite) it writes the export into.
    """
    if "{" in location or "}" in location:
        # A template (.../dsr-{userId}) sent unresolved: no container may have braces in its name.
        return "The storageLocation contains '{' or '}': the container name is not valid (an unresolved template?)."
    if "://" in location:
        url = httpx.URL(location) if _is_valid_url(location) else None
        loopback = url is not None and url.scheme == "http" and _is_loopback_url(location)
        if url is None or (url.scheme != "https" and not loopback) or not url.host:
            return "The storageLocation must be an https URL to an Azure Storage container or a storage account name."
        return None
    if not _STORAGE_NAME_RE.match(location):
        return (
            "The storageLocation is not a valid Azure Storage account name (3 to 24 letters and digits) or https URL."
        )
    return None


def _is_valid_url(text: str) -> bool:
    try:
        httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        return False
    return True


def _parse_filter(text: str) -> Callable[[SimulatedProfile], bool] | None:
    """The few ``$filter`` forms the simulator understands (the real operators are undocumented)."""
    match = _FILTER_STARTSWITH_RE.match(text)
    if match:
        prop, value = match.group(1).lower(), match.group(2).replace("''", "'").lower()
        if prop == "displayname":
            return lambda p: p.display_name.lower().startswith(value)
        return lambda p: p.user_principal_name.lower().startswith(value)
    match = _FILTER_EQ_RE.match(text)
    if match:
        prop, value = match.group(1).lower(), match.group(2).replace("''", "'").lower()
        if prop == "userid":
            return lambda p: p.user_id == value
        if prop == "hometenantid":
            return lambda p: p.home_tenant_id == value
        return lambda p: p.user_principal_name.lower() == value
    return None


def _action(segment: str) -> str:
    """An action segment without its namespace (``microsoft.graph.exportPersonalData`` is ``exportpersonaldata``)."""
    return segment[len("microsoft.graph.") :] if segment.startswith("microsoft.graph.") else segment


_OPERATIONS_CLAUSE_RE: Final = re.compile(
    r"^\s*(?:(userId)\s+eq\s+'((?:[^']|'')*)'|(submittedDateTime)\s+(ge|gt|le|lt)\s+(\S+))\s*$", re.IGNORECASE
)


def _parse_operations_filter(text: str) -> tuple[list[Callable[[_Operation], bool]], str | None] | None:
    """The ``$filter`` clauses the simulator understands on dataPolicyOperations, and the userId asked for.

    None when a clause is not understood (answered 400, as an unsupported filter would be).
    """
    predicates: list[Callable[[_Operation], bool]] = []
    user: str | None = None
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _OPERATIONS_CLAUSE_RE.match(clause)
        if match is None:
            return None
        if match.group(1):
            wanted = match.group(2).replace("''", "'").lower()
            user = wanted
            predicates.append(lambda op, wanted=wanted: op.user_id == wanted)  # type: ignore[misc]
            continue
        moment = _parse_instant(match.group(5))
        if moment is None:
            return None
        compare = {
            "ge": lambda a, b: a >= b,
            "gt": lambda a, b: a > b,
            "le": lambda a, b: a <= b,
            "lt": lambda a, b: a < b,
        }[match.group(4).lower()]
        predicates.append(lambda op, moment=moment, compare=compare: compare(op.submitted_at, moment))  # type: ignore[misc]
    return predicates, user


def _parse_instant(text: str) -> float | None:
    """An OData DateTimeOffset literal (``2026-12-06T07:00:00Z``) as epoch seconds, or None."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _unpack_query(text: str) -> list[str] | None:
    """The ``[$filter, $top, $orderby]`` a skiptoken of the operations collection carries, or None."""
    try:
        query = json.loads(text)
    except ValueError:
        return None
    if not isinstance(query, list) or len(query) != 3 or not all(isinstance(q, str) for q in query):
        return None
    return query
