"""Knobs split, adopting operations across ``--demo`` restarts, and the export duration spread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
import pytest

import console.sim.graph as graph_module
import console.sim.knobs as knobs_module
from console.graph.models import DataPolicyOperation
from console.sim.knobs import ServiceLimits
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from tests.sim.conftest import SteppingClock

PROFILES = "directory/inboundSharedUserProfiles"
OP_ID = "3b2c1d0e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
SAS = "https://contosoexports.blob.core.windows.net/exports?sv=2022-11-02&sp=rw&sig=S3cr3tSignature%3D&se=2030-01-01"


@asynccontextmanager
async def graph_client(tenant: SimulatedTenant) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=tenant.transport(),
        base_url=DEMO_GRAPH_URL + "/",
        headers={"Authorization": f"Bearer {tenant.issue_token()}"},
    ) as http:
        yield http


async def poll(client: httpx.AsyncClient, operation_id: str) -> httpx.Response:
    return await client.get(f"https://graph.demo.invalid/v1.0/dataPolicyOperations/{operation_id}")


async def submit_all(client: httpx.AsyncClient, user_ids: Iterable[str]) -> list[str]:
    ids = []
    for user_id in user_ids:
        response = await client.post(f"{PROFILES}/{user_id}/exportPersonalData", json={"storageLocation": "acct123"})
        assert response.status_code == 202
        ids.append(response.headers["Location"].rsplit("/", 1)[1])
    return ids


def durations(tenant: SimulatedTenant, operation_ids: Iterable[str]) -> list[float]:
    """Seconds from submission to completion of each (finished) operation."""
    result = []
    for operation_id in operation_ids:
        data = tenant.graph.operation(operation_id)
        assert data is not None
        op = DataPolicyOperation.from_json(data)
        assert op.submitted is not None and op.completed is not None, data
        result.append(round((op.completed - op.submitted).total_seconds(), 3))
    return result


# ---------------------------------------------------------------- knobs module


def test_knobs_are_reexported_from_graph() -> None:
    for name in knobs_module.__all__:
        assert getattr(graph_module, name) is getattr(knobs_module, name)
        assert name in graph_module.__all__
    from console.sim.graph import RequestMatch  # the import the graph and ops tests use

    assert RequestMatch is knobs_module.RequestMatch


# ---------------------------------------------------------------- adopt_operation


async def test_adopted_operation_polls_as_if_submitted_then(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    # fixture tenant: export_duration 20 (queue 2), retry_after 2
    user_id = tenant.graph.profiles[0].user_id
    tenant.adopt_operation(OP_ID.upper(), user_id.upper(), SAS, clock.now - 11.0)
    async with graph_client(tenant) as client:
        response = await poll(client, OP_ID)
        assert response.status_code == 200
        assert response.headers["Retry-After"] == "2"
        op = DataPolicyOperation.from_json(response.json())
        assert (op.id, op.status, op.user_id) == (OP_ID, "running", user_id)
        assert op.progress == 50.0  # (11 - 2) / 18
        assert "S3cr3t" not in op.storage_location and "sig=***" in op.storage_location
        assert op.submitted is not None and op.submitted.timestamp() == pytest.approx(clock.now - 11.0)
        assert op.completed is None

        clock.advance(9.0)
        done = DataPolicyOperation.from_json((await poll(client, OP_ID)).json())
        assert (done.status, done.progress) == ("complete", 100.0)
        assert done.completed is not None and done.completed.timestamp() == pytest.approx(clock.now)
    assert tenant.requests[-1].user_id == user_id and tenant.requests[-1].operation_id == OP_ID


async def test_adopting_a_long_finished_operation_is_complete_at_once(
    tenant: SimulatedTenant, clock: SteppingClock
) -> None:
    tenant.adopt_operation(OP_ID, tenant.graph.profiles[1].user_id, "acct123", clock.now - 3600)
    data = tenant.graph.operation(OP_ID)
    assert data is not None and data["status"] == "complete" and data["completedDateTime"]
    async with graph_client(tenant) as client:
        response = await poll(client, OP_ID)
    assert response.status_code == 200 and "Retry-After" not in response.headers


def test_adopt_is_idempotent(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    user_id = tenant.graph.profiles[0].user_id
    tenant.adopt_operation(OP_ID, user_id, "acct123", clock.now - 5)
    first = tenant.graph.operation(OP_ID)
    tenant.adopt_operation(OP_ID.upper(), tenant.graph.profiles[1].user_id, "other", clock.now - 1000)
    assert tenant.graph.operation(OP_ID) == first
    assert tenant.graph.operation_ids() == [OP_ID]


async def test_adopting_a_submitted_id_changes_nothing(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    async with graph_client(tenant) as client:
        [operation_id] = await submit_all(client, [tenant.graph.profiles[0].user_id])
    before = tenant.graph.operation(operation_id)
    tenant.adopt_operation(operation_id, tenant.graph.profiles[0].user_id, "acct123", clock.now - 1000)
    assert tenant.graph.operation(operation_id) == before
    assert tenant.graph.exports_used() == 1


async def test_adopted_operations_do_not_use_export_quota(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    tenant.graph.config.limits = ServiceLimits(exports_per_day=1, exports_per_user_per_day=1)
    user_id = tenant.graph.profiles[0].user_id
    for n in range(3):
        tenant.adopt_operation(f"00000000-0000-4000-8000-00000000000{n}", user_id, "acct123", clock.now - n)
    assert tenant.graph.exports_used() == 0 and tenant.graph.exports_used(user_id) == 0
    async with graph_client(tenant) as client:
        assert len(await submit_all(client, [user_id])) == 1  # still 202
    assert len(tenant.graph.operation_ids()) == 4


def test_adopted_operation_follows_failing_user_and_fault_rules(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    user_id = tenant.graph.profiles[2].user_id
    tenant.graph.faults.failing_users.add(user_id)
    tenant.adopt_operation(OP_ID, user_id, "acct123", clock.now - 9.0)
    running = tenant.graph.operation(OP_ID)
    assert running is not None and running["status"] == "running"
    clock.advance(1.0)  # failure_point 0.5 of 20 s
    data = tenant.graph.operation(OP_ID)
    assert data is not None and data["status"] == "failed" and data["progress"] == 44.4


def test_adopted_profile_need_not_exist(tenant: SimulatedTenant, clock: SteppingClock) -> None:
    gone = "11111111-2222-4333-8444-555555555555"
    tenant.adopt_operation(OP_ID, gone, "acct123", clock.now)
    data = tenant.graph.operation(OP_ID)
    assert data is not None and data["userId"] == gone and data["status"] == "notStarted"


@pytest.mark.parametrize(
    ("operation_id", "user_id"), [("", "u"), ("  ", "u"), ("a/b", "u"), (OP_ID, ""), (OP_ID, "x/y")]
)
def test_adopt_refuses_unusable_ids(tenant: SimulatedTenant, operation_id: str, user_id: str) -> None:
    with pytest.raises(ValueError):
        tenant.adopt_operation(operation_id, user_id, "acct123", 0.0)
    assert tenant.graph.operation_ids() == []


@pytest.mark.parametrize("jitter", [0.0, 0.5])
async def test_restart_with_adoption_polls_the_same(clock: SteppingClock, jitter: float) -> None:
    """A fresh simulator (same seed) that adopts the journal's operations answers polls as the old one would."""
    before = SimulatedTenant(profiles=20, seed=5, clock=clock, export_duration=20.0, export_duration_jitter=jitter)
    users = [p.user_id for p in before.graph.profiles[:6]]
    async with graph_client(before) as client:
        ids = []
        for user_id in users:
            ids += await submit_all(client, [user_id])
            clock.advance(1.5)
    journal = []  # what the console keeps: id, user, location, submission time
    for operation_id, user_id in zip(ids, users, strict=True):
        data = before.graph.operation(operation_id)
        assert data is not None
        op = DataPolicyOperation.from_json(data)
        assert op.submitted is not None
        journal.append((operation_id, user_id, op.storage_location, op.submitted.timestamp()))

    after = SimulatedTenant(profiles=20, seed=5, clock=clock, export_duration=20.0, export_duration_jitter=jitter)
    for entry in journal:
        after.adopt_operation(*entry)
    for _ in range(4):
        assert [after.graph.operation(i) for i in ids] == [before.graph.operation(i) for i in ids]
        clock.advance(7.0)
    assert durations(after, ids) == durations(before, ids)


# ---------------------------------------------------------------- duration spread


async def jittered_durations(clock: SteppingClock, jitter: float, seed: int = 7, count: int = 40) -> list[float]:
    tenant = SimulatedTenant(
        profiles=count, seed=seed, clock=clock, export_duration=20.0, export_duration_jitter=jitter, run_id="fixed"
    )
    async with graph_client(tenant) as client:
        ids = await submit_all(client, [p.user_id for p in tenant.graph.profiles])
    clock.advance(100.0)
    return durations(tenant, ids)


async def test_no_jitter_by_default(clock: SteppingClock) -> None:
    assert set(await jittered_durations(clock, 0.0, count=10)) == {20.0}
    assert SimulatedTenant(clock=clock).graph.config.export_duration_jitter == 0.0


async def test_jitter_spreads_durations_deterministically(clock: SteppingClock) -> None:
    spread = await jittered_durations(clock, 0.5)
    assert all(10.0 <= d <= 30.0 for d in spread)
    assert len(set(spread)) > 30
    assert min(spread) < 14.0 and max(spread) > 26.0  # actually spread, not bunched around 20
    assert await jittered_durations(SteppingClock(), 0.5) == spread  # same seed, same durations
    assert await jittered_durations(SteppingClock(), 0.5, seed=8) != spread


async def test_jitter_is_clamped(clock: SteppingClock) -> None:
    assert all(0.0 <= d <= 40.0 for d in await jittered_durations(clock, 5.0))
    assert set(await jittered_durations(SteppingClock(), -1.0, count=5)) == {20.0}


async def test_jitter_scales_queue_and_failure_points(clock: SteppingClock) -> None:
    tenant = SimulatedTenant(profiles=10, seed=7, clock=clock, export_duration=20.0, export_duration_jitter=0.5)
    failing = tenant.graph.profiles[0].user_id
    tenant.graph.faults.failing_users.add(failing)
    async with graph_client(tenant) as client:
        [fails, completes] = await submit_all(client, [failing, tenant.graph.profiles[1].user_id])
    clock.advance(100.0)
    [fail_after, complete_after] = durations(tenant, [fails, completes])
    failed = tenant.graph.operation(fails)
    assert failed is not None and failed["status"] == "failed"
    # failing at half its own (jittered) duration: within [5, 15], and the draw is per operation
    assert 5.0 <= fail_after <= 15.0 and 10.0 <= complete_after <= 30.0


async def test_jitter_does_not_disturb_ids(clock: SteppingClock) -> None:
    """The spread is drawn per operation id, so turning it on leaves operation ids as they were."""
    ids = []
    for jitter in (0.0, 0.5):
        tenant = SimulatedTenant(profiles=5, seed=7, clock=clock, export_duration_jitter=jitter, run_id="fixed")
        async with graph_client(tenant) as client:
            ids.append(await submit_all(client, [p.user_id for p in tenant.graph.profiles]))
    assert ids[0] == ids[1]
