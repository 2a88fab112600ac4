"""2,000 long exports on a 9,000-polls-an-hour budget, in simulated time.

ManualClock + the in-process simulator (``tenant.transport()`` with ``sleep=clock.sleep``): hours
of Retry-After pass in seconds of wall time. Retry-After is 60 s and exports take 20-60 minutes
(uniform), so 2,000 operations want far more than 9,000 polls an hour and the budget binds.

Graph allows 1,000 exports a day per tenant; to submit 2,000 at once this script raises the
simulator's limit (``tenant.graph.config.limits``) and, inside this script only, the engine's
``EXPORTS_PER_TENANT_PER_DAY`` (``console.ops.engine_submit`` imports the constant by name, so that is
the module patched). The simulator's 10,000 requests-an-hour limit is left as Graph has it: any
hourly overrun past it would show as 429s.

Each export goes to its own container (Graph accepts one export per storage location). The clock
moves only when the engine's journal thread is idle, so simulated time never runs ahead of it.

Run: .venv/bin/python benchmarks/budget_2000.py [--ops 2000] [--poll-budget 9000] [--check]
``--check`` exits 1 when any TARGET is a MISS (detection p95 <= 120 s, max <= 300 s, no overrun,
every operation finished, zero polls before Retry-After).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import (
    SAS,
    max_in_window,
    median,
    percentile,
    print_block,
    settle,
    spread_export_durations,
    uniform_durations,
    verdict,
)


async def run_clock_until(clock, engine, done, *, limit: float) -> tuple[float, int, bool]:  # type: ignore[no-untyped-def]
    """Advance the manual clock deadline by deadline, waiting for the journal thread before each step."""
    start = clock.now()
    steps = 0
    while not done():
        await settle()
        while engine.writer.calls_in_flight:
            await asyncio.sleep(0.0002)
            await settle()
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
    import console.ops.engine_submit as engine_module
    from console.auth.base import StaticTokenProvider
    from console.clock import ManualClock
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.events import ExportTarget, OperationEvent
    from console.ops.journal import OperationJournal
    from console.sim.graph import ServiceLimits
    from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

    # Benchmark-only: let the engine submit more than Graph's 1,000 a day in one batch.
    engine_module.EXPORTS_PER_TENANT_PER_DAY = max(engine_module.EXPORTS_PER_TENANT_PER_DAY, args.ops)

    clock = ManualClock()
    tenant = SimulatedTenant(
        profiles=args.ops,
        clock=clock.now,
        sleep=clock.sleep,
        retry_after=args.retry_after,
        export_duration=args.min_minutes * 60,
        limits=ServiceLimits(
            exports_per_day=max(1000, args.ops), exports_per_user_per_day=100, requests_per_hour=10_000
        ),
    )
    spread_export_durations(tenant.graph, uniform_durations(args.min_minutes * 60, args.max_minutes * 60, args.seed))
    users = [p.user_id for p in tenant.graph.profiles[: args.ops]]

    detection: dict[int, float] = {}

    def on_event(event: OperationEvent) -> None:
        view = event.operation
        if event.kind == "status" and view.status in ("complete", "failed") and view.completed_at is not None:
            detection[view.key] = clock.now() - view.completed_at.timestamp()

    with tempfile.TemporaryDirectory(prefix="budget2000-") as tmp:
        journal = OperationJournal(Path(tmp) / "journal.sqlite3")
        client = GraphClient(
            DEMO_GRAPH_URL,
            StaticTokenProvider(tenant.issue_token(lifetime=10**7)),
            transport=tenant.transport(),
            clock=clock,
        )
        engine = OperationsEngine(
            client, journal, tenant_key=tenant.tenant_id, poll_budget=args.poll_budget, clock=clock
        )
        engine.subscribe(on_event)
        wall0 = time.perf_counter()
        await engine.start()
        base, query = SAS.split("?", 1)
        targets = [ExportTarget(user_id=u, storage_location=f"{base}-{n}?{query}") for n, u in enumerate(users)]
        outcomes = await engine.submit(targets)
        refused = sum(1 for o in outcomes if not o.accepted)
        simulated, steps, finished = await run_clock_until(
            clock, engine, engine._idle.is_set, limit=args.limit_hours * 3600
        )
        writer_journal = engine.writer.journal
        journal_writes, journal_flushes = writer_journal.writes, writer_journal.flushes
        await engine.stop()
        wall = time.perf_counter() - wall0
        views = engine.operations()
        journal_bytes = journal.size_bytes()
        await client.aclose()
        journal.close()

    # -- analysis on the simulator's record (its clock is the manual clock) --
    posts = [r for r in tenant.requests if r.kind == "export"]
    polls = [r for r in tenant.requests if r.kind == "poll"]
    throttled = sum(1 for r in tenant.requests if r.status == 429)
    window_max = max_in_window((r.at for r in polls), 3600.0)
    per_op: dict[str, list[float]] = defaultdict(list)
    for r in posts:
        if r.operation_id:
            per_op[r.operation_id].append(r.at)
    polls_per_op: dict[str, int] = defaultdict(int)
    early = 0
    last: dict[str, tuple[float, float]] = {
        r.operation_id: (r.at, float(r.retry_after or 0)) for r in posts if r.operation_id
    }
    for r in polls:
        op = r.operation_id or ""
        per_op[op].append(r.at)
        polls_per_op[op] += 1
        previous = last.get(op)
        if previous is not None and r.at < previous[0] + previous[1] - 1e-6:
            early += 1
        last[op] = (r.at, float(r.retry_after or 0))
    max_gap = 0.0
    for times in per_op.values():
        times.sort()
        for a, b in zip(times, times[1:], strict=False):
            max_gap = max(max_gap, b - a)
    counts = [polls_per_op.get(op, 0) for op in per_op]
    minimum = len(posts) + len(per_op)  # each POST + exactly one poll after the operation finished
    used = len(posts) + len(polls)
    finals = sum(1 for v in views if v.state == "final")
    latencies = list(detection.values())
    rate = engine.budget.rate

    rows = [
        (
            "operations",
            f"{args.ops} (Retry-After {args.retry_after:g} s, durations {args.min_minutes:g}-"
            f"{args.max_minutes:g} min uniform), poll budget {args.poll_budget}/h "
            f"(steady {rate * 3600:.0f}/h, burst {engine.budget.burst:g})",
        ),
        ("clock / transport", "ManualClock, in-process SimulatedTenant.transport()"),
        ("final", f"{finals}/{args.ops} (refused at submit {refused})" + ("" if finished else "  NOT FINISHED")),
        ("simulated duration", f"{simulated:.0f} s ({simulated / 3600:.2f} h); wall {wall:.1f} s; {steps} clock steps"),
        ("requests used", f"{used} = {len(posts)} POST + {len(polls)} polls; 429s {throttled}"),
        (
            "minimum needed",
            f"{minimum} = {len(posts)} POST + {len(per_op)} polls (one after each finish); "
            f"used/minimum {used / max(1, minimum):.2f}x",
        ),
        (
            "polls per operation",
            f"max {max(counts, default=0)}, mean {sum(counts) / max(1, len(counts)):.2f}, median {median(counts):.0f}",
        ),
        ("max polls in any 3600 s window", f"{window_max} (budget {args.poll_budget}; Graph's limit 10,000)"),
        (
            "detection delay (finish -> noticed)",
            f"max {max(latencies, default=float('nan')):.0f} s, p95 {percentile(latencies, 95):.0f} s, "
            f"median {median(latencies):.0f} s (fair interval at full load {args.ops / rate:.0f} s)",
        ),
        ("max gap between polls of one op", f"{max_gap:.0f} s (POST to first poll included)"),
        ("polls before Retry-After", f"{early}"),
        ("journal", f"{journal_writes} row writes in {journal_flushes} flushes, {journal_bytes / 1024:.0f} KiB"),
        (
            "TARGET no budget overrun",
            verdict(window_max <= args.poll_budget) + f" ({max(0, window_max - args.poll_budget)} polls over)",
        ),
        ("TARGET every operation finished", verdict(finished and finals == args.ops)),
        ("TARGET zero polls before Retry-After", verdict(early == 0)),
        ("TARGET detection p95 <= 120 s", verdict(percentile(latencies, 95) <= 120)),
        ("TARGET detection max <= 300 s", verdict(max(latencies, default=float("inf")) <= 300)),
    ]
    print_block("budget_2000: the poll budget binds (simulated time)", rows)
    missed = [name for name, value in rows if name.startswith("TARGET") and value.startswith("MISS")]
    if args.check and missed:
        print(f"MISS: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=2000, help="exports (default 2000)")
    parser.add_argument("--poll-budget", type=int, default=9000, help="engine polls an hour (default 9000)")
    parser.add_argument("--retry-after", type=float, default=60.0, help="simulator Retry-After (default 60 s)")
    parser.add_argument("--min-minutes", type=float, default=20.0, help="shortest export (default 20 min)")
    parser.add_argument("--max-minutes", type=float, default=60.0, help="longest export (default 60 min)")
    parser.add_argument("--limit-hours", type=float, default=24.0, help="give up after this much simulated time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 when any TARGET is a MISS")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
