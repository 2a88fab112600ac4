"""The simulated Graph answers like the real one (../shared/graph-api.md), in-process."""

from __future__ import annotations

import json
import threading
from email.utils import parsedate_to_datetime

import httpx
import pytest

from console.graph.errors import parse_error_body
from console.graph.models import DataPolicyOperation, InboundSharedUserProfile, parse_progress
from console.sim.graph import EXPORTS, POLLS, RETRY_AFTER_HTTP_DATE, redact_storage_location
from console.sim.tenant import DEMO_GRAPH_URL, DEMO_TENANT_ID, SimulatedTenant
from tests.sim.conftest import SteppingClock

PROFILES = "directory/inboundSharedUserProfiles"
SAS = "https://contosoexports.blob.core.windows.net/exports?sv=2022-11-02&sp=rw&sig=S3cr3tSignature%3D&se=2030-01-01"


def export_path(user_id: str) -> str:
    return f"{PROFILES}/{user_id}/exportPersonalData"


async def first_user(client: httpx.AsyncClient) -> str:
    response = await client.get(PROFILES)
    return str(response.json()["value"][0]["userId"])


async def submit(client: httpx.AsyncClient, user_id: str, location: str = "MyStorageAccount") -> httpx.Response:
    return await client.post(export_path(user_id), json={"storageLocation": location})


def assert_envelope(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status
    got_code, message, request_id, client_request_id = parse_error_body(response.text)
    assert got_code == code
    assert message
    assert request_id == response.headers["request-id"]
    assert client_request_id == response.headers["client-request-id"]
    assert "date" in response.json()["error"]["innerError"]
    return message


# ---------------------------------------------------------------- profiles


async def test_pages_through_every_profile_with_opaque_skiptoken(client: httpx.AsyncClient) -> None:
    url: str | None = PROFILES
    seen: list[InboundSharedUserProfile] = []
    pages = 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        data = response.json()
        assert data["@odata.context"].endswith("$metadata#directory/inboundSharedUserProfiles")
        seen += [InboundSharedUserProfile.from_json(item) for item in data["value"]]
        url = data.get("@odata.nextLink")
        if url:
            assert url.startswith("https://graph.demo.invalid/beta/directory/inboundSharedUserProfiles?$skiptoken=")
            assert "offset" not in url and "100" not in url.split("=", 1)[1][:3]
        pages += 1
    assert pages == 3
    assert len(seen) == 250
    assert len({p.user_id for p in seen}) == 250
    assert len({p.user_principal_name for p in seen}) == 250
    assert all(p.display_name and "@" in p.user_principal_name and len(p.home_tenant_id) == 36 for p in seen)


async def test_v1_prefix_answers_too(client: httpx.AsyncClient) -> None:
    response = await client.get("https://graph.demo.invalid/v1.0/directory/inboundSharedUserProfiles")
    assert response.status_code == 200
    assert response.json()["@odata.nextLink"].startswith("https://graph.demo.invalid/v1.0/")


@pytest.mark.parametrize("option", ["$top=5", "$skip=10", "$count=true"])
async def test_unsupported_query_options_are_400(client: httpx.AsyncClient, option: str) -> None:
    response = await client.get(f"{PROFILES}?{option}")
    assert option.split("=")[0] in assert_envelope(response, 400, "Request_UnsupportedQuery")


async def test_forged_skiptoken_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{PROFILES}?$skiptoken=bm90LWEtdG9rZW4")
    assert_envelope(response, 400, "Directory_ExpiredPageToken")


async def test_filter_startswith_pages_within_the_filter(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.config.page_size = 3
    response = await client.get(PROFILES, params={"$filter": "startswith(displayName,'a')"})
    names = [p["displayName"] for p in response.json()["value"]]
    while "@odata.nextLink" in response.json():
        response = await client.get(response.json()["@odata.nextLink"])
        names += [p["displayName"] for p in response.json()["value"]]
    expected = [p.display_name for p in tenant.graph.profiles if p.display_name.lower().startswith("a")]
    assert names == expected and expected


async def test_get_profile_and_404(client: httpx.AsyncClient) -> None:
    user_id = await first_user(client)
    response = await client.get(f"{PROFILES}/{user_id}")
    assert response.status_code == 200
    assert response.json()["userId"] == user_id
    missing = await client.get(f"{PROFILES}/00000000-0000-4000-8000-000000000000")
    assert_envelope(missing, 404, "Request_ResourceNotFound")


def test_profiles_are_deterministic_and_scale() -> None:
    one = SimulatedTenant(profiles=20_000, seed=3).graph.profiles
    two = SimulatedTenant(profiles=20_000, seed=3).graph.profiles
    other = SimulatedTenant(profiles=50, seed=4).graph.profiles
    assert one == two
    assert one[0] != other[0]
    assert len({p.user_principal_name for p in one}) == 20_000
    assert len({p.home_tenant_id for p in one}) >= 5


# ---------------------------------------------------------------- export and polls


async def test_export_answers_202_with_location_and_retry_after(client: httpx.AsyncClient) -> None:
    user_id = await first_user(client)
    response = await submit(client, user_id)
    assert response.status_code == 202
    location = response.headers["Location"]
    # graph-api.md trap 3: Location is on /v1.0 although we called /beta, same host.
    assert location.startswith("https://graph.demo.invalid/v1.0/dataPolicyOperations/")
    assert response.headers["Retry-After"] == "2"
    # trap 2 and 5: headers and an empty body, as the service sends them (msgraph-sdk-raptor#488); no profile
    assert response.content == b""
    poll = await client.get(location)
    assert poll.status_code == 200
    operation = DataPolicyOperation.from_json(poll.json())
    assert operation.id == location.rsplit("/", 1)[1]
    assert operation.user_id == user_id
    assert operation.storage_location == "MyStorageAccount"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "storageLocation"),
        ({"storageLocation": ""}, "storageLocation"),
        ({"storageLocation": "   "}, "storageLocation"),
        ({"storageLocation": 5}, "storageLocation"),
        ({"bindingParameter": "x"}, "bindingParameter"),
        ({"bindingParameter": "x", "storageLocation": "acct"}, "bindingParameter"),
        ({"storageLocation": "http://insecure.example/c"}, "https"),
        ({"storageLocation": "not a name!"}, "Storage account name"),
    ],
)
async def test_export_rejects_bad_bodies(client: httpx.AsyncClient, body: dict[str, object], fragment: str) -> None:
    response = await client.post(export_path(await first_user(client)), json=body)
    assert fragment in assert_envelope(response, 400, "BadRequest")


async def test_export_rejects_non_json_and_unknown_user_and_get(client: httpx.AsyncClient) -> None:
    user_id = await first_user(client)
    bad = await client.post(export_path(user_id), content=b"{nope", headers={"Content-Type": "application/json"})
    assert_envelope(bad, 400, "BadRequest")
    unknown = await submit(client, "11111111-1111-4111-8111-111111111111")
    assert_envelope(unknown, 404, "Request_ResourceNotFound")
    wrong_method = await client.get(export_path(user_id))  # trap 1: the docs say GET, it is a POST
    assert_envelope(wrong_method, 405, "Request_BadRequest")
    assert wrong_method.headers["Allow"] == "POST"


async def test_status_progresses_on_the_clock(client: httpx.AsyncClient, clock: SteppingClock) -> None:
    location = (await submit(client, await first_user(client))).headers["Location"]

    async def poll() -> tuple[DataPolicyOperation, httpx.Response]:
        response = await client.get(location)
        assert response.status_code == 200
        return DataPolicyOperation.from_json(response.json()), response

    operation, response = await poll()
    assert (operation.status, operation.progress, operation.completed) == ("notStarted", 0.0, None)
    assert response.json()["completedDateTime"] is None
    assert response.headers["Retry-After"] == "2"
    progress: list[float] = []
    for _ in range(8):
        clock.advance(2.0)
        operation, response = await poll()
        assert operation.status == "running"
        assert response.headers["Retry-After"] == "2"
        assert operation.progress is not None
        progress.append(operation.progress)
    assert progress == sorted(progress) and progress[0] < progress[-1] < 100
    clock.advance(10.0)
    operation, response = await poll()
    assert operation.status == "complete"
    assert operation.progress == 100.0
    assert operation.completed is not None and operation.submitted is not None
    assert (operation.completed - operation.submitted).total_seconds() == pytest.approx(20.0, abs=0.01)
    assert "Retry-After" not in response.headers
    assert response.json()["completedDateTime"].endswith("Z")


async def test_failing_user_ends_failed(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    user_id = await first_user(client)
    tenant.graph.faults.failing_users.add(user_id)
    location = (await submit(client, user_id)).headers["Location"]
    clock.advance(60)
    operation = DataPolicyOperation.from_json((await client.get(location)).json())
    assert operation.status == "failed"
    assert operation.completed is not None
    assert operation.progress is not None and operation.progress < 100


async def test_sas_signature_is_never_echoed(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    location = (await submit(client, await first_user(client), SAS)).headers["Location"]
    response = await client.get(location)
    assert "S3cr3tSignature" not in response.text
    assert response.json()["storageLocation"] == redact_storage_location(SAS)
    assert "sig=***" in response.json()["storageLocation"]
    assert "sp=rw" in response.json()["storageLocation"]
    assert all("S3cr3t" not in repr(record) for record in tenant.requests)
    op = tenant.graph.operation(tenant.graph.operation_ids()[0])
    assert op is not None and "S3cr3t" not in json.dumps(op)


async def test_unknown_operation_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("https://graph.demo.invalid/v1.0/dataPolicyOperations/0000")
    assert_envelope(response, 404, "Request_ResourceNotFound")


async def test_remove_personal_data_answers_204_and_profile_stays_by_default(client: httpx.AsyncClient) -> None:
    # Whether the profile leaves the list is undocumented: it stays unless removal_hides_profile is set.
    user_id = await first_user(client)
    response = await client.post(f"{PROFILES}/{user_id}/removePersonalData")
    assert response.status_code == 204 and response.content == b"" and response.headers["request-id"]
    assert (await client.get(f"{PROFILES}/{user_id}")).status_code == 200


# ---------------------------------------------------------------- headers, auth, permissions


async def test_every_answer_carries_support_headers(client: httpx.AsyncClient, clock: SteppingClock) -> None:
    for response in [
        await client.get(PROFILES, headers={"client-request-id": "c0ffee00-0000-4000-8000-000000000001"}),
        await client.get(f"{PROFILES}?$top=1", headers={"client-request-id": "c0ffee00-0000-4000-8000-000000000002"}),
        await client.get(
            PROFILES, headers={"Authorization": "", "client-request-id": "c0ffee00-0000-4000-8000-000000000003"}
        ),
    ]:
        assert response.headers["client-request-id"].startswith("c0ffee00")
        assert len(response.headers["request-id"]) == 36
        assert json.loads(response.headers["x-ms-ags-diagnostic"])["ServerInfo"]
        assert parsedate_to_datetime(response.headers["Date"]).timestamp() == pytest.approx(clock.now, abs=1)
    first, second = await client.get(PROFILES), await client.get(PROFILES)
    assert first.headers["request-id"] != second.headers["request-id"]
    # Without a client-request-id, Graph answers with its own (here: the request-id).
    assert first.headers["client-request-id"] == first.headers["request-id"]


async def test_bad_tokens_get_401(tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock) -> None:
    no_header = await client.get(PROFILES, headers={"Authorization": ""})
    assert "empty" in assert_envelope(no_header, 401, "InvalidAuthenticationToken")
    assert "WWW-Authenticate" in no_header.headers
    unknown = await client.get(PROFILES, headers={"Authorization": "Bearer not-a-token"})
    assert_envelope(unknown, 401, "InvalidAuthenticationToken")
    other_tenant = tenant.tokens.issue(tenant_id="99999999-9999-4999-8999-999999999999", subject="x")
    foreign = await client.get(PROFILES, headers={"Authorization": f"Bearer {other_tenant}"})
    assert "another tenant" in assert_envelope(foreign, 401, "InvalidAuthenticationToken")
    short = tenant.issue_token(lifetime=10)
    assert (await client.get(PROFILES, headers={"Authorization": f"Bearer {short}"})).status_code == 200
    clock.advance(11)
    expired = await client.get(PROFILES, headers={"Authorization": f"Bearer {short}"})
    assert "expired" in assert_envelope(expired, 401, "InvalidAuthenticationToken")
    tenant.tokens.expire_all()
    assert (await client.get(PROFILES)).status_code == 401


async def test_issued_token_is_for_this_tenant(tenant: SimulatedTenant, token: str) -> None:
    claims = tenant.tokens.validate(token)
    assert claims is not None and claims["tid"] == DEMO_TENANT_ID
    assert "User.Export.All" in claims["roles"]


async def test_poll_permission_switch_names_user_export_all(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.faults.forbid_polls = True
    accepted = await submit(client, await first_user(client))
    assert accepted.status_code == 202  # exporting is still allowed
    denied = await client.get(accepted.headers["Location"])
    assert "User.Export.All" in assert_envelope(denied, 403, "Authorization_RequestDenied")
    tenant.graph.faults.forbid_all = True
    assert_envelope(await client.get(PROFILES), 403, "Authorization_RequestDenied")


# ---------------------------------------------------------------- limits and faults


async def test_service_limits_answer_429_without_retry_after(clock: SteppingClock) -> None:
    from console.sim.graph import ServiceLimits

    tenant = SimulatedTenant(
        profiles=5,
        clock=clock,
        limits=ServiceLimits(exports_per_day=3, exports_per_user_per_day=2, requests_per_hour=4),
    )
    token = tenant.issue_token(lifetime=3 * 86_400)
    async with httpx.AsyncClient(
        transport=tenant.transport(), base_url=DEMO_GRAPH_URL, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        users = [p.user_id for p in tenant.graph.profiles]
        assert [(await submit(client, users[0])).status_code for _ in range(3)] == [202, 202, 429]
        per_user = await submit(client, users[0])
        assert "per day for this user" in assert_envelope(per_user, 429, "TooManyRequests")
        assert "Retry-After" not in per_user.headers
        assert (await submit(client, users[1])).status_code == 202
        per_tenant = await submit(client, users[2])
        assert "for this tenant" in assert_envelope(per_tenant, 429, "TooManyRequests")
        assert "Retry-After" not in per_tenant.headers
        assert tenant.graph.exports_used() == 3 and tenant.graph.exports_used(users[0]) == 2

        assert [(await client.get(PROFILES)).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
        hourly = await client.get(PROFILES)
        assert "per hour" in assert_envelope(hourly, 429, "TooManyRequests")
        assert "Retry-After" not in hourly.headers
        clock.advance(3601)
        assert (await client.get(PROFILES)).status_code == 200
        clock.advance(86_400 - 3600)
        assert (await submit(client, users[0])).status_code == 202


async def test_injected_throttle_counts_down_and_can_target_polls(
    tenant: SimulatedTenant, client: httpx.AsyncClient
) -> None:
    tenant.graph.faults.throttle(2, retry_after="2.128")
    first, second, third = [await client.get(PROFILES) for _ in range(3)]
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "2.128"
    assert_envelope(first, 429, "TooManyRequests")

    tenant.graph.faults.throttle(1, retry_after=None, only=POLLS)
    accepted = await submit(client, await first_user(client))
    assert accepted.status_code == 202
    throttled = await client.get(accepted.headers["Location"])
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers
    assert (await client.get(accepted.headers["Location"])).status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_injected_server_errors(tenant: SimulatedTenant, client: httpx.AsyncClient, status: int) -> None:
    tenant.graph.faults.fail(1, status=status, retry_after="3", only=EXPORTS)
    user_id = await first_user(client)
    failed = await submit(client, user_id)
    assert failed.status_code == status and failed.headers["Retry-After"] == "3"
    assert parse_error_body(failed.text)[2] == failed.headers["request-id"]
    assert (await submit(client, user_id)).status_code == 202
    assert tenant.graph.exports_used(user_id) == 1  # the failed POST did not run


def test_fail_refuses_non_5xx(tenant: SimulatedTenant) -> None:
    with pytest.raises(ValueError):
        tenant.graph.faults.fail(1, status=429)


async def test_malformed_poll_bodies(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    location = (await submit(client, await first_user(client))).headers["Location"]
    tenant.graph.faults.malformed_polls_next = 1
    broken = await client.get(location)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert (await client.get(location)).json()["id"] in location


async def test_location_modes(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    user_id = await first_user(client)
    tenant.graph.faults.location = "body_only"  # the docs' example: both in the body, no headers
    body_only = await submit(client, user_id)
    assert "Location" not in body_only.headers and "dataPolicyOperations" in body_only.json()["Location"]
    assert "Retry-After" not in body_only.headers and body_only.json()["Retry-After"] == 2
    tenant.graph.faults.location = "header_and_body"  # the headers, and the docs' body echoing them
    both = await submit(client, user_id)
    assert both.json() == {"Location": both.headers["Location"], "Retry-After": 2}
    tenant.graph.faults.location = "none"
    nowhere = await submit(client, user_id)
    assert nowhere.status_code == 202 and "Location" not in nowhere.headers and "Location" not in nowhere.json()
    tenant.graph.faults.location = "header_and_body"
    tenant.graph.faults.location_base = "https://evil.example"
    elsewhere = await submit(client, user_id)
    assert elsewhere.headers["Location"].startswith("https://evil.example/v1.0/dataPolicyOperations/")


@pytest.mark.parametrize("value", ["2.128", "0", "-5", "abc", "999999"])
async def test_odd_retry_after_values(tenant: SimulatedTenant, client: httpx.AsyncClient, value: str) -> None:
    tenant.graph.faults.retry_after_value = value
    accepted = await submit(client, await first_user(client))
    assert accepted.headers["Retry-After"] == value
    assert (await client.get(accepted.headers["Location"])).headers["Retry-After"] == value


async def test_retry_after_as_http_date_and_omitted(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    tenant.graph.faults.retry_after_value = RETRY_AFTER_HTTP_DATE
    accepted = await submit(client, await first_user(client))
    when = parsedate_to_datetime(accepted.headers["Retry-After"]).timestamp()
    assert when == pytest.approx(clock.now + 2.0, abs=1)
    tenant.graph.faults.omit_retry_after = True
    silent = await submit(client, await first_user(client))
    assert "Retry-After" not in silent.headers and silent.content == b""


async def test_unknown_status_and_string_progress(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    tenant.graph.faults.unknown_status_every = 2
    tenant.graph.faults.string_progress_every = 2
    user_id = await first_user(client)
    plain = (await submit(client, user_id)).headers["Location"]
    odd = (await submit(client, user_id)).headers["Location"]
    clock.advance(10)
    assert (await client.get(plain)).json()["status"] == "running"
    odd_data = (await client.get(odd)).json()
    assert odd_data["status"] == "archiving"
    assert isinstance(odd_data["progress"], str) and parse_progress(odd_data["progress"]) == pytest.approx(
        44.4, abs=0.1
    )
    clock.advance(20)
    assert (await client.get(odd)).json()["status"] == "complete"


async def test_delay_is_waited_by_the_transport_not_the_handler(clock: SteppingClock) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    tenant = SimulatedTenant(profiles=3, clock=clock, sleep=fake_sleep)
    tenant.graph.faults.delay = 4.5
    tenant.graph.faults.delay_only = POLLS
    async with httpx.AsyncClient(
        transport=tenant.transport(),
        base_url=DEMO_GRAPH_URL,
        headers={"Authorization": f"Bearer {tenant.issue_token()}"},
    ) as client:
        accepted = await submit(client, tenant.graph.profiles[0].user_id)
        assert waits == []
        await client.get(accepted.headers["Location"])
        assert waits == [4.5]


# ---------------------------------------------------------------- recording and transports


async def test_requests_are_recorded_for_timing_assertions(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    user_id = await first_user(client)
    accepted = await client.post(
        export_path(user_id),
        json={"storageLocation": "acct"},
        headers={"client-request-id": "11111111-2222-4333-8444-555555555555"},
    )
    clock.advance(2.0)
    await client.get(accepted.headers["Location"])
    listed, exported, polled = tenant.requests
    assert (listed.kind, listed.method, listed.status) == ("list", "GET", 200)
    assert (exported.kind, exported.status, exported.user_id) == ("export", 202, user_id)
    assert exported.client_request_id == "11111111-2222-4333-8444-555555555555"
    assert exported.retry_after == "2"
    assert polled.kind == "poll" and polled.operation_id == exported.operation_id and polled.user_id == user_id
    assert polled.path.startswith("/v1.0/dataPolicyOperations/")
    # "no poll before Retry-After", as a client test would assert it:
    assert exported.retry_after is not None
    assert polled.at - exported.at >= float(exported.retry_after)


async def test_streaming_read_works(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", PROFILES) as response:
        data = json.loads(await response.aread())
    assert len(data["value"]) == 100


def test_sync_transport_is_thread_safe(tenant: SimulatedTenant, token: str) -> None:
    errors: list[int] = []
    users = [p.user_id for p in tenant.graph.profiles[:8]]

    def worker(user_id: str) -> None:
        with httpx.Client(
            transport=tenant.sync_transport(), base_url=DEMO_GRAPH_URL, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            for _ in range(20):
                response = http.post(export_path(user_id), json={"storageLocation": "acct"})
                if response.status_code != 202:
                    errors.append(response.status_code)
                http.get(response.headers["Location"])

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(tenant.graph.operation_ids()) == len(set(tenant.graph.operation_ids())) == 160
    assert tenant.graph.exports_used() == 160
    assert len(tenant.requests) == 320


async def test_non_graph_paths_go_to_identity(tenant: SimulatedTenant) -> None:
    async with httpx.AsyncClient(transport=tenant.transport(), base_url="https://login.demo.invalid") as http:
        response = await http.get("/nowhere")
    assert response.status_code == 404
    assert tenant.requests == []
