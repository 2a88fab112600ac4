"""The console's httpx client on real loopback sockets: its lean streams reuse live connections and drop
the ones the server closed (issue 15)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from console.http_client import CookielessClient
from console.http_pool import LeanStream, LeanTransport, readable

LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=4)


class KeepAliveServer:
    """A loopback HTTP/1.1 server answering 200 with keep-alive; ``close_after_answer`` closes each
    connection right after its answer (as a server whose keep-alive ran out does)."""

    def __init__(self) -> None:
        self.connections = 0
        self.close_after_answer = False
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[KeepAliveServer]:
    served = KeepAliveServer()
    listener = await asyncio.start_server(served.handle, "127.0.0.1", 0)
    served.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield served


async def test_the_client_reuses_a_live_connection(server: KeepAliveServer) -> None:
    async with CookielessClient(verify=True, limits=LIMITS) as client:
        assert isinstance(client._transport, LeanTransport)  # noqa: SLF001 - the transport this file is about
        for _ in range(3):
            assert (await client.get(f"http://127.0.0.1:{server.port}/")).text == "ok"
    assert server.connections == 1


async def test_a_connection_the_server_closed_is_dropped_not_reused(server: KeepAliveServer) -> None:
    server.close_after_answer = True
    async with CookielessClient(verify=True, limits=LIMITS) as client:
        assert (await client.get(f"http://127.0.0.1:{server.port}/")).text == "ok"
        await asyncio.sleep(0.1)  # the server's FIN reaches the idle connection
        # Reused, the closed connection would end in "Server disconnected without sending a response".
        assert (await client.get(f"http://127.0.0.1:{server.port}/")).text == "ok"
    assert server.connections == 2


async def test_a_given_transport_is_used_as_it_is() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    async with CookielessClient(transport=transport) as client:
        assert client._transport is transport  # noqa: SLF001
        assert (await client.get("https://graph.example/beta/x")).status_code == 204


def test_readable_says_so_for_data_waiting_a_gone_socket_and_none() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert not readable(left)
        right.sendall(b"x")
        assert readable(left)
    assert readable(left)  # closed: fileno() is -1
    assert readable(None)


def test_a_lean_stream_answers_socket_questions_from_its_raw_socket_and_passes_the_rest() -> None:
    left, right = socket.socketpair()

    class Fake:
        def get_extra_info(self, info: str) -> object:
            return left if info == "socket" else f"inner {info}"

    with left, right:
        stream = LeanStream(Fake())  # type: ignore[arg-type]
        assert stream.get_extra_info("socket") is left
        assert stream.get_extra_info("is_readable") is False
        right.sendall(b"x")
        assert stream.get_extra_info("is_readable") is True
        assert stream.get_extra_info("ssl_object") == "inner ssl_object"


async def test_the_client_speaks_tls_through_the_lean_streams() -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    served = KeepAliveServer()
    listener = await asyncio.start_server(served.handle, "127.0.0.1", 0, ssl=server_context)
    port = listener.sockets[0].getsockname()[1]
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with listener, CookielessClient(verify=client_context, limits=LIMITS) as client:
        for _ in range(2):
            answer = await client.get(f"https://127.0.0.1:{port}/")
            assert answer.text == "ok"
        assert answer.extensions["network_stream"].get_extra_info("ssl_object") is not None
    assert served.connections == 1
