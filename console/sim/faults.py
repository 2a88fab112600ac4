"""Fault injection for the simulated Graph: the knobs of ``GraphFaults`` acted upon.

Refusals before a request is served (403s, 401s, storms, sporadic and counted 429/5xx), spoiled
bodies after it (``malformed_next``), the transport's delays, hangs and dropped connections, and the
Retry-After value an answer carries. Counted faults count down here.
"""

from __future__ import annotations

import json
import math
import random
import threading
from email.utils import formatdate

import httpx

from console.sim import graph_answers as answers
from console.sim.graph_answers import Context
from console.sim.graph_state import GraphState
from console.sim.knobs import POLLS, RETRY_AFTER_HTTP_DATE, RequestMatch


def applies(match: RequestMatch | None, method: str, path: str) -> bool:
    """True when a fault limited to ``match`` (None: every request) applies to this request."""
    return match is None or match.matches(method, path)


class FaultInjector:
    """Acts on ``state.faults`` for each request; the caller holds ``lock`` while serving one."""

    def __init__(self, state: GraphState, lock: threading.RLock, rng: random.Random) -> None:
        self._state = state
        self._lock = lock
        self._rng = rng

    def delay_for(self, request: httpx.Request) -> float:
        """Seconds the transport should wait before answering ``request`` (``delay``, plus a counted ``hang``)."""
        faults = self._state.faults
        method, path = request.method, request.url.path
        wait = 0.0
        if faults.delay > 0 and applies(faults.delay_only, method, path):
            wait = faults.delay
        if faults.hang_next > 0:
            with self._lock:
                if faults.hang_next > 0 and applies(faults.hang_only, method, path):
                    faults.hang_next -= 1
                    wait += max(0.0, faults.hang_seconds)
        return wait

    def connection_fault(self, request: httpx.Request) -> str | None:
        """``before``, ``after`` or ``connect`` when this request's connection is to be dropped, else None."""
        faults = self._state.faults
        if faults.drop_next <= 0:
            return None
        with self._lock:
            if faults.drop_next > 0 and applies(faults.drop_only, request.method, request.url.path):
                faults.drop_next -= 1
                return faults.drop_when
        return None

    def refusal(self, ctx: Context) -> httpx.Response | None:
        """The injected answer this request gets instead of being served, or None to serve it."""
        faults = self._state.faults
        method, path, kind = ctx.method, ctx.path, ctx.kind
        if faults.forbid_all:
            return answers.forbidden(
                ctx,
                " The application needs CrossTenantUserProfileSharing.Read.All (or ReadWrite.All); a delegated "
                "caller also needs Global Reader.",
            )
        if faults.forbid_removal and kind in ("remove", "outbound_remove"):
            # graph-api.md: removal needs ReadWrite.All, listing and export only Read.All.
            return answers.forbidden(
                ctx, " removePersonalData requires the CrossTenantUserProfileSharing.ReadWrite.All permission."
            )
        if faults.unauthorized_next > 0 and applies(faults.unauthorized_only, method, path):
            faults.unauthorized_next -= 1
            return answers.unauthorized(ctx, "Access token has been revoked.")
        return self._throttled(ctx)

    def _throttled(self, ctx: Context) -> httpx.Response | None:
        """A storm's, a sporadic or a counted 429/5xx for this request, or None."""
        faults = self._state.faults
        method, path = ctx.method, ctx.path
        if faults.storm_until > ctx.now and applies(faults.storm_only, method, path):
            return answers.throttled_or_failed(ctx, faults.storm_status, faults.storm_retry_after)
        if faults.sporadic_fraction > 0 and applies(faults.sporadic_only, method, path):
            if self._rng.random() < faults.sporadic_fraction:
                return answers.throttled_or_failed(ctx, faults.sporadic_status, faults.sporadic_retry_after)
        if faults.throttle_next > 0 and applies(faults.throttle_only, method, path):
            faults.throttle_next -= 1
            return answers.throttled_or_failed(ctx, 429, faults.throttle_retry_after)
        if faults.errors_next > 0 and applies(faults.errors_only, method, path):
            faults.errors_next -= 1
            return answers.failed(ctx, faults.error_status, faults.error_retry_after)
        return None

    def retry_after(self, now: float, ctx: Context | None = None) -> str | None:
        """The Retry-After an answer carries: the configured one, or the odd value a fault asks for."""
        faults = self._state.faults
        config = self._state.config
        if faults.retry_after_only is not None and (
            ctx is None or not faults.retry_after_only.matches(ctx.method, ctx.path)
        ):
            return answers.format_seconds(max(0.0, config.retry_after))
        if faults.omit_retry_after:
            return None
        if faults.retry_after_value == RETRY_AFTER_HTTP_DATE:
            return formatdate(now + config.retry_after, usegmt=True)
        if faults.retry_after_value is not None:
            return faults.retry_after_value
        return answers.format_seconds(max(0.0, config.retry_after))

    def spoil(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """A successful answer with its body spoiled (``malformed_next``/``malformed_kind``), or it as it is."""
        faults = self._state.faults
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
            body = _with_odd_progress(body, math.nan if kind == "nan" else math.inf)
        elif kind == "empty":
            body = b""
        else:
            body = b"[]"
        return httpx.Response(response.status_code, headers=headers, content=body)


def _with_odd_progress(body: bytes, progress: float) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        data = {}
    if isinstance(data, dict):
        data["progress"] = progress
    return json.dumps(data, allow_nan=True).encode()
