"""Serve a ``SimulatedTenant`` on loopback over plain HTTP/1.1 (stdlib asyncio only).

Keep-alive by default (HTTP/1.1), ``Connection: close`` honoured, ``Content-Length`` and chunked
request bodies, ``Expect: 100-continue``, 400 for malformed requests, 431 for oversized headers,
an idle timeout, and a clean shutdown that closes every open connection.

Three ways in:

* ``await serve(tenant, host, port)`` → a started ``TenantHTTPServer`` (async context manager).
* ``run_forever(tenant, host, port, on_ready)``: blocking, for ``export-console simulate --port N``;
  returns after SIGINT/SIGTERM.
* ``with LoopbackServer(tenant) as server: server.base_url``: a background thread with its own
  loop, for tests and benchmarks.

Absolute links (Location, nextLink) are built from the request's ``Host`` header, so a client that
reached the server as ``http://127.0.0.1:8080`` is sent back there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import socket
import struct
import threading
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Final, Self

import httpx

from console.redact import redact
from console.sim.tenant import SimulatedTenant

log = logging.getLogger(__name__)

MAX_HEADER_BYTES: Final = 64 * 1024
"""Largest request head (request line + headers) accepted; larger gets 431."""
MAX_BODY_BYTES: Final = 1024 * 1024
"""Largest request body accepted; larger gets 413."""
IDLE_TIMEOUT: Final = 75.0
"""Seconds an idle keep-alive connection is kept open."""

_TOKEN_RE: Final = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HOP_BY_HOP: Final = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"})


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TenantHTTPServer:
    """A running loopback server for one tenant (what ``serve`` returns).

    Use as ``async with await serve(tenant) as server:`` or call ``aclose()``.
    """

    def __init__(self, tenant: SimulatedTenant, *, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.tenant = tenant
        self.idle_timeout = idle_timeout
        """Seconds an idle keep-alive connection is kept."""
        self.server: asyncio.Server | None = None
        """The underlying asyncio server once started."""
        self._connections: set[asyncio.Task[None]] = set()
        self.requests_served = 0
        """HTTP requests answered (all paths), for benchmarks."""
        self.connections_accepted = 0
        """TCP connections accepted, to show keep-alive reuse."""

    async def start(self, host: str, port: int, backlog: int = 2048) -> None:
        """Bind and start accepting (``port=0`` picks a free port)."""
        self.server = await asyncio.start_server(
            self._connection, host, port, limit=MAX_HEADER_BYTES, backlog=backlog, reuse_address=True
        )

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the first listening socket (IPv6 in brackets)."""
        if self.server is None or not self.server.sockets:
            raise RuntimeError("the server is not listening")
        address = self.server.sockets[0].getsockname()
        host, port = address[0], address[1]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    async def serve_forever(self) -> None:
        """Accept connections until cancelled or closed."""
        if self.server is None:
            raise RuntimeError("the server is not started")
        with contextlib.suppress(asyncio.CancelledError):
            await self.server.serve_forever()

    async def aclose(self) -> None:
        """Stop listening and close every connection (in-flight requests are cancelled)."""
        if self.server is not None:
            self.server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- one connection

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections_accepted += 1
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")
        fallback_host = f"{local[0]}:{local[1]}" if isinstance(local, tuple) else "localhost"
        while True:
            head = await self._read_head(reader, writer)
            if head is None:
                return
            head = head.lstrip(b"\r\n")  # tolerate stray CRLFs between requests (RFC 9112 2.2)
            if not head:
                continue
            try:
                method, target, version, headers = _parse_head(head)
                keep_alive = _keep_alive(version, headers)
                if version == "HTTP/1.1" and "expect" in headers and headers["expect"][0].lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await _read_body(reader, headers)
                request = _build_request(method, target, version, headers, body, fallback_host)
            except _BadRequest as error:
                await self._write_error(writer, error.status, error.message)
                return
            if not await self._answer(writer, request, method, target, keep_alive):
                return

    async def _read_head(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes | None:
        """The next request's head, or None when the connection ends (idle, closed, or a head too large)."""
        try:
            async with asyncio.timeout(self.idle_timeout):
                return await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            return None
        except asyncio.IncompleteReadError:
            return None  # the client closed the connection between requests
        except asyncio.LimitOverrunError:
            await self._write_error(writer, 431, "Request header fields too large")
            return None

    async def _answer(
        self, writer: asyncio.StreamWriter, request: httpx.Request, method: str, target: str, keep_alive: bool
    ) -> bool:
        """Answer one parsed request (or drop it, as the faults say); whether the connection goes on."""
        drop = self.tenant.connection_fault(request)
        if drop in ("connect", "before"):
            _abort(writer)  # a reset: the request was never acted on
            return False
        delay = self.tenant.delay_for(request)
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            response = self.tenant.handle(request)
            content = response.read()
        except Exception:  # a simulator bug must not take the whole server down
            log.exception("simulated tenant failed on %s %s", method, redact(target))
            await self._write_error(writer, 500, "Simulator error", keep_alive=keep_alive)
            return keep_alive
        if drop == "after":
            _abort(writer)  # the server acted (an export may exist); the answer is lost
            return False
        self.requests_served += 1
        _write_response(writer, response, content if method != "HEAD" else b"", len(content), keep_alive)
        await writer.drain()
        return keep_alive

    async def _write_error(
        self, writer: asyncio.StreamWriter, status: int, message: str, *, keep_alive: bool = False
    ) -> None:
        body = f'{{"error":{{"code":"BadRequest","message":"{message}"}}}}'.encode()
        response = httpx.Response(status, headers={"Content-Type": "application/json"}, content=body)
        _write_response(writer, response, body, len(body), keep_alive)
        with contextlib.suppress(ConnectionError):
            await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP reset (SO_LINGER 0), as a crashed server or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, list[str]]]:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN_RE.match(parts[0]) or not parts[1]:
        raise _BadRequest(400, "Malformed request line")
    method, target, version = parts[0].decode("ascii"), parts[1].decode("latin-1"), parts[2].decode("latin-1")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _BadRequest(505 if version.startswith("HTTP/") else 400, "Unsupported HTTP version")
    if not target.startswith(("/", "http://", "https://")):
        raise _BadRequest(400, "Malformed request target")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN_RE.match(name):
            raise _BadRequest(400, "Malformed header line")
        headers.setdefault(name.decode("ascii").lower(), []).append(value.strip(b" \t").decode("latin-1"))
    return method, target, version, headers


def _keep_alive(version: str, headers: dict[str, list[str]]) -> bool:
    tokens = {t.strip().lower() for v in headers.get("connection", []) for t in v.split(",")}
    if version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, list[str]]) -> bytes:
    encodings = headers.get("transfer-encoding")
    lengths = headers.get("content-length")
    if encodings:
        if lengths:
            raise _BadRequest(400, "Both Content-Length and Transfer-Encoding")  # request smuggling guard
        if [e.strip().lower() for e in ",".join(encodings).split(",")] != ["chunked"]:
            raise _BadRequest(501, "Only chunked transfer coding is supported")
        return await _read_chunked(reader)
    if not lengths:
        return b""
    if len(set(lengths)) != 1 or not lengths[0].isdigit():
        raise _BadRequest(400, "Invalid Content-Length")
    length = int(lengths[0])
    if length > MAX_BODY_BYTES:
        raise _BadRequest(413, "Request body too large")
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadRequest(400, "Malformed chunk size") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise _BadRequest(413, "Request body too large")
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise _BadRequest(400, "Malformed chunk")


def _build_request(
    method: str, target: str, version: str, headers: dict[str, list[str]], body: bytes, fallback_host: str
) -> httpx.Request:
    hosts = headers.get("host", [])
    if len(hosts) > 1 or (version == "HTTP/1.1" and not hosts and not target.startswith("http")):
        raise _BadRequest(400, "Missing or repeated Host header")
    try:
        if target.startswith("/"):
            url = httpx.URL(f"http://{hosts[0] if hosts else fallback_host}{target}")
        else:
            url = httpx.URL(target)
        header_items = [(name, value) for name, values in headers.items() for value in values]
        return httpx.Request(method, url, headers=header_items, content=body)
    except (httpx.InvalidURL, ValueError):
        raise _BadRequest(400, "Malformed request target") from None


def _write_response(
    writer: asyncio.StreamWriter, response: httpx.Response, body: bytes, length: int, keep_alive: bool
) -> None:
    try:
        reason = HTTPStatus(response.status_code).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {response.status_code} {reason}"]
    for raw_name, raw_value in response.headers.raw:  # raw keeps Graph's casing (Location, Retry-After)
        name = raw_name.decode("latin-1")
        if name.lower() not in _HOP_BY_HOP:
            lines.append(f"{name}: {raw_value.decode('latin-1')}")
    if response.status_code not in (204, 304) and not 100 <= response.status_code < 200:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


async def serve(
    tenant: SimulatedTenant, host: str = "127.0.0.1", port: int = 0, *, idle_timeout: float = IDLE_TIMEOUT
) -> TenantHTTPServer:
    """Start serving ``tenant`` on ``host:port`` (``port=0`` picks a free one) in the running loop.

    Returns:
        The started server; ``base_url`` says where it listens. Close it with ``aclose()``.
    """
    server = TenantHTTPServer(tenant, idle_timeout=idle_timeout)
    await server.start(host, port)
    return server


def run_forever(
    tenant: SimulatedTenant,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``tenant`` until SIGINT or SIGTERM, then shut down cleanly. Blocks.

    Args:
        tenant: the tenant to serve.
        host: interface to bind (keep it loopback: there is no TLS and tokens travel in clear).
        port: TCP port, 0 for any free one.
        on_ready: called once with the base URL (e.g. ``http://127.0.0.1:8080``) when listening.
    """

    async def main() -> None:
        server = await serve(tenant, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        if on_ready is not None:
            on_ready(server.base_url)
        try:
            await stop.wait()
        finally:
            await server.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class LoopbackServer:
    """Serves a tenant from a background thread with its own event loop (tests, benchmarks).

    ``with LoopbackServer(tenant) as server:`` then talk to ``server.base_url`` (or
    ``server.graph_url`` for ``.../beta``). The tenant's handler is thread-safe.
    """

    def __init__(self, tenant: SimulatedTenant, host: str = "127.0.0.1", port: int = 0) -> None:
        self.tenant = tenant
        self._host = host
        self._port = port
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._server: TenantHTTPServer | None = None
        self._error: BaseException | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._base_url is None:
            raise RuntimeError("the loopback server is not running")
        return self._base_url

    @property
    def graph_url(self) -> str:
        """``base_url`` + ``/beta``: what the Graph client is given."""
        return f"{self.base_url}/beta"

    @property
    def requests_served(self) -> int:
        """HTTP requests answered so far."""
        return self._server.requests_served if self._server else 0

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted so far (keep-alive keeps this low)."""
        return self._server.connections_accepted if self._server else 0

    def start(self) -> None:
        """Start the thread and wait until the server listens.

        Raises:
            RuntimeError: the server could not start (for example the port is taken).
        """
        self._thread = threading.Thread(target=self._run, name="sim-loopback-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("the loopback server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError(f"the loopback server could not start: {self._error}") from self._error

    def close(self) -> None:
        """Stop the server, close its connections and join the thread."""
        if self._loop is not None and self._stop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                self._server = await serve(self.tenant, self._host, self._port)
                self._base_url = self._server.base_url
            except OSError as error:
                self._error = error
                self._ready.set()
                return
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await self._server.aclose()

        asyncio.run(main())
