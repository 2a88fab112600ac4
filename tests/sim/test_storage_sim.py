"""The simulated tenant and storage: one export per location, delivery into the location, unique ids."""

from __future__ import annotations

import json

import httpx
import pytest

from console.sim.graph import STORAGE_LOCATION_ALREADY_USED_MESSAGE
from console.sim.tenant import SimulatedTenant
from console.storage import GRAPH_ALREADY_USED_MESSAGE, inspect_delivery
from tests.sim.conftest import SteppingClock

PROFILES = "directory/inboundSharedUserProfiles"
SAS = "?sv=2024-05-04&sr=c&sp=racwl&se=2030-01-01T00:00:00Z&sig=S1gn%2Fature%3D"
GRAPHS_WORDS = (
    "Storage destination has already been used for an export. "
    "If this is not true, delete 'RequestInfo.json' from the container and try again."
)


def container(name: str, sas: str = SAS) -> str:
    return f"https://contosoexports.blob.core.windows.net/{name}{sas}"


async def export(client: httpx.AsyncClient, user_id: str, location: str) -> httpx.Response:
    return await client.post(f"{PROFILES}/{user_id}/exportPersonalData", json={"storageLocation": location})


def users(tenant: SimulatedTenant, count: int) -> list[str]:
    return [p.user_id for p in tenant.graph.profiles[:count]]


def test_graphs_words_are_the_same_everywhere() -> None:
    assert STORAGE_LOCATION_ALREADY_USED_MESSAGE == GRAPHS_WORDS == GRAPH_ALREADY_USED_MESSAGE


async def test_second_export_to_one_container_is_refused_in_graphs_words(
    tenant: SimulatedTenant, client: httpx.AsyncClient
) -> None:
    first, second = users(tenant, 2)
    assert (await export(client, first, container("exports"))).status_code == 202
    refused = await export(client, second, container("exports"))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "StorageLocationAlreadyUsed"
    assert error["message"] == GRAPHS_WORDS
    assert refused.headers["request-id"]
    assert len(tenant.graph.operation_ids()) == 1
    assert tenant.graph.exports_used() == 1  # a refused export spends no quota


async def test_same_container_with_another_sas_or_case_is_the_same_location(
    tenant: SimulatedTenant, client: httpx.AsyncClient
) -> None:
    first, second, third = users(tenant, 3)
    assert (await export(client, first, container("exports"))).status_code == 202
    other_sas = container("exports", "?sp=cw&se=2031-01-01&sig=other")
    assert (await export(client, second, other_sas)).status_code == 400
    upper = "https://ContosoExports.blob.core.windows.net/Exports" + SAS
    assert (await export(client, third, upper)).status_code == 400


async def test_one_container_per_profile_is_accepted(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    for user_id in users(tenant, 5):
        assert (await export(client, user_id, container(f"dsr-{user_id}"))).status_code == 202


async def test_the_refusal_can_be_turned_off(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.config.refuse_reused_location = False
    for user_id in users(tenant, 3):
        assert (await export(client, user_id, container("exports"))).status_code == 202


async def test_constructor_knob(clock: SteppingClock) -> None:
    tenant = SimulatedTenant(profiles=3, clock=clock, refuse_reused_location=False)
    assert tenant.graph.config.refuse_reused_location is False
    assert SimulatedTenant(profiles=3, clock=clock).graph.config.refuse_reused_location is True


async def test_a_plain_account_name_is_never_refused(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    for user_id in users(tenant, 3):
        assert (await export(client, user_id, "MyStorageAccount")).status_code == 202


async def test_container_holding_request_info_is_refused(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.storage.put_blob("contosoexports", "old", "RequestInfo.json", b"{}", create_container=True)
    refused = await export(client, users(tenant, 1)[0], container("old"))
    assert refused.json()["error"]["code"] == "StorageLocationAlreadyUsed"


async def test_adopted_operation_marks_its_location_used(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.adopt_operation("0b1c2d3e-0000-4000-8000-000000000001", "someone", container("kept"), 1.0)
    refused = await export(client, users(tenant, 1)[0], container("kept"))
    assert refused.status_code == 400


async def test_completed_export_is_written_into_the_container(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    user_id = users(tenant, 1)[0]
    tenant.storage.create_container("contosoexports", "dsr-one")
    accepted = await export(client, user_id, container("dsr-one"))
    assert tenant.storage.list_blobs("contosoexports", "dsr-one") == []  # nothing before completion
    clock.advance(25.0)
    poll = await client.get(accepted.headers["Location"])
    assert poll.json()["status"] == "complete"
    names = [n for n, _ in tenant.storage.list_blobs("contosoexports", "dsr-one")]
    assert "RequestInfo.json" in names and len(names) >= 3
    info = tenant.storage.get_blob("contosoexports", "dsr-one", "RequestInfo.json")
    assert info is not None
    data = json.loads(info.data)
    assert data["userId"] == user_id and data["status"] == "complete"
    assert "S1gn" not in info.data.decode()  # the export's own record never holds the signature
    delivery = await inspect_delivery(container("dsr-one"), transport=tenant.storage_transport(), now=clock())
    assert delivery.request_info and delivery.files == len(names) and delivery.bytes > 0
    assert not any(r.had_authorization for r in tenant.storage.requests)


async def test_blob_request_alone_delivers_a_finished_export(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    """No poll needed: the stand-in delivers what finished before answering."""
    await export(client, users(tenant, 1)[0], container("dsr-two"))
    clock.advance(25.0)
    delivery = await inspect_delivery(container("dsr-two"), transport=tenant.storage_transport(), now=clock())
    assert delivery.request_info


async def test_failed_export_leaves_only_request_info(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    user_id = users(tenant, 1)[0]
    tenant.graph.faults.failing_users.add(user_id)
    await export(client, user_id, container("dsr-f"))
    clock.advance(25.0)
    assert [n for n, _ in tenant.storage.list_blobs("contosoexports", "dsr-f")] == ["RequestInfo.json"]


async def test_delivery_can_be_turned_off(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    tenant.graph.config.deliver_exports = False
    await export(client, users(tenant, 1)[0], container("dsr-x"))
    clock.advance(25.0)
    await client.get(PROFILES)
    assert not tenant.storage.has_container("contosoexports", "dsr-x")


# ---------------------------------------------------------------- ids unique per run


async def _ids(tenant: SimulatedTenant, count: int) -> list[str]:
    async with httpx.AsyncClient(
        transport=tenant.transport(),
        base_url="https://graph.demo.invalid/beta/",
        headers={"Authorization": f"Bearer {tenant.issue_token()}"},
    ) as http:
        out = []
        for user_id in users(tenant, count):
            response = await export(http, user_id, "acct123")
            out.append(response.headers["Location"].rsplit("/", 1)[1])
        return out


async def test_operation_ids_differ_between_runs_with_one_seed(clock: SteppingClock) -> None:
    """A restarted demo (same seed) must not hand out the ids of the previous run's operations."""
    one = await _ids(SimulatedTenant(profiles=5, seed=7, clock=clock), 5)
    two = await _ids(SimulatedTenant(profiles=5, seed=7, clock=clock), 5)
    assert not set(one) & set(two)


async def test_run_id_makes_ids_reproducible(clock: SteppingClock) -> None:
    one = await _ids(SimulatedTenant(profiles=3, seed=7, clock=clock, run_id="r1"), 3)
    two = await _ids(SimulatedTenant(profiles=3, seed=7, clock=clock, run_id="r1"), 3)
    assert one == two


async def test_new_ids_never_collide_with_adopted_ones(clock: SteppingClock) -> None:
    first = SimulatedTenant(profiles=4, seed=7, clock=clock, run_id="same")
    earlier = await _ids(first, 4)
    restarted = SimulatedTenant(profiles=4, seed=7, clock=clock, run_id="same")  # even a reused run id
    for op_id, user_id in zip(earlier, users(restarted, 4), strict=True):
        restarted.adopt_operation(op_id, user_id, "acct123", clock())
    fresh = await _ids(restarted, 4)
    assert not set(fresh) & set(earlier)
    assert len(restarted.graph.operation_ids()) == 8


@pytest.mark.parametrize("count", [1, 3])
async def test_used_locations_counted(tenant: SimulatedTenant, client: httpx.AsyncClient, count: int) -> None:
    for user_id in users(tenant, count):
        await export(client, user_id, container(f"c-{user_id}"))
    assert tenant.graph.used_locations() == count


async def test_an_unresolved_template_is_refused(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    refused = await export(client, users(tenant, 1)[0], container("dsr-{userId}"))
    assert refused.status_code == 400 and "unresolved template" in refused.json()["error"]["message"]
    assert tenant.graph.operation_ids() == []
