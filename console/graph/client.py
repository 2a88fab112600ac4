"""Async Graph client for inbound shared user profiles and their data exports.

No UI here. Every Graph quirk it copes with is listed in ../shared/graph-api.md
("Traps in Microsoft's own pages"); comments below cite the trap number.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import ssl
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from console.auth.base import TokenProvider
from console.clock import Clock, SystemClock
from console.graph import errors
from console.graph.models import (
    DataPolicyOperation,
    ExportAccepted,
    InboundSharedUserProfile,
    OperationPoll,
    ResponseInfo,
    operation_id_from_location,
)
from console.graph.retry import BACKOFF_CAP, BACKOFF_START, backoff_delay, parse_retry_after

log = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/beta"
"""The API base including the version; the shared-profile APIs exist only in beta."""
PROFILES_PATH = "directory/inboundSharedUserProfiles"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth asking again for a GET (a 503 over a new connection, per graph-api.md)."""


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (the only hosts allowed plain http)."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_verification() -> ssl.SSLContext | bool:
    """Trust the CA bundle named by ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE`` (as MSAL's requests does)."""
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        bundle = os.environ.get(variable, "").strip()
        if bundle:
            return ssl.create_default_context(cafile=bundle)
    return True


def validate_graph_url(url: str) -> str:
    """Check a ``--graph-url``: https, or http on a loopback host only.

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--graph-url must be an http(s) URL such as {DEFAULT_GRAPH_URL}, not {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"refusing plain http:// to {parts.hostname}: the bearer token would travel in clear; "
            "use https (http is allowed only for loopback hosts)"
        )
    return url.strip().rstrip("/")


class GraphClient:
    """Talks to Graph for one tenant with one token provider.

    Args:
        base_url: API base including the version, e.g. ``https://graph.microsoft.com/beta``.
        tokens: hands out bearer tokens; asked again with ``force_refresh`` after a 401.
        transport: an httpx transport (the simulated tenant in tests and ``--demo``).
        clock: the clock used for Retry-After dates and waits.
        max_attempts: attempts per request, retries included.
        timeout: seconds for one HTTP exchange.
        backoff_start: first backoff delay when Graph sends no Retry-After.
        backoff_cap: the longest backoff delay.
    """

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        max_attempts: int = 6,
        timeout: float = 30.0,
        backoff_start: float = BACKOFF_START,
        backoff_cap: float = BACKOFF_CAP,
        max_connections: int = 64,
    ) -> None:
        self.base_url = validate_graph_url(base_url)
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._tokens = tokens
        self._clock = clock or SystemClock()
        self._max_attempts = max(1, max_attempts)
        self._timeout = timeout
        self._backoff_start = backoff_start
        self._backoff_cap = backoff_cap
        self._http = httpx.AsyncClient(
            transport=transport,
            verify=tls_verification() if transport is None else True,
            timeout=timeout,
            follow_redirects=False,  # a redirect could carry the token elsewhere (trap 6)
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Accept": "application/json", "User-Agent": "export-console/0.1"},
        )
        self._token: str | None = None
        self._checked_urls: set[str] = set()
        self._gate_until = 0.0
        """One shared gate: while throttled, every request of this client waits (per app+tenant limits)."""
        self._throttle_streak = 0
        """Consecutive throttled answers without Retry-After, for the shared backoff."""

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

        The nextLink is followed exactly as given (opaque ``$skiptoken``); page size
        is Graph's choice (trap 9).
        """
        url: str | None = f"{self.base_url}/{PROFILES_PATH}"
        while url:
            response, _info = await self._send("GET", url, what="list profiles")
            data = self._json_object(response, "the profile list")
            values = data.get("value")
            if not isinstance(values, list):
                raise errors.MalformedResponse(
                    "Graph's profile list had no 'value' array",
                    status=response.status_code,
                    request_id=response.headers.get("request-id", ""),
                )
            yield [InboundSharedUserProfile.from_json(v) for v in values if isinstance(v, dict)]
            link = data.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None

    async def get_profile(self, user_id: str) -> InboundSharedUserProfile:
        """One profile by its userId.

        Raises:
            errors.NotFound: the profile is gone or was never shared.
        """
        url = f"{self.base_url}/{PROFILES_PATH}/{quote(user_id, safe='')}"
        response, _info = await self._send("GET", url, what=f"profile {user_id}")
        return InboundSharedUserProfile.from_json(self._json_object(response, "the profile"))

    async def export_personal_data(self, user_id: str, storage_location: str) -> ExportAccepted:
        """Ask Graph to export one profile's personal data (a POST; trap 1).

        Retried only on 429 (refused, not run). Graph documents no idempotency, so a
        5xx, a timeout or an unreadable 202 raises ``ExportUnconfirmed``: the export may
        exist and must not be POSTed again blindly.

        Raises:
            errors.ExportUnconfirmed: the outcome is unknown.
            errors.GraphError: Graph refused it (400, 401, 403, 404, 429 after retries).
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
        except ValueError:
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
        location = urljoin(url, location.strip())
        retry_after = info.retry_after
        if retry_after is None:
            retry_after = parse_retry_after(
                body_data.get("Retry-After", body_data.get("retryAfter")), self._clock.now()
            )
        return ExportAccepted(
            operation_id=operation_id_from_location(location),
            location=location,  # kept as given: may say /v1.0 while we call /beta (trap 3)
            retry_after=retry_after,
            info=info,
        )

    async def get_operation(self, location: str) -> OperationPoll:
        """Poll a dataPolicyOperation by following its Location exactly as given (trap 3).

        Raises:
            errors.UnsafeRedirect: the Location is on another host (trap 6).
            errors.PermissionDenied: polling needs User.Export.All (a different permission).
        """
        response, info = await self._send(
            "GET",
            location,
            what="export status",
            poll=True,
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

    # -- plumbing -------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """Refuse to send the token anywhere but the configured Graph origin (trap 6).

        Raises:
            errors.UnsafeRedirect: the URL's scheme, host or port differ.
        """
        if url in self._checked_urls:  # every poll of an operation follows the same Location
            return
        parts = urlsplit(url)
        if (parts.scheme, parts.hostname, parts.port) != self._origin:
            raise errors.UnsafeRedirect(
                f"Graph pointed at {parts.scheme}://{parts.hostname}, not the configured Graph host "
                f"{self._origin[1]}: not following it with the access token"
            )
        if len(self._checked_urls) < 100_000:
            self._checked_urls.add(url)

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

    async def _wait_gate(self) -> None:
        while True:
            delay = self._gate_until - self._clock.now()
            if delay <= 0:
                return
            await self._clock.sleep(delay)

    def _throttle(self, retry_after: float | None) -> float:
        """Close the shared gate after a throttled answer; returns the wait chosen."""
        if retry_after is None:
            self._throttle_streak += 1
            wait = backoff_delay(self._throttle_streak, start=self._backoff_start, cap=self._backoff_cap)
        else:
            wait = retry_after
        self._gate_until = max(self._gate_until, self._clock.now() + wait)
        return wait

    async def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json_body: dict[str, Any] | None = None,
        export: bool = False,
        poll: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, ResponseInfo]:
        self.check_url(url)
        refreshed = False
        attempt = 0
        content = json.dumps(json_body).encode() if json_body is not None else None
        while True:
            attempt += 1
            await self._wait_gate()
            if self._token is None:
                self._token = await self._tokens.get_token()
            client_request_id = str(uuid.uuid4())
            headers = {"Authorization": f"Bearer {self._token}", "client-request-id": client_request_id}
            if content is not None:
                headers["Content-Type"] = "application/json"
            if attempt > 1:
                headers["retry-attempt"] = str(attempt - 1)
            if extra_headers:
                headers.update(extra_headers)
            try:
                # httpx's timeouts are per phase; this bounds the whole exchange (and any transport).
                async with asyncio.timeout(self._timeout):
                    response = await self._http.request(method, url, content=content, headers=headers)
            except (TimeoutError, httpx.HTTPError) as exc:
                # A refused connection never carried the request: safe to retry, even the export POST.
                # Anything later (timeout, reset) may have run it: the POST is then unconfirmed.
                reason = "timeout" if isinstance(exc, (TimeoutError, httpx.TimeoutException)) else type(exc).__name__
                if export and not isinstance(exc, httpx.ConnectError):
                    raise errors.ExportUnconfirmed(
                        f"no answer from Graph for {what} ({reason}): the export may have been created; "
                        "check it before exporting this user again",
                        client_request_id=client_request_id,
                    ) from None
                if attempt >= self._max_attempts:
                    raise errors.TransportFailure(
                        f"no answer from Graph for {what} after {attempt} attempts ({reason})",
                        client_request_id=client_request_id,
                    ) from None
                await self._clock.sleep(backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap))
                continue

            status = response.status_code
            info = ResponseInfo(
                http_status=status,
                request_id=response.headers.get("request-id", ""),
                client_request_id=response.headers.get("client-request-id", client_request_id),
                date=response.headers.get("Date", ""),
                retry_after=parse_retry_after(response.headers.get("Retry-After"), self._clock.now()),
            )
            if status < 400:
                self._throttle_streak = 0
                return response, info
            log.debug(
                "graph %s %s -> %s request-id=%s client-request-id=%s date=%s diag=%s",
                method,
                what,
                status,
                info.request_id,
                client_request_id,
                info.date,
                response.headers.get("x-ms-ags-diagnostic", ""),
            )
            if status == 401 and not refreshed:
                refreshed = True
                self._token = await self._tokens.get_token(force_refresh=True)
                attempt -= 1  # a refresh is not a retry
                continue
            if status in RETRYABLE_STATUSES:
                if status in (429, 503):
                    wait = self._throttle(info.retry_after)
                else:
                    wait = (
                        info.retry_after
                        if info.retry_after is not None
                        else backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap)
                    )
                if export and status == 429 and info.retry_after is None:
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
                    if status not in (429, 503):
                        await self._clock.sleep(wait)
                    continue
            raise self._error(response, info, what=what, export=export, poll=poll)

    def _error(
        self, response: httpx.Response, info: ResponseInfo, *, what: str, export: bool, poll: bool
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
            if poll:
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
