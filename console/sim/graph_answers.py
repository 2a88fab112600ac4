"""How the simulated Graph answers: the request context, JSON bodies, Graph's error shape and headers.

Every resource family of the simulator (``console.sim.graph_*``) and the fault injector build their
answers here, so an answer looks the same whoever gives it (graph-api.md, "Errors").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any, Final

import httpx

JSON_TYPE: Final = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
GRAPH_APP_ID: Final = "00000003-0000-0000-c000-000000000000"

SERVER_ERRORS: Final[dict[int, tuple[str, str]]] = {
    500: ("generalException", "An internal server error occurred."),
    502: ("BadGateway", "The server received an invalid response from an upstream server."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("GatewayTimeout", "The gateway timed out waiting for the service."),
}

DIAGNOSTIC: Final = json.dumps(
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


@dataclass
class Context:
    """One request as the handlers see it: when, its ids, the base for absolute links, what it asks."""

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


def iso(ts: float) -> str:
    """A Graph timestamp: 7 fractional digits and a Z (the client must cope: models.parse_datetime)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def format_seconds(seconds: float) -> str:
    """Delta-seconds for a Retry-After header: ``5`` for whole numbers, ``2.128`` otherwise."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def respond(ctx: Context, status: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """An answer with the headers every Graph answer carries (request-id, Date, diagnostics)."""
    all_headers = {
        "Cache-Control": "no-cache",
        "request-id": ctx.request_id,
        "client-request-id": ctx.client_request_id,
        "x-ms-ags-diagnostic": DIAGNOSTIC,
        "Strict-Transport-Security": "max-age=31536000",
        "Date": formatdate(ctx.now, usegmt=True),
        **headers,
    }
    return httpx.Response(status, headers=all_headers, content=body)


def json_answer(ctx: Context, status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON answer, compact as Graph sends it."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return respond(ctx, status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def error(ctx: Context, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Graph's error shape: ``{"error": {"code", "message", "innerError": {date, request-id, ...}}}``."""
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
    return json_answer(ctx, status, data, headers)


def unauthorized(ctx: Context, message: str) -> httpx.Response:
    """A 401 with Graph's ``WWW-Authenticate`` challenge."""
    challenge = (
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
        f'client_id="{GRAPH_APP_ID}"'
    )
    return error(ctx, 401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge})


def not_found(ctx: Context, resource: str | None) -> httpx.Response:
    """Graph's 404 for a resource (a profile, a tenant, an operation) that does not exist."""
    return error(
        ctx,
        404,
        "Request_ResourceNotFound",
        f"Resource '{resource}' does not exist or one of its queried reference-property objects are not present.",
    )


def expired_page_token(ctx: Context) -> httpx.Response:
    """Graph's 400 for a ``$skiptoken`` it does not know (expired, forged or from another listing)."""
    return error(
        ctx,
        400,
        "Directory_ExpiredPageToken",
        "The specified page token value has expired and can no longer be included in your request.",
    )


def unsupported_query(ctx: Context, option: str, collection: str) -> httpx.Response:
    """Graph's 400 for a query option the collection does not support."""
    return error(ctx, 400, "Request_UnsupportedQuery", f"Query option '{option}' is not supported on {collection}.")


def forbidden(ctx: Context, why: str) -> httpx.Response:
    """Graph's 403, with the permission the call lacks."""
    return error(ctx, 403, "Authorization_RequestDenied", f"Insufficient privileges to complete the operation.{why}")


def throttled_or_failed(ctx: Context, status: int, retry_after: str | None) -> httpx.Response:
    """A 429 or a 5xx in Graph's words, with ``Retry-After`` when one is given."""
    if status == 429:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return error(ctx, 429, "TooManyRequests", "Too many requests. Please retry later.", headers)
    return failed(ctx, status, retry_after)


def failed(ctx: Context, status: int, retry_after: str | None) -> httpx.Response:
    """A server error (5xx) in Graph's words, with ``Retry-After`` when one is given."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    code, message = SERVER_ERRORS.get(status, ("generalException", "An error occurred."))
    return error(ctx, status, code, message, headers)


def method_not_allowed(ctx: Context, method: str, allowed: str) -> httpx.Response:
    """Graph's 405, naming the method the resource takes."""
    return error(
        ctx,
        405,
        "Request_BadRequest",
        f"The HTTP method '{method}' is not allowed on this resource; use {allowed}.",
        {"Allow": allowed},
    )
