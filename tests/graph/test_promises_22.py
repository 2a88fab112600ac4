"""Issue 22: the client's promises a one-line break passed the suite (Retry-After on a 5xx, Graph's origin)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from console.auth.base import StaticTokenProvider
from console.clock import ManualClock
from console.graph import errors
from console.graph.client import GraphClient
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from tests.helpers import run_clock_until

BASE = "https://graph.example.test/beta"
TOKEN = "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0In0.SECRETTOKENSIGNATURE"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_on_a_get_is_retried_only_after_the_retry_after_it_carries(status: int) -> None:
    clock = ManualClock()
    tenant = SimulatedTenant(profiles=10, retry_after=1, clock=clock.now, sleep=clock.sleep)
    user = tenant.graph.profiles[0].user_id
    client = GraphClient(
        DEMO_GRAPH_URL,
        StaticTokenProvider(tenant.issue_token()),
        transport=tenant.transport(),
        clock=clock,
        backoff_start=0.5,
        backoff_cap=2.0,
    )
    tenant.graph.faults.fail(1, status=status, retry_after="45")
    async with client:
        task = asyncio.ensure_future(client.get_profile(user))
        await run_clock_until(clock, task.done, limit=600)
        profile = task.result()
    assert profile.user_id == user
    gets = [r for r in tenant.requests if r.method == "GET"]
    assert [r.status for r in gets] == [status, 200]
    assert gets[1].at - gets[0].at >= 45 - 1e-6, "the 5xx's Retry-After was not honoured before the retry"


def recorded(clock: ManualClock, seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "abc", "status": "running"})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    "location",
    [
        "http://graph.example.test/v1.0/dataPolicyOperations/abc",  # same host, another scheme
        "https://graph.example.test:8443/v1.0/dataPolicyOperations/abc",  # same host, another port
        "http://graph.example.test:443/v1.0/dataPolicyOperations/abc",  # https's port, plain http
    ],
)
async def test_a_url_from_graph_on_the_same_host_with_another_scheme_or_port_is_not_followed(location: str) -> None:
    seen: list[httpx.Request] = []
    clock = ManualClock()
    client = GraphClient(BASE, StaticTokenProvider(TOKEN), transport=recorded(clock, seen), clock=clock)
    async with client:
        with pytest.raises(errors.UnsafeRedirect):
            client.check_url(location)
        with pytest.raises(errors.UnsafeRedirect):
            await client.get_operation(location)
    assert seen == [], "the token went to another scheme or port of Graph's host"
