"""Storage checks at scale (issue 15): one client per host, bounded concurrency, a breaker per host, one TLS context.

Through the surface the CLI and the console use (``preflight_batch``, ``inspect_delivery``), over real
loopback sockets where the promise is about connections.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from console.storage.blob import inspect_delivery
from console.storage.pool import CONCURRENCY, HostDown, StoragePool, storage_pool
from console.storage.rules import preflight_batch
from console.tls import ssl_context

QUERY = "sv=2022-11-02&ss=b&srt=co&sp=rcwl&se=2099-01-01T00:00:00Z&sig=POOLSECRETSIG7"
EMPTY_LISTING = b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs /></EnumerationResults>'


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class CountingServer:
    """A keep-alive HTTP/1.1 Blob stand-in on loopback that counts the TCP connections it accepts."""

    def __init__(self) -> None:
        owner = self
        self.connections = 0
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                owner.connections += 1
                super().setup()

            def do_GET(self) -> None:
                owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(EMPTY_LISTING)))
                self.end_headers()
                self.wfile.write(EMPTY_LISTING)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/acct"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    server = CountingServer()
    try:
        yield server
    finally:
        server.close()


async def test_an_unreachable_storage_account_is_tried_once_and_said_once() -> None:
    base = f"http://127.0.0.1:{closed_port()}/deadacct"
    locations = [f"{base}/dsr-{i:04d}?{QUERY}" for i in range(50)]
    batch = await preflight_batch(locations)
    assert all(r.ok for r in batch.results)  # out of reach is a warning, never a refusal
    assert sorted(r.code for r in batch.results).count("Unreachable") == 1
    assert [r.code for r in batch.results].count("Skipped") == 49
    unreachable = [n for n in batch.notes if "unreachable" in n]
    assert unreachable == ["storage account deadacct unreachable (ConnectError): 49 checks skipped"]
    assert all("POOLSECRET" not in n for n in batch.notes)
    again = await preflight_batch(locations[:5])
    assert [n for n in again.notes if "unreachable" in n] == [
        "storage account deadacct unreachable (ConnectError): 54 checks skipped"
    ]


async def test_a_down_host_skips_delivery_checks_too_naming_the_account() -> None:
    base = f"http://127.0.0.1:{closed_port()}/goneacct"
    first = await inspect_delivery(f"{base}/dsr-0001?{QUERY}", now=1.0)
    second = await inspect_delivery(f"{base}/dsr-0002?{QUERY}", now=1.0)
    assert "ConnectError" in first.error
    assert second.error.startswith("storage account goneacct unreachable") and "skipped" in second.error


async def test_checks_of_one_host_reuse_its_connections(counting: CountingServer) -> None:
    locations = [f"{counting.base}/dsr-{i:04d}?{QUERY}" for i in range(40)]
    batch = await preflight_batch(locations)
    assert all(r.ok and r.code == "" for r in batch.results)
    for i in range(10):
        await inspect_delivery(f"{counting.base}/dsr-{i:04d}?{QUERY}", now=1.0)
    assert counting.requests == 50
    assert counting.connections <= CONCURRENCY


async def test_storage_requests_in_flight_are_bounded() -> None:
    in_flight = peak = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, content=EMPTY_LISTING)

    transport = httpx.MockTransport(answer)
    locations = [f"https://acct{i % 4}x.blob.core.windows.net/dsr-{i:04d}?{QUERY}" for i in range(60)]
    batch = await preflight_batch(locations, transport=transport)
    assert all(r.ok for r in batch.results)
    assert 1 < peak <= CONCURRENCY


async def test_a_down_host_is_tried_again_after_its_cooldown() -> None:
    now = [0.0]
    calls = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    pool = StoragePool(httpx.MockTransport(refuse), cooldown=60.0, clock=lambda: now[0])

    async def call(client: httpx.AsyncClient) -> int:
        return (await client.get("https://acct.blob.core.windows.net/c")).status_code

    for _ in range(3):
        with pytest.raises((httpx.TransportError, HostDown)):
            await pool.run("https://acct.blob.core.windows.net", "acct", call)
    assert calls == 1
    now[0] = 61.0
    with pytest.raises(httpx.ConnectError):
        await pool.run("https://acct.blob.core.windows.net", "acct", call)
    assert calls == 2
    await pool.aclose()


async def test_the_pool_lives_with_its_event_loop() -> None:
    assert storage_pool(None) is storage_pool(None)


def test_the_tls_context_is_built_once_per_ca_rule(tmp_path: object) -> None:
    import certifi

    assert ssl_context({}) is ssl_context({})
    named = {"SSL_CERT_FILE": certifi.where()}
    assert ssl_context(named) is ssl_context(dict(named))
    assert ssl_context(named) is not ssl_context({})


async def test_a_pipeline_checks_a_location_once_and_says_each_finding_once() -> None:
    """``PreflightRun`` (the CLI's pipeline): a location asked twice at once is checked once, both get its
    verdict; a warning is handed out once; an unreachable account is one finding with its full count."""
    from console.storage.rules import PreflightRun

    gate = asyncio.Event()
    seen: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        await gate.wait()
        return httpx.Response(403, headers={"x-ms-error-code": "AuthorizationPermissionMismatch"})

    run = PreflightRun(httpx.MockTransport(answer))
    same = f"https://pipeacct.blob.core.windows.net/dsr-0001?{QUERY.replace('rcwl', 'cwl')}"
    first = asyncio.ensure_future(run.check(same))
    second = asyncio.ensure_future(run.check(same))
    await asyncio.sleep(0.05)
    second.cancel()  # one waiter giving up never cancels the check the other one waits for
    gate.set()
    verdict = await first
    assert verdict.ok and verdict.code == "NotChecked" and seen == ["/dsr-0001"]
    assert (await run.check(same)) == verdict and seen == ["/dsr-0001"]
    assert len(run.warnings()) == 1 and run.warnings() == []
    down = PreflightRun()
    base = f"http://127.0.0.1:{closed_port()}/pipedown"
    for i in range(5):
        assert (await down.check(f"{base}/dsr-{i:04d}?{QUERY}")).ok
    assert down.warnings() == []  # the account's one finding comes with the count, when asked
    assert down.unreachable() == ["storage account pipedown unreachable (ConnectError): 4 checks skipped"]


async def test_a_cookie_storage_sets_is_neither_kept_nor_sent_back() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "ARRAffinity=abc; path=/"})

    pool = StoragePool(httpx.MockTransport(answer))

    async def call(client: httpx.AsyncClient) -> int:
        return (await client.get("https://acct.blob.core.windows.net/c")).status_code

    for _ in range(2):
        await pool.run("https://acct.blob.core.windows.net", "acct", call)
    await pool.aclose()
    assert len(seen) == 2 and "cookie" not in seen[1].headers
