"""Shared helpers for the benchmark scripts (not a test module; nothing here is timed by CI).

The scripts are run as ``python benchmarks/NAME.py``, so this module is imported as ``_common``
(the script's own directory is first on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import bisect
import math
import os
import random
import resource
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from console.clock import ManualClock

SAS = "https://benchacct.blob.core.windows.net/exports?sv=2022-11-02&sr=c&sp=w&sig=bench-not-a-secret"
"""A well-formed SAS URL; the simulator never contacts it (nothing leaves loopback / the process)."""


# ----------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for an empty sequence."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def max_in_window(times: Iterable[float], window: float) -> int:
    """Most events in any sliding window ``(t - window, t]`` (times need not be sorted)."""
    ordered = sorted(times)
    best = 0
    for end, at in enumerate(ordered):
        start = bisect.bisect_right(ordered, at - window, 0, end + 1)
        best = max(best, end - start + 1)
    return best


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# ----------------------------------------------------------------------------- memory


def vm_rss_mb() -> float:
    """Current resident set size (VmRSS) in MiB, from /proc/self/status (0 when unavailable)."""
    return _proc_status_kb("VmRSS") / 1024.0


def vm_hwm_mb() -> float:
    """Peak resident set size (VmHWM) in MiB, from /proc/self/status (0 when unavailable)."""
    return _proc_status_kb("VmHWM") / 1024.0


def maxrss_mb() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _proc_status_kb(field: str) -> float:
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0.0


# ----------------------------------------------------------------------------- simulator knobs


def spread_export_durations(graph: Any, pick: Callable[[float], float]) -> None:
    """Give every new export its own duration: ``pick(now)`` seconds, read when the POST is served.

    The simulator has a single ``config.export_duration`` knob that it reads at submission time;
    this wraps the (instance's) export handler to set it per request. Benchmark-only monkeypatch:
    the simulator's source is untouched.
    """
    original = graph.exports.export

    def export(body: bytes, ctx: Any) -> Any:
        graph.config.export_duration = pick(ctx.now)
        return original(body, ctx)

    graph.exports.export = export


def uniform_durations(low: float, high: float, seed: int) -> Callable[[float], float]:
    rng = random.Random(seed)
    return lambda _now: rng.uniform(low, high)


# ----------------------------------------------------------------------------- manual clock driver


async def settle(rounds: int = 30) -> None:
    """Let every ready task run (in-process transports need a few loop turns)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def run_clock_until(
    clock: ManualClock,
    done: Callable[[], bool],
    *,
    limit: float,
    on_step: Callable[[], None] | None = None,
    max_steps: int = 5_000_000,
) -> tuple[float, int, bool]:
    """Advance a manual clock from deadline to deadline until ``done()`` (as tests/helpers.py does).

    Returns (simulated seconds spent, steps, finished). Stops (finished=False) after ``limit``
    simulated seconds instead of raising, so a benchmark can still print what it saw.
    """
    start = clock.now()
    steps = 0
    while not done():
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
        if clock.now() - start > limit or steps > max_steps:
            return clock.now() - start, steps, False
    return clock.now() - start, steps, True


def print_block(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A plain two-column summary block."""
    width = max((len(k) for k, _ in rows), default=10)
    bar = "=" * max(60, width + 40)
    print(bar)
    print(title)
    print(bar)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(bar, flush=True)


def early_polls(requests: Any) -> int:
    """Polls a simulated Graph received before the Retry-After of the previous answer for the same
    operation (the export's 202 included): the simulator's own record, so the client cannot hide one."""
    last: dict[str, tuple[float, float]] = {}
    early = 0
    for r in sorted(requests, key=lambda r: r.at):
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
