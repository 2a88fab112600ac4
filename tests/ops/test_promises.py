"""The engine's promises, each by a test that fails when the promise is broken (issue 11).

Never lose (intent before the POST, outcome after the 202, failed writes retried), never double
(conflicts, a live process's intents), never stall (permanent errors, odd Locations), never
poll early (restart, throttling, back-off, 401/403), and the budgets (pace, quota).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from console.graph import errors
from console.ops.engine import AUTH_RETRY_INTERVAL, PERMANENT_ERROR_LIMIT, AlreadyExporting
from console.ops.events import ExportTarget
from console.ops.journal import OperationJournal
from console.sim.graph import RequestMatch
from tests.helpers import rows_where
from tests.ops.rig import SAS, Rig, location_for, max_in_window

POLLS = RequestMatch(method="GET", path="dataPolicyOperations")


def targets(rig: Rig, n: int, start: int = 0) -> list[ExportTarget]:
    return [
        ExportTarget(user_id=u, storage_location=location_for(start + i)) for i, u in enumerate(rig.users(n, start))
    ]


class Rewriting(httpx.AsyncBaseTransport):
    """Wraps the simulator's transport and rewrites some answers (a fault the simulator lacks)."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, rewrite: Callable[[httpx.Request, httpx.Response], httpx.Response]
    ):
        self.inner = inner
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self.rewrite(request, response)


def with_location(response: httpx.Response, location: str) -> dict[str, str]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("location", "content-length")}
    headers["Location"] = location
    return headers


def use_transport(rig: Rig, side_index: int, transport: httpx.AsyncBaseTransport) -> None:
    """Point one side's client at another transport (the client's seam, no monkey-patching of Graph)."""
    from console.auth.base import StaticTokenProvider
    from console.graph.client import GraphClient
    from console.sim.tenant import DEMO_GRAPH_URL

    side = rig.sides[side_index]
    side.client = GraphClient(
        DEMO_GRAPH_URL,
        StaticTokenProvider(rig.tenant.issue_token(lifetime=10**7)),
        transport=transport,
        clock=rig.clock,
        backoff_start=0.5,
        max_attempts=1,
    )
    side.engine.client = side.client


# -- never lose ---------------------------------------------------------------------------


async def test_the_intent_is_committed_before_the_post_and_the_outcome_after_the_202(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    reader = OperationJournal(rig.path)
    seen_at_post: list[str] = []

    class Watching(httpx.AsyncBaseTransport):
        """Looks at the journal on disk (another connection) the moment the POST reaches Graph."""

        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                user = request.url.path.split("/")[-2]
                seen_at_post.append(next((r.state for r in reader.rows() if r.user_id == user), "missing"))
            return await self.inner.handle_async_request(request)

    use_transport(rig, 0, Watching(rig.tenant.transport()))
    await side.engine.start()
    outcomes = await side.engine.submit(targets(rig, 3))
    assert seen_at_post == ["intent"] * 3, f"a POST left before its intent was on disk: {seen_at_post}"
    assert all(o.accepted for o in outcomes)
    rows = reader.rows()
    assert [r.state for r in rows] == ["tracking"] * 3, "the outcome of a 202 was not written after it"
    assert {r.operation_id for r in rows} == {o.operation.operation_id for o in outcomes if o.operation}
    assert all(r.post_request_id and r.owner == side.engine.process_id for r in rows)
    reader.close()
    await rig.close()


async def test_a_failed_write_after_the_202_is_kept_and_written_later(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=20)
    side = rig.side()
    await side.engine.start()
    blocker: sqlite3.Connection | None = None
    real_post = side.client.export_personal_data

    posted: list[str] = []
    both_posted = asyncio.Event()

    async def post_then_lock(user_id: str, location: str):  # type: ignore[no-untyped-def]
        nonlocal blocker
        accepted = await real_post(user_id, location)
        posted.append(user_id)
        if len(posted) < 2:
            await both_posted.wait()  # both intents are on disk and both POSTs answered 202
            return accepted
        blocker = sqlite3.connect(rig.path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")  # another process grabs the journal right after the 202s
        both_posted.set()
        return accepted

    side.client.export_personal_data = post_then_lock  # type: ignore[method-assign, assignment]
    outcomes = await side.engine.submit(targets(rig, 2))
    assert all(o.accepted for o in outcomes), "a failed journal write escaped submit() and lost the outcomes"
    assert blocker is not None
    assert side.engine.writer.journal.pending > 0
    blocker.execute("ROLLBACK")
    blocker.close()
    await rig.run_until(lambda: side.engine._idle.is_set())
    await rig.run_for(2)
    reader = OperationJournal(rig.path)
    assert [(r.state, r.status) for r in reader.rows()] == [("final", "complete")] * 2
    reader.close()
    await rig.close()


async def test_a_locked_journal_does_not_block_the_event_loop(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    blocker = sqlite3.connect(rig.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    submit = asyncio.create_task(side.engine.submit(targets(rig, 1)))
    # SQLite on the loop would block right here until its busy timeout and retries ran out.
    for _ in range(200):
        await asyncio.sleep(0)
    assert not submit.done(), "the event loop was blocked by the locked journal (or the intent skipped the lock)"
    await asyncio.sleep(0.3)  # the writer thread meets the lock a few times meanwhile
    assert not submit.done() and side.engine.posts_in_flight == 0
    assert not [r for r in rig.tenant.requests if r.kind == "export"], "POSTed without an intent on disk"
    blocker.execute("ROLLBACK")
    blocker.close()
    [outcome] = await asyncio.wait_for(submit, 60)  # a deadline for a hang only: a busy machine is slow, not wrong
    assert outcome.accepted
    await rig.close()


async def test_a_flush_that_fails_a_moment_is_no_news_and_one_that_keeps_failing_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    answers = iter([False, False, True] + [False] * 9 + [True] * 100)

    async def flush() -> bool:
        return next(answers)

    side.engine._flush = flush  # type: ignore[method-assign]
    await side.engine.start()
    caplog.set_level("WARNING", logger="console.ops.engine")
    await rig.run_for(2)  # two failures, then a success: a lock another process held a moment
    assert not [r for r in caplog.records if "journal writes" in r.getMessage()]
    await rig.run_for(5)  # nine failures in a row, then success again
    said = [r.getMessage() for r in caplog.records if "journal writes" in r.getMessage()]
    assert len(said) == 2 and "failed 4 times in a row" in said[0] and "work again" in said[1], said
    await rig.close()


async def test_when_the_intent_cannot_be_written_nothing_is_posted(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    side.engine.writer.journal.record_intent = full_disk  # type: ignore[assignment]
    [outcome] = await side.engine.submit(targets(rig, 1))
    assert not outcome.accepted and outcome.exit_code == 1 and "not sent" in outcome.error
    assert not [r for r in rig.tenant.requests if r.kind == "export"]
    await rig.close()


# -- never double -------------------------------------------------------------------------


async def test_users_with_an_unfinished_or_unconfirmed_export_are_refused_unless_forced(tmp_path: Path) -> None:
    rig = Rig(tmp_path, duration=600)
    first, second = rig.side(), rig.side()
    await first.engine.start()
    rig.tenant.graph.faults.fail(1, status=504, only=RequestMatch(method="POST"))
    [unconfirmed] = await first.engine.submit(targets(rig, 1))
    assert unconfirmed.operation is not None and unconfirmed.operation.state == "unconfirmed"
    await first.engine.submit(targets(rig, 1, start=1))  # tracking
    await second.engine.start()
    with pytest.raises(AlreadyExporting) as refused:
        await second.engine.submit(targets(rig, 3))
    assert sorted(v.user_id for v in refused.value.conflicts) == sorted(rig.users(2))
    assert len([r for r in rig.tenant.requests if r.kind == "export"]) == 2
    forced = await second.engine.submit(targets(rig, 1, start=10) + targets(rig, 1), force=True)
    assert all(o.accepted for o in forced)
    assert {v.user_id for v in await second.engine.conflicts(rig.users(1))} == set(rig.users(1))
    await rig.close()


@pytest.mark.parametrize("started", [True, False], ids=["export-started", "export-never-started"])
async def test_a_live_processs_intents_are_left_alone(tmp_path: Path, started: bool) -> None:
    rig = Rig(tmp_path)
    exporter, watcher = rig.side(), rig.side()
    if started:
        await exporter.engine.start(resume=False)
    rig.tenant.graph.faults.hang(1, seconds=120, only=RequestMatch(method="POST"))
    task = asyncio.create_task(exporter.engine.submit(targets(rig, 1)))
    await rig.run_until(lambda: exporter.engine.posts_in_flight == 1)
    await watcher.engine.start()  # `watch` in another window while the POST is in flight
    await rig.run_for(45)  # longer than a heartbeat lasts: the exporter's heartbeat keeps it alive
    late = rig.side()
    await late.engine.start()  # another `watch`, opened later, while the POST still hangs
    reader = OperationJournal(rig.path)
    assert [r.state for r in reader.rows()] == ["intent"], "watch converted a live process's intent"
    await rig.run_until(task.done)
    assert task.result()[0].accepted
    assert [r.state for r in reader.rows()] == ["tracking"]
    reader.close()
    await rig.close()


async def test_a_dead_processs_intents_become_unconfirmed(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    journal = OperationJournal(rig.path)
    journal.register_process("crashed", rig.clock.now() - 120)
    journal.record_intent(rig.tenant.tenant_id, rig.users(1)[0], SAS, rig.clock.now() - 120)
    journal.close()
    watcher = rig.side()
    await watcher.engine.start()
    [view] = watcher.engine.operations()
    assert view.state == "unconfirmed" and "may or may not" in view.last_error
    await rig.close()


async def test_a_second_row_for_an_operation_id_is_refused_and_reported(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    [first] = await side.engine.submit(targets(rig, 1))
    assert first.operation is not None
    same_id = first.operation.operation_id or ""

    def reuse(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method == "POST" and response.status_code == 202:
            location = f"https://graph.demo.invalid/v1.0/dataPolicyOperations/{same_id}"
            return httpx.Response(202, headers=with_location(response, location), content=response.content)
        return response

    use_transport(rig, 0, Rewriting(rig.tenant.transport(), reuse))
    [second] = await side.engine.submit(targets(rig, 1, start=1))
    assert not second.accepted and "already tracks" in second.error
    assert second.operation is not None and second.operation.state == "error"
    await rig.close()


# -- never stall --------------------------------------------------------------------------


async def test_a_permanent_poll_error_stops_after_bounded_tries_with_the_error_kept(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=2, duration=10_000)
    side = rig.side()

    def refuse(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method == "GET" and "dataPolicyOperations" in str(request.url):
            body = b'{"error": {"code": "BadRequest", "message": "Invalid operation"}}'
            return httpx.Response(400, headers={"Content-Type": "application/json"}, content=body)
        return response

    use_transport(rig, 0, Rewriting(rig.tenant.transport(), refuse))
    await side.engine.start()
    await side.engine.submit(targets(rig, 1))
    await rig.run_until(lambda: side.engine._idle.is_set(), limit=5000)
    [view] = side.engine.operations()
    assert view.state == "error" and "Invalid operation" in view.last_error
    history = await side.engine.history(view.key)
    assert len([h for h in history if h.http_status == 400]) == PERMANENT_ERROR_LIMIT
    await rig.close()


@pytest.mark.parametrize(
    "location",
    [
        "https://graph.demo.invalid:99999/v1.0/dataPolicyOperations/x",
        "https://evil.example/v1.0/dataPolicyOperations/x",
        "https://[::1",
    ],
)
async def test_an_unusable_location_is_an_error_for_that_operation(tmp_path: Path, location: str) -> None:
    rig = Rig(tmp_path)
    side = rig.side()

    def odd(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method == "POST" and response.status_code == 202:
            return httpx.Response(202, headers=with_location(response, location), content=b"")
        return response

    use_transport(rig, 0, Rewriting(rig.tenant.transport(), odd))
    await side.engine.start()
    [outcome] = await side.engine.submit(targets(rig, 1))
    assert not outcome.accepted and outcome.exit_code == 1
    assert outcome.operation is not None
    if location.endswith("/x"):  # the id is readable: an error for that operation, under Graph's id
        assert outcome.operation.state == "error" and outcome.operation.operation_id == "x"
    else:  # no id to show: unconfirmed (check it in the portal), never a row under a made-up id
        assert outcome.operation.state == "unconfirmed" and outcome.operation.operation_id is None
    assert not [r for r in rig.tenant.requests if r.kind == "poll"]
    await rig.close()


# -- never poll early ---------------------------------------------------------------------


async def test_a_restart_keeps_each_operations_saved_next_poll(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=300, duration=900)
    side = rig.side()
    await side.engine.start()
    await side.engine.submit(targets(rig, 10))
    await rig.run_for(30)
    await side.close()  # the console goes away between polls
    restarted = rig.side()
    await restarted.engine.start()
    assert restarted.engine.active == 10
    await rig.run_for(600)
    assert rig.polls(), "nothing was polled after the restart"
    assert rig.early_polls() == 0, "after a restart operations were polled before their saved next poll"
    await rig.close()


async def test_a_throttled_poll_waits_its_retry_after(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=400)
    side = rig.side()
    use_transport(rig, 0, rig.tenant.transport())
    await side.engine.start()
    await side.engine.submit(targets(rig, 1))
    rig.tenant.graph.faults.throttle(1, retry_after="120", only=POLLS)
    await rig.run_for(300)
    polls = [(r.at, r.status) for r in rig.tenant.requests if r.kind == "poll"]
    throttled = [at for at, status in polls if status == 429]
    assert len(throttled) == 1
    after = [at for at, _s in polls if at > throttled[0]]
    assert after and after[0] - throttled[0] >= 120 - 1e-6, "a throttled poll was retried before its Retry-After"
    # The engine's own schedule honours it too (the client's gate is not the only guard; a restart reads it).
    [retried] = [h for h in await side.engine.history(1) if h.http_status == 429]
    assert retried.retry_after == 120
    journal_rows = [e.operation for e in side.events if e.kind == "error"]
    assert journal_rows and journal_rows[-1].next_poll_at is not None
    assert journal_rows[-1].next_poll_at >= throttled[0] + 120 - 1e-6
    await rig.close()


async def test_failing_polls_back_off(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=100_000)
    side = rig.side()
    use_transport(rig, 0, rig.tenant.transport())
    await side.engine.start()
    await side.engine.submit(targets(rig, 1))
    rig.tenant.graph.faults.storm(rig.clock.now() + 20_000, status=503, only=POLLS)
    await rig.run_for(4000)
    times = [r.at for r in rig.tenant.requests if r.kind == "poll"]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 5
    assert max(gaps) >= 250, f"the 503s were retried without growing back-off: {gaps}"
    assert len(times) < 40
    await rig.close()


async def test_a_403_while_polling_backs_off_and_is_reported(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=2, duration=100_000)
    side = rig.side()
    rig.tenant.graph.faults.forbid_polls = True
    await side.engine.start()
    await side.engine.submit(targets(rig, 1))
    await rig.run_for(1000)
    assert isinstance(side.engine.fatal_error, errors.PermissionDenied)
    times = [r.at for r in rig.tenant.requests if r.kind == "poll"]
    assert 2 <= len(times) <= 5
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= AUTH_RETRY_INTERVAL * 0.99, f"no back-off after a 403 while polling: {gaps}"
    [view] = side.engine.operations()
    assert view.state == "tracking" and "User.Export.All" in view.last_error
    await rig.close()


# -- budgets ------------------------------------------------------------------------------


async def test_the_engine_paces_polls_at_the_budget(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=1, duration=100_000, profiles=120)
    side = rig.side(budget=360)
    await side.engine.start()
    await side.engine.submit(targets(rig, 100))
    start = rig.clock.now()
    await rig.run_for(1200)
    polls = [at for at in rig.polls() if at > start]
    # 20 minutes at 360/h is about 120 polls (plus a burst of 2): 10x too fast would be 1,200.
    assert 100 <= len(polls) <= 125, len(polls)
    assert max_in_window(polls, 600) <= 63
    await rig.close()


async def test_the_per_user_quota_allows_the_hundredth_and_refuses_the_next(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    user = rig.users(1)[0]
    for _ in range(99):
        side.journal.record_intent(rig.tenant.tenant_id, user, "acct", rig.clock.now())
    with pytest.raises(errors.QuotaExceeded):
        await side.engine.submit([user, user], SAS, force=True)
    [outcome] = await side.engine.submit([user], SAS, force=True)
    assert outcome.accepted
    with pytest.raises(errors.QuotaExceeded, match="100 exports a day"):
        await side.engine.submit([user], SAS, force=True)
    assert (await side.engine.quota()).user_left(user) == 0
    await rig.close()


async def test_unconfirmed_exports_count_against_the_quota(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    journal = OperationJournal(rig.path)
    user = rig.users(1)[0]
    for _ in range(100):
        row = journal.record_intent(rig.tenant.tenant_id, user, "acct", rig.clock.now())
        row.state = "unconfirmed"
        journal.queue(row)
    journal.flush(rig.clock.now())
    journal.close()
    side = rig.side()
    await side.engine.start()
    with pytest.raises(errors.QuotaExceeded):
        await side.engine.submit([user], SAS, force=True)
    assert not [r for r in rig.tenant.requests if r.kind == "export"]
    await rig.close()


async def test_outcomes_carry_typed_exit_codes(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    await side.engine.start()
    rig.tenant.graph.faults.forbid_all = True
    [denied] = await side.engine.submit(targets(rig, 1))
    assert denied.exit_code == 3 and isinstance(denied.exception, errors.PermissionDenied)
    rig.tenant.graph.faults.forbid_all = False
    rig.tenant.graph.faults.fail(1, status=504, only=RequestMatch(method="POST"))
    [unconfirmed] = await side.engine.submit(targets(rig, 1, start=1))
    assert unconfirmed.exit_code == 1 and isinstance(unconfirmed.exception, errors.ExportUnconfirmed)
    [fine] = await side.engine.submit(targets(rig, 1, start=2))
    assert fine.exit_code == 0 and fine.exception is None
    await rig.close()


# -- delivery evidence --------------------------------------------------------------------


async def test_a_completed_export_of_this_process_gets_its_delivery_checked_and_journalled(tmp_path: Path) -> None:
    from console.storage.blob import inspect_delivery

    checked: list[str] = []
    rig = Rig(tmp_path, retry_after=5, duration=20)
    storage = rig.tenant.storage_transport()

    async def check(location: str):  # type: ignore[no-untyped-def]
        checked.append(location)
        return await inspect_delivery(location, transport=storage, now=rig.clock.now())

    side = rig.side(delivery_check=check)
    await side.engine.start()
    [outcome] = await side.engine.submit(targets(rig, 1))
    assert outcome.operation is not None
    await rig.run_until(lambda: any(e.kind == "delivered" for e in side.events), limit=600)
    assert checked == [location_for(0)], "the check needs the full location (with its SAS), from memory"
    view = side.engine.operation(outcome.operation.key)
    assert view is not None and view.delivered is not None and view.delivered.request_info
    assert view.to_json()["delivered"] is not None
    await rig.run_for(2)
    reader = OperationJournal(rig.path)
    stored = reader.rows()[0]
    assert stored.delivered is not None and stored.delivered["request_info"] is True
    assert stored.view().delivered is not None and stored.view().delivered.files >= 1  # type: ignore[union-attr]
    reader.close()
    await rig.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*"))
    assert b"SUPERSECRETSIG" not in raw


# -- cases, notes, resolve (issue 10) -------------------------------------------------------


async def test_case_profile_details_and_submitter_are_journalled_and_notes_and_resolve_work(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=100_000)
    side = rig.side()
    await side.engine.start()
    user = rig.users(1)[0]
    target = ExportTarget(
        user_id=user,
        storage_location=location_for(0),
        display_name="Ana García",
        user_principal_name="ana@fabrikam.example",
        home_tenant_id="f00d",
    )
    [outcome] = await side.engine.submit([target], case="DSR-1234")
    assert outcome.operation is not None
    key = outcome.operation.key
    rig.tenant.graph.faults.fail(1, status=504, only=RequestMatch(method="POST"))
    [unsure] = await side.engine.submit(targets(rig, 1, start=1), case="DSR-1234", submitted_by="token from $T")
    assert unsure.operation is not None and unsure.operation.state == "unconfirmed"
    note = await side.engine.add_note(key, "requested by the data subject on 1 Jan")
    assert note.author == "admin@contoso.example"
    await side.engine.resolve(unsure.operation.key, "checked in the portal: it never ran")
    with pytest.raises(ValueError):
        await side.engine.resolve(key, "not unconfirmed")
    reader = OperationJournal(rig.path)
    first, second = rows_where(reader, case="DSR-1234")
    assert (first.display_name, first.user_principal_name, first.home_tenant_id) == (
        "Ana García",
        "ana@fabrikam.example",
        "f00d",
    )
    assert first.submitted_by == "admin@contoso.example" and second.submitted_by == "token from $T"
    assert first.notes == 1 and second.state == "resolved" and second.notes == 1
    assert [n.text for n in await side.engine.notes(key)] == ["requested by the data subject on 1 Jan"]
    assert side.engine.operation(unsure.operation.key).state == "resolved"  # type: ignore[union-attr]
    # Resolved still counts against the day's quota: its POST may have reached Graph.
    assert (await side.engine.quota()).tenant_used == 2
    await side.engine.stop_watching(key)
    polls = len(rig.polls())
    await rig.run_for(200)
    assert len(rig.polls()) == polls and rows_where(reader, case="DSR-1234")[0].state == "stopped"
    assert outcome.operation.to_json()["case"] == "DSR-1234"
    reader.close()
    await rig.close()


async def test_a_process_dying_mid_post_is_noticed_by_a_running_watcher(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    exporter, watcher = rig.side(), rig.side()
    await watcher.engine.start()
    await exporter.engine.start(resume=False)
    rig.tenant.graph.faults.hang(1, seconds=10_000, only=RequestMatch(method="POST"))
    task = asyncio.create_task(exporter.engine.submit(targets(rig, 1)))
    await rig.run_until(lambda: exporter.engine.posts_in_flight == 1)
    await rig.run_for(20)
    assert [v.state for v in watcher.engine.operations()] == ["intent"]
    # kill -9 while the POST is in flight: no heartbeat any more.
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exporter.close(release=False)
    await rig.run_until(lambda: any(e.kind == "unconfirmed" for e in watcher.events), limit=200)
    [view] = watcher.engine.operations()
    assert view.state == "unconfirmed" and "may or may not" in view.last_error
    await rig.close()


async def test_a_403_on_the_export_post_is_fatal_and_exits_3(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=2, duration=100)
    side = rig.side()
    rig.tenant.graph.faults.forbid_all = True
    await side.engine.start()
    [outcome] = await side.engine.submit(targets(rig, 1))
    # The admin must act (consent, a role) before anything can succeed: reported as fatal, exit code 3.
    assert not outcome.accepted and outcome.exit_code == 3
    assert isinstance(side.engine.fatal_error, errors.PermissionDenied)
    assert outcome.operation is not None and outcome.operation.state == "rejected"
    await rig.close()
