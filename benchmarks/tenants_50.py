"""Scale (issue 18): one process carries many tenants, each polling at its full budget.

N simulated tenants (``console.sim``, in-process transports, nothing leaves the process), each with
its own ``GraphClient`` and ``OperationsEngine`` (``poll_budget`` 10,000 requests an hour), all in
ONE process, one event loop and one journal. One tenant runs alone first with the same settings:
its detection delay p95 is the yardstick for every tenant of the fleet run.

Detection delay: wall time from an operation's ``completedDateTime`` in the simulator to the
engine's event with the final status. CPU share: process CPU seconds / wall seconds (the
simulators run in this process too, so the share is an upper bound for the engines).
Overruns: per tenant, polls in the busiest window of the run's length above the budget scaled
to that length (the engine's burst + (10,000 - burst) x seconds / 3600, which over an hour is the budget). Early polls: polls sent before the previous answer's
Retry-After, from the simulator's own record.

Run: .venv/bin/python benchmarks/tenants_50.py [--tenants 50] [--seconds 60] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import max_in_window, median, percentile, print_block, verdict

BUDGET = 10_000
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
        seed=100 + index,
        tenant_id=f"{index:08d}-5050-4050-8050-505050505050",
        limits=ServiceLimits(exports_per_day=10**9, exports_per_user_per_day=10**9, requests_per_hour=10**9),
    )
    tenant.graph.config.queue_fraction = 0.0
    tenant.graph.config.refuse_reused_location = False
    return tenant


def early_polls(tenant: Any) -> int:
    last: dict[str, tuple[float, float]] = {}
    early = 0
    for r in sorted(tenant.requests, key=lambda r: r.at):
        if not r.operation_id or r.kind not in ("export", "poll"):
            continue
        previous = last.get(r.operation_id)
        if r.kind == "poll" and previous is not None and r.at < previous[0] + previous[1] - 1e-6:
            early += 1
        try:
            wait = float(r.retry_after) if r.retry_after is not None else 0.0
        except ValueError:
            wait = 0.0
        last[r.operation_id] = (r.at, wait)
    return early


async def fleet(count: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``count`` tenants at once for ``args.seconds``; return per-tenant delays and request logs."""
    from console.auth.base import StaticTokenProvider
    from console.clock import SystemClock
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.events import ExportTarget
    from console.ops.journal import OperationJournal
    from console.sim.tenant import DEMO_GRAPH_URL

    # Enough exports to keep the budget binding for the whole run (each costs a POST and a few polls).
    ops = max(20, int(BUDGET * args.seconds / 3600 / 2))
    delays: list[list[float]] = [[] for _ in range(count)]
    with tempfile.TemporaryDirectory(prefix="tenants-bench-") as tmp:
        journal = OperationJournal(Path(tmp) / "journal.sqlite3")
        tenants, clients, engines = [], [], []
        for i in range(count):
            tenant = make_tenant(i, ops, args)
            client = GraphClient(
                DEMO_GRAPH_URL,
                StaticTokenProvider(tenant.issue_token(lifetime=86400)),
                transport=tenant.transport(),
                clock=SystemClock(),
            )
            engine = OperationsEngine(
                client, journal, tenant_key=tenant.tenant_id, poll_budget=BUDGET, clock=SystemClock()
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
    burst = default_burst(BUDGET)
    allowed = burst + (BUDGET - burst) * window / 3600
    overruns = []
    for tenant in tenants:
        # The engine's poll budget governs the polls (the POSTs go through a client without a budget here).
        times = [r.at for r in tenant.requests if r.kind == "poll"]
        overruns.append((max_in_window(times, window), allowed))
    return {
        "delays": delays,
        "cpu": cpu,
        "wall": wall,
        "overruns": overruns,
        "early": sum(early_polls(t) for t in tenants),
        "requests": [sum(1 for r in t.requests if r.kind in ("export", "poll")) for t in tenants],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=3.0, help="mean export duration, seconds")
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
    print_block(
        f"{args.tenants} tenants, one process, {run['wall']:.0f} s, Retry-After {args.retry_after:g} s, "
        f"exports ~{args.duration:g} s, budget {BUDGET}/h each",
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
                f"(polls allowed {allowed:.0f} in {run['wall']:.0f} s)",
            ),
            ("CPU", f"{run['cpu']:.1f} s over {run['wall']:.1f} s wall"),
        ],
    )
    targets = [
        (share < 0.5, f"CPU share under 0.5 core: {share:.2f}"),
        (worst <= base * 1.2, f"worst tenant p95 <= 1.2 x single ({base:.2f} s): {worst:.2f} s"),
        (
            over == 0,
            f"no overrun: {over} tenants over (busiest {busiest} in {run['wall']:.0f} s, allowed {allowed:.0f})",
        ),
        (run["early"] == 0, f"no poll before Retry-After: {run['early']}"),
    ]
    for ok, text in targets:
        print(f"TARGET {text} ... {verdict(ok)}")
    return 1 if args.check and not all(ok for ok, _ in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
