"""Async Graph client for inbound shared user profiles and their data exports.

No UI here. Every Graph quirk it copes with is listed in ../shared/graph-api.md
("Traps in Microsoft's own pages"); comments below cite the trap number.

Throttling slows the client instead of stopping it: every request of one client goes through one
``Pacer`` (``console.graph.throttle``: the shared gate, the probe, the pace). Non-export requests
spend from the optional ``RequestBudget`` (the tenant's 10,000 an hour). Every request and every
throttling decision is logged at DEBUG on the ``console.graph`` logger, redacted, never the token.

Where the parts live: ``policy`` sends every request (retries, Retry-After, pacing, the trusted-URL
check, redaction), ``failures`` words what went wrong, ``paging`` reads pages, ``erasure`` holds the
removal and outbound calls; this module keeps the URL rules and the export/poll/listing calls.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from console.clock import Clock, SystemClock
from console.graph import errors
from console.graph.erasure import OUTBOUND_PATH as OUTBOUND_PATH
from console.graph.erasure import PROFILES_PATH, ErasureCalls
from console.graph.errors import safe_text
from console.graph.failures import REMOVAL_PERMISSION as REMOVAL_PERMISSION
from console.graph.models import (
    DataPolicyOperation,
    ExportAccepted,
    InboundSharedUserProfile,
    OperationPoll,
    ResponseInfo,
    operation_id_from_location,
)
from console.graph.paging import collection_page, json_object, paging_loop
from console.graph.policy import RequestPolicy
from console.graph.policy import is_token_text as is_token_text
from console.graph.ports import RequestBudget, TokenProvider
from console.graph.retry import (
    BACKOFF_CAP,
    BACKOFF_START,
    CONNECT_TIMEOUT,
    TRANSPORT_ATTEMPTS,
    parse_retry_after,
)
from console.graph.throttle import Pacer
from console.http_client import CookielessClient
from console.net import is_loopback  # the one loopback rule
from console.tls import verification as tls_verification  # the one CA-bundle rule; name kept for callers

log = logging.getLogger("console.graph")

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/beta"
"""The API base including the version; the shared-profile APIs exist only in beta."""
VERSION_SEGMENTS = ("beta", "v1.0")
"""A Graph base URL ends in its API version."""
MAX_EMPTY_PAGES = 50
"""Empty profile pages in a row (each with a nextLink) after which the listing is given up as a loop."""
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
        self._tokens = tokens
        self._clock = clock or SystemClock()
        self.pacer = pacer or Pacer(self._clock)
        """One pacer per client, i.e. per app and tenant (Graph's throttling scope)."""
        self._http = CookielessClient(
            transport=transport,
            verify=tls_verification() if transport is None else True,
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            follow_redirects=False,  # a redirect could carry the token elsewhere (trap 6); a 307 must not re-POST
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Accept": "application/json", "User-Agent": "export-console/0.1"},
        )
        self._policy = RequestPolicy(
            self._http,
            self.base_url,
            tokens=tokens,
            clock=self._clock,
            budget=budget,
            pacer=self.pacer,
            max_attempts=max_attempts,
            transport_attempts=transport_attempts,
            timeout=timeout,
            backoff_start=backoff_start,
            backoff_cap=backoff_cap,
        )
        self._send = self._policy.send
        self._erasure = ErasureCalls(self._policy, self.base_url)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.aclose()

    def check_url(self, url: str) -> None:
        """Refuse to send the token anywhere but the configured Graph origin (trap 6).

        Raises:
            errors.UnreadableLocation: the URL cannot be parsed (bad port, broken IPv6 literal, garbage).
            errors.UnsafeRedirect: the URL's scheme, host or port differ, or it carries user-info.
        """
        self._policy.check_url(url)

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
                raise paging_loop(f"page {page}'s nextLink was already followed", page, len(seen_ids))
            followed.add(url)
            page += 1
            what = "list profiles" if page == 1 else f"list profiles (page {page})"
            response, _info = await self._send("GET", url, what=what)
            data, values = collection_page(response, "the profile list", "profile list")
            profiles = [InboundSharedUserProfile.from_json(v) for v in values if isinstance(v, dict)]
            ids = {p.user_id.lower() for p in profiles}
            if profiles and ids <= seen_ids:
                raise paging_loop(f"page {page} held only profiles already listed", page - 1, len(seen_ids))
            seen_ids |= ids
            yield profiles
            empty_run = 0 if profiles else empty_run + 1
            link = data.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None
            if url and empty_run >= MAX_EMPTY_PAGES:
                raise paging_loop(f"{empty_run} empty pages in a row", page, len(seen_ids))

    async def get_profile(self, user_id: str) -> InboundSharedUserProfile:
        """One profile by its userId (spends one request from the budget).

        Raises:
            errors.NotFound: the profile is gone or was never shared.
        """
        url = f"{self.base_url}/{PROFILES_PATH}/{quote(user_id, safe='')}"
        response, _info = await self._send("GET", url, what=f"profile {user_id}")
        return InboundSharedUserProfile.from_json(json_object(response, "the profile"))

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
        return self._accepted(user_id, url, response, info)

    def _accepted(self, user_id: str, url: str, response: httpx.Response, info: ResponseInfo) -> ExportAccepted:
        """The 202's Location and Retry-After, from its headers or (as the docs show them) its body (trap 2)."""
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
        data = json_object(response, "the export status")
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
        return await self._erasure.remove_personal_data(user_id)

    async def list_outbound_profiles(self) -> list[str]:
        """The userIds of our own users whose data other tenants hold, every page (nextLink followed as given).

        Raises:
            errors.UnsafeRedirect: a nextLink on another host (never followed with the token, trap 6).
            errors.PagingLoop: a nextLink already followed.
        """
        return await self._erasure.list_outbound_profiles()

    async def outbound_tenants(self, user_id: str) -> list[str]:
        """The ``tenantId`` of every tenant holding data of our user ``user_id``.

        Raises:
            errors.NotFound: no outbound profile for that user.
        """
        return await self._erasure.outbound_tenants(user_id)

    async def remove_outbound(self, user_id: str, tenant_id: str) -> str:
        """Ask the external tenant ``tenant_id`` to remove its copy of our user's data (``204``).

        Same rules as ``remove_personal_data``: never retried once sent; returns the 204's request-id.
        """
        return await self._erasure.remove_outbound(user_id, tenant_id)

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
            data, values = collection_page(response, "the list of export operations", "list of export operations")
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
