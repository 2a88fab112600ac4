"""HTTP for MSAL: an adapter into an httpx transport.

MSAL accepts any ``http_client`` shaped like a ``requests.Session`` (``get``/``post``
returning ``status_code``, ``text``, ``headers``, ``raise_for_status()``). Tests and
``--demo`` hand it a ``TransportHttpClient`` over the simulated tenant's sync
transport, so the real MSAL code runs without a network. For real tenants MSAL
keeps its own ``requests`` session, trusting the CA bundle ``console.tls.requests_verify``
names (the one CA-bundle rule: ``SSL_CERT_FILE``, then ``REQUESTS_CA_BUNDLE``, then ``CURL_CA_BUNDLE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import requests

from console.tls import requests_verify


class TransportResponse:
    """The part of ``requests.Response`` MSAL reads."""

    def __init__(self, status_code: int, text: str, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.text = text
        self.headers = dict(headers)

    def raise_for_status(self) -> None:
        """Raise ``httpx.HTTPStatusError``-like ``RuntimeError`` on 4xx/5xx (MSAL only calls it on odd answers)."""
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code} from the identity endpoint")

    def __repr__(self) -> str:  # the body may hold tokens
        return f"TransportResponse(status_code={self.status_code})"


class TransportHttpClient:
    """A requests-like client for MSAL that sends every request to a sync ``httpx.BaseTransport``.

    Args:
        transport: where requests go, e.g. ``SimulatedTenant.sync_transport()``.
    """

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def _send(
        self, method: str, url: str, *, params: Any = None, data: Any = None, headers: Mapping[str, str] | None = None
    ) -> TransportResponse:
        clean_headers = {k: v for k, v in (headers or {}).items() if v is not None}
        if isinstance(data, Mapping):
            # requests sends bytes values as-is (MSAL's client assertion is bytes); httpx would str() them.
            form = {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in data.items() if v is not None}
            request = httpx.Request(method, url, params=params, data=form, headers=clean_headers)
        elif isinstance(data, (str, bytes)):
            request = httpx.Request(method, url, params=params, content=data, headers=clean_headers)
        else:
            request = httpx.Request(method, url, params=params, headers=clean_headers)
        request.read()
        response = self._transport.handle_request(request)
        try:
            response.read()
            return TransportResponse(response.status_code, response.text, response.headers)
        finally:
            response.close()

    def get(
        self, url: str, params: Any = None, headers: Mapping[str, str] | None = None, **_: Any
    ) -> TransportResponse:
        """GET (discovery documents)."""
        return self._send("GET", url, params=params, headers=headers)

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Mapping[str, str] | None = None, **_: Any
    ) -> TransportResponse:
        """POST (device code and token requests)."""
        return self._send("POST", url, params=params, data=data, headers=headers)

    def close(self) -> None:
        """Nothing to close: the transport belongs to its owner."""


class VerifiedSession(requests.Session):
    """MSAL's ``requests`` session, trusting only the CA bundle of the one rule (``console.tls``).

    ``requests`` lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a session's ``verify``
    (``merge_environment_settings``), which would put them before ``SSL_CERT_FILE``; this session
    keeps the environment's proxy settings and applies the one precedence instead.
    """

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        settings: dict[str, Any] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None or verify is True:
            settings["verify"] = requests_verify()
        return settings
