"""Graph's real answers in the simulator: the 202 as headers with an empty body (msgraph-sdk-raptor#488),
the documented body form as a knob, the namespace-qualified action path, and ``GET /dataPolicyOperations``
(the collection Microsoft's SDK generates) with ``$filter``, ``$top``, paging and "not offered"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from console.auth.base import StaticTokenProvider
from console.graph import errors
from console.graph.client import GraphClient, OperationsListNotOffered
from console.graph.errors import parse_error_body
from console.sim.graph import EXPORTS
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from tests.sim.conftest import SteppingClock

PROFILES = "directory/inboundSharedUserProfiles"


def users(tenant: SimulatedTenant, n: int) -> list[str]:
    return [p.user_id for p in tenant.graph.profiles[:n]]


async def submit(client: httpx.AsyncClient, user_id: str, action: str = "exportPersonalData") -> httpx.Response:
    return await client.post(f"{PROFILES}/{user_id}/{action}", json={"storageLocation": "MyStorageAccount"})


async def list_all(client: httpx.AsyncClient, url: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    items = list(response.json()["value"])
    pages = 1
    while "@odata.nextLink" in response.json():
        response = await client.get(response.json()["@odata.nextLink"])
        assert response.status_code == 200, response.text
        items += response.json()["value"]
        pages += 1
    return items


# ---------------------------------------------------------------- the 202


async def test_the_202_sends_location_and_retry_after_as_headers_with_an_empty_body(
    tenant: SimulatedTenant, client: httpx.AsyncClient
) -> None:
    response = await submit(client, users(tenant, 1)[0])
    assert response.status_code == 202
    assert "/v1.0/dataPolicyOperations/" in response.headers["Location"]
    assert response.headers["Retry-After"] == "2"
    assert response.content == b"" and "content-type" not in response.headers


async def test_the_documented_body_form_is_a_knob(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.set_knobs({"location": "body_only"})
    response = await submit(client, users(tenant, 1)[0])
    assert response.status_code == 202 and "Location" not in response.headers and "Retry-After" not in response.headers
    body = response.json()
    assert "/v1.0/dataPolicyOperations/" in body["Location"] and body["Retry-After"] == 2
    with pytest.raises(ValueError, match="location is one of header"):
        tenant.set_knobs({"location": "sideways"})


async def test_the_client_reads_headers_first_and_falls_back_to_the_body(tenant: SimulatedTenant) -> None:
    async with GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token()), transport=tenant.transport()
    ) as graph:
        plain = await graph.export_personal_data(users(tenant, 1)[0], "MyStorageAccount")
        tenant.graph.faults.location = "body_only"
        documented = await graph.export_personal_data(users(tenant, 2)[1], "MyStorageAccount")
    assert plain.operation_id in tenant.graph.operation_ids() and plain.retry_after == 2
    assert documented.operation_id in tenant.graph.operation_ids() and documented.retry_after == 2


# ---------------------------------------------------------------- the qualified action path


async def test_the_namespace_qualified_action_path_is_accepted(
    tenant: SimulatedTenant, client: httpx.AsyncClient
) -> None:
    user = users(tenant, 1)[0]
    response = await submit(client, user, "microsoft.graph.exportPersonalData")
    assert response.status_code == 202, response.text
    [op_id] = tenant.graph.operation_ids()
    assert response.headers["Location"].endswith(op_id)
    assert tenant.requests[-1].kind == "export" and tenant.requests[-1].user_id == user
    assert EXPORTS.matches("POST", f"/beta/{PROFILES}/{user}/microsoft.graph.exportPersonalData")
    wrong = await client.get(f"{PROFILES}/{user}/microsoft.graph.exportPersonalData")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"


# ---------------------------------------------------------------- GET /dataPolicyOperations


async def test_the_collection_filters_on_user_and_pages_with_next_link(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    first, second = users(tenant, 2)
    for _ in range(5):
        await submit(client, first)
        clock.advance(1)
    await submit(client, second)
    tenant.graph.config.page_size = 2
    mine = await list_all(client, "dataPolicyOperations", {"$filter": f"userId eq '{first}'"})
    assert len(mine) == 5 and {op["userId"] for op in mine} == {first}
    assert [op["id"] for op in mine] == [i for i in tenant.graph.operation_ids() if i in {op["id"] for op in mine}]
    assert all(op["submittedDateTime"] and op["status"] for op in mine)
    everyone = await list_all(client, "dataPolicyOperations")
    assert len(everyone) == 6
    top = await client.get("dataPolicyOperations", params={"$top": "4", "$filter": f"userId eq '{first}'"})
    assert len(top.json()["value"]) == 4 and "$skiptoken=" in top.json()["@odata.nextLink"]
    rest = await client.get(top.json()["@odata.nextLink"])
    assert len(rest.json()["value"]) == 1 and "@odata.nextLink" not in rest.json()
    since = await list_all(
        client,
        "dataPolicyOperations",
        {"$filter": f"userId eq '{first}' and submittedDateTime ge {mine[3]['submittedDateTime']}"},
    )
    assert [op["id"] for op in since] == [op["id"] for op in mine[3:]]
    newest = await client.get("dataPolicyOperations", params={"$orderby": "submittedDateTime desc", "$top": "1"})
    assert newest.json()["value"][0]["userId"] == second


@pytest.mark.parametrize(
    "query",
    [{"$filter": "status eq 'running'"}, {"$top": "0"}, {"$top": "many"}, {"$search": "x"}, {"$skiptoken": "bm8"}],
)
async def test_the_collection_refuses_what_it_does_not_understand(
    client: httpx.AsyncClient, query: dict[str, str]
) -> None:
    response = await client.get("dataPolicyOperations", params=query)
    assert response.status_code == 400
    assert parse_error_body(response.text)[0]


async def test_a_knob_ignores_the_filter(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    first, second = users(tenant, 2)
    await submit(client, first)
    await submit(client, second)
    tenant.set_knobs({"ignore_operations_filter": True})
    listed = await list_all(client, "dataPolicyOperations", {"$filter": f"userId eq '{first}'"})
    assert {op["userId"] for op in listed} == {first, second}


@pytest.mark.parametrize("status", [400, 403, 404, 405])
async def test_a_tenant_that_does_not_offer_the_collection(
    tenant: SimulatedTenant, client: httpx.AsyncClient, status: int
) -> None:
    await submit(client, users(tenant, 1)[0])
    tenant.set_knobs({"operations_list_status": status})
    response = await client.get("dataPolicyOperations", params={"$filter": "userId eq 'x'"})
    assert response.status_code == status
    assert parse_error_body(response.text)[0]
    poll = await client.get(f"dataPolicyOperations/{tenant.graph.operation_ids()[0]}")
    assert poll.status_code == 200  # only the collection is missing
    tenant.set_knobs({"operations_list_status": None})
    assert (await client.get("dataPolicyOperations")).status_code == 200


async def test_posting_to_the_collection_is_405(client: httpx.AsyncClient) -> None:
    response = await client.post("dataPolicyOperations", json={})
    assert response.status_code == 405 and response.headers["Allow"] == "GET"


# ---------------------------------------------------------------- the client's list_operations


def graph_client(tenant: SimulatedTenant) -> GraphClient:
    return GraphClient(DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token()), transport=tenant.transport())


async def test_the_client_lists_a_users_operations_since_a_time_whatever_the_server_filters(
    tenant: SimulatedTenant, clock: SteppingClock
) -> None:
    first, second = users(tenant, 2)
    async with graph_client(tenant) as graph:
        await graph.export_personal_data(first, "MyStorageAccount")  # before: not listed
        clock.advance(600)
        since = datetime.fromtimestamp(clock.now, UTC)
        clock.advance(1)
        recent = [(await graph.export_personal_data(first, "MyStorageAccount")).operation_id for _ in range(3)]
        await graph.export_personal_data(second, "MyStorageAccount")  # another user: not listed
        tenant.graph.config.page_size = 2
        for ignored in (False, True):
            tenant.graph.faults.ignore_operations_filter = ignored
            listed = await graph.list_operations(first, since)
            assert [op.id for op in listed] == recent, f"filter ignored by the server: {ignored}"
            assert all(op.user_id == first and op.submitted is not None for op in listed)
    queries = [r.query for r in tenant.requests if r.kind == "operations" and "$filter" in r.query]
    assert queries and all(q == f"$filter=userId eq '{first}'" for q in queries)
    assert graph.operation_url(recent[0]) == f"{DEMO_GRAPH_URL}/dataPolicyOperations/{recent[0]}"


@pytest.mark.parametrize("status", [400, 403, 404, 405])
async def test_the_client_says_when_the_tenant_does_not_offer_the_list(tenant: SimulatedTenant, status: int) -> None:
    tenant.graph.faults.operations_list_status = status
    async with graph_client(tenant) as graph:
        with pytest.raises(OperationsListNotOffered) as caught:
            await graph.list_operations(users(tenant, 1)[0], datetime.now(UTC))
    assert caught.value.status == status and "does not list dataPolicyOperations" in str(caught.value)


async def test_the_client_keeps_the_token_to_the_graph_host_when_paging(
    tenant: SimulatedTenant, clock: SteppingClock
) -> None:
    user = users(tenant, 1)[0]
    async with graph_client(tenant) as graph:
        since = datetime.fromtimestamp(clock.now - 1, UTC)
        for _ in range(3):
            await graph.export_personal_data(user, "MyStorageAccount")
        tenant.graph.config.page_size = 1
        tenant.graph.faults.location_base = "https://evil.example"
        with pytest.raises(errors.UnsafeRedirect):
            await graph.list_operations(user, since)
    assert [r.url.split("?")[0] for r in tenant.requests if r.kind == "operations"] == [
        f"{DEMO_GRAPH_URL}/dataPolicyOperations"
    ]
