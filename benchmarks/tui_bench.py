"""Console performance with 20,000 profiles and 5,000 live operations; prints the numbers.

    python benchmarks/tui_bench.py [--profiles 20000] [--operations 5000] [--seconds 5]

Measures (targets from the console issue):
  * filtering 20,000 profiles, per keystroke            (<= 50 ms)
  * a keypress (cursor move, filter keystroke) on screen (<= 50 ms p95)
  * repaints while 200 status changes a second arrive   (<= 10 a second)
  * CPU of the idle console                              (< 2 %)
  * first frame of --demo                                (<= 1.5 s)

Runs headless (Textual's test driver), so "on screen" means: the key was handled and the
screen's update was composed. CI does not time this script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from console.clock import SystemClock  # noqa: E402
from console.tui.app import ConsoleApp  # noqa: E402
from console.tui.messages import OperationsChanged  # noqa: E402
from console.tui.profile_index import ProfileIndex  # noqa: E402
from console.tui.widgets.ops_table import OpsTable  # noqa: E402
from console.tui.widgets.profile_list import ProfileList  # noqa: E402
from tests.tui.fakes import load_services, make_profiles  # noqa: E402

QUERIES = ("s", "sm", "smi", "smit", "smith", "smith@", "smith@c", "smith@co", "zz", "a", "garcia", "5a4c")


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_filter(profiles: int) -> None:
    people = make_profiles(profiles)
    index = ProfileIndex()
    index.extend(people)
    times = []
    for _ in range(5):
        for query in QUERIES:
            start = time.perf_counter()
            index.matches(query)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        index.matches("")
        times.append(time.perf_counter() - start)
    print(
        f"filter {profiles:,} profiles (index only): median {ms(statistics.median(times))}, "
        f"p95 {ms(p95(times))}, max {ms(max(times))}"
    )


async def bench_app(profiles: int, operations: int, seconds: float) -> None:
    clock = SystemClock()
    services, engine = load_services(profiles, operations, clock)
    flushes: list[float] = []

    def hook(message: object) -> None:
        if isinstance(message, OperationsChanged):
            flushes.append(time.perf_counter())

    app = ConsoleApp(services)
    start = time.perf_counter()
    async with app.run_test(size=(200, 60), message_hook=hook) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        screen = app.screen
        profile_list = screen.query_one(ProfileList)
        table = screen.query_one(OpsTable)
        print(
            f"loaded {len(profile_list.index):,} profiles and {table.row_count:,} operations "
            f"in {time.perf_counter() - start:.2f} s"
        )

        # keypress -> frame: time from the key event to the end of the next screen update
        frames: list[float] = []
        original = type(screen)._compositor_refresh

        def recording(self: object) -> None:
            original(self)  # type: ignore[arg-type]
            frames.append(time.perf_counter())

        type(screen)._compositor_refresh = recording  # type: ignore[method-assign]  # benchmark only

        async def key_to_frame(key: str) -> float:
            frames.clear()
            t0 = time.perf_counter()
            app.simulate_key(key)
            while not frames:
                await asyncio.sleep(0.0005)
            latency = frames[0] - t0
            await asyncio.sleep(0.02)
            return latency

        for widget in (profile_list, table):
            widget.focus()
            await pilot.pause()
            downs = [await key_to_frame("down") for _ in range(100)]
            pages = [await key_to_frame("pagedown") for _ in range(20)]
            print(
                f"keypress -> frame ({type(widget).__name__}): down median {ms(statistics.median(downs))}, "
                f"p95 {ms(p95(downs))}; pagedown median {ms(statistics.median(pages))}, p95 {ms(p95(pages))}"
            )

        # filter keystrokes in the search box, with 20,000 profiles
        await pilot.press("slash")
        samples = []
        handler = []
        for round_ in range(4):
            for char in "smith@contoso":
                samples.append(await key_to_frame(char))
            for _ in range(len("smith@contoso")):
                samples.append(await key_to_frame("backspace"))
            t0 = time.perf_counter()
            profile_list.set_query("garcia" if round_ % 2 else "")
            handler.append(time.perf_counter() - t0)
        print(
            f"keypress -> frame (filter keystroke, {len(profile_list.index):,} profiles): "
            f"median {ms(statistics.median(samples))}, p95 {ms(p95(samples))}; "
            f"set_query alone p95 {ms(p95(handler))}"
        )
        type(screen)._compositor_refresh = original  # type: ignore[method-assign]
        await pilot.press("escape", "escape")

        # a storm: 200 status changes a second for `seconds`
        flushes.clear()
        before = table.updates
        keys = list(engine.views)
        t_storm = time.perf_counter()
        sent = 0
        while time.perf_counter() - t_storm < seconds:
            for _ in range(20):
                key = keys[sent % len(keys)]
                old = engine.views[key]
                engine.emit(replace(old, progress=float((sent * 7) % 100)), "progress")
                sent += 1
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - t_storm
        await pilot.pause(0.3)
        rate = len(flushes) / elapsed
        print(
            f"storm: {sent:,} events in {elapsed:.1f} s ({sent / elapsed:.0f}/s) -> {len(flushes)} repaints "
            f"({rate:.1f}/s), {table.updates - before:,} cells updated"
        )

        # idle CPU, 1 Hz ticks on
        await pilot.pause(1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        print(f"idle CPU over {seconds:.0f} s: {cpu * 100:.2f} %")


def bench_first_frame() -> None:
    """Time from process start to the first frame of --demo (headless, in a fresh interpreter)."""
    code = (
        "import time, asyncio, tempfile; t0 = time.perf_counter()\n"
        "from console.services import ConnectionOptions\n"
        "from console.tui.entry import build_console_services\n"
        "from console.tui.app import ConsoleApp\n"
        "async def main():\n"
        "    app = ConsoleApp(build_console_services(ConnectionOptions(demo=True, state_dir=tempfile.mkdtemp())))\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        await pilot.pause()\n"
        "        print(time.perf_counter() - t0)\n"
        "        app.exit()\n"
        "asyncio.run(main())\n"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    total = time.perf_counter() - start
    inside = float(out.stdout.strip().splitlines()[-1])
    print(f"first frame of --demo: {inside:.2f} s after imports began ({total:.2f} s including interpreter start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--operations", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    os.environ.setdefault("EXPORT_CONSOLE_STATE_DIR", tempfile.mkdtemp())
    bench_filter(args.profiles)
    asyncio.run(bench_app(args.profiles, args.operations, args.seconds))
    bench_first_frame()


if __name__ == "__main__":
    main()
