"""The simulated tenant's Microsoft Graph: profiles, exportPersonalData and dataPolicyOperations.

A stateful, synchronous request handler (``SimulatedGraph.handle``) that answers like the real
service does, quirks included (see ../shared/graph-api.md), with knobs to make it misbehave
(defined in ``console.sim.knobs`` and re-exported here):

* ``GraphConfig``: page size, Retry-After, export duration (and spread), service limits. Mutable at
  run time.
* ``GraphFaults``: injected throttling, 5xx, slowness, malformed bodies, missing Location, odd
  Retry-After values, failing users, unknown statuses, string progress, 403 switches. Mutable at
  run time; counted faults (``throttle_next``, ``errors_next``, ``malformed_polls_next``) count down.

Time is read from an injected ``clock`` (epoch seconds), so tests can move an export from
``notStarted`` to ``complete`` without waiting. Every request is recorded (``requests``) so tests
can assert timing, e.g. that no poll came before the Retry-After it was given.

The handler is thread-safe: one lock guards all state (the loopback server and MSAL adapters
call from other threads).
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any, Final
from urllib.parse import unquote

import httpx

from console.sim.knobs import (
    EXPORTS,
    LISTS,
    POLLS,
    RETRY_AFTER_HTTP_DATE,
    GraphConfig,
    GraphFaults,
    LocationMode,
    RecordedRequest,
    RequestMatch,
    ServiceLimits,
)
from console.sim.profiles import SimulatedProfile, generate_profiles
from console.sim.tokens import TokenStore

__all__ = [
    "COMPLETE",
    "EXPORTS",
    "FAILED",
    "LISTS",
    "NOT_STARTED",
    "POLLS",
    "RETRY_AFTER_HTTP_DATE",
    "RUNNING",
    "GraphConfig",
    "GraphFaults",
    "LocationMode",
    "RecordedRequest",
    "RequestMatch",
    "ServiceLimits",
    "SimulatedGraph",
    "format_seconds",
    "redact_storage_location",
]

NOT_STARTED: Final = "notStarted"
RUNNING: Final = "running"
COMPLETE: Final = "complete"
FAILED: Final = "failed"

_JSON_TYPE: Final = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_GRAPH_APP_ID: Final = "00000003-0000-0000-c000-000000000000"
_UNSUPPORTED_QUERY_OPTIONS: Final = ("$top", "$skip", "$count")
_SIG_RE: Final = re.compile(r"(?i)(\bsig=)[^&#\s]*")
_STORAGE_NAME_RE: Final = re.compile(r"^[A-Za-z0-9]{3,24}$")
_FILTER_STARTSWITH_RE: Final = re.compile(
    r"^\s*startswith\(\s*(displayName|userPrincipalName)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE
)
_FILTER_EQ_RE: Final = re.compile(
    r"^\s*(userId|homeTenantId|userPrincipalName)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE
)


def redact_storage_location(location: str) -> str:
    """The storage location with any SAS ``sig=`` value replaced: the signature is a secret (graph-api.md)."""
    return _SIG_RE.sub(r"\1REDACTED", location)


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
    """Already redacted: the SAS signature is never stored."""
    submitted_at: float
    duration: float
    queue_time: float
    fail_at: float | None
    unknown_status: str | None
    string_progress: bool


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
        self._seed = seed
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
        """Seconds the transport should wait before answering ``request`` (``GraphFaults.delay``)."""
        faults = self.faults
        if faults.delay <= 0:
            return 0.0
        if faults.delay_only is not None and not faults.delay_only.matches(request.method, request.url.path):
            return 0.0
        return faults.delay

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
            self._operations[op_id] = self._new_operation(op_id, user, storage_location.strip(), float(submitted_at))

    # ----------------------------------------------------------------- entry point

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one Graph request (path ``/beta/...`` or ``/v1.0/...``). Reads the body if needed."""
        body = request.read()
        with self._lock:
            ctx = self._context(request)
            response = self._dispatch(request, body, ctx)
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
        )

    def _dispatch(self, request: httpx.Request, body: bytes, ctx: _Context) -> httpx.Response:
        method = request.method.upper()
        path = request.url.path
        segments = [s for s in path.split("/")[2:] if s]
        lowered = [s.lower() for s in segments]
        kind = self._classify(method, lowered)
        ctx.kind = kind
        if kind in ("get", "export", "remove"):
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
        if kind == "poll":
            return self._poll(ctx)
        return self._unroutable(method, segments, lowered, ctx)

    @staticmethod
    def _classify(method: str, s: list[str]) -> str:
        if s[:2] == ["directory", "inboundshareduserprofiles"]:
            if len(s) == 2 and method == "GET":
                return "list"
            if len(s) == 3 and s[2] != "$count" and method == "GET":
                return "get"
            if len(s) == 4 and s[3] == "exportpersonaldata" and method == "POST":
                return "export"
            if len(s) == 4 and s[3] == "removepersonaldata" and method == "POST":
                return "remove"
        if len(s) == 2 and s[0] == "datapolicyoperations" and method == "GET":
            return "poll"
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
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/inboundSharedUserProfiles",
            "value": [p.to_json() for p in page],
        }
        if offset + size < len(matching):
            token = self._encode_skiptoken(offset + size, filter_text)
            # Absolute, on the request's scheme and host; the client must follow it as given.
            data["@odata.nextLink"] = f"{ctx.base}/{ctx.version}/directory/inboundSharedUserProfiles?$skiptoken={token}"
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

        op_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        op = self._new_operation(op_id, user_id, location.strip(), ctx.now)
        self._operations[op_id] = op
        self._exports_tenant.append(ctx.now)
        self._exports_user.setdefault(user_id, deque()).append(ctx.now)
        ctx.operation_id = op_id

        # graph-api.md traps 2, 3, 5: Location is a header (the docs show it in the body), points at
        # /v1.0 even when called on /beta, and the 202 carries no profile. We echo both in the body.
        location_url = f"{ctx.base}/v1.0/dataPolicyOperations/{op_id}"
        headers: dict[str, str] = {}
        data: dict[str, Any] = {}
        faults = self.faults
        if faults.location != "none":
            data["Location"] = location_url
            if faults.location == "header_and_body":
                headers["Location"] = location_url
        retry_after = self._retry_after(ctx.now)
        if retry_after is not None:
            headers["Retry-After"] = retry_after
            data["Retry-After"] = _body_number(retry_after)
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
        return _Operation(
            id=op_id,
            seq=seq,
            user_id=user_id,
            storage_location=redact_storage_location(location),
            submitted_at=submitted_at,
            duration=duration,
            queue_time=duration * min(max(config.queue_fraction, 0.0), 1.0),
            fail_at=duration * min(max(config.failure_point, 0.0), 1.0) if user_id in faults.failing_users else None,
            unknown_status=unknown,
            string_progress=bool(faults.string_progress_every) and seq % faults.string_progress_every == 0,
        )

    def _remove(self, ctx: _Context) -> httpx.Response:
        profile = self._by_id.pop(ctx.user_id or "", None)
        if profile is None:
            return self._profile_not_found(ctx)
        self._profiles.remove(profile)
        return self._respond(ctx, 204, b"", {})

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
            retry_after = self._retry_after(ctx.now)
            if retry_after is not None:
                headers["Retry-After"] = retry_after
        if self.faults.malformed_polls_next > 0:
            self.faults.malformed_polls_next -= 1
            text = json.dumps(data)
            return self._respond(
                ctx, 200, text[: max(1, len(text) // 2)].encode(), {"Content-Type": _JSON_TYPE, **headers}
            )
        return self._json(ctx, 200, data, headers)

    def _operation_json(self, op: _Operation, now: float, *, apply_faults: bool) -> dict[str, Any]:
        elapsed = now - op.submitted_at
        end = op.fail_at if op.fail_at is not None else op.duration
        completed: str | None = None
        if elapsed >= end:
            status = FAILED if op.fail_at is not None else COMPLETE
            progress = _progress(op, end)
            completed = _iso(op.submitted_at + end)
        elif elapsed < op.queue_time:
            status, progress = NOT_STARTED, 0.0
        else:
            status = (op.unknown_status or RUNNING) if apply_faults else RUNNING
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
            if len(s) == 4 and s[3] in ("exportpersonaldata", "removepersonaldata"):
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
        if len(s) == 2 and s[0] == "datapolicyoperations":
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

    def _retry_after(self, now: float) -> str | None:
        faults = self.faults
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
    or an https URL (a SAS URL to a container, as for the sibling user export).
    """
    if "://" in location:
        url = httpx.URL(location) if _is_valid_url(location) else None
        if url is None or url.scheme != "https" or not url.host:
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
