"""Erasure against the simulated tenant: removePersonalData (inbound and outbound), 204s, knobs, no retries."""

from __future__ import annotations

from typing import Any

import pytest

from console.auth.base import StaticTokenProvider
from console.graph import errors
from console.graph.client import GraphClient
from console.sim.graph import RequestMatch
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

REMOVALS = RequestMatch(method="POST", path=r"/removePersonalData$")


@pytest.fixture
def tenant() -> SimulatedTenant:
    return SimulatedTenant(profiles=20, page_size=5)


def make_client(tenant: SimulatedTenant, **kwargs: Any) -> GraphClient:
    options: dict[str, Any] = {"backoff_start": 0.01, "backoff_cap": 0.05, "max_attempts": 4, "timeout": 5.0}
    options.update(kwargs)
    return GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token()), transport=tenant.transport(), **options
    )


def posts(tenant: SimulatedTenant) -> list[str]:
    return [r.path for r in tenant.requests if r.method == "POST"]


async def test_inbound_removal_answers_204_with_request_id_and_profile_stays(tenant: SimulatedTenant) -> None:
    user = tenant.graph.profiles[0].user_id
    async with make_client(tenant) as client:
        request_id = await client.remove_personal_data(user)
    assert request_id and request_id == tenant.requests[-1].request_id
    assert tenant.requests[-1].status == 204 and tenant.requests[-1].kind == "remove"
    assert tenant.graph.removals == [(user, None, request_id)]
    assert user in {p.user_id for p in tenant.graph.profiles}  # default: Microsoft does not say it leaves


async def test_removed_profile_leaves_the_list_with_the_knob(tenant: SimulatedTenant) -> None:
    tenant.set_knobs({"removal_hides_profile": True})
    user = tenant.graph.profiles[0].user_id
    async with make_client(tenant) as client:
        await client.remove_personal_data(user)
        listed = [p.user_id for page in [p async for p in client.list_profiles()] for p in page]
    assert user not in listed and len(listed) == 19


async def test_unknown_user_is_404(tenant: SimulatedTenant) -> None:
    async with make_client(tenant) as client:
        with pytest.raises(errors.NotFound):
            await client.remove_personal_data("00000000-0000-0000-0000-000000000000")
    assert tenant.graph.removals == []


async def test_forbidden_removal_names_the_readwrite_permission(tenant: SimulatedTenant) -> None:
    tenant.set_knobs({"forbid_removal": True})
    user = tenant.graph.profiles[0].user_id
    async with make_client(tenant) as client:
        with pytest.raises(errors.PermissionDenied) as caught:
            await client.remove_personal_data(user)
        with pytest.raises(errors.PermissionDenied):
            outbound_user = (await client.list_outbound_profiles())[0]
            tenant_id = (await client.outbound_tenants(outbound_user))[0]
            await client.remove_outbound(outbound_user, tenant_id)
    assert "CrossTenantUserProfileSharing.ReadWrite.All" in str(caught.value)
    assert tenant.graph.removals == []


@pytest.mark.parametrize("status", [429, 503, 500])
async def test_removal_post_is_never_retried(tenant: SimulatedTenant, status: int) -> None:
    tenant.faults.errors_next = 3
    tenant.faults.error_status = status
    tenant.faults.errors_only = REMOVALS
    if status == 429:
        tenant.faults.errors_next = 0
        tenant.faults.throttle(3, retry_after="1", only=REMOVALS)
    user = tenant.graph.profiles[0].user_id
    async with make_client(tenant) as client:
        with pytest.raises(errors.GraphError) as caught:
            await client.remove_personal_data(user)
    assert len(posts(tenant)) == 1
    assert isinstance(caught.value, errors.RemovalUnconfirmed) == (status >= 500)


async def test_no_answer_after_sending_leaves_the_removal_unconfirmed(tenant: SimulatedTenant) -> None:
    tenant.set_knobs({"drop_next": 1, "drop_when": "after"})
    user = tenant.graph.profiles[0].user_id
    async with make_client(tenant) as client:
        with pytest.raises(errors.RemovalUnconfirmed):
            await client.remove_personal_data(user)
    assert len(posts(tenant)) == 1


async def test_outbound_family(tenant: SimulatedTenant) -> None:
    expected = tenant.graph.outbound
    async with make_client(tenant) as client:
        users = await client.list_outbound_profiles()
        assert users == list(expected)  # 12 users over pages of 5
        tenants = await client.outbound_tenants(users[0])
        assert tenants == expected[users[0]]
        request_id = await client.remove_outbound(users[0], tenants[0])
        with pytest.raises(errors.NotFound):
            await client.outbound_tenants("00000000-0000-0000-0000-000000000000")
    assert tenant.graph.removals == [(users[0], tenants[0], request_id)]
    assert sum(1 for r in tenant.requests if r.kind == "outbound_list") == 3
    assert "skiptoken" in tenant.requests[1].query.lower()


async def test_outbound_removal_of_a_tenant_not_holding_data_is_404_and_the_knob_hides_a_removed_one(
    tenant: SimulatedTenant,
) -> None:
    user, held_by = next(iter(tenant.graph.outbound.items()))
    async with make_client(tenant) as client:
        with pytest.raises(errors.NotFound):
            await client.remove_outbound(user, "11111111-1111-4111-8111-111111111111")
        tenant.set_knobs({"removal_hides_profile": True})
        await client.remove_outbound(user, held_by[0])
        assert held_by[0] not in await client.outbound_tenants(user)


async def test_an_outbound_next_link_on_another_host_is_never_followed_with_the_token(
    tenant: SimulatedTenant,
) -> None:
    tenant.faults.location_base = "https://graph.evil.example"
    async with make_client(tenant) as client:
        with pytest.raises(errors.UnsafeRedirect):
            await client.list_outbound_profiles()
    assert all("evil" not in r.url for r in tenant.requests)
    assert len(tenant.requests) == 1
