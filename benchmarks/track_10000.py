"""10,000 tracked operations in one watcher: memory, journal size and journal write rate.

ManualClock + the in-process simulator, Graph's limits untouched:

1. seeding: 10,000 exports go through the engine's real ``submit`` path in daily batches of 1,000
   (1,000 users, one export each a day); the clock moves 24 h + 1 s between batches, so neither
   the engine's nor the simulator's daily limits are bent. That engine is never started (no polling
   during seeding) and is dropped afterwards.
2. watching: a fresh journal handle, GraphClient and OperationsEngine ``start()`` (resume) load
   every tracking row, as ``export-console watch`` would, and poll them on the default 9,000/h budget
   until all are final. Every export is timed to finish 0..``--spread-hours`` after the watch starts.

RSS is the whole process's: it includes the in-process simulator (10,000 operations, profiles)
and what the seeding phase left in Python's allocator, so it is an upper bound on the watcher's.

Each export goes to its own container (Graph accepts one export per storage location) and the
daily batches repeat users whose earlier export is still running (``force=True``, as ``export
--force`` would). The clock moves only when the engine's journal thread is idle.

Run: .venv/bin/python benchmarks/track_10000.py [--ops 10000] [--check]
``--check`` exits 1 when any TARGET is a MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import sys
import tempfile
import time
from pathlib import Path

from _common import SAS, maxrss_mb, print_block, settle, verdict, vm_hwm_mb, vm_rss_mb

DAY = 86_400.0


async def run_clock_until(clock, engine, done, *, limit: float, on_step=None) -> tuple[float, int, bool]:  # type: ignore[no-untyped-def]
    """Advance the manual clock deadline by deadline, waiting for the journal thread before each step."""
    start = clock.now()
    steps = 0
    while not done():
        await settle()
        while engine.writer.calls_in_flight:
            await asyncio.sleep(0.0002)
            await settle()
        if on_step is not None:
            on_step()
        if done():
            break
        deadline = clock.next_deadline()
        if deadline is None:
            await asyncio.sleep(0.001)
        else:
            clock.advance(max(0.0, deadline - clock.now()))
        steps += 1
        if clock.now() - start > limit:
            return clock.now() - start, steps, False
    return clock.now() - start, steps, True


async def run(args: argparse.Namespace) -> int:
    import random

    from console.auth.base import StaticTokenProvider
    from console.clock import ManualClock
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.events import ExportTarget
    from console.ops.journal import OperationJournal
    from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

    rss_imports = vm_rss_mb()
    clock = ManualClock()
    users_per_day = min(1000, args.users)
    days = math.ceil(args.ops / users_per_day)
    start = clock.now()
    watch_at = start + days * (DAY + 1.0)
    tenant = SimulatedTenant(profiles=args.users, clock=clock.now, sleep=clock.sleep, retry_after=args.retry_after)
    tenant.graph.config.record_requests = False  # the record would grow with every poll and inflate RSS
    rng = random.Random(args.seed)
    original_export = tenant.graph.exports.export

    def export(body: bytes, ctx: object) -> object:
        # finish 0..spread after the watcher starts, however many days ago it was submitted
        tenant.graph.config.export_duration = (watch_at - ctx.now) + rng.uniform(0, args.spread_hours * 3600)  # type: ignore[attr-defined]
        return original_export(body, ctx)  # type: ignore[arg-type]

    tenant.graph.exports.export = export  # type: ignore[method-assign, assignment]  # benchmark-only monkeypatch
    users = [p.user_id for p in tenant.graph.profiles[:users_per_day]]
    token = tenant.issue_token(lifetime=10**8)

    with tempfile.TemporaryDirectory(prefix="track10000-") as tmp:
        path = Path(tmp) / "journal.sqlite3"

        # -- 1. seeding through the real submit path -------------------------------------------
        seed_wall = time.perf_counter()
        journal = OperationJournal(path)
        client = GraphClient(DEMO_GRAPH_URL, StaticTokenProvider(token), transport=tenant.transport(), clock=clock)
        submitter = OperationsEngine(client, journal, tenant_key=tenant.tenant_id, clock=clock)
        accepted = 0
        left = args.ops
        base, query = SAS.split("?", 1)
        for day in range(days):
            batch = [
                ExportTarget(user_id=u, storage_location=f"{base}-{day}-{n}?{query}")
                for n, u in enumerate(users[: min(left, users_per_day)])
            ]
            outcomes = await submitter.submit(batch, force=True)
            accepted += sum(1 for o in outcomes if o.accepted)
            left -= len(batch)
            clock.advance(DAY + 1.0)
        await submitter.stop()
        await client.aclose()
        journal.close()
        del submitter, client, journal, outcomes
        gc.collect()
        seed_wall = time.perf_counter() - seed_wall

        # -- 2. the watcher -----------------------------------------------------------------------
        rss_before_watcher = vm_rss_mb()
        journal = OperationJournal(path)
        size_after_seed = journal.size_bytes()
        client = GraphClient(DEMO_GRAPH_URL, StaticTokenProvider(token), transport=tenant.transport(), clock=clock)
        watcher = OperationsEngine(
            client, journal, tenant_key=tenant.tenant_id, poll_budget=args.poll_budget, clock=clock
        )
        load_wall = time.perf_counter()
        await watcher.start()
        load_wall = time.perf_counter() - load_wall
        tracked = watcher.active
        rss_loaded = vm_rss_mb()
        peak = {"rss": rss_loaded}
        steps_seen = [0]

        def sample() -> None:
            steps_seen[0] += 1
            if steps_seen[0] % 200 == 0:
                peak["rss"] = max(peak["rss"], vm_rss_mb())

        own = watcher.writer.journal
        writes0, flushes0 = own.writes, own.flushes
        watch_wall = time.perf_counter()
        simulated, steps, finished = await run_clock_until(
            clock, watcher, watcher._idle.is_set, limit=args.limit_hours * 3600, on_step=sample
        )
        watch_wall = time.perf_counter() - watch_wall
        peak["rss"] = max(peak["rss"], vm_rss_mb())
        writes, flushes = own.writes - writes0, own.flushes - flushes0
        kept_polls = own.poll_count()
        polls = watcher.polls_sent
        finals = sum(1 for v in watcher.operations() if v.state == "final")
        await watcher.stop()
        size_end = journal.size_bytes()
        db_bytes = path.stat().st_size
        wal = Path(f"{path}-wal")
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        await client.aclose()
        journal.close()

    maxrss = maxrss_mb()
    # VmHWM is this process's own peak; ru_maxrss can carry the parent's across fork+exec (a benchmark run
    # from pytest reported pytest's 332 MiB), so it is shown but not judged when VmHWM is there.
    peak_rss = vm_hwm_mb() or maxrss
    rows = [
        (
            "how the operations were made",
            f"submitted through OperationsEngine.submit in {days} daily batches of "
            f"<= {users_per_day} (ManualClock +24 h between), {accepted} accepted; "
            f"then a fresh watcher resumed them from the journal",
        ),
        (
            "tracked by the watcher",
            f"{tracked} operations (Retry-After {args.retry_after:g} s, budget "
            f"{args.poll_budget}/h, finishing 0-{args.spread_hours:g} h into the watch)",
        ),
        ("final", f"{finals}/{tracked}" + ("" if finished else "  NOT FINISHED (limit reached)")),
        (
            "watch: simulated / wall",
            f"{simulated:.0f} s ({simulated / 3600:.2f} h) / {watch_wall:.1f} s wall, "
            f"{polls} polls, {steps} clock steps; start() loaded in {load_wall:.2f} s",
        ),
        ("seeding wall", f"{seed_wall:.1f} s"),
        (
            "RSS (VmRSS)",
            f"after imports {rss_imports:.1f} MiB; before watcher {rss_before_watcher:.1f} MiB; "
            f"after start() {rss_loaded:.1f} MiB; peak while polling {peak['rss']:.1f} MiB",
        ),
        (
            "RSS peak (ru_maxrss / VmHWM)",
            f"{maxrss:.1f} MiB / {vm_hwm_mb():.1f} MiB (whole process, simulator and seeding included)",
        ),
        ("watcher's own growth", f"{peak['rss'] - rss_before_watcher:+.1f} MiB (peak while polling - before watcher)"),
        (
            "journal size (size_bytes)",
            f"{size_after_seed / 2**20:.1f} MiB after seeding, {size_end / 2**20:.1f} MiB "
            f"at the end (db {db_bytes / 2**20:.1f} MiB + wal {wal_bytes / 2**20:.1f} MiB)",
        ),
        (
            "journal writes while polling",
            f"{writes} row writes, {flushes} flushes: "
            f"{writes / max(simulated, 1e-9):.2f} writes/s and "
            f"{flushes / max(simulated, 1e-9):.2f} flushes/s of simulated time "
            f"({writes / max(watch_wall, 1e-9):.0f} writes/s, "
            f"{flushes / max(watch_wall, 1e-9):.0f} flushes/s of wall time)",
        ),
        ("poll history kept", f"{kept_polls} records (bounded per operation and in total)"),
        ("TARGET watcher RSS <= 150 MB", verdict(peak_rss <= 150.0) + f" (peak {peak_rss:.1f} MiB, whole process)"),
        ("TARGET every operation finished", verdict(finished and finals == tracked == args.ops)),
    ]
    print_block("track_10000: one watcher, many tracked operations (simulated time)", rows)
    missed = [name for name, value in rows if name.startswith("TARGET") and value.startswith("MISS")]
    if args.check and missed:
        print(f"MISS: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=10_000, help="operations to track (default 10000)")
    parser.add_argument("--users", type=int, default=1000, help="distinct users (default 1000; <= 1000 a day)")
    parser.add_argument("--retry-after", type=float, default=60.0, help="simulator Retry-After (default 60 s)")
    parser.add_argument("--poll-budget", type=int, default=9000, help="watcher polls an hour (default 9000)")
    parser.add_argument(
        "--spread-hours",
        type=float,
        default=2.0,
        help="exports finish uniformly within this long after the watch starts (default 2)",
    )
    parser.add_argument("--limit-hours", type=float, default=24.0, help="give up after this much simulated time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 when any TARGET is a MISS")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
