"""Terminal bytes per second the console writes during a status storm, on a real pseudo-terminal.

    python benchmarks/tui_bytes.py [--size 200x60] [--profiles 20000] [--operations 5000]
                                   [--seconds 10] [--idle-seconds 5] [--warmup 3]

The console issue asks that, with 5,000 live operations and 20,000 profiles, repaints are
coalesced (<= 10 a second) so that 200 status changes a second do not flood a slow SSH link.
``tui_bench.py`` runs headless and cannot see bytes; this script can.

How it works:
  * The parent opens a pty with ``pty.fork()``. The child sets the window size on its side
    (TIOCSWINSZ), sets TERM=xterm-256color and execs this script with ``--child``. The child
    builds the same fake services as ``tui_bench.py`` (FakeEngine, make_profiles, paged_source,
    view; 1 Hz live ticks on) and runs the real ``ConsoleApp`` with Textual's Linux driver.
  * Once the main screen is mounted and the profiles are loaded (and at least ``--warmup``
    seconds after launch), the child feeds ~200 progress changes a second through
    ``FakeEngine.emit`` (the same path tui_bench.py's storm uses) for ``--seconds``, waits 1 s,
    then stays idle for ``--idle-seconds`` and quits.
  * The child reports phase changes on a separate pipe (never on the terminal), so the byte
    stream holds only what Textual writes. The parent reads the master fd with ``select``
    and timestamps every chunk; it never touches its own tty.
  * Bytes before the storm starts are "first paint bytes". Over the storm and idle windows the
    parent reports mean bytes/s and the busiest whole second, and the fraction of a 256 kbit/s
    link that is (bytes/s * 8 / 256,000).

Exit status is 0 unless something crashes or the child fails to finish in time; with ``--check``,
also 1 when the idle window's mean exceeds ``--max-idle`` bytes/s (TARGET: 200, issue 15: an idle
console writes nothing but what changed; a running export's elapsed time changes once a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import tempfile
import termios
import time
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
LINK_BITS_PER_SECOND = 256_000
DRAIN_SECONDS = 1.0
"""Pause between the end of the storm and the start of the idle window."""


# -- child: the app on the pty --------------------------------------------------------------


def child_main(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests" / "tui"))

    from textual.css.query import NoMatches
    from textual.worker import get_current_worker

    from console.clock import SystemClock
    from console.tui.app import ConsoleApp
    from console.tui.screens.main import MainScreen
    from console.tui.widgets.ops_table import OpsTable
    from console.tui.widgets.profile_list import ProfileList
    from tests.tui.fakes import load_services

    control = os.fdopen(args.control_fd, "w", buffering=1)
    launched = args.launched

    def report(event: str, **fields: object) -> None:
        control.write(json.dumps({"event": event, "t": time.time(), **fields}) + "\n")

    clock = SystemClock()
    services, engine = load_services(args.profiles, args.operations, clock)

    async def drive(app: ConsoleApp) -> None:
        try:
            while not isinstance(app.screen, MainScreen):
                await asyncio.sleep(0.05)
            screen = app.screen
            while True:  # the screen is pushed before its widgets are composed
                try:
                    profile_list = screen.query_one(ProfileList)
                    table = screen.query_one(OpsTable)
                    break
                except NoMatches:
                    await asyncio.sleep(0.05)
            while len(profile_list.index) < args.profiles or table.row_count < args.operations:
                await asyncio.sleep(0.05)
            me = get_current_worker()
            while any(w is not me and not w.is_finished for w in app.workers):
                await asyncio.sleep(0.05)
            report(
                "loaded",
                profiles=len(profile_list.index),
                operations=table.row_count,
                seconds=time.time() - launched,
            )
            for key in args.keys.split(",") if args.keys else ():
                app.simulate_key(key)
                await asyncio.sleep(0.3)
            await asyncio.sleep(max(0.0, launched + args.warmup - time.time()))

            feed = getattr(screen, "feed", None)
            flushes0 = feed.flushes if feed is not None else 0
            events0 = feed.events if feed is not None else 0
            updates0 = getattr(table, "updates", 0)
            keys = list(engine.views)
            sent = 0
            report("storm_start")
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < args.seconds:
                for _ in range(20):
                    key = keys[sent % len(keys)]
                    old = engine.views[key]
                    engine.emit(replace(old, progress=float((sent * 7) % 100)), "progress")
                    sent += 1
                await asyncio.sleep(0.1)
            elapsed = time.perf_counter() - t0
            report(
                "storm_end",
                sent=sent,
                elapsed=elapsed,
                flushes=(feed.flushes - flushes0) if feed is not None else None,
                received=(feed.events - events0) if feed is not None else None,
                subscribers=len(engine.subscribers),
                cells=getattr(table, "updates", 0) - updates0,
            )
            await asyncio.sleep(DRAIN_SECONDS)
            report("idle_start")
            await asyncio.sleep(args.idle_seconds)
            report("idle_end")
        except Exception as error:  # report, then quit: the parent must not wait for the deadline
            report("error", error=repr(error))
        app.exit(0)

    class BenchApp(ConsoleApp):
        """Runs ``drive`` as a worker, so it shares the app's context (timers, active_app) like run_test."""

        CSS_PATH = [str(ROOT / "console" / "tui" / name) for name in ConsoleApp.CSS_PATH]  # relative to app.py

        def on_ready(self) -> None:
            self.run_worker(drive(self), name="tui-bytes-driver", exit_on_error=False)

    BenchApp(services).run()
    report("exited")
    control.close()


# -- parent: read the pty, count bytes ------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    cols, _, rows = text.lower().partition("x")
    try:
        return int(cols), int(rows)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be COLSxROWS, e.g. 200x60, not {text!r}") from None


def window_stats(chunks: list[tuple[float, int]], start: float, end: float) -> tuple[int, float, float, int]:
    """Total bytes, mean bytes/s, max bytes in any whole second, and whole seconds, over [start, end)."""
    total = sum(n for t, n in chunks if start <= t < end)
    duration = max(end - start, 1e-9)
    seconds = int(duration)
    buckets = [0] * max(seconds, 1)
    for t, n in chunks:
        if start <= t < start + seconds:
            buckets[int(t - start)] += n
    peak = max(buckets) if seconds else total / duration
    return total, total / duration, float(peak), seconds


def link(bytes_per_second: float) -> str:
    fraction = bytes_per_second * 8 / LINK_BITS_PER_SECOND
    return f"{fraction:.3f} of 256 kbit/s ({fraction * 100:.1f} %)"


def stop_child(pid: int, master: int, dump: BinaryIO | None = None) -> int | None:
    """Wait briefly for the child to exit on its own, then SIGTERM, then SIGKILL. Drains the pty meanwhile."""
    for sig, grace in ((None, 5.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        if sig is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if dump is not None:
                    dump.write(data)
    return None


def parent_main(args: argparse.Namespace) -> int:
    cols, rows = args.size
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    state_dir = tempfile.mkdtemp(prefix="tui-bytes-")
    launched = time.time()
    pid, master = pty.fork()
    if pid == 0:  # child: stdin/stdout/stderr are the pty slave, which is the controlling terminal
        try:
            os.close(read_end)
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
            env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows), EXPORT_CONSOLE_STATE_DIR=state_dir)
            argv = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                f"--control-fd={write_end}",
                f"--launched={launched}",
                f"--profiles={args.profiles}",
                f"--operations={args.operations}",
                f"--seconds={args.seconds}",
                f"--idle-seconds={args.idle_seconds}",
                f"--warmup={args.warmup}",
                f"--keys={args.keys}",
            ]
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)

    os.close(write_end)
    chunks: list[tuple[float, int]] = []
    events: dict[str, dict[str, object]] = {}
    pending = b""
    deadline = time.monotonic() + args.timeout + args.warmup + args.seconds + DRAIN_SECONDS + args.idle_seconds
    open_fds = [master, read_end]
    dump = open(args.dump, "wb") if args.dump else None  # noqa: SIM115
    try:
        while open_fds and "idle_end" not in events and "error" not in events and time.monotonic() < deadline:
            ready, _, _ = select.select(open_fds, [], [], 0.1)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the slave side closed
                    data = b""
                stamp = time.time()
                if not data:
                    open_fds.remove(fd)
                    continue
                if fd == master:
                    chunks.append((stamp, len(data)))
                    if dump is not None:
                        dump.write(data)
                else:
                    pending += data
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        record = json.loads(line)
                        events[record["event"]] = record
    finally:
        code = stop_child(pid, master, dump)
        if dump is not None:
            dump.close()
        os.close(master)
        os.close(read_end)

    keys = f", keys {args.keys!r}" if args.keys else ""
    print(f"== tui_bytes.py: {cols}x{rows}, {args.profiles:,} profiles, {args.operations:,} operations{keys} ==")
    if "error" in events:
        print(f"child failed: {events['error'].get('error')}")
    missing = [e for e in ("loaded", "storm_start", "storm_end", "idle_start", "idle_end") if e not in events]
    if missing:
        print(
            f"child did not reach: {', '.join(missing)} (exit code {code}); bytes seen: {sum(n for _, n in chunks):,}"
        )
        return 1

    def at(name: str) -> float:
        return float(events[name]["t"])  # type: ignore[arg-type]

    loaded, storm = events["loaded"], events["storm_end"]
    first = sum(n for t, n in chunks if t < at("storm_start"))
    print(
        f"first paint bytes:  {first:,} (launch to storm start, {at('storm_start') - launched:.1f} s; "
        f"{loaded['profiles']:,} profiles and {loaded['operations']:,} rows loaded after {loaded['seconds']:.1f} s)"
    )
    total, mean, peak, whole = window_stats(chunks, at("storm_start"), at("storm_end"))
    sent, elapsed = int(storm["sent"]), float(storm["elapsed"])  # type: ignore[call-overload, arg-type]
    flushes = storm.get("flushes")
    print(
        f"storm:              {sent:,} changes in {elapsed:.1f} s ({sent / elapsed:.0f}/s) -> "
        f"{flushes} coalesced repaints ({(flushes or 0) / elapsed:.1f}/s), {storm['cells']:,} cells updated"
    )
    print(f"  bytes:            {total:,} total; mean {mean:,.0f} B/s, max {peak:,.0f} B/s (over {whole} whole s)")
    print(f"  on 256 kbit/s:    mean {link(mean)}; max {link(peak)}")
    total, mean, peak, whole = window_stats(chunks, at("idle_start"), at("idle_end"))
    print(
        f"idle (1 Hz ticks):  {total:,} bytes in {at('idle_end') - at('idle_start'):.1f} s; "
        f"mean {mean:,.0f} B/s, max {peak:,.0f} B/s (over {whole} whole s)"
    )
    print(f"  on 256 kbit/s:    mean {link(mean)}; max {link(peak)}")
    print(f"child exit code:    {code}")
    ok = mean <= args.max_idle
    print(f"TARGET idle console <= {args.max_idle:g} B/s: {'PASS' if ok else 'MISS'} (mean {mean:,.0f} B/s)")
    return 0 if ok or not args.check else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=(200, 60), help="COLSxROWS (default 200x60)")
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--operations", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="storm length (default 10)")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle window length (default 5)")
    parser.add_argument("--warmup", type=float, default=3.0, help="earliest storm start after launch (default 3)")
    parser.add_argument("--timeout", type=float, default=60.0, help="extra seconds allowed for start-up")
    parser.add_argument(
        "--keys", default="", help="comma-separated keys pressed once loaded, before the storm (e.g. 2: Operations tab)"
    )
    parser.add_argument("--dump", help="also write the raw terminal output to this file")
    parser.add_argument("--max-idle", type=float, default=200.0, help="idle bytes/s target (default 200)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the idle target is missed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--control-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    sys.exit(parent_main(args))


if __name__ == "__main__":
    main()
