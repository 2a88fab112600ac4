"""Two and three engines on one journal, one tenant, one budget (issue 7, item 2), in simulated time.

Each "process" is an ``OperationsEngine`` with its own ``GraphClient``, its own ``OperationJournal``
connection and its own journal writer thread, all on one SQLite file; they coordinate only through
that file (the processes table, leases, the tenant's ledger and pacer), exactly as separate OS
processes do. They share one event loop so that a ``ManualClock`` can run hours of Retry-After in
seconds (separate OS processes would need the wall clock). One of them is killed part-way
(``stop(release=False)``: no lease given back, no heartbeat), as ``kill -9`` would leave it.

Each process submits its share of the exports (one container each); Retry-After is 30 s and
exports take 10-40 minutes, so the budget binds.

``--real`` runs the same with real OS processes instead (wall clock, a minute or two): the
simulator is served on loopback (``console.sim.server.LoopbackServer``), each process is a
``python benchmarks/multiprocess.py --child ...`` with its own engine on the one journal, and one
of them is killed with SIGKILL part-way. Within a short run "any hour" cannot be seen, so the
check there is the pacing: no window of W seconds holds more than burst + W x the tenant's rate.

Run: .venv/bin/python benchmarks/multiprocess.py [--processes 2 3] [--ops 600] [--poll-budget 1200] [--check]
     .venv/bin/python benchmarks/multiprocess.py --real [--check]
``--check`` exits 1 when any TARGET is a MISS (requests in any hour within the budget, 0 early polls,
every operation finished, the killed process's operations taken over).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    SAS,
    early_polls,
    max_in_window,
    print_block,
    settle,
    spread_export_durations,
    uniform_durations,
    verdict,
)


async def run_clock_until(clock, engines, done, *, limit: float) -> tuple[float, bool]:  # type: ignore[no-untyped-def]
    """Advance the manual clock deadline by deadline, waiting for every journal thread before each step."""
    start = clock.now()
    while not done():
        await settle()
        while any(e.writer.calls_in_flight for e in engines):
            await asyncio.sleep(0.0002)
            await settle()
        if done():
            break
        deadline = clock.next_deadline()
        if deadline is None:
            await asyncio.sleep(0.001)
        else:
            clock.advance(max(0.0, deadline - clock.now()))
        if clock.now() - start > limit:
            return clock.now() - start, False
    return clock.now() - start, True


async def scenario(processes: int, args: argparse.Namespace) -> tuple[list[tuple[str, str]], bool]:
    import console.ops.engine_submit as engine_module
    from console.auth.base import StaticTokenProvider
    from console.clock import ManualClock
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.events import ExportTarget
    from console.ops.journal import OperationJournal
    from console.sim.graph import ServiceLimits
    from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

    engine_module.EXPORTS_PER_TENANT_PER_DAY = max(engine_module.EXPORTS_PER_TENANT_PER_DAY, args.ops)
    clock = ManualClock()
    tenant = SimulatedTenant(
        profiles=args.ops,
        clock=clock.now,
        sleep=clock.sleep,
        retry_after=args.retry_after,
        limits=ServiceLimits(
            exports_per_day=max(1000, args.ops), exports_per_user_per_day=100, requests_per_hour=10_000
        ),
    )
    spread_export_durations(tenant.graph, uniform_durations(args.min_minutes * 60, args.max_minutes * 60, args.seed))
    users = [p.user_id for p in tenant.graph.profiles[: args.ops]]
    base, query = SAS.split("?", 1)
    token = tenant.issue_token(lifetime=10**8)
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="multiprocess-") as tmp:
        path = Path(tmp) / "journal.sqlite3"
        sides = []
        for _ in range(processes):
            journal = OperationJournal(path)
            client = GraphClient(DEMO_GRAPH_URL, StaticTokenProvider(token), transport=tenant.transport(), clock=clock)
            engine = OperationsEngine(
                client,
                journal,
                tenant_key=tenant.tenant_id,
                poll_budget=args.poll_budget,
                clock=clock,
                identity="bench",
            )
            sides.append((journal, client, engine))
        for _j, _c, engine in sides:
            await engine.start()
        share = len(users) // processes
        for n, (_j, _c, engine) in enumerate(sides):
            mine = users[n * share : (n + 1) * share if n < processes - 1 else len(users)]
            await engine.submit(
                [ExportTarget(user_id=u, storage_location=f"{base}-{n}-{i}?{query}") for i, u in enumerate(mine)]
            )
        engines = [engine for _j, _c, engine in sides]
        victim = engines[-1]
        victim_ops = set(victim._tracked)
        await run_clock_until(clock, engines, lambda: False, limit=args.kill_after_minutes * 60)
        victim_left = {k for k in victim._tracked}
        await victim.stop(release=False)  # kill -9
        alive = engines[:-1]

        def finished() -> bool:
            return all(not e._tracked for e in alive) and all(
                v.state in ("final", "error") for v in alive[0].operations()
            )

        simulated, done = await run_clock_until(clock, alive, finished, limit=args.limit_hours * 3600)
        views = alive[0].operations()
        taken = sum(1 for k in victim_left if any(k in e._rows and e._rows[k].state == "final" for e in alive))
        per_process = [e.polls_sent for e in engines]
        for journal, client, engine in sides:
            if engine.running:
                await engine.stop()
            await client.aclose()
            journal.close()
    wall = time.perf_counter() - wall0

    polls = [r for r in tenant.requests if r.kind == "poll"]
    nonexport = [r.at for r in tenant.requests if r.kind != "export"]
    window_max = max_in_window(nonexport, 3600.0)
    early = early_polls(tenant.requests)
    finals = sum(1 for v in views if v.state == "final")
    throttled = sum(1 for r in tenant.requests if r.status == 429)
    rows = [
        (
            "processes",
            f"{processes} engines, each its own connection and writer thread, one journal; "
            f"the last killed after {args.kill_after_minutes:g} min (no lease given back)",
        ),
        (
            "operations",
            f"{args.ops} (Retry-After {args.retry_after:g} s, {args.min_minutes:g}-{args.max_minutes:g} min), "
            f"poll budget {args.poll_budget}/h for the tenant",
        ),
        ("final", f"{finals}/{args.ops}" + ("" if done else "  NOT FINISHED")),
        ("simulated / wall", f"{simulated + args.kill_after_minutes * 60:.0f} s / {wall:.1f} s"),
        ("polls per process", ", ".join(str(p) for p in per_process) + f" (total {len(polls)}); 429s {throttled}"),
        (
            "killed process's operations",
            f"{len(victim_ops)} at submit, {len(victim_left)} open when killed, "
            f"{taken} taken over and finished by the others",
        ),
        ("max requests in any 3600 s window", f"{window_max} (budget {args.poll_budget})"),
        ("polls before Retry-After", f"{early}"),
        ("TARGET requests in any hour within the budget", verdict(window_max <= args.poll_budget)),
        ("TARGET zero early polls", verdict(early == 0)),
        ("TARGET every operation finished", verdict(done and finals == args.ops)),
        ("TARGET killed process's operations taken over", verdict(taken == len(victim_left))),
    ]
    missed = any(value.startswith("MISS") for name, value in rows if name.startswith("TARGET"))
    return rows, missed


async def child(spec: dict[str, object]) -> int:
    """One real process: its own engine on the shared journal, against the loopback simulator."""
    from console.auth.base import StaticTokenProvider
    from console.clock import SystemClock
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.events import ExportTarget
    from console.ops.journal import OperationJournal

    clock = SystemClock()
    journal = OperationJournal(str(spec["journal"]))
    client = GraphClient(str(spec["graph_url"]), StaticTokenProvider(str(spec["token"])), clock=clock)
    engine = OperationsEngine(
        client,
        journal,
        tenant_key=str(spec["tenant"]),
        poll_budget=int(str(spec["budget"])),
        clock=clock,
        identity=f"process {spec['index']}",
    )
    await engine.start()
    users = [str(u) for u in spec["users"]]  # type: ignore[attr-defined]
    base, query = SAS.split("?", 1)
    await engine.submit(
        [
            ExportTarget(user_id=u, storage_location=f"{base}-real-{spec['index']}-{i}?{query}")
            for i, u in enumerate(users)
        ]
    )
    total = int(str(spec["total"]))
    deadline = time.monotonic() + float(str(spec["limit"]))
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        views = engine.operations()
        if len(views) >= total and all(v.state in ("final", "error") for v in views):
            break
    await engine.stop()
    await client.aclose()
    journal.close()
    return 0


def real_scenario(processes: int, args: argparse.Namespace) -> tuple[list[tuple[str, str]], bool]:
    from console.clock import SystemClock
    from console.ops.budget import PollBudget
    from console.sim.server import LoopbackServer
    from console.sim.tenant import SimulatedTenant

    tenant = SimulatedTenant(profiles=args.real_ops, retry_after=args.real_retry_after)
    spread_export_durations(tenant.graph, uniform_durations(args.real_min_seconds, args.real_max_seconds, args.seed))
    users = [p.user_id for p in tenant.graph.profiles[: args.real_ops]]
    budget = PollBudget(args.real_poll_budget, SystemClock())
    wall0 = time.time()
    with tempfile.TemporaryDirectory(prefix="multiprocess-real-") as tmp, LoopbackServer(tenant) as server:
        share = len(users) // processes
        children = []
        for n in range(processes):
            spec = {
                "journal": str(Path(tmp) / "journal.sqlite3"),
                "graph_url": server.graph_url,
                "token": tenant.issue_token(lifetime=10**6),
                "tenant": tenant.tenant_id,
                "budget": args.real_poll_budget,
                "index": n,
                "total": len(users),
                "limit": args.real_limit,
                "users": users[n * share : (n + 1) * share if n < processes - 1 else len(users)],
            }
            children.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--child", json.dumps(spec)],
                    env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
                )
            )
        time.sleep(args.real_kill_after)
        victim = children[-1]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        codes = [child.wait(timeout=args.real_limit + 60) for child in children[:-1]]
        from console.ops.journal import OperationJournal

        journal = OperationJournal(Path(tmp) / "journal.sqlite3")
        states = [row.state for row in journal.rows(tenant.tenant_id)]
        journal.close()
    wall = time.time() - wall0
    requests = sorted(tenant.requests, key=lambda r: r.at)
    nonexport = [r.at for r in requests if r.kind != "export"]
    early = 0
    last: dict[str, tuple[float, float]] = {}
    for r in requests:
        if not r.operation_id or r.kind not in ("export", "poll"):
            continue
        previous = last.get(r.operation_id)
        if r.kind == "poll" and previous is not None and r.at < previous[0] + previous[1] - 1e-3:
            early += 1
        last[r.operation_id] = (r.at, float(r.retry_after or 0))
    worst = 0.0
    for window in (10.0, 30.0, 60.0):
        allowed = budget.burst + window * budget.rate
        worst = max(worst, max_in_window(nonexport, window) / allowed)
    done_ops = {r.operation_id for r in requests if r.kind == "poll" and r.operation_id}
    posted = {r.operation_id for r in requests if r.kind == "export" and r.operation_id}
    rows = [
        (
            "processes",
            f"{processes} OS processes on one journal, the last killed with SIGKILL after "
            f"{args.real_kill_after:g} s; simulator on loopback",
        ),
        (
            "operations",
            f"{len(posted)} accepted (Retry-After {args.real_retry_after:g} s, "
            f"{args.real_min_seconds:g}-{args.real_max_seconds:g} s), budget {args.real_poll_budget}/h "
            f"(rate {budget.rate:.2f}/s, burst {budget.burst:g})",
        ),
        ("exit codes of the survivors", ", ".join(str(c) for c in codes)),
        ("requests", f"{len(nonexport)} non-export in {wall:.0f} s wall; polled operations {len(done_ops)}"),
        ("busiest window / allowed", f"{worst:.2f} (windows of 10, 30, 60 s; allowed = burst + W x rate)"),
        ("polls before Retry-After", f"{early}"),
        ("TARGET pacing within the tenant's budget", verdict(worst <= 1.0)),
        ("TARGET zero early polls", verdict(early == 0)),
        ("journal at the end", f"{states.count('final')} final of {len(states)} rows"),
        ("TARGET survivors exit 0", verdict(all(c == 0 for c in codes))),
        (
            "TARGET every export finished (the killed one's taken over)",
            verdict(len(states) == len(posted) and states.count("final") == len(states)),
        ),
    ]
    missed = any(value.startswith("MISS") for name, value in rows if name.startswith("TARGET"))
    return rows, missed


async def run(args: argparse.Namespace) -> int:
    missed_any = False
    for processes in args.processes:
        if args.real:
            rows, missed = real_scenario(processes, args)
            print_block(f"multiprocess --real: {processes} OS processes on one journal (wall clock)", rows)
            missed_any = missed_any or missed
            continue
        rows, missed = await scenario(processes, args)
        print_block(f"multiprocess: {processes} engines on one journal (simulated time)", rows)
        missed_any = missed_any or missed
    if args.check and missed_any:
        print("MISS", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 3], help="engines per run (default 2 3)")
    parser.add_argument("--ops", type=int, default=600, help="exports in all (default 600)")
    parser.add_argument("--poll-budget", type=int, default=1200, help="the tenant's requests an hour (default 1200)")
    parser.add_argument("--retry-after", type=float, default=30.0, help="simulator Retry-After (default 30 s)")
    parser.add_argument("--min-minutes", type=float, default=10.0)
    parser.add_argument("--max-minutes", type=float, default=40.0)
    parser.add_argument("--kill-after-minutes", type=float, default=15.0, help="when the last engine is killed")
    parser.add_argument("--limit-hours", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 when any TARGET is a MISS")
    parser.add_argument("--real", action="store_true", help="real OS processes, wall clock, loopback simulator")
    parser.add_argument("--real-ops", type=int, default=24)
    parser.add_argument("--real-poll-budget", type=int, default=3600)
    parser.add_argument("--real-retry-after", type=float, default=2.0)
    parser.add_argument("--real-min-seconds", type=float, default=15.0)
    parser.add_argument("--real-max-seconds", type=float, default=40.0)
    parser.add_argument("--real-kill-after", type=float, default=8.0)
    parser.add_argument("--real-limit", type=float, default=150.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return asyncio.run(child(json.loads(args.child)))
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
