"""The console's httpx client: Graph's and Blob storage's answers set no cookie it needs, so it keeps none.

httpx reads every answer's ``Set-Cookie`` into the client's jar and would send what it kept with later
requests. Neither Graph nor Blob storage uses cookies; reading them cost about 5% of the CPU of a watch
(a compatibility request and response built per answer, issue 15), and a cookie kept from one host has
no business going anywhere else.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["CookielessClient"]


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


_NO_COOKIES = _NoCookies()
"""Shared by every client: it holds nothing to share."""


class CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` without a cookie jar (``cookies`` is always empty and stays so)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None
