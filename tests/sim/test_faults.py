"""The fault knobs issue 7's fault suite needs: each one, set at construction, at run time, by name."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator

import httpx
import pytest

from console.sim.graph import EXPORTS, POLLS, GraphFaults
from console.sim.knobs import (
    LOCATION_STYLES,
    add_simulate_arguments,
    apply_knobs,
    apply_simulate_arguments,
    knobs_json,
)
from console.sim.server import LoopbackServer
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from tests.sim.conftest import SteppingClock

PROFILES = "directory/inboundSharedUserProfiles"


async def export(client: httpx.AsyncClient, user_id: str, location: str = "acct123") -> httpx.Response:
    return await client.post(f"{PROFILES}/{user_id}/exportPersonalData", json={"storageLocation": location})


def uid(tenant: SimulatedTenant, index: int = 0) -> str:
    return tenant.graph.profiles[index].user_id


# ---------------------------------------------------------------- storms and sporadic throttling


@pytest.mark.parametrize(("status", "retry_after"), [(429, None), (429, "2"), (503, None), (503, "1.5")])
async def test_storm_answers_everything_for_its_window(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock, status: int, retry_after: str | None
) -> None:
    tenant.graph.start_storm(20.0, status=status, retry_after=retry_after)
    for _ in range(3):
        response = await client.get(PROFILES)
        assert response.status_code == status
        assert response.headers.get("Retry-After") == retry_after
        clock.advance(6.0)
    clock.advance(3.0)  # 21 s after the start
    assert (await client.get(PROFILES)).status_code == 200


async def test_storm_can_be_limited_to_polls(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    accepted = await export(client, uid(tenant))
    tenant.graph.start_storm(10.0, only=POLLS)
    assert (await client.get(accepted.headers["Location"])).status_code == 429
    assert (await export(client, uid(tenant, 1))).status_code == 202


async def test_sporadic_fraction_throttles_about_that_share(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.faults.sporadic(0.25, status=429)
    statuses = [(await client.get(PROFILES)).status_code for _ in range(400)]
    throttled = statuses.count(429)
    assert 60 <= throttled <= 140, throttled
    assert set(statuses) == {200, 429}
    assert all(r.retry_after is None for r in tenant.requests if r.status == 429)


# ---------------------------------------------------------------- dropped connections and hangs


async def test_drop_before_the_server_acted_creates_nothing(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.faults.drop(1, "before", only=EXPORTS)
    with pytest.raises(httpx.ReadError):
        await export(client, uid(tenant))
    assert tenant.graph.operation_ids() == []
    assert (await export(client, uid(tenant))).status_code == 202  # counted: the next one goes through


async def test_drop_after_the_server_acted_leaves_an_operation(
    tenant: SimulatedTenant, client: httpx.AsyncClient
) -> None:
    tenant.graph.faults.drop(1, "after", only=EXPORTS)
    with pytest.raises(httpx.RemoteProtocolError):
        await export(client, uid(tenant))
    assert len(tenant.graph.operation_ids()) == 1  # Graph accepted it; the 202 was lost


async def test_drop_connect_refuses(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.faults.drop(1, "connect")
    with pytest.raises(httpx.ConnectError):
        await client.get(PROFILES)


@pytest.mark.parametrize(("when", "created"), [("before", 0), ("after", 1)])
def test_drop_over_loopback_resets_the_connection(tenant: SimulatedTenant, when: str, created: int) -> None:
    token = tenant.issue_token()
    with (
        LoopbackServer(tenant) as server,
        httpx.Client(base_url=server.graph_url + "/", headers={"Authorization": f"Bearer {token}"}, timeout=5) as http,
    ):
        tenant.graph.faults.drop(1, when, only=EXPORTS)  # type: ignore[arg-type]
        with pytest.raises(httpx.TransportError):
            http.post(f"{PROFILES}/{uid(tenant)}/exportPersonalData", json={"storageLocation": "acct123"})
        assert len(tenant.graph.operation_ids()) == created
        assert http.get(PROFILES).status_code == 200  # the server lives on


async def test_hang_waits_through_the_injected_sleep(clock: SteppingClock) -> None:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    tenant = SimulatedTenant(profiles=5, clock=clock, sleep=sleep)
    tenant.graph.faults.hang(1, seconds=900.0, only=POLLS)
    async with httpx.AsyncClient(
        transport=tenant.transport(),
        base_url=DEMO_GRAPH_URL + "/",
        headers={"Authorization": f"Bearer {tenant.issue_token()}"},
    ) as http:
        accepted = await export(http, uid(tenant))
        assert waited == []
        await http.get(accepted.headers["Location"])
        await http.get(accepted.headers["Location"])
    assert waited == [900.0]


# ---------------------------------------------------------------- malformed bodies


async def _poll_after_spoil(tenant: SimulatedTenant, client: httpx.AsyncClient, kind: str) -> httpx.Response:
    accepted = await export(client, uid(tenant))
    tenant.graph.faults.spoil(1, kind)  # type: ignore[arg-type]
    return await client.get(accepted.headers["Location"])


async def test_truncated_body(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    response = await _poll_after_spoil(tenant, client, "truncated")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)


async def test_html_body(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    response = await _poll_after_spoil(tenant, client, "html")
    assert response.headers["content-type"].startswith("text/html") and "<html>" in response.text


@pytest.mark.parametrize(("kind", "check"), [("nan", math.isnan), ("infinity", math.isinf)])
async def test_non_finite_progress(
    tenant: SimulatedTenant, client: httpx.AsyncClient, kind: str, check: object
) -> None:
    response = await _poll_after_spoil(tenant, client, kind)
    assert "NaN" in response.text or "Infinity" in response.text
    assert check(json.loads(response.text)["progress"])  # type: ignore[operator]


async def test_empty_and_array_bodies_then_normal(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    assert (await _poll_after_spoil(tenant, client, "empty")).content == b""
    accepted = await export(client, uid(tenant, 1))
    tenant.graph.faults.spoil(1, "not_object")
    location = accepted.headers["Location"]
    assert (await client.get(location)).json() == []
    assert (await client.get(location)).json()["id"]  # counted: spoiled once


# ---------------------------------------------------------------- odd Locations and Retry-After


@pytest.mark.parametrize("style", LOCATION_STYLES)
async def test_location_styles(tenant: SimulatedTenant, client: httpx.AsyncClient, style: str) -> None:
    tenant.graph.faults.location_style = style  # type: ignore[assignment]
    response = await export(client, uid(tenant))
    location = response.headers["Location"]
    op_id = tenant.graph.operation_ids()[0]
    assert response.content == b""  # headers only, as the service sends them
    expected = {
        "normal": "https://graph.demo.invalid/v1.0/dataPolicyOperations/",
        "same_version": "https://graph.demo.invalid/beta/dataPolicyOperations/",
        "foreign_host": "https://evil.example/v1.0/",
        "bad_port": "https://graph.demo.invalid:99999/",
        "ipv6": "https://[::1]:8443/",
        "bad_ipv6": "https://[::1/v1.0",
        "relative": "/v1.0/dataPolicyOperations/",
        "garbage": "not a location",
    }[style]
    assert location.startswith(expected)
    if style != "garbage":
        assert location.endswith(op_id)


@pytest.mark.parametrize("value", ["0", "-5", "2.128", "1e9", "abc"])
async def test_retry_after_only_on_exports(tenant: SimulatedTenant, client: httpx.AsyncClient, value: str) -> None:
    tenant.graph.faults.retry_after_value = value
    tenant.graph.faults.retry_after_only = EXPORTS
    accepted = await export(client, uid(tenant))
    assert accepted.headers["Retry-After"] == value
    assert (await client.get(accepted.headers["Location"])).headers["Retry-After"] == "2"


# ---------------------------------------------------------------- operations that misbehave


async def test_stuck_operation_never_completes(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    tenant.graph.faults.stuck_users.add(uid(tenant))
    accepted = await export(client, uid(tenant))
    clock.advance(5.0)
    first = (await client.get(accepted.headers["Location"])).json()
    clock.advance(3_000.0)  # 150 times its duration (the token lives an hour)
    later = (await client.get(accepted.headers["Location"])).json()
    assert later["status"] == "running" and later["completedDateTime"] is None
    assert later["progress"] == first["progress"] or later["progress"] < 100


async def test_stuck_all_holds_existing_operations_until_turned_off(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    accepted = await export(client, uid(tenant), "https://a.blob.core.windows.net/c1?sp=cw&se=2099-01-01&sig=x")
    tenant.graph.faults.stuck_all = True
    clock.advance(100.0)
    assert (await client.get(accepted.headers["Location"])).json()["status"] == "running"
    tenant.graph.faults.stuck_all = False
    assert (await client.get(accepted.headers["Location"])).json()["status"] == "complete"


async def test_null_and_unknown_status(
    tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    tenant.graph.faults.null_status_users.add(uid(tenant))
    tenant.graph.faults.unknown_status_users.add(uid(tenant, 1))
    nulled = await export(client, uid(tenant))
    unknown = await export(client, uid(tenant, 1))
    clock.advance(10.0)
    assert (await client.get(nulled.headers["Location"])).json()["status"] is None
    assert (await client.get(unknown.headers["Location"])).json()["status"] == "archiving"


async def test_failing_every_nth(tenant: SimulatedTenant, client: httpx.AsyncClient, clock: SteppingClock) -> None:
    tenant.graph.faults.failing_every = 2
    locations = [(await export(client, uid(tenant, i))).headers["Location"] for i in range(4)]
    clock.advance(100.0)
    statuses = [(await client.get(loc)).json()["status"] for loc in locations]
    assert statuses == ["complete", "failed", "complete", "failed"]


async def test_unauthorized_mid_run(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    tenant.graph.faults.unauthorized_next = 1
    response = await client.get(PROFILES)
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert (await client.get(PROFILES)).status_code == 200


async def test_revoke_tokens_by_knob(tenant: SimulatedTenant, client: httpx.AsyncClient) -> None:
    apply_knobs(tenant, {"revoke_tokens": True})
    assert (await client.get(PROFILES)).status_code == 401


@pytest.mark.parametrize("status", [400, 409, 410])
async def test_permanent_poll_error(tenant: SimulatedTenant, client: httpx.AsyncClient, status: int) -> None:
    accepted = await export(client, uid(tenant))
    tenant.graph.faults.poll_error = status
    for _ in range(3):
        assert (await client.get(accepted.headers["Location"])).status_code == status
    assert (await client.get(PROFILES)).status_code == 200


# ---------------------------------------------------------------- knobs by name, CLI, control endpoint


def test_apply_knobs_coerces_and_validates(tenant: SimulatedTenant) -> None:
    apply_knobs(
        tenant,
        {
            "sporadic_fraction": "0.05",
            "sporadic_only": "polls",
            "failing_users": "A,b",
            "drop_next": 2,
            "drop_when": "before",
            "refuse_reused_location": "false",
            "limits": {"requests_per_hour": 50},
        },
    )
    faults = tenant.graph.faults
    assert faults.sporadic_fraction == 0.05 and faults.sporadic_only is POLLS
    assert faults.failing_users == {"a", "b"} and faults.drop_next == 2 and faults.drop_when == "before"
    assert tenant.graph.config.refuse_reused_location is False
    assert tenant.graph.config.limits.requests_per_hour == 50
    for bad in (
        {"nope": 1},
        {"drop_when": "sometimes"},
        {"sporadic_fraction": 2},
        {"storm_status": 200},
        {"poll_error": 500},
        {"drop_next": "x"},
        {"sporadic_only": "everything"},
    ):
        with pytest.raises(ValueError):
            apply_knobs(tenant, bad)
    assert faults.drop_next == 2  # a refused call changes nothing


def test_storm_seconds_starts_now_and_reset_clears(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    apply_knobs(tenant, {"storm_status": 503, "storm_seconds": 20})
    assert tenant.graph.faults.storm_until == clock() + 20 and tenant.graph.faults.storm_status == 503
    apply_knobs(tenant, {"reset": True})
    assert tenant.graph.faults == GraphFaults()


def test_every_fault_field_is_visible_and_settable(tenant: SimulatedTenant) -> None:
    shown = knobs_json(tenant)
    json.dumps(shown)
    for name in GraphFaults.__dataclass_fields__:
        assert name in shown
    apply_knobs(tenant, {k: v for k, v in shown.items() if k in GraphFaults.__dataclass_fields__})


def test_simulate_arguments(tenant: SimulatedTenant, clock: SteppingClock, tmp_path: object) -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    args = parser.parse_args(
        [
            "--storm",
            "20",
            "--storm-status",
            "503",
            "--sporadic",
            "0.1",
            "--throttle-retry-after",
            "2.128",
            "--location-style",
            "relative",
            "--retry-after-value",
            "1e9",
            "--failing-user",
            "U1",
            "--stuck-user",
            "U2",
            "--allow-reused-location",
            "--knob",
            "hang_next=3",
            "--knob",
            'drop_when="after"',
        ]
    )
    apply_simulate_arguments(tenant, args)
    faults = tenant.graph.faults
    assert faults.storm_until == clock() + 20 and faults.storm_status == 503
    assert faults.sporadic_fraction == 0.1 and faults.sporadic_retry_after == "2.128"
    assert faults.location_style == "relative" and faults.retry_after_value == "1e9"
    assert "u1" in faults.failing_users and "u2" in faults.stuck_users
    assert faults.hang_next == 3 and faults.drop_when == "after"
    assert tenant.graph.config.refuse_reused_location is False
    with pytest.raises(ValueError, match="unknown knob"):
        apply_simulate_arguments(tenant, parser.parse_args(["--knob", "bogus=1"]))


@pytest.fixture
def served(tenant: SimulatedTenant) -> Iterator[tuple[LoopbackServer, httpx.Client]]:
    token = tenant.issue_token()
    with (
        LoopbackServer(tenant) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=5) as http,
    ):
        yield server, http


def test_control_endpoint_changes_faults_mid_run(served: tuple[LoopbackServer, httpx.Client]) -> None:
    server, http = served
    graph = f"/beta/{PROFILES}"
    assert http.get(graph).status_code == 200
    answer = http.post("/_sim/knobs", json={"throttle_next": 2, "throttle_retry_after": None})
    assert answer.status_code == 200 and answer.json()["knobs"]["throttle_next"] == 2
    assert [http.get(graph).status_code for _ in range(3)] == [429, 429, 200]
    assert http.post("/_sim/knobs", json={"bogus": 1}).status_code == 400
    assert http.post("/_sim/knobs", content=b"[1]").status_code == 400
    assert http.get("/_sim/knobs").json()["throttle_next"] == 0


def test_control_endpoint_shows_the_record(served: tuple[LoopbackServer, httpx.Client]) -> None:
    server, http = served
    user = server.tenant.graph.profiles[0].user_id
    http.post(f"/beta/{PROFILES}/{user}/exportPersonalData", json={"storageLocation": "acct123"})
    ops = http.get("/_sim/operations").json()["value"]
    assert [op["userId"] for op in ops] == [user]
    records = http.get("/_sim/requests", params={"since": 0}).json()
    assert records["next"] >= 1 and records["value"][-1]["kind"] == "export"


def test_server_killed_and_restarted_keeps_the_tenant(tenant: SimulatedTenant) -> None:
    """The fault suite restarts the server on the same port: the tenant (and its operations) live on."""
    token = tenant.issue_token()
    headers = {"Authorization": f"Bearer {token}"}
    with LoopbackServer(tenant) as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        accepted = httpx.post(
            f"{first.graph_url}/{PROFILES}/{uid(tenant)}/exportPersonalData",
            json={"storageLocation": "acct123"},
            headers=headers,
        )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{first.graph_url}/{PROFILES}", headers=headers, timeout=2)
    with LoopbackServer(tenant, port=port) as second:
        assert second.base_url == first.base_url
        assert httpx.get(accepted.headers["Location"], headers=headers, timeout=5).status_code == 200


def test_hang_over_loopback_trips_the_client_timeout(tenant: SimulatedTenant) -> None:
    token = tenant.issue_token()
    tenant.graph.faults.hang(1, seconds=30.0)
    with LoopbackServer(tenant) as server, httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"{server.graph_url}/{PROFILES}", timeout=0.3)
        assert http.get(f"{server.graph_url}/{PROFILES}", timeout=5).status_code == 200
