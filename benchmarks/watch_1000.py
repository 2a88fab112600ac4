"""1,000 exports watched to the end over loopback, against a bare httpx loop doing the same requests.

The simulated tenant runs in a separate process (multiprocessing child serving
``console.sim.server.LoopbackServer`` on 127.0.0.1), so ``time.process_time()`` here is the
client's CPU only. Two phases run against the same server, one after the other:

1. engine: GraphClient + OperationsEngine (SystemClock) + a fresh OperationJournal in a temp dir;
   ``submit`` every user, ``wait_until_idle``, ``stop``.
2. bare: a plain ``httpx.AsyncClient`` with one asyncio task per export: POST, then sleep the
   Retry-After, GET, until complete (4 POSTs / 16 GETs in flight, like the engine's defaults).

Both phases send requests through the same timestamping transport wrapper, so the per-operation
"poll before Retry-After" check and the instrumentation cost are identical on both sides.

Graph's real poll budget (10,000/h) could never keep up with 1,000 operations at a 2 s
Retry-After, so this benchmark raises the engine's ``--poll-budget`` (default 10,000,000/h) and the
simulator's service limits: it measures pacing, detection latency and client overhead, not the
budget (``budget_2000.py`` does that).

Run: .venv/bin/python benchmarks/watch_1000.py [--ops 1000] [--retry-after 2] [--check] ...
``--check`` exits 1 when any TARGET is a MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import random
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import zip_longest
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from _common import median, percentile, print_block, spread_export_durations, verdict


def location_for(user_id: str, phase: str) -> str:
    """One container per export and phase: Graph (and the simulator) accept one export per location."""
    return (
        f"https://benchacct.blob.core.windows.net/dsr-{user_id.lower()}-{phase}"
        "?sv=2022-11-02&sr=c&sp=cw&se=2099-01-01T00:00:00Z&sig=bench-not-a-secret"
    )


# ----------------------------------------------------------------------------- simulator child


def serve_simulator(conn: Connection, options: dict[str, Any]) -> None:
    """Child process: serve one simulated tenant on loopback until told to stop."""
    from console.sim.graph import ServiceLimits
    from console.sim.server import LoopbackServer
    from console.sim.tenant import SimulatedTenant

    try:
        tenant = SimulatedTenant(
            profiles=options["profiles"],
            retry_after=options["retry_after"],
            export_duration=options["min_duration"],
            limits=ServiceLimits(exports_per_day=10**9, exports_per_user_per_day=10**9, requests_per_hour=10**9),
        )
        # Same seed for both phases: "reset" rewinds it, so the bare loop sees the same durations.
        durations = random.Random(options["seed"])
        low, high = options["min_duration"], options["max_duration"]
        spread_export_durations(tenant.graph, lambda _now: durations.uniform(low, high))
        users = [p.user_id for p in tenant.graph.profiles[: options["ops"]]]
        token = tenant.issue_token(lifetime=7 * 86400)
        with LoopbackServer(tenant, host="127.0.0.1", port=0) as server:
            conn.send({"graph_url": server.graph_url, "token": token, "users": users, "tenant_id": tenant.tenant_id})
            while True:
                command = conn.recv()
                if command == "stop":
                    break
                if command == "stats":
                    conn.send(_server_side_stats(tenant, server))
                elif command == "reset":
                    tenant.requests.clear()
                    durations.seed(options["seed"])
                    conn.send("ok")
    except Exception:  # report instead of leaving the parent waiting
        conn.send({"error": traceback.format_exc()})
    finally:
        conn.close()


def _server_side_stats(tenant: Any, server: Any) -> dict[str, Any]:
    """Cross-check on the simulator's clock: polls that arrived before the Retry-After it gave."""
    last: dict[str, tuple[float, float]] = {}
    early = 0
    worst = float("inf")
    counts: dict[str, int] = defaultdict(int)
    seconds: dict[int, int] = defaultdict(int)
    for r in tenant.requests:
        counts[r.kind] += 1
        if r.kind not in ("export", "poll") or not r.operation_id:
            continue
        if r.kind == "poll":
            seconds[int(r.at)] += 1
        previous = last.get(r.operation_id)
        if r.kind == "poll" and previous is not None:
            margin = r.at - (previous[0] + previous[1])
            worst = min(worst, margin)
            if margin < -1e-6:
                early += 1
        ra = float(r.retry_after) if r.retry_after else 0.0
        last[r.operation_id] = (r.at, ra)
    return {
        "early": early,
        "worst_margin": worst,
        "busiest_second": max(seconds.values(), default=0),
        "poll_seconds": dict(seconds),
        "counts": dict(counts),
        "served": server.requests_served,
        "connections": server.connections_accepted,
    }


# ----------------------------------------------------------------------------- client side


@dataclass
class Exchange:
    sent: float
    received: float
    method: str
    path: str
    status: int
    retry_after: str | None
    location: str | None


class TimedTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport and timestamps each request (sent) and response headers (received)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.log: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.time()
        response = await self.inner.handle_async_request(request)
        received = time.time()
        headers = response.headers
        self.log.append(
            Exchange(
                sent,
                received,
                request.method,
                request.url.path,
                response.status_code,
                headers.get("Retry-After"),
                headers.get("Location") if request.method == "POST" else None,
            )
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def real_transport() -> TimedTransport:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return TimedTransport(httpx.AsyncHTTPTransport(limits=limits))


@dataclass
class PhaseResult:
    name: str
    cpu: float = 0.0
    wall: float = 0.0
    posts: int = 0
    gets: int = 0
    other_status: int = 0
    early_polls: int = 0
    min_margin: float = float("inf")
    latencies: list[float] = field(default_factory=list)
    final: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def analyse_log(result: PhaseResult, log: list[Exchange]) -> None:
    """Per operation: every poll's send time vs the previous response's receive time + its Retry-After."""
    per_op: dict[str, list[Exchange]] = defaultdict(list)
    for x in log:
        if x.method == "POST":
            result.posts += 1
            if x.location:
                per_op[x.location.rstrip("/").rsplit("/", 1)[-1].lower()].append(x)
        elif "/dataPolicyOperations/" in x.path:
            result.gets += 1
            per_op[x.path.rstrip("/").rsplit("/", 1)[-1].lower()].append(x)
        if x.status not in (200, 202):
            result.other_status += 1
    for exchanges in per_op.values():
        exchanges.sort(key=lambda e: e.sent)
        for previous, current in zip(exchanges, exchanges[1:], strict=False):
            ra = float(previous.retry_after) if previous.retry_after else 0.0
            margin = current.sent - (previous.received + ra)
            result.min_margin = min(result.min_margin, margin)
            if margin < 0:
                result.early_polls += 1


async def warm_up(info: dict[str, Any], users: list[str]) -> None:
    """Load httpx/httpcore/anyio's lazily imported modules before any phase is timed."""
    from console.auth.base import StaticTokenProvider
    from console.graph.client import GraphClient

    client = GraphClient(info["graph_url"], StaticTokenProvider(info["token"]), transport=real_transport())
    try:
        await asyncio.gather(*(client.get_profile(u) for u in users[:8]))
    finally:
        await client.aclose()


async def run_engine(info: dict[str, Any], users: list[str], args: argparse.Namespace, phase: str = "e") -> PhaseResult:
    from console.auth.base import StaticTokenProvider
    from console.clock import SystemClock
    from console.graph.client import GraphClient
    from console.ops.engine import OperationsEngine
    from console.ops.events import OperationEvent
    from console.ops.journal import OperationJournal

    result = PhaseResult("engine")
    transport = real_transport()
    detected: dict[int, float] = {}

    def on_event(event: OperationEvent) -> None:
        view = event.operation
        if event.kind == "status" and view.status in ("complete", "failed") and view.completed_at is not None:
            detected[view.key] = time.time() - view.completed_at.timestamp()

    with tempfile.TemporaryDirectory(prefix="watch1000-") as tmp:
        journal = OperationJournal(Path(tmp) / "journal.sqlite3")
        client = GraphClient(
            info["graph_url"], StaticTokenProvider(info["token"]), transport=transport, clock=SystemClock()
        )
        engine = OperationsEngine(
            client, journal, tenant_key=info["tenant_id"], poll_budget=args.poll_budget, clock=SystemClock()
        )
        engine.subscribe(on_event)
        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await engine.start()
        from console.ops.events import ExportTarget

        outcomes = await engine.submit([ExportTarget(u, location_for(u, phase)) for u in users])
        submitted = time.perf_counter()
        try:
            async with asyncio.timeout(args.timeout):
                await engine.wait_until_idle()
        except TimeoutError:
            result.extra["timed_out"] = True
        await engine.stop()
        result.cpu = time.process_time() - cpu0
        result.wall = time.perf_counter() - wall0
        result.extra["submit_wall"] = submitted - wall0
        result.extra["refused"] = sum(1 for o in outcomes if not o.accepted)
        result.extra["journal_writes"] = journal.writes
        result.extra["journal_flushes"] = journal.flushes
        result.extra["journal_bytes"] = journal.size_bytes()
        result.extra["polls_sent"] = engine.polls_sent
        result.final = sum(1 for v in engine.operations() if v.state == "final")
        await client.aclose()
        journal.close()
    result.latencies = list(detected.values())
    analyse_log(result, transport.log)
    return result


async def run_bare(info: dict[str, Any], users: list[str], args: argparse.Namespace, phase: str = "b") -> PhaseResult:
    from console.graph.models import parse_datetime

    result = PhaseResult("bare httpx")
    transport = real_transport()
    auth = {"Authorization": f"Bearer {info['token']}"}
    base = info["graph_url"]
    post_gate = asyncio.Semaphore(4)
    get_gate = asyncio.Semaphore(16)
    latencies: list[float] = []
    finals = 0

    async def one(http: httpx.AsyncClient, user_id: str) -> None:
        nonlocal finals
        async with post_gate:
            response = await http.post(
                f"{base}/directory/inboundSharedUserProfiles/{user_id}/exportPersonalData",
                json={"storageLocation": location_for(user_id, phase)},
                headers=auth,
            )
        if response.status_code != 202:
            return
        location = response.headers["Location"]
        wait = float(response.headers.get("Retry-After", "60"))
        while True:
            await asyncio.sleep(wait)
            async with get_gate:
                response = await http.get(location, headers=auth)
            data = response.json()
            if data.get("status") in ("complete", "failed"):
                completed = parse_datetime(data.get("completedDateTime"))
                if completed is not None:
                    latencies.append(time.time() - completed.timestamp())
                finals += 1
                return
            wait = float(response.headers.get("Retry-After", "60"))

    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    async with httpx.AsyncClient(transport=transport, timeout=30.0, headers={"Accept": "application/json"}) as http:
        try:
            async with asyncio.timeout(args.timeout):
                await asyncio.gather(*(one(http, u) for u in users))
        except TimeoutError:
            result.extra["timed_out"] = True
    result.cpu = time.process_time() - cpu0
    result.wall = time.perf_counter() - wall0
    result.latencies = latencies
    result.final = finals
    analyse_log(result, transport.log)
    return result


def run_cli_watch(info: dict[str, Any], users: list[str], args: argparse.Namespace) -> PhaseResult:
    """``export`` (no wait) then one ``watch`` as processes, the way an admin runs them: the simulator's
    own record says whether any poll came before the Retry-After of the answer before it."""
    import subprocess

    result = PhaseResult("cli watch")
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="watch1000-cli-") as tmp:
        ids = Path(tmp) / "users.txt"
        ids.write_text("\n".join(users) + "\n")
        env = dict(os.environ, BENCH_TOKEN=info["token"], PYTHONPATH=str(root))
        env["BENCH_LOCATION"] = location_for("@", "cli").replace("@", "{userId}")  # one container per user
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        common = [
            sys.executable,
            "-m",
            "console",
            "--graph-url",
            info["graph_url"],
            "--token-env",
            "BENCH_TOKEN",
            "--state-dir",
            str(Path(tmp) / "state"),
            "--poll-budget",
            str(args.poll_budget),
        ]
        began = time.perf_counter()
        subprocess.run(
            [
                *common,
                "export",
                "--from-file",
                str(ids),
                "--storage-location-env",
                "BENCH_LOCATION",
                "--no-storage-check",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=args.timeout,
            check=False,
        )
        result.extra["submit_wall"] = time.perf_counter() - began
        began = time.perf_counter()
        result.extra["watch_from"] = time.time()
        watched = subprocess.run(
            [*common, "watch", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=args.timeout,
            check=False,
            text=True,
        )
        result.wall = time.perf_counter() - began
        result.extra["watch_to"] = time.time()
        result.extra["exit"] = watched.returncode
        listed = subprocess.run(
            [*common, "ops", "--json"], env=env, capture_output=True, timeout=args.timeout, check=False, text=True
        )
        result.final = sum(1 for line in listed.stdout.splitlines() if '"state": "final"' in line)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=1000, help="exports to submit and watch (default 1000)")
    parser.add_argument("--retry-after", type=float, default=2.0, help="simulator Retry-After seconds (default 2)")
    parser.add_argument("--min-duration", type=float, default=5.0, help="shortest export, seconds (default 5)")
    parser.add_argument("--max-duration", type=float, default=20.0, help="longest export, seconds (default 20)")
    parser.add_argument(
        "--poll-budget",
        type=int,
        default=10_000_000,
        help="engine polls per hour (default 10,000,000: high enough not to bind)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up a phase after this many seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds", type=int, default=2, help="engine/bare pairs, alternated (default 2); CPU ratio over the sums"
    )
    parser.add_argument("--skip-bare", action="store_true", help="only run the engine phase")
    parser.add_argument(
        "--cli-watch",
        action="store_true",
        help="instead of the engine/bare rounds: `export` then one `watch` as processes (the admin's way), "
        "judged by the simulator's own record of request times per operation (TARGET: 0 early polls; "
        "the busiest second of polls is printed: use --retry-after 1 and 1,000 ops for 300+ a second)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when any TARGET is a MISS")
    parser.add_argument(
        "--no-sniffio-lookup",
        action="store_true",
        help="set sys.modules['sniffio'] = None in the client process first: httpcore 1.0.9 runs "
        "'import sniffio' on every request and, with sniffio not installed, each failed import "
        "walks sys.path (see README); this shows what that costs both phases",
    )
    args = parser.parse_args()
    if args.no_sniffio_lookup and "sniffio" not in sys.modules:
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    if args.ops > 1000:
        print(
            "note: the engine refuses more than 1,000 exports a day per tenant; capping --ops at 1000", file=sys.stderr
        )
        args.ops = 1000

    context = multiprocessing.get_context("spawn")
    parent_conn, child_conn = context.Pipe()
    options = {
        "profiles": max(args.ops, 1),
        "ops": args.ops,
        "retry_after": args.retry_after,
        "min_duration": args.min_duration,
        "max_duration": args.max_duration,
        "seed": args.seed,
    }
    child = context.Process(target=serve_simulator, args=(child_conn, options), name="sim-server", daemon=True)
    child.start()
    try:
        if not parent_conn.poll(60):
            raise RuntimeError("the simulator process did not start within 60 s")
        info = parent_conn.recv()
        if "error" in info:
            raise RuntimeError(f"the simulator failed:\n{info['error']}")
        if not info["graph_url"].startswith("http://127.0.0.1:"):
            raise RuntimeError(f"refusing a non-loopback simulator URL {info['graph_url']}")
        users = info["users"]

        asyncio.run(warm_up(info, users))
        if args.cli_watch:
            parent_conn.send("reset")
            parent_conn.recv()
            cli = run_cli_watch(info, users, args)
            parent_conn.send("stats")
            cli.extra["server"] = parent_conn.recv()
            parent_conn.send("stop")
            return 1 if not report_cli(args, cli) and args.check else 0
        load_before = os.getloadavg()[0]
        engines: list[PhaseResult] = []
        bares: list[PhaseResult] = []
        for round_number in range(1, args.rounds + 1):
            # Alternate engine and bare phases so drift in machine load hits both alike.
            parent_conn.send("reset")
            parent_conn.recv()
            engine = asyncio.run(run_engine(info, users, args, f"e{round_number}"))
            engine.name = f"engine #{round_number}"
            parent_conn.send("stats")
            engine.extra["server"] = parent_conn.recv()
            engines.append(engine)
            if not args.skip_bare:
                parent_conn.send("reset")
                parent_conn.recv()
                bare = asyncio.run(run_bare(info, users, args, f"b{round_number}"))
                bare.name = f"bare httpx #{round_number}"
                parent_conn.send("stats")
                bare.extra["server"] = parent_conn.recv()
                bares.append(bare)
        load_after = os.getloadavg()[0]
        parent_conn.send("stop")
    finally:
        child.join(timeout=15)
        if child.is_alive():
            child.terminate()
            child.join(timeout=5)

    ok = report(args, engines, bares, (load_before, load_after))
    return 1 if args.check and not ok else 0


def report(
    args: argparse.Namespace, engines: list[PhaseResult], bares: list[PhaseResult], load: tuple[float, float]
) -> bool:
    """Print the summary; True when every TARGET passed."""
    target_latency = args.retry_after + 0.5
    latencies = [x for e in engines for x in e.latencies]
    early = sum(e.early_polls for e in engines)
    early_server = sum(int(e.extra.get("server", {}).get("early", 0)) for e in engines)
    med = median(latencies)
    rows: list[tuple[str, str]] = [
        (
            "operations",
            f"{args.ops} (Retry-After {args.retry_after:g} s, durations "
            f"{args.min_duration:g}-{args.max_duration:g} s uniform, poll budget {args.poll_budget}/h)",
        ),
        ("simulator", "separate process, loopback HTTP/1.1 (console.sim.server.LoopbackServer)"),
        (
            "sniffio import",
            "short-circuited (--no-sniffio-lookup)"
            if args.no_sniffio_lookup
            else ("installed" if _sniffio_installed() else "not installed: httpcore retries the import per request"),
        ),
        ("load average (1 min)", f"{load[0]:.2f} before, {load[1]:.2f} after (other processes skew wall timings)"),
    ]
    for phase in [p for pair in zip_longest(engines, bares) for p in pair if p is not None]:
        server = phase.extra.get("server", {})
        rows += [
            (
                f"[{phase.name}] wall / CPU",
                f"{phase.wall:.2f} s wall, {phase.cpu:.2f} s client CPU"
                f" ({1000 * phase.cpu / max(1, phase.posts + phase.gets):.3f} ms/request)",
            ),
            (
                f"[{phase.name}] requests",
                f"{phase.posts} POST + {phase.gets} GET; non-2xx {phase.other_status}; "
                f"final {phase.final}/{args.ops}" + (" TIMED OUT" if phase.extra.get("timed_out") else ""),
            ),
            (
                f"[{phase.name}] polls before Retry-After",
                f"{phase.early_polls} client-side (min margin {phase.min_margin * 1000:.1f} ms), "
                f"{server.get('early', '?')} server-side; TCP connections {server.get('connections', '?')}",
            ),
            (
                f"[{phase.name}] detection latency",
                f"median {median(phase.latencies):.3f} s, p95 {percentile(phase.latencies, 95):.3f} s, "
                f"max {max(phase.latencies, default=float('nan')):.3f} s (n={len(phase.latencies)})",
            ),
        ]
        if "submit_wall" in phase.extra:
            rows += [
                (
                    f"[{phase.name}] submit / journal",
                    f"{phase.extra['submit_wall']:.2f} s for {args.ops} POSTs (refused {phase.extra.get('refused')}); "
                    f"{phase.extra.get('journal_writes')} journal row writes in {phase.extra.get('journal_flushes')} "
                    f"flushes, {phase.extra.get('journal_bytes', 0) / 1024:.0f} KiB on disk",
                ),
            ]
    rows += [
        (
            "TARGET zero polls before Retry-After",
            verdict(early == 0) + f" ({early} early client-side, {early_server} server-side, all engine rounds)",
        ),
        (
            "TARGET median detection <= Retry-After + 0.5 s",
            verdict(med <= target_latency)
            + f" ({med:.3f} s vs {target_latency:g} s; p95 {percentile(latencies, 95):.3f} s, all engine rounds)",
        ),
    ]
    if bares:
        engine_cpu, bare_cpu = sum(e.cpu for e in engines), sum(b.cpu for b in bares)
        engine_requests = sum(e.posts + e.gets for e in engines)
        bare_requests = sum(b.posts + b.gets for b in bares)
        ratio = engine_cpu / bare_cpu if bare_cpu > 0 else float("inf")
        per_request = (engine_cpu / max(1, engine_requests)) / (bare_cpu / max(1, bare_requests)) if bare_cpu else 0
        rows.append(
            (
                "TARGET client CPU <= 1.5x bare httpx",
                verdict(ratio <= 1.5)
                + f" ({ratio:.2f}x total: {engine_cpu:.2f} s vs {bare_cpu:.2f} s over {len(engines)} round(s); "
                f"{per_request:.2f}x per request)",
            )
        )
    print_block("watch_1000: operations watched to the end over loopback", rows)
    targets = [value for key, value in rows if key.startswith("TARGET")]
    all_final = all(e.final == args.ops and not e.extra.get("timed_out") for e in engines)
    return all_final and all(value.startswith("PASS") for value in targets)


def report_cli(args: argparse.Namespace, cli: PhaseResult) -> bool:
    server = cli.extra.get("server", {})
    counts = server.get("counts", {})
    polls = int(counts.get("poll", 0))
    early = int(server.get("early", -1))
    start, end = int(cli.extra.get("watch_from", 0)) + 1, int(cli.extra.get("watch_to", 0))
    per_second = [n for second, n in server.get("poll_seconds", {}).items() if start <= int(second) < end]
    watching = sum(per_second) / max(1, end - start)
    rows = [
        (
            "operations",
            f"{args.ops} (Retry-After {args.retry_after:g} s, durations "
            f"{args.min_duration:g}-{args.max_duration:g} s, --poll-budget {args.poll_budget}/h)",
        ),
        ("export (process)", f"{cli.extra.get('submit_wall', 0):.1f} s for {counts.get('export', 0)} POSTs"),
        ("watch (process)", f"{cli.wall:.1f} s; exit {cli.extra.get('exit')}; {cli.final}/{args.ops} final in `ops`"),
        (
            "polls",
            f"{polls} in all; while `watch` ran {watching:.0f}/s mean, median second "
            f"{median([float(n) for n in per_second]):.0f}/s, busiest second {server.get('busiest_second', 0)}/s",
        ),
        ("worst margin (server)", f"{server.get('worst_margin', float('nan')) * 1000:.1f} ms after Retry-After"),
        ("TARGET zero polls before Retry-After (simulator's record)", verdict(early == 0) + f" ({early} early)"),
    ]
    print_block("watch_1000 --cli-watch: export then watch, as processes", rows)
    return early == 0 and cli.final == args.ops and cli.extra.get("exit") == 0


def _sniffio_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("sniffio") is not None
    except ValueError:  # sys.modules["sniffio"] is None
        return False


if __name__ == "__main__":
    sys.exit(main())
