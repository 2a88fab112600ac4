"""The console's httpx client: Graph's and Blob storage's answers set no cookie it needs, so it keeps none.

httpx reads every answer's ``Set-Cookie`` into the client's jar and would send what it kept with later
requests. Neither Graph nor Blob storage uses cookies; reading them cost about 5% of the CPU of a watch
(a compatibility request and response built per answer, issue 15), and a cookie kept from one host has
no business going anywhere else.

With no transport given, its connections are ``console.http_pool.LeanTransport``'s (imported then: httpcore
and anyio load only when a real connection is to be made, never for the demo's in-process transport).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

__all__ = ["CookielessClient"]


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""httpx's own default pool limits."""

_NO_COOKIES = _NoCookies()
"""Shared by every client: it holds nothing to share."""


class CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` without a cookie jar (``cookies`` is always empty and stays so); with no
    ``transport`` given, its connections are ``console.http_pool.LeanTransport``'s."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        **options: Any,
    ) -> None:
        if transport is None:
            from console.http_pool import LeanTransport

            transport = LeanTransport(verify=verify, limits=limits)
        super().__init__(transport=transport, verify=verify, limits=limits, **options)

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None
