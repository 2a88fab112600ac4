"""Two and more engines on one journal: one budget, one poller per operation, takeover, sync."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.ops.engine import LEASE_TTL
from console.ops.events import ExportTarget
from tests.ops.rig import Rig, location_for, max_in_window


def targets(rig: Rig, n: int, start: int = 0) -> list[ExportTarget]:
    return [
        ExportTarget(user_id=u, storage_location=location_for(start + i)) for i, u in enumerate(rig.users(n, start))
    ]


async def test_two_engines_stay_inside_one_budget_and_never_poll_early(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=1, duration=100_000, profiles=220)
    first, second = rig.side(budget=360), rig.side(budget=360)
    await first.engine.start()
    await second.engine.start()
    await first.engine.submit(targets(rig, 100))
    await second.engine.submit(targets(rig, 100, start=100))
    start = rig.clock.now()
    await rig.run_for(1200)
    polls = [at for at in rig.polls() if at > start]
    # 20 minutes of one tenant's 360/h is about 120 polls; two full budgets would be about 240.
    assert 100 <= len(polls) <= 126, len(polls)
    assert max_in_window(polls, 600) <= 64
    assert rig.early_polls() == 0
    # Each operation has exactly one poller.
    pollers = {side.engine.process_id: set(side.engine._tracked) for side in (first, second)}
    assert not (pollers[first.engine.process_id] & pollers[second.engine.process_id])
    assert first.engine.polls_sent > 30 and second.engine.polls_sent > 30, "one process starved the other"
    await rig.close()


async def test_a_dead_processs_operations_are_taken_over_without_an_early_poll(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=60, duration=400)
    crashed, survivor = rig.side(), rig.side()
    await crashed.engine.start()
    await survivor.engine.start()
    await crashed.engine.submit(targets(rig, 10))
    await rig.run_for(65)  # every operation was just polled (at 60 s) and is next due at 120 s
    assert survivor.engine.active == 0, "the survivor polled operations another live process holds"
    before = len(rig.polls())
    await crashed.close(release=False)  # kill -9: no leases given back, no heartbeat any more
    # ... and it died before writing its last poll down: the journal still says "due at 60 s".
    db = sqlite3.connect(rig.path)
    db.execute("UPDATE operations SET next_poll_at = created_at + 60")
    db.commit()
    db.close()
    await rig.run_for(LEASE_TTL / 2)
    assert survivor.engine.active == 0, "taken over before the lease lapsed"
    await rig.run_until(lambda: all(v.state == "final" for v in survivor.engine.operations()), limit=3000)
    assert survivor.engine.polls_sent > 0 and len(rig.polls()) > before
    assert [v.status for v in survivor.engine.operations()] == ["complete"] * 10
    assert rig.early_polls() == 0, "the takeover polled within the dead owner's Retry-After"
    await rig.close()


async def test_a_clean_stop_hands_over_at_the_saved_next_poll(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=60, duration=300)
    leaving, staying = rig.side(), rig.side()
    await leaving.engine.start()
    await staying.engine.start()
    await leaving.engine.submit(targets(rig, 5))
    await rig.run_for(30)
    await leaving.close()
    await rig.run_for(5)
    assert staying.engine.active == 5, "a released lease was not taken at the next sync"
    await rig.run_until(lambda: all(v.state == "final" for v in staying.engine.operations()), limit=3000)
    assert rig.early_polls() == 0
    await rig.close()


async def test_every_engine_sees_what_another_adds_and_changes(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=60)
    exporter, console = rig.side(), rig.side()
    await exporter.engine.start()
    await console.engine.start()
    [outcome] = await exporter.engine.submit(targets(rig, 1))
    assert outcome.operation is not None
    await rig.run_for(5)
    added = [e for e in console.events if e.kind == "added"]
    assert [e.operation.key for e in added] == [outcome.operation.key]
    await rig.run_until(lambda: any(e.kind == "changed" and e.operation.state == "final" for e in console.events))
    view = console.engine.operation(outcome.operation.key)
    assert view is not None and view.status == "complete"
    await rig.close()


async def test_stop_watching_in_one_process_stops_the_poller_in_another(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=100_000)
    poller, console = rig.side(), rig.side()
    await poller.engine.start()
    await console.engine.start()
    [outcome] = await poller.engine.submit(targets(rig, 1))
    assert outcome.operation is not None
    await rig.run_for(10)
    await console.engine.stop_watching(outcome.operation.key)
    await rig.run_for(5)
    count = len(rig.polls())
    await rig.run_for(120)
    assert len(rig.polls()) == count, "the other process kept polling a stopped operation"
    assert poller.engine.operation(outcome.operation.key).state == "stopped"  # type: ignore[union-attr]
    await rig.close()


async def test_watch_waits_for_the_operations_another_process_polls(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=120)
    console, watch = rig.side(), rig.side()
    await console.engine.start()
    await console.engine.submit(targets(rig, 3))
    await watch.engine.start()
    await rig.run_for(5)
    assert watch.engine.active == 0 and not watch.engine._idle.is_set(), "watch was idle while exports ran"
    await rig.run_until(lambda: watch.engine._idle.is_set(), limit=1000)
    assert [v.state for v in watch.engine.operations()] == ["final"] * 3
    await rig.close()
