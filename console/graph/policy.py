"""The Graph client's request policy: how one request is sent, retried, paced and refused.

``RequestPolicy.send`` is the one road every Graph request takes: the trusted-URL check (the token
goes only to the configured Graph origin, trap 6), the request budget, the token (refreshed once
after a 401), the shared ``Pacer``, retries (Retry-After obeyed up to a ceiling, backoff without
one, transport failures retried only when the request was never sent), and the rule that an export
or removal POST is never sent twice by itself. Every exchange is logged at DEBUG, redacted, never
the token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from console.clock import Clock
from console.graph import errors
from console.graph.errors import safe_text
from console.graph.failures import absurd_wait, describe_transport_error, graph_error
from console.graph.models import ResponseInfo
from console.graph.ports import RequestBudget, TokenProvider
from console.graph.retry import (
    MAX_RETRY_AFTER,
    backoff_delay,
    is_absurd,
    retry_after_delta,
    transport_delay,
)
from console.graph.throttle import Pacer, Ticket

log = logging.getLogger("console.graph")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth asking again for a GET (a 503 over a new connection, per graph-api.md)."""
THROTTLE_STATUSES = frozenset({429, 503})
"""Answers that tell the whole client to slow down (the pacer's signals)."""
NOT_RETRIED = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
"""Transport errors that a retry cannot cure: the request could not even be built or sent."""
DEFAULT_PORTS = {"https": 443, "http": 80}
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")
"""What a bearer token is made of: printable ASCII without spaces (JWTs and opaque tokens alike)."""

Origin = tuple[str, str, int | None]
"""``(scheme, host, port)`` in lower case, the port made explicit."""


def is_token_text(token: str) -> bool:
    """True when ``token`` can go in an Authorization header: printable ASCII, no space, no line break."""
    return bool(_TOKEN_TEXT.fullmatch(token))


def origin_of(scheme: str, host: str | None, port: int | None) -> Origin:
    """A URL's origin for the trusted-URL check: scheme, host and port all count (#22.8)."""
    scheme = scheme.lower()
    return scheme, (host or "").lower(), port if port is not None else DEFAULT_PORTS.get(scheme)


@dataclass
class Call:
    """One request through the policy, and how its attempts went so far."""

    method: str
    url: str
    what: str
    """What the request is for, in words (log lines and error messages)."""
    content: bytes | None = None
    export: bool = False
    poll: bool = False
    removal: bool = False
    extra_headers: dict[str, str] | None = None
    attempt: int = 0
    failures: int = 0
    """Attempts that got no answer at all."""
    paid: bool = False
    """The caller spent the next attempt from the budget."""
    refreshed: bool = False


class RequestPolicy:
    """Sends requests to one Graph origin with one token provider (see the module's docstring).

    Args:
        http: the connection pool (redirects never followed).
        base_url: the validated API base; only its origin is trusted with the token.
        tokens, clock, budget, pacer: as ``GraphClient`` takes them.
        max_attempts, transport_attempts, timeout, backoff_start, backoff_cap: as ``GraphClient`` takes them.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        tokens: TokenProvider,
        clock: Clock,
        budget: RequestBudget | None,
        pacer: Pacer,
        max_attempts: int,
        transport_attempts: int,
        timeout: float,
        backoff_start: float,
        backoff_cap: float,
    ) -> None:
        parts = urlsplit(base_url)
        self._origin = origin_of(parts.scheme, parts.hostname, parts.port)
        self.host = parts.hostname or ""
        self._endpoint = (
            f"{parts.hostname}:{self._origin[2]}" if ":" not in self.host else f"[{self.host}]:{self._origin[2]}"
        )
        """host:port, as transport errors name it."""
        self._http = http
        self._tokens = tokens
        self._clock = clock
        self._budget = budget
        self.pacer = pacer
        self._max_attempts = max(1, max_attempts)
        self._transport_attempts = max(1, min(self._max_attempts, transport_attempts))
        self._timeout = timeout
        self._backoff_start = backoff_start
        self._backoff_cap = backoff_cap
        self._token: str | None = None
        self._checked_urls: set[str] = set()

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
            origin = origin_of(parts.scheme, parts.hostname, parts.port)
            httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise errors.UnreadableLocation(
                f"Graph gave a URL that cannot be parsed ({shown}: {safe_text(str(exc))}): not following it"
            ) from None
        if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
            raise errors.UnreadableLocation(f"Graph gave a URL that is not an http(s) URL ({shown}): not following it")
        if parts.username is not None or parts.password is not None:
            raise errors.UnsafeRedirect(
                f"Graph gave a URL with user-info ({safe_text(parts.scheme)}://***@{safe_text(parts.hostname)}): "
                "not following it with the token"
            )
        if origin != self._origin:
            raise errors.UnsafeRedirect(
                f"Graph pointed at {safe_text(parts.scheme)}://{safe_text(parts.netloc)}, not the configured Graph "
                f"host {self.host}: not following it with the access token"
            )
        if len(self._checked_urls) < 100_000:
            self._checked_urls.add(url)

    async def send(
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
        """Send one request by the policy; the first answer below 400, or the error it ends in.

        Raises:
            errors.GraphError: Graph refused it, a retry limit was reached, or (export/removal) the outcome is
                unknown (``ExportUnconfirmed``, ``RemovalUnconfirmed``).
        """
        self.check_url(url)
        content = json.dumps(json_body).encode() if json_body is not None else None
        call = Call(method, url, what, content, export, poll, removal, extra_headers, paid=prepaid)
        while True:
            call.attempt += 1
            await self._spend(call)
            headers, client_request_id = await self._headers(call)
            ticket = await self.pacer.acquire()
            try:
                # httpx's timeouts are per phase; this bounds the whole exchange (and any transport).
                async with asyncio.timeout(self._timeout):
                    response = await self._http.request(method, url, content=content, headers=headers)
            except (TimeoutError, httpx.HTTPError) as exc:
                self.pacer.failed(ticket)
                await self._no_answer(exc, call, client_request_id)
                continue
            except BaseException:
                self.pacer.failed(ticket)  # cancelled: the probe slot must not stay taken
                raise
            answered = await self._answered(response, ticket, call, client_request_id)
            if answered is not None:
                return answered

    async def _spend(self, call: Call) -> None:
        export = call.export
        if not export and self._budget is not None:
            if call.paid:
                call.paid = False  # the caller spent for this one
            else:
                await self._budget.acquire()

    async def _headers(self, call: Call) -> tuple[dict[str, str], str]:
        """The attempt's headers (token, ids, retry-attempt) and its client-request-id."""
        what = call.what
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
        if call.content is not None:
            headers["Content-Type"] = "application/json"
        if call.attempt > 1:
            headers["retry-attempt"] = str(call.attempt - 1)
        if call.extra_headers:
            headers.update(call.extra_headers)
        return headers, client_request_id

    async def _no_answer(self, exc: BaseException, call: Call, client_request_id: str) -> None:
        """No answer at all: raise, or wait before the next attempt (only a request never sent is retried)."""
        what, export, removal = call.what, call.export, call.removal
        # A refused connection never carried the request: safe to retry, even the export POST.
        # Anything later (timeout, reset) may have run it: the POST is then unconfirmed.
        reason = describe_transport_error(exc, self._endpoint, self._timeout)
        log.debug(
            "graph %s %s -> no answer (%s) client-request-id=%s retry-attempt=%d",
            call.method,
            safe_text(what),
            reason,
            client_request_id,
            call.attempt - 1,
        )
        if isinstance(exc, NOT_RETRIED):
            # Never sent (h11 refuses a header, an unknown scheme): asking again cannot help.
            raise errors.TransportFailure(
                f"cannot send {what} to Graph: {reason}", client_request_id=client_request_id
            ) from None
        if removal and not isinstance(exc, httpx.ConnectError):
            raise errors.RemovalUnconfirmed(
                f"no answer from Graph to {what} ({reason}): it may have been done; check it before asking again",
                client_request_id=client_request_id,
            ) from None
        if export and not isinstance(exc, httpx.ConnectError):
            raise errors.ExportUnconfirmed(
                f"no answer from Graph for {what} ({reason}): the export may have been created; "
                "check it before exporting this user again",
                client_request_id=client_request_id,
            ) from None
        call.failures += 1
        failures = call.failures
        if failures >= self._transport_attempts:
            raise errors.TransportFailure(
                f"no answer from Graph for {what} after {failures} attempt{'s' if failures > 1 else ''}: {reason}",
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

    async def _answered(
        self, response: httpx.Response, ticket: Ticket, call: Call, client_request_id: str
    ) -> tuple[httpx.Response, ResponseInfo] | None:
        """An answer: the response when it is a success, None to try again (after waiting), or the error raised."""
        what, export, removal = call.what, call.export, call.removal
        status = response.status_code
        raw_retry_after = retry_after_delta(response.headers.get("Retry-After"), self._clock.now())
        info = answered_info(response, client_request_id, raw_retry_after)
        _log_exchange(call.method, what, response, info, client_request_id, call.attempt)
        # A wait above the ceiling is that request's error; an export's 5xx stays unconfirmed whatever it says.
        absurd = is_absurd(raw_retry_after) and status in RETRYABLE_STATUSES and not (export and status != 429)
        daily_limit = export and status == 429 and raw_retry_after is None
        self._tell_pacer(ticket, status, raw_retry_after, absurd=is_absurd(raw_retry_after), daily_limit=daily_limit)
        if status < 400:
            return response, info
        if status == 401 and not call.refreshed:
            call.refreshed = True
            self._token = await self._tokens.get_token(force_refresh=True)
            call.attempt -= 1  # a refresh is not a retry
            return None
        if removal and status >= 500:
            # Graph documents no idempotency: a removal POST is never sent twice by itself.
            raise errors.RemovalUnconfirmed(
                f"Graph answered {status} to {what}: it may or may not have been done; check it before asking again",
                status=status,
                request_id=info.request_id,
                client_request_id=info.client_request_id,
            )
        if removal and status != 401:
            raise graph_error(response, info, what=what, export=False, poll=False, removal=True)
        if absurd:
            raise absurd_wait(response, info, raw_retry_after, what=what)
        if status in RETRYABLE_STATUSES:
            await self._retry_or_raise(response, info, call, raw_retry_after, daily_limit=daily_limit)
            return None
        raise graph_error(response, info, what=what, export=export, poll=call.poll)

    async def _retry_or_raise(
        self,
        response: httpx.Response,
        info: ResponseInfo,
        call: Call,
        raw_retry_after: float | None,
        *,
        daily_limit: bool,
    ) -> None:
        """A retryable status: wait before the next attempt, or raise when it must not (or cannot) be retried."""
        what, export, status, attempt = call.what, call.export, response.status_code, call.attempt
        if daily_limit:
            # No Retry-After on a 429 to an export is Graph's daily limit (graph-api.md): waiting
            # minutes will not help, so say so now.
            raise graph_error(response, info, what=what, export=export, poll=call.poll)
        if export and status != 429:
            raise errors.ExportUnconfirmed(
                f"Graph answered {status} to {what}: the export may or may not have been created; "
                "check it before exporting this user again",
                status=status,
                request_id=info.request_id,
                client_request_id=info.client_request_id,
            )
        if attempt >= self._max_attempts:
            raise graph_error(response, info, what=what, export=export, poll=call.poll)
        if status in THROTTLE_STATUSES:
            if raw_retry_after is None:
                # This request backs off on its own (Graph SDK design); the others go on at the
                # reduced pace. With Retry-After the shared gate does the waiting.
                await self._clock.sleep(backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap))
        else:
            await self._clock.sleep(
                info.retry_after
                if info.retry_after is not None
                else backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap)
            )

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


def answered_info(response: httpx.Response, client_request_id: str, raw_retry_after: float | None) -> ResponseInfo:
    """What an answer says about itself: status, ids, Date and its Retry-After (capped at the ceiling)."""
    return ResponseInfo(
        http_status=response.status_code,
        request_id=safe_text(response.headers.get("request-id", "")),
        client_request_id=safe_text(response.headers.get("client-request-id", client_request_id)),
        date=safe_text(response.headers.get("Date", "")),
        retry_after=None if raw_retry_after is None else min(MAX_RETRY_AFTER, raw_retry_after),
    )


def _log_exchange(
    method: str, what: str, response: httpx.Response, info: ResponseInfo, client_request_id: str, attempt: int
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
