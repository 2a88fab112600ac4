"""The Graph client against the simulated tenant, failures first-class."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from console.auth.base import StaticTokenProvider
from console.graph import errors
from console.graph.client import GraphClient, validate_graph_url
from console.sim.graph import RequestMatch
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

SAS = "https://acct.blob.core.windows.net/exports?sv=2022-11-02&sp=rwl&sig=TOPSECRETSIGNATURE1234"


class CountingProvider:
    """Hands out the tenant's tokens; counts refreshes."""

    def __init__(self, tenant: SimulatedTenant) -> None:
        self.tenant = tenant
        self.refreshes = 0
        self.token = "not-a-valid-token"

    async def get_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
            self.token = self.tenant.issue_token()
        return self.token


@pytest.fixture
def tenant() -> SimulatedTenant:
    return SimulatedTenant(profiles=250, page_size=40, retry_after=3, export_duration=10)


def make_client(tenant: SimulatedTenant, **kwargs: Any) -> GraphClient:
    options: dict[str, Any] = {"backoff_start": 0.01, "backoff_cap": 0.05, "max_attempts": 4, "timeout": 5.0}
    options.update(kwargs)
    return GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token()), transport=tenant.transport(), **options
    )


async def test_lists_every_page_following_next_link(tenant: SimulatedTenant) -> None:
    async with make_client(tenant) as client:
        pages = [page async for page in client.list_profiles()]
    assert len(pages) == 7  # 250 profiles, 40 a page
    ids = [p.user_id for page in pages for p in page]
    assert len(ids) == 250 == len(set(ids))
    list_requests = [r for r in tenant.requests if r.method == "GET"]
    assert any("skiptoken" in r.query.lower() for r in list_requests[1:])


async def test_get_profile_and_unknown_profile(tenant: SimulatedTenant) -> None:
    known = tenant.graph.profiles[0]
    async with make_client(tenant) as client:
        profile = await client.get_profile(known.user_id)
        assert profile.display_name == known.display_name
        with pytest.raises(errors.NotFound) as caught:
            await client.get_profile("00000000-0000-0000-0000-000000000000")
    assert "gone or never shared" in str(caught.value)
    assert caught.value.request_id


async def test_export_reads_headers_and_follows_v1_location(tenant: SimulatedTenant) -> None:
    user = tenant.graph.profiles[1].user_id
    async with make_client(tenant) as client:
        accepted = await client.export_personal_data(user, SAS)
        assert "/v1.0/dataPolicyOperations/" in accepted.location  # trap 3: kept as given
        assert accepted.retry_after == 3
        poll = await client.get_operation(accepted.location)
    assert poll.operation.id == accepted.operation_id
    assert poll.operation.status in ("notStarted", "running")
    assert "TOPSECRET" not in poll.operation.storage_location
    post = [r for r in tenant.requests if r.method == "POST"]
    assert len(post) == 1 and post[0].path.endswith("/exportPersonalData")


async def test_export_falls_back_to_body_location(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.location = "body_only"
    user = tenant.graph.profiles[2].user_id
    async with make_client(tenant) as client:
        accepted = await client.export_personal_data(user, "MyStorageAccount")
    assert accepted.operation_id and accepted.location.endswith(accepted.operation_id)
    assert accepted.retry_after == 3


async def test_export_without_any_location_is_unconfirmed(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.location = "none"
    async with make_client(tenant) as client:
        with pytest.raises(errors.ExportUnconfirmed) as caught:
            await client.export_personal_data(tenant.graph.profiles[0].user_id, "MyStorageAccount")
    assert "no Location" in str(caught.value)


@pytest.mark.parametrize("status", [500, 503, 504])
async def test_export_is_never_reposted_after_a_5xx(tenant: SimulatedTenant, status: int) -> None:
    tenant.graph.faults.fail(1, status=status, retry_after="0", only=RequestMatch(method="POST"))
    async with make_client(tenant) as client:
        with pytest.raises(errors.ExportUnconfirmed):
            await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
    assert len([r for r in tenant.requests if r.method == "POST"]) == 1


async def test_export_is_retried_on_429_with_retry_after(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.throttle(2, retry_after="0.01", only=RequestMatch(method="POST"))
    async with make_client(tenant) as client:
        accepted = await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
    assert accepted.operation_id
    posts = [r for r in tenant.requests if r.method == "POST"]
    assert [r.status for r in posts] == [429, 429, 202]


async def test_daily_limit_429_without_retry_after_fails_fast(tenant: SimulatedTenant) -> None:
    tenant.graph.config.limits.exports_per_user_per_day = 1
    user = tenant.graph.profiles[0].user_id
    async with make_client(tenant) as client:
        await client.export_personal_data(user, SAS)
        with pytest.raises(errors.Throttled) as caught:
            await client.export_personal_data(user, SAS)
    assert "daily export limit" in str(caught.value)
    assert len([r for r in tenant.requests if r.method == "POST"]) == 2


async def test_throttled_get_waits_and_slows_whole_client(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.throttle(1, retry_after="0.2")
    async with make_client(tenant) as client:
        await client.get_profile(tenant.graph.profiles[0].user_id)
    first, second = tenant.requests[0], tenant.requests[1]
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.19


@pytest.mark.parametrize("value", ["abc", "-5", "0", "2.128"])
async def test_odd_retry_after_on_429_is_survived(tenant: SimulatedTenant, value: str) -> None:
    tenant.graph.faults.throttle(1, retry_after=value if value != "2.128" else "0.05")
    async with make_client(tenant) as client:
        profile = await client.get_profile(tenant.graph.profiles[0].user_id)
    assert profile.user_id


async def test_5xx_on_get_is_retried_then_gives_up(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.fail(2, status=502)
    async with make_client(tenant) as client:
        assert (await client.get_profile(tenant.graph.profiles[0].user_id)).user_id
        tenant.graph.faults.fail(10, status=503, retry_after="0")
        with pytest.raises(errors.ServiceUnavailable) as caught:
            await client.get_profile(tenant.graph.profiles[0].user_id)
    assert "503" in str(caught.value)


async def test_malformed_json_on_poll(tenant: SimulatedTenant) -> None:
    async with make_client(tenant) as client:
        accepted = await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
        tenant.graph.faults.malformed_polls_next = 1
        with pytest.raises(errors.MalformedResponse):
            await client.get_operation(accepted.location)
        assert (await client.get_operation(accepted.location)).operation.id == accepted.operation_id


async def test_timeout_on_get_retries_and_on_post_is_unconfirmed(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.delay = 0.5
    tenant.graph.faults.delay_only = RequestMatch(method="POST")
    async with make_client(tenant, timeout=0.1) as client:
        with pytest.raises(errors.ExportUnconfirmed) as caught:
            await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
        assert "TOPSECRET" not in str(caught.value)
        tenant.graph.faults.delay = 0.0
        assert (await client.get_profile(tenant.graph.profiles[0].user_id)).user_id


async def test_401_refreshes_once_and_carries_on(tenant: SimulatedTenant) -> None:
    provider = CountingProvider(tenant)
    async with GraphClient(DEMO_GRAPH_URL, provider, transport=tenant.transport()) as client:
        profile = await client.get_profile(tenant.graph.profiles[0].user_id)
        assert profile.user_id and provider.refreshes == 1
        tenant.tokens.expire_all()
        await client.get_profile(tenant.graph.profiles[0].user_id)
        assert provider.refreshes == 2


async def test_401_after_refresh_is_an_authentication_error(tenant: SimulatedTenant) -> None:
    client = GraphClient(DEMO_GRAPH_URL, StaticTokenProvider("opaque-but-wrong"), transport=tenant.transport())
    async with client:
        with pytest.raises(errors.AuthenticationError) as caught:
            await client.get_profile(tenant.graph.profiles[0].user_id)
    assert caught.value.exit_code == 3
    assert "opaque-but-wrong" not in str(caught.value)


async def test_403_on_poll_names_user_export_all(tenant: SimulatedTenant) -> None:
    async with make_client(tenant) as client:
        accepted = await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
        tenant.graph.faults.forbid_polls = True
        with pytest.raises(errors.PermissionDenied) as caught:
            await client.get_operation(accepted.location)
    assert "User.Export.All" in str(caught.value)


async def test_foreign_location_and_next_link_are_refused(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.location_base = "https://evil.example.com"
    async with make_client(tenant) as client:
        accepted = await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
        assert accepted.location.startswith("https://evil.example.com")
        before = len(tenant.requests)
        with pytest.raises(errors.UnsafeRedirect):
            await client.get_operation(accepted.location)
        assert len(tenant.requests) == before  # nothing was sent anywhere


def test_plain_http_only_for_loopback() -> None:
    assert validate_graph_url("http://127.0.0.1:8000/beta/") == "http://127.0.0.1:8000/beta"
    assert validate_graph_url("http://localhost:9/beta")
    with pytest.raises(ValueError, match="loopback"):
        validate_graph_url("http://graph.example.com/beta")
    with pytest.raises(ValueError):
        validate_graph_url("ftp://graph.example.com/beta")


async def test_each_request_carries_a_fresh_client_request_id(tenant: SimulatedTenant) -> None:
    async with make_client(tenant) as client:
        for _ in range(3):
            await client.get_profile(tenant.graph.profiles[0].user_id)
    ids = [r.client_request_id for r in tenant.requests]
    assert len(set(ids)) == 3 and all(ids)


async def test_connection_refused_is_a_transport_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = GraphClient(
        "https://graph.example.test/beta",
        StaticTokenProvider("t"),
        transport=httpx.MockTransport(refuse),
        max_attempts=2,
        backoff_start=0.001,
    )
    async with client:
        with pytest.raises(errors.TransportFailure):
            await client.get_profile("x")


async def test_relative_location_is_resolved_against_the_request() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "/v1.0/dataPolicyOperations/abc", "Retry-After": "7"})
        return httpx.Response(200, json={"id": "abc", "status": "running", "progress": "40"})

    client = GraphClient(
        "https://graph.example.test/beta", StaticTokenProvider("t"), transport=httpx.MockTransport(answer)
    )
    async with client:
        accepted = await client.export_personal_data("u", "acct")
        assert accepted.location == "https://graph.example.test/v1.0/dataPolicyOperations/abc"
        assert accepted.retry_after == 7 and accepted.operation_id == "abc"
        poll = await client.get_operation(accepted.location)
    assert poll.operation.progress == 40.0 and poll.operation.status == "running"


async def test_a_cookie_graph_sets_is_neither_kept_nor_sent_back() -> None:
    """Graph needs no cookie: the client keeps none (nothing parsed per answer, nothing carried to a later request)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        cookie = {"Set-Cookie": "fpc=AbC123; path=/; secure; HttpOnly"}
        return httpx.Response(200, headers=cookie, json={"id": "abc", "status": "running", "progress": "40"})

    client = GraphClient(
        "https://graph.example.test/beta", StaticTokenProvider("t"), transport=httpx.MockTransport(answer)
    )
    async with client:
        location = "https://graph.example.test/v1.0/dataPolicyOperations/abc"
        await client.get_operation(location)
        await client.get_operation(location)
    assert len(seen) == 2 and "cookie" not in seen[1].headers
