"""Graph failures as values with a sentence an admin can act on.

Every text an error carries is safe to show, log or journal: SAS signatures and tokens are masked
(``console.redact.redact``: Graph's 400 message may quote the storage location with its ``sig=``)
and control characters from Graph or the tenant are escaped. Each class declares the process exit
code it means (``exit_code``: 3 sign-in or permission, 2 input refused before anything was sent,
1 everything else), so the CLI never compares class names.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from console.errors import EXIT_AUTH, EXIT_USAGE, ConsoleError
from console.redact import redact
from console.text import terminal_safe


def safe_text(text: str) -> str:
    """Text from Graph (or about it) made safe to show: secrets masked, then ``console.text.terminal_safe``."""
    if not text:
        return text
    return terminal_safe(redact(text))


class GraphError(ConsoleError, title="Graph error"):
    """A failed Graph request: Graph's code and message, and the ids support needs.

    ``message`` is the sentence, already redacted and escaped; ``str()`` adds Graph's code and request id.
    """

    request_id_label: ClassVar[str] = "request-id"
    """How ``str()`` names ``request_id`` (Entra calls its own a trace id)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        request_id: str = "",
        client_request_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        message = safe_text(message)
        super().__init__(message)
        self.status = status
        self.code = safe_text(code)
        self.request_id = safe_text(request_id)
        self.client_request_id = safe_text(client_request_id)
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"[{self.code}]")
        if self.request_id:
            parts.append(f"({self.request_id_label} {self.request_id})")
        return " ".join(parts)


class AuthenticationError(GraphError, title="Not signed in", exit_code=EXIT_AUTH):
    """401: the token is missing, expired or not accepted."""


class PermissionDenied(GraphError, title="Permission denied", exit_code=EXIT_AUTH):
    """403: the signed-in identity lacks a permission or role."""


class NotFound(GraphError, title="Not found"):
    """404: the profile or operation does not exist (gone or never shared)."""


class BadRequest(GraphError, title="Graph refused the request"):
    """400: Graph refused the input (for example the storage location)."""


class Throttled(GraphError, title="Throttled"):
    """429 after every retry was spent, the daily export limit, or a Retry-After above the ceiling."""


class ServiceUnavailable(GraphError, title="Graph unavailable"):
    """5xx after every retry was spent."""


class TransportFailure(GraphError, title="Graph unreachable"):
    """No usable HTTP answer: connection refused, timeout, protocol error."""


class MalformedResponse(GraphError, title="Unexpected answer from Graph"):
    """Graph answered, but not with what its documentation promises."""


class UnsafeRedirect(GraphError, title="Unsafe link refused"):
    """A Location or nextLink points at a host the bearer token must not go to."""


class UnreadableLocation(UnsafeRedirect):
    """A Location or nextLink that cannot be parsed (bad port, broken IPv6 literal, garbage)."""


class ExportUnconfirmed(GraphError, title="Export unconfirmed"):
    """The export POST may or may not have run (503/504/timeout): never re-POST blindly."""


class RemovalUnconfirmed(GraphError, title="Removal unconfirmed"):
    """The removePersonalData POST may or may not have run (5xx/timeout after sending): never re-POST blindly."""


class QuotaExceeded(GraphError, title="Daily export limit", exit_code=EXIT_USAGE):
    """The daily export budget (100 per user, 1,000 per tenant) would be passed (nothing was sent)."""


def parse_error_body(text: str) -> tuple[str, str, str, str]:
    """Graph's error envelope, read leniently: (code, message, request-id, client-request-id).

    The docs spell the inner object ``innerError`` and ``innererror`` and the id
    ``request-id`` and ``requestId``.
    """
    try:
        data: Any = json.loads(text) if text else None
    except ValueError:
        return "", "", "", ""
    if not isinstance(data, dict):
        return "", "", "", ""
    error = data.get("error")
    if not isinstance(error, dict):
        return "", "", "", ""
    code = error.get("code") if isinstance(error.get("code"), str) else ""
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    inner = error.get("innerError") or error.get("innererror") or {}
    request_id = client_request_id = ""
    if isinstance(inner, dict):
        rid = inner.get("request-id") or inner.get("requestId")
        crid = inner.get("client-request-id") or inner.get("clientRequestId")
        request_id = rid if isinstance(rid, str) else ""
        client_request_id = crid if isinstance(crid, str) else ""
    return code or "", message or "", request_id, client_request_id


class PagingLoop(MalformedResponse):
    """A listing whose nextLinks loop (a link already followed, a page of profiles already listed): stopped."""
