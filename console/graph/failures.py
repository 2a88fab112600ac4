"""How the Graph client words what went wrong: transport failures and Graph's refusals, as ``errors`` types.

One place turns an answer (status, Graph's error body, the ids) or a transport exception into the
sentence the user reads: which permission is missing, that a limit was reached, that the host
refused the connection.
"""

from __future__ import annotations

import math
import socket
import ssl

import httpx

from console.graph import errors
from console.graph.errors import safe_text
from console.graph.models import ResponseInfo

REMOVAL_PERMISSION = "CrossTenantUserProfileSharing.ReadWrite.All"
"""What removePersonalData needs (listing and export need only .Read.All)."""


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


_TIMEOUTS: tuple[tuple[type[BaseException], str], ...] = (
    (httpx.ConnectTimeout, "connecting to {host} timed out"),
    (httpx.ReadTimeout, "timed out waiting for {host} to answer"),
    (httpx.WriteTimeout, "timed out sending the request to {host}"),
    (httpx.PoolTimeout, "timed out waiting for a free connection to {host}"),
)
"""Each kind of httpx timeout, in words (any other timeout says how long was waited)."""


def describe_transport_error(exc: BaseException, host: str, timeout: float) -> str:
    """What failed, in words, with the host (and port): refused, reset, timeout, TLS, name resolution."""
    detail = safe_text(str(exc))[:200]
    if isinstance(exc, httpx.LocalProtocolError):
        return f"the request to {host} could not be built ({detail or type(exc).__name__})"
    for kind, words in _TIMEOUTS:
        if isinstance(exc, kind):
            return words.format(host=host)
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return f"no answer from {host} within {timeout:g} s (timeout)"
    if isinstance(exc, httpx.ConnectError):
        return _connect_failure(exc, host, detail)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return f"the connection to {host} was reset or closed before the answer ({detail or type(exc).__name__})"
    return f"{type(exc).__name__} talking to {host}" + (f" ({detail})" if detail else "")


def _connect_failure(exc: httpx.ConnectError, host: str, detail: str) -> str:
    """Why a connection could not be made: TLS, refused, a name that does not resolve, or the OS's reason."""
    causes = _os_errors(exc)
    chain = [exc, exc.__cause__, exc.__context__]
    lowered = detail.lower()
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in lowered or "certificate" in lowered:
        return (
            f"TLS handshake with {host} failed ({detail}): check the CA bundle "
            "(SSL_CERT_FILE, REQUESTS_CA_BUNDLE) or the proxy"
        )
    if "refused" in lowered or any(isinstance(e, ConnectionRefusedError) for e in causes):
        return f"cannot connect to {host} (connection refused)"
    if any(isinstance(e, socket.gaierror) for e in causes) or any(
        word in lowered for word in ("name or service", "getaddrinfo", "nodename", "resolve")
    ):
        return f"cannot resolve the host name {host.rsplit(':', 1)[0]}"
    reasons = [e.strerror for e in causes if e.strerror]
    return f"cannot connect to {host} ({safe_text(reasons[-1]).lower() if reasons else detail or type(exc).__name__})"


def absurd_wait(response: httpx.Response, info: ResponseInfo, seconds: float | None, *, what: str) -> errors.GraphError:
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


def graph_error(
    response: httpx.Response,
    info: ResponseInfo,
    *,
    what: str,
    export: bool,
    poll: bool,
    removal: bool = False,
) -> errors.GraphError:
    """Graph's refusal of ``what`` as the error type and sentence the user reads (the permission, the limit)."""
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
