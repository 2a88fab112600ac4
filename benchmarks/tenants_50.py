"""Scale (issue 18): one process carries many tenants, each polling at its full budget.

N simulated tenants (``console.sim``, in-process transports, nothing leaves the process), each with
its own ``GraphClient`` and ``OperationsEngine`` sharing one ``PollBudget`` as the console builds them
(``--budget``, 10,000 requests an hour by default), all in ONE process, one event loop and one
journal. One tenant runs alone first with the same settings: its detection delay p95 is the
yardstick for every tenant of the fleet run.

The budget is under pressure: each tenant gets more exports than its budget can poll in the run
(``--ops``, by default as many as the requests the budget allows in the run, each needing a POST
and at least two polls), so pacing binds. The export POSTs are counted too: Graph's daily export
quota governs them, not the request budget (``GraphClient.export_personal_data``), so the no-overrun
target is on the budgeted requests (polls, retries) and the POSTs are shown beside them.

Detection delay: wall time from an operation's ``completedDateTime`` in the simulator to the
engine's event with the final status. CPU share: process CPU seconds / wall seconds (the
simulators run in this process too, so the share is an upper bound for the engines).
Overruns: per tenant, polls in the busiest window of the run's length above the budget scaled
to that length (the engine's burst + (10,000 - burst) x seconds / 3600, which over an hour is the budget). Early polls: polls sent before the previous answer's
Retry-After, from the simulator's own record.

Run: .venv/bin/python benchmarks/tenants_50.py [--tenants 50] [--seconds 50] [--budget 10000] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import early_polls, max_in_window, median, percentile, print_block, verdict

FINAL = ("complete", "failed")


def location_for(tenant: int, user_id: str) -> str:
    """One container per export; never contacted."""
    return (
        f"https://benchacct.blob.core.windows.net/t{tenant}-{user_id.lower()}"
        "?sv=2022-11-02&sr=c&sp=cw&se=2099-01-01T00:00:00Z&sig=bench-not-a-secret"
    )


def make_tenant(index: int, ops: int, args: argparse.Namespace) -> Any:
    from console.sim.graph import ServiceLimits
    from console.sim.tenant import SimulatedTenant

    tenant = SimulatedTenant(
        profiles=ops,
        retry_after=args.retry_after,
        export_duration=args.duration,
        export_duration_jitter=0.5,
        seed=100,  # every tenant the same workload: the one run alone is each one's yardstick
        tenant_id=f"{index:08d}-5050-4050-8050-505050505050",
        limits=ServiceLimits(exports_per_day=10**9, exports_per_user_per_day=10**9, requests_per_hour=10**9),
    )
    tenant.graph.config.queue_fraction = 0.0
    tenant.graph.config.refuse_reused_location = False
    return tenant


def pressure_ops(budget: int, seconds: float) -> int:
    """Exports per tenant enough to put its budget under pressure: as many as the requests it allows in
    ``seconds`` (each export needs a POST and at least two polls, so its polls alone outrun the budget)."""
    from console.ops.budget import default_burst

    burst = default_burst(budget)
    return max(20, int(burst + (budget - burst) * seconds / 3600) + 1)


async def fleet(count: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``count`` tenants at once for ``args.seconds``; return per-tenant delays and request logs."""
    from console.auth.base import StaticTokenProvider
    from console.clock import SystemClock
    from console.graph.client import GraphClient
    from console.ops.budget import PollBudget
    from console.ops.engine import OperationsEngine
    from console.ops.events import ExportTarget
    from console.ops.journal import OperationJournal
    from console.sim.tenant import DEMO_GRAPH_URL

    ops = args.ops or pressure_ops(args.budget, args.seconds)
    delays: list[list[float]] = [[] for _ in range(count)]
    with tempfile.TemporaryDirectory(prefix="tenants-bench-") as tmp:
        journal = OperationJournal(Path(tmp) / "journal.sqlite3")
        tenants, clients, engines = [], [], []
        for i in range(count):
            tenant = make_tenant(i, ops, args)
            budget = PollBudget(args.budget, SystemClock())  # one per tenant: client and engine, as the console
            client = GraphClient(
                DEMO_GRAPH_URL,
                StaticTokenProvider(tenant.issue_token(lifetime=86400)),
                transport=tenant.transport(),
                clock=SystemClock(),
                budget=budget,
            )
            engine = OperationsEngine(
                client,
                journal,
                tenant_key=tenant.tenant_id,
                poll_budget=args.budget,
                clock=SystemClock(),
                budget=budget,
            )

            def on_event(event: Any, seen: set[int] = set(), out: list[float] = delays[i]) -> None:  # noqa: B006
                view = event.operation
                if view.status in FINAL and view.completed_at is not None and view.key not in seen:
                    seen.add(view.key)
                    out.append(time.time() - view.completed_at.timestamp())

            engine.subscribe(on_event)
            tenants.append(tenant)
            clients.append(client)
            engines.append(engine)
        cpu0, wall0 = time.process_time(), time.time()
        for engine in engines:
            await engine.start()
        for i, (tenant, engine) in enumerate(zip(tenants, engines, strict=True)):
            users = [p.user_id for p in tenant.graph.profiles[:ops]]
            await engine.submit([ExportTarget(u, location_for(i, u)) for u in users])
        submitted = time.time()
        await asyncio.sleep(args.seconds)
        cpu, wall = time.process_time() - cpu0, time.time() - wall0
        for engine in engines:
            await engine.stop()
        for client in clients:
            await client.aclose()
        journal.close()
    from console.ops.budget import default_burst

    # The engine's bucket: a burst, then (budget - burst) an hour, so any hour holds at most the budget.
    window = wall
    burst = default_burst(args.budget)
    allowed = burst + (args.budget - burst) * window / 3600
    overruns = []
    for tenant in tenants:
        # The budget governs every request but the export POSTs (Graph's daily export quota keeps those).
        times = [r.at for r in tenant.requests if r.kind != "export"]
        overruns.append((max_in_window(times, window), allowed))
    return {
        "ops": ops,
        "polling": wall - (submitted - wall0),
        "posts": [sum(1 for r in t.requests if r.kind == "export") for t in tenants],
        "with_posts": [max_in_window([r.at for r in t.requests], window) for t in tenants],
        "delays": delays,
        "cpu": cpu,
        "wall": wall,
        "overruns": overruns,
        "early": sum(early_polls(t.requests) for t in tenants),
        "requests": [sum(1 for r in t.requests if r.kind in ("export", "poll")) for t in tenants],
    }


def main() -> int:
    from console.ops.budget import default_burst

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=3.0, help="mean export duration, seconds")
    parser.add_argument("--budget", type=int, default=10_000, help="each tenant's requests an hour")
    parser.add_argument(
        "--ops", type=int, default=0, help="exports per tenant (0: enough to put the budget under pressure)"
    )
    parser.add_argument(
        "--max-ratio", type=float, default=1.2, help="worst tenant's p95 detection delay / the single tenant's"
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    alone = asyncio.run(fleet(1, args))
    base = percentile(alone["delays"][0], 95) if alone["delays"][0] else float("inf")
    run = asyncio.run(fleet(args.tenants, args))
    share = run["cpu"] / run["wall"]
    p95s = [percentile(d, 95) if d else float("inf") for d in run["delays"]]
    worst = max(p95s)
    over = sum(1 for got, allowed in run["overruns"] if got > allowed)
    busiest = max(got for got, _ in run["overruns"])
    allowed = run["overruns"][0][1]
    done = [len(d) for d in run["delays"]]
    pressed = median([got for got, _ in run["overruns"]])
    # The pace after the burst, over the time every export was out (the POSTs of 50 tenants take a while).
    steady = (args.budget - default_burst(args.budget)) * run["polling"] / 3600
    print_block(
        f"{args.tenants} tenants, one process, {run['wall']:.0f} s, Retry-After {args.retry_after:g} s, "
        f"exports ~{args.duration:g} s, budget {args.budget}/h each, {run['ops']} exports each",
        [
            (
                "single tenant alone",
                f"p95 {base:.2f} s, median {median(alone['delays'][0]):.2f} s, {len(alone['delays'][0])} noticed",
            ),
            (
                "per-tenant median (min/median/max)",
                " / ".join(
                    f"{v:.2f}"
                    for v in (
                        min(map(median, run["delays"])),
                        median([median(d) for d in run["delays"]]),
                        max(map(median, run["delays"])),
                    )
                )
                + " s",
            ),
            ("per-tenant p95 (min/median/max)", f"{min(p95s):.2f} / {median(p95s):.2f} / {worst:.2f} s"),
            ("completions noticed per tenant", f"min {min(done)}, max {max(done)}"),
            (
                "requests per tenant (POST + poll)",
                f"min {min(run['requests'])}, max {max(run['requests'])} "
                f"(budgeted requests allowed {allowed:.0f} in {run['wall']:.0f} s)",
            ),
            (
                "budgeted requests, busiest window",
                f"min {min(got for got, _ in run['overruns'])}, max {busiest} of {allowed:.0f} allowed",
            ),
            (
                "export POSTs per tenant (Graph's daily quota)",
                f"min {min(run['posts'])}, max {max(run['posts'])}; with them the busiest window holds "
                f"max {max(run['with_posts'])} requests",
            ),
            ("CPU", f"{run['cpu']:.1f} s over {run['wall']:.1f} s wall"),
        ],
    )
    targets = [
        (share < 0.5, f"CPU share under 0.5 core: {share:.2f}"),
        (
            worst <= base * args.max_ratio,
            f"worst tenant p95 <= {args.max_ratio:g} x single ({base:.2f} s): {worst:.2f} s",
        ),
        (
            over == 0,
            f"no overrun: {over} tenants over (busiest {busiest} in {run['wall']:.0f} s, allowed {allowed:.0f})",
        ),
        (run["early"] == 0, f"no poll before Retry-After: {run['early']}"),
        (
            pressed >= 0.8 * steady,
            f"the budget binds (median tenant's budgeted requests >= 80% of its steady pace, {steady:.0f} "
            f"in the {run['polling']:.0f} s after the last POST): {pressed}",
        ),
        (min(done) < run["ops"], f"more exports than the budget can poll: min {min(done)} of {run['ops']} noticed"),
    ]
    for ok, text in targets:
        print(f"TARGET {text} ... {verdict(ok)}")
    return 1 if args.check and not all(ok for ok, _ in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
