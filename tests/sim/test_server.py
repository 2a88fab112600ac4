"""The simulated tenant served on loopback: HTTP/1.1, keep-alive, concurrency, shutdown."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from console.sim.server import LoopbackServer, serve
from console.sim.tenant import SimulatedTenant
from tests.sim.conftest import SteppingClock

PROFILES = "directory/inboundSharedUserProfiles"


@pytest.fixture
def server(tenant: SimulatedTenant) -> Iterator[LoopbackServer]:
    with LoopbackServer(tenant) as running:
        yield running


def raw_exchange(sock: socket.socket, payload: bytes) -> bytes:
    """Send ``payload`` and read one response (headers + Content-Length body)."""
    sock.sendall(payload)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def connect(server: LoopbackServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def test_pages_and_exports_over_loopback(server: LoopbackServer, token: str, clock: SteppingClock) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=server.graph_url, headers={"Authorization": f"Bearer {token}"}) as http:
        url: str | None = PROFILES
        users: list[str] = []
        while url:
            data = http.get(url).json()
            users += [p["userId"] for p in data["value"]]
            url = data.get("@odata.nextLink")
            if url:
                assert url.startswith(server.base_url + "/beta/")  # built from the Host header
        assert len(set(users)) == 250
        accepted = http.post(f"{PROFILES}/{users[0]}/exportPersonalData", json={"storageLocation": "acct"})
        assert accepted.status_code == 202
        assert accepted.headers["Location"].startswith(server.base_url + "/v1.0/dataPolicyOperations/")
        clock.advance(100)
        assert http.get(accepted.headers["Location"]).json()["status"] == "complete"


def test_location_follows_the_host_header(server: LoopbackServer, tenant: SimulatedTenant, token: str) -> None:
    user_id = tenant.graph.profiles[0].user_id
    body = b'{"storageLocation":"acct"}'
    with connect(server) as sock:
        answer = raw_exchange(
            sock,
            f"POST /beta/{PROFILES}/{user_id}/exportPersonalData HTTP/1.1\r\nHost: localhost:9999\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body,
        )
    assert answer.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert b"\r\nLocation: http://localhost:9999/v1.0/dataPolicyOperations/" in answer
    assert b"\r\nRetry-After: 2\r\n" in answer


def test_keep_alive_serves_many_requests_on_one_connection(server: LoopbackServer, token: str) -> None:
    request = f"GET /beta/{PROFILES} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    with connect(server) as sock:
        for _ in range(5):
            answer = raw_exchange(sock, request)
            assert answer.startswith(b"HTTP/1.1 200 OK")
            assert b"Connection: keep-alive" in answer
        # Connection: close is honoured: answer, then EOF.
        answer = raw_exchange(sock, request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        assert b"Connection: close" in answer
        assert sock.recv(1) == b""


def test_chunked_request_body(server: LoopbackServer, tenant: SimulatedTenant, token: str) -> None:
    user_id = tenant.graph.profiles[1].user_id
    body = b'{"storageLocation":"acct"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with connect(server) as sock:
        answer = raw_exchange(
            sock,
            f"POST /v1.0/{PROFILES}/{user_id}/exportPersonalData HTTP/1.1\r\nHost: sim\r\n"
            f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            + chunked,
        )
    assert answer.startswith(b"HTTP/1.1 202")


@pytest.mark.parametrize(
    "payload",
    [
        b"garbage\r\n\r\n",
        b"GET /beta/x HTTP/1.1\r\n\r\n",  # no Host
        b"GET /beta/x HTTP/1.1\r\nHost: a\r\nbroken header\r\n\r\n",
        b"POST /beta/x HTTP/1.1\r\nHost: a\r\nContent-Length: nope\r\n\r\n",
        b"POST /beta/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
)
def test_malformed_requests_get_400_and_close(server: LoopbackServer, payload: bytes) -> None:
    with connect(server) as sock:
        answer = raw_exchange(sock, payload)
        assert answer.startswith(b"HTTP/1.1 400 Bad Request")
        assert sock.recv(1) == b""


def test_unauthenticated_over_loopback_is_401(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.graph_url}/{PROFILES}", headers={"client-request-id": "abc"})
    assert response.status_code == 401
    assert response.headers["client-request-id"] == "abc"
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_keep_alive_clients_poll_concurrently(tenant: SimulatedTenant, token: str) -> None:
    # httpx's async pool costs CPU per connection, so the throughput test below uses raw sockets;
    # this one shows httpx clients overlap on kept-alive connections.
    connections, rounds, delay = 20, 3, 0.05
    tenant.graph.faults.delay = delay  # waited asynchronously by the server: requests overlap
    with LoopbackServer(tenant) as server:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(
            base_url=server.graph_url, headers={"Authorization": f"Bearer {token}"}, limits=limits
        ) as http:
            users = [p.user_id for p in tenant.graph.profiles[:connections]]
            accepted = await asyncio.gather(
                *(http.post(f"{PROFILES}/{u}/exportPersonalData", json={"storageLocation": "acct"}) for u in users)
            )
            locations = [r.headers["Location"] for r in accepted]
            started = time.perf_counter()
            polls = await asyncio.gather(*(http.get(location) for location in locations * rounds))
            elapsed = time.perf_counter() - started
        assert {p.status_code for p in polls} == {200}
        assert server.requests_served == connections * (rounds + 1)
        assert server.connections_accepted <= connections  # connections were reused
    assert elapsed < connections * rounds * delay / 2  # far quicker than one request at a time
    assert sum(1 for r in tenant.requests if r.kind == "poll") == connections * rounds


async def test_hundreds_of_connections_poll_at_over_a_thousand_a_second(tenant: SimulatedTenant, token: str) -> None:
    connections, rounds = 300, 4
    with LoopbackServer(tenant) as server:
        user_id = tenant.graph.profiles[0].user_id
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
            accepted = await http.post(
                f"{server.graph_url}/{PROFILES}/{user_id}/exportPersonalData", json={"storageLocation": "acct"}
            )
        path = httpx.URL(accepted.headers["Location"]).path
        host, port = server.base_url.removeprefix("http://").split(":")
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()

        async def client() -> int:
            reader, writer = await asyncio.open_connection(host, int(port))
            ok = 0
            for _ in range(rounds):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                ok += head.startswith(b"HTTP/1.1 200 ")
            writer.close()
            return ok

        started = time.perf_counter()
        results = await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        assert sum(results) == connections * rounds
        assert server.connections_accepted == connections + 1
    assert connections * rounds / elapsed > 1000


async def test_serve_in_the_running_loop_and_close_cleanly(tenant: SimulatedTenant, token: str) -> None:
    server = await serve(tenant)
    base = server.base_url
    async with server, httpx.AsyncClient(base_url=f"{base}/beta", headers={"Authorization": f"Bearer {token}"}) as http:
        assert (await http.get(PROFILES)).status_code == 200
        idle_reader, idle_writer = await asyncio.open_connection(*base.removeprefix("http://").split(":"))
    # Closing the server closed the idle keep-alive connection and stopped listening.
    assert await asyncio.wait_for(idle_reader.read(), 2) == b""
    idle_writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection(*base.removeprefix("http://").split(":"))


def test_loopback_server_stops_listening_on_exit(tenant: SimulatedTenant) -> None:
    with LoopbackServer(tenant) as server:
        base = server.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/beta/" + PROFILES)
