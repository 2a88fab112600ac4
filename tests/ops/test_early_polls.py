"""No poll before Retry-After, also across a hand-over: a process that stops with polls in flight.

Found by ``benchmarks/watch_1000.py --cli-watch`` (``export`` then ``watch`` as processes, 1,000
operations, Retry-After 1 s): the simulator saw polls up to 0.53 s before the Retry-After of the
answer before them. The ``export`` process polls while it still submits; when it stops, the polls in
flight are cut off, but Graph may already have answered them. The leases were given back with the
next poll saved *before* those polls left, so ``watch`` took the operations over at that older time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from console.clock import ManualClock
from console.ops.events import ExportTarget
from tests.ops.rig import Rig, location_for


class SlowAnswers(httpx.AsyncBaseTransport):
    """Graph answers polls at once (the simulator records them), the answers arrive ``hold`` s later."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: ManualClock, hold: float) -> None:
        self.inner = inner
        self.clock = clock
        self.hold = hold

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and "/dataPolicyOperations/" in request.url.path:
            await self.clock.sleep(self.hold)
        return response


async def test_a_stop_with_polls_in_flight_hands_over_no_earlier_than_their_retry_after(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=60, duration=300)
    make_transport = rig.tenant.transport
    rig.tenant.transport = lambda: SlowAnswers(make_transport(), rig.clock, hold=20.0)  # type: ignore[method-assign]
    leaving = rig.side()
    rig.tenant.transport = make_transport  # type: ignore[method-assign]
    staying = rig.side()
    await leaving.engine.start()
    await staying.engine.start()
    users = rig.users(5)
    await leaving.engine.submit([ExportTarget(u, location_for(i)) for i, u in enumerate(users)])
    await rig.run_for(70)  # the polls left at 60 s, Graph answered them (Retry-After 60 s): due at 120 s
    assert leaving.engine.polls_sent == 5 and len(rig.polls()) == 5
    await leaving.close()  # ... but their answers were still on the way
    await rig.run_until(lambda: staying.engine.active == 5, limit=60)
    await rig.run_until(lambda: all(v.state == "final" for v in staying.engine.operations()), limit=3000)
    first_after = min(at for at in rig.polls() if at > 60)
    assert rig.early_polls() == 0, f"taken over and polled at {first_after:.0f} s, before 120 s"
    assert first_after >= 120
    await rig.close()


async def test_a_stop_that_cannot_write_the_journal_leaves_its_leases_to_lapse(tmp_path: Path) -> None:
    """Given back, the leases would say "due at 60 s" (the last flush), though the polls at 60 s were answered."""
    rig = Rig(tmp_path, retry_after=60, duration=300)
    leaving, staying = rig.side(), rig.side()
    await leaving.engine.start()
    await staying.engine.start()
    users = rig.users(5)
    await leaving.engine.submit([ExportTarget(u, location_for(i)) for i, u in enumerate(users)])
    await rig.settle()

    def disk_full(now: float | None = None) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    leaving.engine.writer.journal.flush = disk_full
    await rig.run_for(61)  # polled at 60 s (Retry-After 60 s): not written down
    assert leaving.engine.polls_sent == 5
    await leaving.close()
    await rig.run_until(lambda: all(v.state == "final" for v in staying.engine.operations()), limit=3000)
    assert rig.early_polls() == 0, "a lease given back with a stale next poll was polled before Retry-After"
    await rig.close()
