"""The console's httpx client: Graph's and Blob storage's answers set no cookie it needs, so it keeps none.

httpx reads every answer's ``Set-Cookie`` into the client's jar and would send what it kept with later
requests. Neither Graph nor Blob storage uses cookies; reading them cost about 5% of the CPU of a watch
(a compatibility request and response built per answer, issue 15), and a cookie kept from one host has
no business going anywhere else.

Its connections are httpcore's on anyio, with one question answered more cheaply (``LeanStream``): whether
an idle connection was closed by the server, which the pool asks of every idle connection before each
request.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["CookielessClient", "LeanTransport"]

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
"""httpcore's ``SOCKET_OPTION`` (its own alias lives in a private module)."""


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
    ``transport`` given, its connections are ``LeanTransport``'s."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        **options: Any,
    ) -> None:
        if transport is None:
            transport = LeanTransport(verify=verify, limits=limits)
        super().__init__(transport=transport, verify=verify, limits=limits, **options)

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


class LeanStream(httpcore.AsyncNetworkStream):
    """httpcore's anyio stream, with the two questions its pool asks of an idle connection answered cheaply.

    Before each request the pool asks every idle connection whether it expired: anyio answers
    ``get_extra_info("is_readable")`` by building every attribute of the socket (a ``getpeername`` call
    and a dict a time), which cost about a sixth of a 600-export run's CPU (issue 15). The raw socket is
    looked up once here, and readability is one ``poll`` of it, as httpcore itself does.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return LeanStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return readable(self._socket)
        if info == "socket":
            return self._socket
        return self._stream.get_extra_info(info)


def readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once (data, or the end a closed connection gives); a socket that
    is gone counts as readable, as httpcore counts it: the connection is then dropped, not reused."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class LeanBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, its streams wrapped in ``LeanStream``."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return LeanStream(await self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return LeanStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class LeanTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool on ``LeanBackend`` (direct connections; a proxy from the
    environment gets httpx's own transport, as the client mounts it)."""

    def __init__(self, *, verify: ssl.SSLContext | bool, limits: httpx.Limits) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        super().__init__(verify=context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=LeanBackend(),
        )
