"""Async Graph client for inbound shared user profiles and their data exports.

No UI here. Every Graph quirk it copes with is listed in ../shared/graph-api.md
("Traps in Microsoft's own pages"); comments below cite the trap number.

Throttling slows the client instead of stopping it: every request of one client goes through one
``Pacer`` (``console.graph.throttle``: the shared gate, the probe, the pace). Non-export requests
spend from the optional ``RequestBudget`` (the tenant's 10,000 an hour). Every request and every
throttling decision is logged at DEBUG on the ``console.graph`` logger, redacted, never the token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from console.clock import Clock, SystemClock
from console.graph import errors
from console.graph.errors import safe_text
from console.graph.models import (
    DataPolicyOperation,
    ExportAccepted,
    InboundSharedUserProfile,
    OperationPoll,
    ResponseInfo,
    operation_id_from_location,
)
from console.graph.ports import RequestBudget, TokenProvider
from console.graph.retry import (
    BACKOFF_CAP,
    BACKOFF_START,
    CONNECT_TIMEOUT,
    MAX_RETRY_AFTER,
    TRANSPORT_ATTEMPTS,
    backoff_delay,
    is_absurd,
    parse_retry_after,
    retry_after_delta,
    transport_delay,
)
from console.graph.throttle import Pacer, Ticket
from console.net import is_loopback  # the one loopback rule
from console.tls import verification as tls_verification  # the one CA-bundle rule; name kept for callers

log = logging.getLogger("console.graph")

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/beta"
"""The API base including the version; the shared-profile APIs exist only in beta."""
PROFILES_PATH = "directory/inboundSharedUserProfiles"
OUTBOUND_PATH = "directory/outboundSharedUserProfiles"
"""Our own users whose data other tenants hold (graph-api.md, "Erasure, the outbound side")."""
REMOVAL_PERMISSION = "CrossTenantUserProfileSharing.ReadWrite.All"
"""What removePersonalData needs (listing and export need only .Read.All)."""
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth asking again for a GET (a 503 over a new connection, per graph-api.md)."""
THROTTLE_STATUSES = frozenset({429, 503})
"""Answers that tell the whole client to slow down (the pacer's signals)."""
VERSION_SEGMENTS = ("beta", "v1.0")
"""A Graph base URL ends in its API version."""
_DEFAULT_PORTS = {"https": 443, "http": 80}
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")
"""What a bearer token is made of: printable ASCII without spaces (JWTs and opaque tokens alike)."""
MAX_EMPTY_PAGES = 50
"""Empty profile pages in a row (each with a nextLink) after which the listing is given up as a loop."""
NOT_RETRIED = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
"""Transport errors that a retry cannot cure: the request could not even be built or sent."""


def is_token_text(token: str) -> bool:
    """True when ``token`` can go in an Authorization header: printable ASCII, no space, no line break."""
    return bool(_TOKEN_TEXT.fullmatch(token))


OPERATIONS_PATH = "dataPolicyOperations"
"""The collection Microsoft's SDK generates (no docs page covers it; a tenant may not offer it)."""
NOT_OFFERED_STATUSES = frozenset({400, 403, 404, 405})
"""Answers to ``GET /dataPolicyOperations`` that mean the tenant does not offer the list (graph-api.md)."""
MAX_OPERATION_PAGES = 100
"""Pages of ``GET /dataPolicyOperations`` followed for one user at most (a runaway nextLink ends here)."""


class OperationsListNotOffered(errors.GraphError):
    """``GET /dataPolicyOperations`` answered 400, 403, 404 or 405: this tenant does not list operations."""


def validate_graph_url(url: str) -> str:
    """Check a ``--graph-url``: https (http on a loopback host only), no user-info, ending in a version.

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    text = (url or "").strip()
    if not text:
        raise ValueError(
            f"--graph-url is empty: give the Graph API base such as {DEFAULT_GRAPH_URL}, "
            "or leave the option out to use production Graph"
        )
    shown = safe_text(text)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(
            f"--graph-url {shown!r} cannot be parsed ({exc}); give a URL such as {DEFAULT_GRAPH_URL}"
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"--graph-url must be an http(s) URL such as {DEFAULT_GRAPH_URL}, not {shown!r}")
    if port == 0:
        # httpx would quietly connect to the scheme's default port instead (issue 14: a silent hang).
        raise ValueError(
            f"--graph-url {shown!r} names port 0, which no server listens on: give the endpoint's port "
            "(or none for the scheme's default)"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError(
            "--graph-url must not carry user-info (user:password@host): httpx would send those as Basic "
            "credentials in place of the bearer token; give only the host and the version path"
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"refusing plain http:// to {host}: the access token would travel in clear; "
            "use https (http is allowed only for loopback hosts)"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"--graph-url must not carry a query or fragment: give the API base such as {DEFAULT_GRAPH_URL}"
        )
    segments = [segment for segment in parts.path.split("/") if segment]
    if not segments or segments[-1].lower() not in VERSION_SEGMENTS:
        raise ValueError(
            f"--graph-url {shown!r} has no API version: end it in /beta (the shared-profile APIs exist only "
            f"in beta) or /v1.0, for example {DEFAULT_GRAPH_URL}"
        )
    return text.rstrip("/")


def _os_errors(exc: BaseException) -> list[OSError]:
    """The OS errors behind a transport error (httpx wraps anyio's, which wraps the socket's)."""
    found: list[OSError] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen or len(seen) > 20:
            continue
        seen.add(id(item))
        if isinstance(item, OSError):
            found.append(item)
        todo.extend([item.__cause__, item.__context__])
        if isinstance(item, BaseExceptionGroup):
            todo.extend(item.exceptions)
    return found


def describe_transport_error(exc: BaseException, host: str, timeout: float) -> str:
    """What failed, in words, with the host (and port): refused, reset, timeout, TLS, name resolution."""
    detail = safe_text(str(exc))[:200]
    causes = _os_errors(exc)
    if isinstance(exc, httpx.LocalProtocolError):
        return f"the request to {host} could not be built ({detail or type(exc).__name__})"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting to {host} timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timed out waiting for {host} to answer"
    if isinstance(exc, httpx.WriteTimeout):
        return f"timed out sending the request to {host}"
    if isinstance(exc, httpx.PoolTimeout):
        return f"timed out waiting for a free connection to {host}"
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return f"no answer from {host} within {timeout:g} s (timeout)"
    if isinstance(exc, httpx.ConnectError):
        chain = [exc, exc.__cause__, exc.__context__]
        lowered = detail.lower()
        if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in lowered or "certificate" in lowered:
            return (
                f"TLS handshake with {host} failed ({detail}): check the CA bundle "
                "(SSL_CERT_FILE, REQUESTS_CA_BUNDLE) or the proxy"
            )
        if "refused" in lowered or any(isinstance(e, ConnectionRefusedError) for e in causes):
            return f"cannot connect to {host} (connection refused)"
        if any(isinstance(e, socket.gaierror) for e in causes):
            return f"cannot resolve the host name {host.rsplit(':', 1)[0]}"
        if "name or service" in lowered or "getaddrinfo" in lowered or "nodename" in lowered or "resolve" in lowered:
            return f"cannot resolve the host name {host.rsplit(':', 1)[0]}"
        reasons = [e.strerror for e in causes if e.strerror]
        return (
            f"cannot connect to {host} ({safe_text(reasons[-1]).lower() if reasons else detail or type(exc).__name__})"
        )
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return f"the connection to {host} was reset or closed before the answer ({detail or type(exc).__name__})"
    return f"{type(exc).__name__} talking to {host}" + (f" ({detail})" if detail else "")


class GraphClient:
    """Talks to Graph for one tenant with one token provider.

    Args:
        base_url: API base including the version, e.g. ``https://graph.microsoft.com/beta``.
        tokens: hands out bearer tokens; asked again with ``force_refresh`` after a 401.
        transport: an httpx transport (the simulated tenant in tests and ``--demo``).
        clock: the clock used for Retry-After dates and waits.
        budget: the tenant's budget of non-export requests; every listing page, profile GET and
            poll (retries included) spends from it. None: not budgeted.
        max_attempts: attempts per request, retries included.
        transport_attempts: at most this many of them for a request that got no answer at all (refused,
            unresolvable, reset, timeout); each retry is announced (WARNING on ``console.graph``).
        timeout: seconds for one HTTP exchange.
        connect_timeout: seconds to open a connection (name resolution included).
        backoff_start: first backoff delay of one request when Graph sends no Retry-After.
        backoff_cap: the longest backoff delay of one request.
        max_connections: connection pool size.
        pacer: the shared gate and pace (one per client; built from ``clock`` when None).
    """

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        budget: RequestBudget | None = None,
        max_attempts: int = 6,
        transport_attempts: int = TRANSPORT_ATTEMPTS,
        timeout: float = 30.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        backoff_start: float = BACKOFF_START,
        backoff_cap: float = BACKOFF_CAP,
        max_connections: int = 64,
        pacer: Pacer | None = None,
    ) -> None:
        self.base_url = validate_graph_url(base_url)
        parts = urlsplit(self.base_url)
        self._origin = self._origin_of(parts.scheme, parts.hostname, parts.port)
        self._host = parts.hostname or ""
        self._endpoint = (
            f"{parts.hostname}:{self._origin[2]}" if ":" not in self._host else f"[{self._host}]:{self._origin[2]}"
        )
        """host:port, as transport errors name it."""
        self._tokens = tokens
        self._clock = clock or SystemClock()
        self._budget = budget
        self._max_attempts = max(1, max_attempts)
        self._transport_attempts = max(1, min(self._max_attempts, transport_attempts))
        self._timeout = timeout
        self._backoff_start = backoff_start
        self._backoff_cap = backoff_cap
        self.pacer = pacer or Pacer(self._clock)
        """One pacer per client, i.e. per app and tenant (Graph's throttling scope)."""
        self._http = httpx.AsyncClient(
            transport=transport,
            verify=tls_verification() if transport is None else True,
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            follow_redirects=False,  # a redirect could carry the token elsewhere (trap 6); a 307 must not re-POST
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Accept": "application/json", "User-Agent": "export-console/0.1"},
        )
        self._token: str | None = None
        self._checked_urls: set[str] = set()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- public API -----------------------------------------------------------------

    async def list_profiles(self) -> AsyncIterator[list[InboundSharedUserProfile]]:
        """Every page of the tenant's inbound shared user profiles, following ``@odata.nextLink``.

        The nextLink is followed exactly as given (opaque ``$skiptoken``); page size is Graph's
        choice (trap 9). Each page spends one request from the budget.

        An empty page that carries a nextLink does not end the listing. A listing that loops (a
        nextLink already followed, a page holding only profiles already yielded, or ``MAX_EMPTY_PAGES``
        empty pages in a row) stops: every page read was yielded, then ``PagingLoop`` says so.

        Raises:
            errors.UnsafeRedirect: a nextLink on another host (never followed with the token, trap 6).
            errors.PagingLoop: Graph's paging looped; the pages before it were yielded.
        """
        url: str | None = f"{self.base_url}/{PROFILES_PATH}"
        followed: set[str] = set()
        seen_ids: set[str] = set()
        page = 0
        empty_run = 0
        while url:
            if url in followed:
                raise self._paging_loop(f"page {page}'s nextLink was already followed", page, len(seen_ids))
            followed.add(url)
            page += 1
            what = "list profiles" if page == 1 else f"list profiles (page {page})"
            response, _info = await self._send("GET", url, what=what)
            data, values = self._page(response, "the profile list", "profile list")
            profiles = [InboundSharedUserProfile.from_json(v) for v in values if isinstance(v, dict)]
            ids = {p.user_id.lower() for p in profiles}
            if profiles and ids <= seen_ids:
                raise self._paging_loop(f"page {page} held only profiles already listed", page - 1, len(seen_ids))
            seen_ids |= ids
            yield profiles
            empty_run = 0 if profiles else empty_run + 1
            link = data.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None
            if url and empty_run >= MAX_EMPTY_PAGES:
                raise self._paging_loop(f"{empty_run} empty pages in a row", page, len(seen_ids))

    def _paging_loop(self, why: str, pages: int, profiles: int) -> errors.PagingLoop:
        message = (
            f"Graph's profile list loops ({why}): stopped after {pages} page{'s' if pages != 1 else ''} "
            f"and {profiles:,} profiles; the list may be incomplete"
        )
        log.debug("graph: %s", message)  # the caller says it: once, where the user looks
        return errors.PagingLoop(message)

    async def get_profile(self, user_id: str) -> InboundSharedUserProfile:
        """One profile by its userId (spends one request from the budget).

        Raises:
            errors.NotFound: the profile is gone or was never shared.
        """
        url = f"{self.base_url}/{PROFILES_PATH}/{quote(user_id, safe='')}"
        response, _info = await self._send("GET", url, what=f"profile {user_id}")
        return InboundSharedUserProfile.from_json(self._json_object(response, "the profile"))

    async def export_personal_data(self, user_id: str, storage_location: str) -> ExportAccepted:
        """Ask Graph to export one profile's personal data (a POST; trap 1).

        Retried only on 429 with Retry-After (refused, not run) and on a refused connection (never
        sent). Graph documents no idempotency, so a 5xx, a timeout or an unreadable 202 raises
        ``ExportUnconfirmed``: the export may exist and must not be POSTed again blindly. A 429
        without Retry-After is the daily export limit: it fails at once. Redirects are never
        followed (a 307 would re-POST). Export POSTs do not spend from the request budget (they have
        their own daily quota, kept by the engine).

        Raises:
            errors.ExportUnconfirmed: the outcome is unknown.
            errors.GraphError: Graph refused it (400, 401, 403, 404, 429).
        """
        url = f"{self.base_url}/{PROFILES_PATH}/{quote(user_id, safe='')}/exportPersonalData"
        # bindingParameter is the profile in the URL, never a body field (trap 7).
        body = {"storageLocation": storage_location}
        response, info = await self._send("POST", url, json_body=body, what=f"export for {user_id}", export=True)
        if response.status_code not in (200, 201, 202):
            raise errors.ExportUnconfirmed(
                f"Graph answered {response.status_code} instead of 202 Accepted; check the export in the portal",
                status=response.status_code,
                request_id=info.request_id,
                client_request_id=info.client_request_id,
            )
        # The service sends Location and Retry-After as headers; the docs show them in the body (trap 2).
        body_data: dict[str, Any] = {}
        try:
            parsed = response.json() if response.content else {}
            body_data = parsed if isinstance(parsed, dict) else {}
        except (ValueError, UnicodeDecodeError):
            body_data = {}
        location = response.headers.get("Location") or body_data.get("Location") or body_data.get("location")
        if not isinstance(location, str) or not location.strip():
            raise errors.ExportUnconfirmed(
                "Graph accepted the export (202) but sent no Location to follow; it may be running: "
                "check it before exporting this user again",
                status=response.status_code,
                request_id=info.request_id,
                client_request_id=info.client_request_id,
            )
        # Follow Location as given (trap 3); a relative one is resolved against the request, never rebuilt.
        # One that cannot be parsed is kept as sent: check_url() refuses it for that operation only.
        location = location.strip()
        if location.startswith("/") and not location.startswith("//"):
            try:
                location = urljoin(url, location)
            except ValueError:
                log.debug("graph: Location %r cannot be parsed; kept as sent", safe_text(location))
        retry_after = info.retry_after
        if retry_after is None:
            retry_after = parse_retry_after(
                body_data.get("Retry-After", body_data.get("retryAfter")), self._clock.now()
            )
        operation_id = operation_id_from_location(location)
        log.debug(
            "graph export for %s accepted: operation %s, Retry-After %s, request-id=%s",
            safe_text(user_id),
            safe_text(operation_id),
            retry_after,
            info.request_id,
        )
        return ExportAccepted(
            operation_id=operation_id,
            location=location,  # kept as given: may say /v1.0 while we call /beta (trap 3)
            retry_after=retry_after,
            info=info,
        )

    async def get_operation(self, location: str, *, budgeted: bool = False) -> OperationPoll:
        """Poll a dataPolicyOperation by following its Location exactly as given (trap 3).

        Args:
            location: the status URL from the 202.
            budgeted: True when the caller already spent the first attempt from the budget; the
                client spends for every retry (and for the first attempt when False).

        Raises:
            errors.UnsafeRedirect: the Location is on another host (trap 6) or cannot be parsed.
            errors.PermissionDenied: polling needs User.Export.All (a different permission).
        """
        response, info = await self._send(
            "GET",
            location,
            what=f"export status {operation_id_from_location(location)}",
            poll=True,
            prepaid=budgeted,
            extra_headers={"Prefer": "include-unknown-enum-members"},
        )
        data = self._json_object(response, "the export status")
        operation = DataPolicyOperation.from_json(data)
        if not operation.id:
            operation = DataPolicyOperation(
                id=operation_id_from_location(location),
                status=operation.status,
                progress=operation.progress,
                storage_location=operation.storage_location,
                user_id=operation.user_id,
                submitted=operation.submitted,
                completed=operation.completed,
            )
        return OperationPoll(operation=operation, info=info)

    async def remove_personal_data(self, user_id: str) -> str:
        """Ask Graph to remove one inbound profile's personal data (``204 No Content``, nothing to poll).

        Never retried on 5xx, 429 or a timeout (Graph documents no idempotency): a 5xx or a transport
        failure after sending raises ``RemovalUnconfirmed``; a refused connection (never sent) is retried.

        Returns:
            The request-id of the 204: the only evidence that the removal was asked.

        Raises:
            errors.RemovalUnconfirmed: the outcome is unknown.
            errors.PermissionDenied: the app lacks CrossTenantUserProfileSharing.ReadWrite.All.
            errors.GraphError: Graph refused it (400, 401, 404, 429).
        """
        url = f"{self.base_url}/{PROFILES_PATH}/{quote(user_id, safe='')}/removePersonalData"
        return await self._remove(url, what=f"remove the data of {user_id}")

    async def list_outbound_profiles(self) -> list[str]:
        """The userIds of our own users whose data other tenants hold, every page (nextLink followed as given).

        Raises:
            errors.UnsafeRedirect: a nextLink on another host (never followed with the token, trap 6).
            errors.PagingLoop: a nextLink already followed.
        """
        url: str | None = f"{self.base_url}/{OUTBOUND_PATH}"
        followed: set[str] = set()
        users: list[str] = []
        while url:
            if url in followed:
                raise self._paging_loop("a nextLink was already followed", len(followed), len(users))
            followed.add(url)
            response, _info = await self._send("GET", url, what="list outbound profiles")
            data, values = self._page(response, "the outbound profile list", "outbound profile list")
            users += [
                safe_text(v["userId"]) for v in values if isinstance(v, dict) and isinstance(v.get("userId"), str)
            ]
            link = data.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None
        return users

    async def outbound_tenants(self, user_id: str) -> list[str]:
        """The ``tenantId`` of every tenant holding data of our user ``user_id``.

        Raises:
            errors.NotFound: no outbound profile for that user.
        """
        url = f"{self.base_url}/{OUTBOUND_PATH}/{quote(user_id, safe='')}/tenants"
        response, _info = await self._send("GET", url, what=f"outbound tenants of {user_id}")
        _data, values = self._page(response, "the outbound tenants", "outbound tenant list")
        return [safe_text(v["tenantId"]) for v in values if isinstance(v, dict) and isinstance(v.get("tenantId"), str)]

    async def remove_outbound(self, user_id: str, tenant_id: str) -> str:
        """Ask the external tenant ``tenant_id`` to remove its copy of our user's data (``204``).

        Same rules as ``remove_personal_data``: never retried once sent; returns the 204's request-id.
        """
        url = (
            f"{self.base_url}/{OUTBOUND_PATH}/{quote(user_id, safe='')}/tenants/"
            f"{quote(tenant_id, safe='')}/removePersonalData"
        )
        return await self._remove(url, what=f"ask tenant {tenant_id} to remove the data of {user_id}")

    async def _remove(self, url: str, *, what: str) -> str:
        response, info = await self._send("POST", url, what=what, removal=True)
        if response.status_code != 204 and response.status_code not in (200, 202):
            raise errors.RemovalUnconfirmed(
                f"Graph answered {response.status_code} instead of 204 No Content to {what}; "
                "check it before asking again",
                status=response.status_code,
                request_id=info.request_id,
                client_request_id=info.client_request_id,
            )
        return info.request_id

    def operation_url(self, operation_id: str) -> str:
        """The status URL of a listed operation (``{base}/dataPolicyOperations/{id}``, on the chosen Graph host)."""
        return f"{self.base_url}/{OPERATIONS_PATH}/{quote(operation_id, safe='')}"

    async def list_operations(self, user_id: str, since: datetime) -> list[DataPolicyOperation]:
        """The user's dataPolicyOperations submitted at or after ``since`` (``GET /dataPolicyOperations``).

        Asks with ``$filter=userId eq '...'`` and follows ``@odata.nextLink`` (on the chosen Graph host
        only: ``_send`` refuses any other with the token), but the filter's support is undocumented, so
        the user and ``since`` are checked here too. An operation without a submission time is left out
        (it cannot be shown to be this recent). Each page spends one request from the budget. A nextLink
        already followed, or more than ``MAX_OPERATION_PAGES`` pages, ends the listing.

        Raises:
            OperationsListNotOffered: 400, 403, 404 or 405: the tenant does not offer the collection.
            errors.UnsafeRedirect: a nextLink on another host.
        """
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)  # Graph's times are UTC
        wanted = user_id.strip().lower()
        literal = user_id.strip().replace("'", "''")
        url: str | None = f"{self.base_url}/{OPERATIONS_PATH}?$filter=" + quote(f"userId eq '{literal}'", safe="")
        seen: set[str] = set()
        found: list[DataPolicyOperation] = []
        while url and url not in seen and len(seen) < MAX_OPERATION_PAGES:
            seen.add(url)
            page = len(seen)
            what = f"list export operations of {user_id}" + (f" (page {page})" if page > 1 else "")
            try:
                response, _info = await self._send("GET", url, what=what)
            except errors.GraphError as exc:
                if exc.status in NOT_OFFERED_STATUSES:
                    raise OperationsListNotOffered(
                        f"this tenant does not list dataPolicyOperations (HTTP {exc.status})",
                        status=exc.status,
                        code=exc.code,
                        request_id=exc.request_id,
                        client_request_id=exc.client_request_id,
                    ) from None
                raise
            data, values = self._page(response, "the list of export operations", "list of export operations")
            for value in values:
                if not isinstance(value, dict):
                    continue
                operation = DataPolicyOperation.from_json(value)
                if not operation.id or operation.user_id.strip().lower() != wanted:
                    continue
                if operation.submitted is None or operation.submitted < since:
                    continue
                found.append(operation)
            link = data.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None
        if url:
            log.debug("graph: stopped listing export operations of %s at page %d", safe_text(user_id), len(seen))
        return found

    # -- plumbing -------------------------------------------------------------------

    @staticmethod
    def _origin_of(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int | None]:
        scheme = scheme.lower()
        return scheme, (host or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)

    def check_url(self, url: str) -> None:
        """Refuse to send the token anywhere but the configured Graph origin (trap 6).

        Raises:
            errors.UnreadableLocation: the URL cannot be parsed (bad port, broken IPv6 literal, garbage).
            errors.UnsafeRedirect: the URL's scheme, host or port differ, or it carries user-info.
        """
        if url in self._checked_urls:  # every poll of an operation follows the same Location
            return
        shown = safe_text(url if isinstance(url, str) else repr(url))
        plain = isinstance(url, str) and bool(url) and url.isprintable() and " " not in url  # the usual URL: C calls
        if not plain and (
            not isinstance(url, str) or not url.strip() or any(ch.isspace() or ord(ch) < 0x20 for ch in url)
        ):
            raise errors.UnreadableLocation(f"Graph gave a URL that cannot be read ({shown!r}): not following it")
        try:
            parts = urlsplit(url)
            origin = self._origin_of(parts.scheme, parts.hostname, parts.port)
            httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise errors.UnreadableLocation(
                f"Graph gave a URL that cannot be parsed ({shown}: {safe_text(str(exc))}): not following it"
            ) from None
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
            raise errors.UnreadableLocation(f"Graph gave a URL that is not an http(s) URL ({shown}): not following it")
        if parts.username is not None or parts.password is not None:
            raise errors.UnsafeRedirect(
                f"Graph gave a URL with user-info ({safe_text(parts.scheme)}://***@{safe_text(parts.hostname)}): "
                "not following it with the token"
            )
        if origin != self._origin:
            raise errors.UnsafeRedirect(
                f"Graph pointed at {safe_text(parts.scheme)}://{safe_text(parts.netloc)}, not the configured Graph "
                f"host {self._host}: not following it with the access token"
            )
        if len(self._checked_urls) < 100_000:
            self._checked_urls.add(url)

    def _page(self, response: httpx.Response, what: str, listing: str) -> tuple[dict[str, Any], list[Any]]:
        """A page of a collection: its JSON object and its ``value`` array (MalformedResponse without one)."""
        data = self._json_object(response, what)
        values = data.get("value")
        if not isinstance(values, list):
            raise errors.MalformedResponse(
                f"Graph's {listing} had no 'value' array",
                status=response.status_code,
                request_id=response.headers.get("request-id", ""),
            )
        return data, values

    def _json_object(self, response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise errors.MalformedResponse(
                f"Graph sent unreadable JSON for {what} (HTTP {response.status_code})",
                status=response.status_code,
                request_id=response.headers.get("request-id", ""),
            )
        return data

    async def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json_body: dict[str, Any] | None = None,
        export: bool = False,
        poll: bool = False,
        removal: bool = False,
        prepaid: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, ResponseInfo]:
        self.check_url(url)
        refreshed = False
        attempt = 0
        failures = 0  # attempts that got no answer at all
        paid = prepaid
        content = json.dumps(json_body).encode() if json_body is not None else None
        while True:
            attempt += 1
            if not export and self._budget is not None:
                if paid:
                    paid = False  # the caller spent for this one
                else:
                    await self._budget.acquire()
            if self._token is None:
                self._token = await self._tokens.get_token()
            if not is_token_text(self._token):
                self._token = None
                raise errors.AuthenticationError(
                    f"the access token for {what} holds a line break, a space or another character no token "
                    "has: not sending it (check how the token was copied)"
                )
            client_request_id = str(uuid.uuid4())
            headers = {"Authorization": f"Bearer {self._token}", "client-request-id": client_request_id}
            if content is not None:
                headers["Content-Type"] = "application/json"
            if attempt > 1:
                headers["retry-attempt"] = str(attempt - 1)
            if extra_headers:
                headers.update(extra_headers)
            ticket = await self.pacer.acquire()
            try:
                # httpx's timeouts are per phase; this bounds the whole exchange (and any transport).
                async with asyncio.timeout(self._timeout):
                    response = await self._http.request(method, url, content=content, headers=headers)
            except (TimeoutError, httpx.HTTPError) as exc:
                self.pacer.failed(ticket)
                # A refused connection never carried the request: safe to retry, even the export POST.
                # Anything later (timeout, reset) may have run it: the POST is then unconfirmed.
                reason = describe_transport_error(exc, self._endpoint, self._timeout)
                log.debug(
                    "graph %s %s -> no answer (%s) client-request-id=%s retry-attempt=%d",
                    method,
                    safe_text(what),
                    reason,
                    client_request_id,
                    attempt - 1,
                )
                if isinstance(exc, NOT_RETRIED):
                    # Never sent (h11 refuses a header, an unknown scheme): asking again cannot help.
                    raise errors.TransportFailure(
                        f"cannot send {what} to Graph: {reason}", client_request_id=client_request_id
                    ) from None
                if removal and not isinstance(exc, httpx.ConnectError):
                    raise errors.RemovalUnconfirmed(
                        f"no answer from Graph to {what} ({reason}): it may have been done; "
                        "check it before asking again",
                        client_request_id=client_request_id,
                    ) from None
                if export and not isinstance(exc, httpx.ConnectError):
                    raise errors.ExportUnconfirmed(
                        f"no answer from Graph for {what} ({reason}): the export may have been created; "
                        "check it before exporting this user again",
                        client_request_id=client_request_id,
                    ) from None
                failures += 1
                if failures >= self._transport_attempts:
                    raise errors.TransportFailure(
                        f"no answer from Graph for {what} after {failures} attempt{'s' if failures > 1 else ''}: "
                        f"{reason}",
                        client_request_id=client_request_id,
                    ) from None
                delay = transport_delay(failures)
                log.warning(
                    "no answer from Graph for %s: %s; retry %d of %d in %g s",
                    safe_text(what),
                    reason,
                    failures,
                    self._transport_attempts - 1,
                    delay,
                )
                await self._clock.sleep(delay)
                continue
            except BaseException:
                self.pacer.failed(ticket)  # cancelled: the probe slot must not stay taken
                raise

            status = response.status_code
            raw_retry_after = retry_after_delta(response.headers.get("Retry-After"), self._clock.now())
            info = ResponseInfo(
                http_status=status,
                request_id=safe_text(response.headers.get("request-id", "")),
                client_request_id=safe_text(response.headers.get("client-request-id", client_request_id)),
                date=safe_text(response.headers.get("Date", "")),
                retry_after=None if raw_retry_after is None else min(MAX_RETRY_AFTER, raw_retry_after),
            )
            self._log_exchange(method, what, response, info, client_request_id, attempt)
            # A wait above the ceiling is that request's error; an export's 5xx stays unconfirmed whatever it says.
            absurd = is_absurd(raw_retry_after) and status in RETRYABLE_STATUSES and not (export and status != 429)
            daily_limit = export and status == 429 and raw_retry_after is None
            self._tell_pacer(
                ticket, status, raw_retry_after, absurd=is_absurd(raw_retry_after), daily_limit=daily_limit
            )
            if status < 400:
                return response, info
            if status == 401 and not refreshed:
                refreshed = True
                self._token = await self._tokens.get_token(force_refresh=True)
                attempt -= 1  # a refresh is not a retry
                continue
            if removal and status >= 500:
                # Graph documents no idempotency: a removal POST is never sent twice by itself.
                raise errors.RemovalUnconfirmed(
                    f"Graph answered {status} to {what}: it may or may not have been done; check it before asking again",
                    status=status,
                    request_id=info.request_id,
                    client_request_id=info.client_request_id,
                )
            if removal and status != 401:
                raise self._error(response, info, what=what, export=False, poll=False, removal=True)
            if absurd:
                raise self._absurd_wait(response, info, raw_retry_after, what=what)
            if status in RETRYABLE_STATUSES:
                if daily_limit:
                    # No Retry-After on a 429 to an export is Graph's daily limit (graph-api.md): waiting
                    # minutes will not help, so say so now.
                    raise self._error(response, info, what=what, export=export, poll=poll)
                if export and status != 429:
                    raise errors.ExportUnconfirmed(
                        f"Graph answered {status} to {what}: the export may or may not have been created; "
                        "check it before exporting this user again",
                        status=status,
                        request_id=info.request_id,
                        client_request_id=info.client_request_id,
                    )
                if attempt < self._max_attempts:
                    if status in THROTTLE_STATUSES:
                        if raw_retry_after is None:
                            # This request backs off on its own (Graph SDK design); the others go on at the
                            # reduced pace. With Retry-After the shared gate does the waiting.
                            await self._clock.sleep(
                                backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap)
                            )
                    else:
                        await self._clock.sleep(
                            info.retry_after
                            if info.retry_after is not None
                            else backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap)
                        )
                    continue
            raise self._error(response, info, what=what, export=export, poll=poll)

    def _tell_pacer(
        self, ticket: Ticket, status: int, retry_after: float | None, *, absurd: bool, daily_limit: bool
    ) -> None:
        """Feed one answer to the pacer: throttled, answered, or no signal."""
        if absurd or daily_limit:
            # One request's absurd wait (never obeyed by the whole client), or the daily export limit, says
            # nothing about the pace of the rest.
            self.pacer.failed(ticket)
        elif status in THROTTLE_STATUSES:
            self.pacer.throttled(ticket, retry_after)
        elif status >= 500:
            self.pacer.failed(ticket)
        else:
            self.pacer.succeeded(ticket)

    def _log_exchange(
        self,
        method: str,
        what: str,
        response: httpx.Response,
        info: ResponseInfo,
        client_request_id: str,
        attempt: int,
    ) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        headers = response.headers
        log.debug(
            "graph %s %s -> %s request-id=%s client-request-id=%s date=%s retry-after=%s retry-attempt=%d "
            "x-ms-ags-diagnostic=%s",
            method,
            safe_text(what),
            info.http_status,
            info.request_id,
            client_request_id,
            info.date,
            safe_text(headers.get("Retry-After", "")) or "-",
            attempt - 1,
            safe_text(headers.get("x-ms-ags-diagnostic", ""))[:300],
        )

    def _absurd_wait(
        self, response: httpx.Response, info: ResponseInfo, seconds: float | None, *, what: str
    ) -> errors.GraphError:
        """A Retry-After above the ceiling: that request's error, never the whole client's wait."""
        code, message, request_id, client_request_id = errors.parse_error_body(response.text)
        asked = "forever" if seconds is None or math.isinf(seconds) else f"{seconds / 3600:,.1f} hours"
        return errors.Throttled(
            f"Graph answered {response.status_code} to {what} asking to wait {asked} "
            f"(Retry-After {safe_text(response.headers.get('Retry-After', ''))}), more than the hour any Graph "
            "limit runs: not waiting for it and not holding up other requests; try this one again later",
            status=response.status_code,
            code=code,
            request_id=info.request_id or request_id,
            client_request_id=info.client_request_id or client_request_id,
            retry_after=info.retry_after,
        )

    def _error(
        self,
        response: httpx.Response,
        info: ResponseInfo,
        *,
        what: str,
        export: bool,
        poll: bool,
        removal: bool = False,
    ) -> errors.GraphError:
        code, message, request_id, client_request_id = errors.parse_error_body(response.text)
        status = response.status_code

        def build(kind: type[errors.GraphError], text: str) -> errors.GraphError:
            return kind(
                text,
                status=status,
                code=code,
                request_id=info.request_id or request_id,
                client_request_id=info.client_request_id or client_request_id,
                retry_after=info.retry_after,
            )

        detail = f": {message}" if message else ""
        if status == 401:
            return build(
                errors.AuthenticationError,
                f"Graph refused the access token for {what} (expired, revoked or for another tenant); "
                f"sign in again{detail}",
            )
        if status == 403:
            if removal:
                text = f"not allowed to {what}: removal needs the {REMOVAL_PERMISSION} permission (with admin consent)"
            elif poll:
                text = (
                    "not allowed to read the export status: polling dataPolicyOperations needs the "
                    "User.Export.All permission (and User.Read.All), which exporting does not grant"
                )
            else:
                text = (
                    f"not allowed to {what}: the app needs CrossTenantUserProfileSharing.Read.All "
                    "(with admin consent) and a delegated user the Global Reader or Global Administrator role"
                )
            return build(errors.PermissionDenied, f"{text}{detail}")
        if status == 404:
            text = "the export status is gone (404)" if poll else f"not found: {what} (gone or never shared)"
            return build(errors.NotFound, f"{text}{detail}")
        if status == 400:
            return build(errors.BadRequest, f"Graph refused {what}{detail or ' (400 Bad Request)'}")
        if status == 429:
            limit = " (the daily export limit: 100 per user, 1,000 per tenant)" if export else ""
            return build(errors.Throttled, f"Graph is throttling {what}{limit}; try again later{detail}")
        if status >= 500:
            return build(errors.ServiceUnavailable, f"Graph failed {what} with HTTP {status}{detail}")
        return build(errors.GraphError, f"Graph answered HTTP {status} to {what}{detail}")
