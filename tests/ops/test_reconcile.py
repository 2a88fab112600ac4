"""Reconciling unconfirmed exports with ``GET /dataPolicyOperations``, through the engine on a manual clock.

An unconfirmed export is made the way it happens: the connection drops after Graph created the
export (its 202 lost: ``drop_next`` after), or a 504 before it did, or a dead process's intent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.graph.models import DataPolicyOperation
from console.ops.events import ExportTarget
from console.ops.journal import DuplicateOperation, OperationJournal
from console.ops.reconcile import FOUND_BY, NOT_OFFERED_MESSAGE
from console.sim.graph import EXPORTS, RequestMatch
from tests.ops.rig import Rig, Side, location_for


def target(rig: Rig, user: int, container: int) -> ExportTarget:
    return ExportTarget(user_id=rig.users(1, user)[0], storage_location=location_for(container))


async def lost_202(rig: Rig, side: Side, user: int, container: int) -> int:
    """Submit one export whose 202 is lost after Graph created it: an unconfirmed row; its key."""
    rig.tenant.graph.faults.drop(1, "after", only=EXPORTS)
    [outcome] = await side.engine.submit([target(rig, user, container)], force=True)
    assert outcome.operation is not None and outcome.operation.state == "unconfirmed"
    return outcome.operation.key


async def refused_504(rig: Rig, side: Side, user: int, container: int) -> int:
    """Submit one export answered 504 before Graph created anything: an unconfirmed row; its key."""
    rig.tenant.graph.faults.fail(1, status=504, only=RequestMatch(method="POST"))
    [outcome] = await side.engine.submit([target(rig, user, container)], force=True)
    assert outcome.operation is not None and outcome.operation.state == "unconfirmed"
    return outcome.operation.key


def list_requests(rig: Rig) -> list[str]:
    return [r.query for r in rig.tenant.requests if r.kind == "operations"]


async def test_one_match_confirms_the_export_which_is_then_polled_to_its_end(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=30, duration=90)  # the lost 202 said: not before 30 s
    side = rig.side()
    await side.engine.start()
    key = await lost_202(rig, side, 0, 0)
    [created] = rig.tenant.graph.operation_ids()
    rig.clock.advance(10)
    report = await side.engine.reconcile()
    assert [(r.key, r.outcome, r.operation_id) for r in report.results] == [(key, "confirmed", created)]
    assert list_requests(rig) == [f"$filter=userId eq '{rig.users(1)[0]}'"]
    view = side.engine.operation(key)
    assert view is not None and view.state == "tracking" and view.operation_id == created
    assert view.location is not None and view.location.endswith(f"/dataPolicyOperations/{created}")
    assert view.status in ("notStarted", "running")
    assert view.submitted_at is not None  # Graph's submittedDateTime, kept from the listing
    listed = OperationJournal(rig.path)
    leased = listed.row(key)
    listed.close()
    assert leased is not None and leased.owner == side.engine.process_id and leased.lease_until
    [note] = await side.engine.notes(key)
    assert note.text.startswith(FOUND_BY) and created in note.text
    await rig.run_until(lambda: (side.engine.operation(key) or view).state == "final", limit=600)
    final = side.engine.operation(key)
    assert final is not None and final.status == "complete"
    assert len(rig.polls_by_operation()[created]) >= 1, "the confirmed export was never polled"
    assert rig.early_polls() == 0
    await rig.close()
    reader = OperationJournal(rig.path)
    row = reader.row(key)
    assert row is not None and row.state == "final" and row.operation_id == created
    reader.close()


async def test_no_match_leaves_it_unconfirmed_and_says_so(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    key = await refused_504(rig, side, 0, 0)
    report = await side.engine.reconcile()
    [result] = report.results
    assert result.outcome == "none" and "no export of this user" in result.message
    assert report.remaining and "0 confirmed" in report.summary()
    view = side.engine.operation(key)
    assert view is not None and view.state == "unconfirmed" and view.operation_id is None
    assert await side.engine.notes(key) == []
    await rig.close()


async def test_not_offered_is_said_once_and_nothing_changes(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    keys = [await lost_202(rig, side, n, n) for n in range(3)]
    rig.tenant.set_knobs({"operations_list_status": 405})
    before = [side.engine.operation(k) for k in keys]
    report = await side.engine.reconcile()
    assert report.not_offered and report.lines() == [NOT_OFFERED_MESSAGE]
    assert report.summary() == NOT_OFFERED_MESSAGE
    assert len(list_requests(rig)) == 1, "asked again after the tenant said it does not list operations"
    assert [side.engine.operation(k) for k in keys] == before
    assert {r.state for r in OperationJournal(rig.path).rows()} == {"unconfirmed"}
    await rig.close()


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_every_not_offered_status(tmp_path: Path, status: int) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    await lost_202(rig, side, 0, 0)
    rig.tenant.graph.faults.operations_list_status = status
    report = await side.engine.reconcile()
    assert report.not_offered and [r.outcome for r in report.results] == ["not_offered"]
    await rig.close()


async def test_two_matches_are_ambiguous_and_stay_unconfirmed(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    side = rig.side()
    await side.engine.start()
    key = await lost_202(rig, side, 0, 0)
    rig.clock.advance(5)
    # The same user exported meanwhile by another tool (the portal): Graph now lists two of theirs.
    await side.client.export_personal_data(rig.users(1)[0], location_for(0))
    report = await side.engine.reconcile()
    [result] = report.results
    assert result.outcome == "ambiguous" and set(result.candidates) == set(rig.tenant.graph.operation_ids())
    assert "ambiguous" in result.message and "(1 ambiguous)" in report.summary()
    view = side.engine.operation(key)
    assert view is not None and view.state == "unconfirmed" and view.operation_id is None
    await rig.close()


async def test_an_operation_already_tracked_is_never_attached_twice(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    side = rig.side()
    await side.engine.start()
    [tracked] = await side.engine.submit([target(rig, 0, 0)])
    assert tracked.operation is not None and tracked.operation.operation_id
    key = await refused_504(rig, side, 0, 0)  # same user and container, nothing created
    report = await side.engine.reconcile()
    assert [r.outcome for r in report.results] == ["none"]
    assert side.engine.operation(key).state == "unconfirmed"  # type: ignore[union-attr]
    listed = tracked.operation.operation_id.upper()
    running = DataPolicyOperation(
        id=listed, status="running", progress=0.0, storage_location="", user_id="", submitted=None, completed=None
    )
    with pytest.raises(DuplicateOperation):  # and the journal refuses it in the confirming transaction too
        side.engine.writer.journal.confirm(
            key,
            running,
            "https://graph.demo.invalid/beta/dataPolicyOperations/x",
            note="",
            author="",
            at=rig.clock.now(),
        )
    await rig.close()


async def test_of_two_unconfirmed_exports_of_one_user_only_one_gets_the_operation(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    side = rig.side()
    await side.engine.start()
    older = await refused_504(rig, side, 0, 0)
    rig.clock.advance(10)
    newer = await lost_202(rig, side, 0, 0)
    [created] = rig.tenant.graph.operation_ids()
    report = await side.engine.reconcile()
    outcomes = {r.key: (r.outcome, r.operation_id) for r in report.results}
    assert outcomes == {newer: ("confirmed", created), older: ("none", None)}
    again = await side.engine.reconcile()
    assert [(r.key, r.outcome) for r in again.results] == [(older, "none")]
    ids = [r.operation_id for r in OperationJournal(rig.path).rows() if r.operation_id]
    assert ids == [created]
    await rig.close()


async def test_the_client_filters_user_and_time_itself(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    side = rig.side()
    await side.engine.start()
    user = rig.users(1)[0]
    # To the same container (the location tells them apart no more): only the user and the time do.
    await side.client.export_personal_data(user, location_for(0))  # long before: not this export
    rig.clock.advance(3600)
    await side.client.export_personal_data(rig.users(1, 1)[0], location_for(0))  # another user
    key = await lost_202(rig, side, 0, 0)
    rig.tenant.set_knobs({"ignore_operations_filter": True, "page_size": 1})
    report = await side.engine.reconcile()
    [result] = report.results
    assert result.outcome == "confirmed" and result.key == key
    assert result.operation_id == rig.tenant.graph.operation_ids()[-1]
    assert len(list_requests(rig)) == 3  # every page followed
    await rig.close()


async def test_an_operation_to_another_container_is_not_this_export(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    side = rig.side()
    await side.engine.start()
    key = await refused_504(rig, side, 0, 0)
    await side.client.export_personal_data(rig.users(1)[0], location_for(5))  # the portal, another container
    [result] = (await side.engine.reconcile()).results
    assert result.outcome == "none" and "went elsewhere" in result.message
    assert side.engine.operation(key).state == "unconfirmed"  # type: ignore[union-attr]
    await rig.close()


async def test_a_dead_processs_intent_is_reconciled_by_an_engine_that_does_not_watch(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    user = rig.users(1)[0]
    journal = OperationJournal(rig.path)
    journal.register_process("crashed", rig.clock.now() - 120)
    journal.record_intent(rig.tenant.tenant_id, user, location_for(0), rig.clock.now() - 60, owner="crashed")
    journal.close()
    rig.tenant.adopt_operation("d007e3da-cd9b-4b02-8d66-422403c53e3f", user, location_for(0), rig.clock.now() - 59)
    side = rig.side()  # `ops --reconcile`: never started
    report = await side.engine.reconcile()
    assert [r.outcome for r in report.results] == ["confirmed"]
    await side.close()
    watcher = rig.side()  # the next `watch` takes it over
    await watcher.engine.start()
    assert watcher.engine.active == 1
    await rig.run_until(lambda: watcher.engine.active == 0)
    assert [v.status for v in watcher.engine.operations()] == ["complete"]
    await rig.close()
