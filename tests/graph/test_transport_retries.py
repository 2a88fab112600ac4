"""A request that gets no answer is retried a bounded number of times, each retry said, then fails (issue 14)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from console.auth.base import StaticTokenProvider
from console.clock import ManualClock
from console.graph import errors
from console.graph.client import GraphClient, validate_graph_url
from console.graph.retry import TRANSPORT_ATTEMPTS, transport_delay
from tests.helpers import run_clock_until

BASE = "https://graph.example.test/beta"


class Counting(httpx.AsyncBaseTransport):
    """Fails every request the way ``fail`` says; counts the requests that reached it."""

    def __init__(self, fail: type[httpx.TransportError], cause: BaseException | None = None) -> None:
        self.fail = fail
        self.cause = cause
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        try:
            if self.cause is not None:
                raise self.cause
            raise self.fail("no", request=request)
        except OSError as exc:
            raise self.fail("All connection attempts failed", request=request) from exc


async def run(client: GraphClient, clock: ManualClock) -> BaseException:
    task = asyncio.create_task(client.get_profile("u1"))
    await run_clock_until(clock, task.done)
    exc = task.exception()
    assert exc is not None
    return exc


async def test_a_refused_connection_is_retried_twice_each_retry_said_then_it_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    transport = Counting(httpx.ConnectError, ConnectionRefusedError(111, "Connect call failed"))
    caplog.set_level(logging.WARNING, logger="console.graph")
    start = clock.now()
    async with GraphClient(BASE, StaticTokenProvider("t"), transport=transport, clock=clock) as client:
        exc = await run(client, clock)
    assert isinstance(exc, errors.TransportFailure)
    assert exc.exit_code == 1
    assert "after 3 attempts" in str(exc) and "graph.example.test:443 (connection refused)" in str(exc)
    assert transport.calls == TRANSPORT_ATTEMPTS == 3
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert retries == [
        "no answer from Graph for profile u1: cannot connect to graph.example.test:443 (connection refused); "
        "retry 1 of 2 in 1 s",
        "no answer from Graph for profile u1: cannot connect to graph.example.test:443 (connection refused); "
        "retry 2 of 2 in 2 s",
    ]
    assert clock.now() - start == transport_delay(1) + transport_delay(2) == 3.0


async def test_a_host_that_cannot_be_resolved_is_named_and_given_up_within_three_attempts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    clock = ManualClock()
    transport = Counting(httpx.ConnectError, socket.gaierror(-2, "Name or service not known"))
    caplog.set_level(logging.WARNING, logger="console.graph")
    async with GraphClient(BASE, StaticTokenProvider("t"), transport=transport, clock=clock) as client:
        exc = await run(client, clock)
    assert isinstance(exc, errors.TransportFailure)
    assert "cannot resolve the host name graph.example.test" in str(exc)
    assert transport.calls == 3
    assert sum("retry" in r.getMessage() for r in caplog.records) == 2


async def test_an_unreachable_network_is_named_as_such_not_as_a_name_that_cannot_be_resolved() -> None:
    import errno

    clock = ManualClock()
    transport = Counting(httpx.ConnectError, OSError(errno.ENETUNREACH, "Network is unreachable"))
    async with GraphClient(BASE, StaticTokenProvider("t"), transport=transport, clock=clock) as client:
        exc = await run(client, clock)
    assert isinstance(exc, errors.TransportFailure)
    assert "cannot connect to graph.example.test:443 (network is unreachable)" in str(exc)
    assert "resolve" not in str(exc)


async def test_a_request_that_cannot_be_built_is_not_retried() -> None:
    clock = ManualClock()
    transport = Counting(httpx.LocalProtocolError)
    async with GraphClient(BASE, StaticTokenProvider("t"), transport=transport, clock=clock) as client:
        exc = await run(client, clock)
    assert isinstance(exc, errors.TransportFailure)
    assert transport.calls == 1


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "abc\ndef", "abc\x00", "abc def", "abc\x1b[2J", "tökén"])
async def test_a_token_no_header_can_carry_is_never_sent(token: str) -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"userId": "u1"})

    async with GraphClient(BASE, StaticTokenProvider(token), transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(errors.AuthenticationError) as caught:
            await client.get_profile("u1")
    assert calls == []
    assert token not in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:0/beta", "https://graph.example.test:0/beta"])
def test_port_zero_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="port 0"):
        validate_graph_url(url)
