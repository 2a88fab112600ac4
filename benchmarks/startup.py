"""Start-up: ``export-console --version`` and ``--demo`` to the first profiles on screen.

    python benchmarks/startup.py [--runs 5] [--size 120x40] [--check]

* ``--version``: wall time of ``python -m console --version`` as a process, beside ``python -c pass``
  (the floor) in the same run. Target <= 0.1 s.
* ``--demo``: the console on a real pseudo-terminal (``pty.fork``, TERM=xterm-256color, a fresh
  state directory); the time from just before the fork until the terminal output holds the name of
  one of the demo tenant's profiles (the profile list has rows on screen). The floor, in the same
  run and measured the same way: a minimal Textual app showing one label. Target <= 0.7 s.

Each figure is the fastest of ``--runs`` runs (start-up noise only ever adds time on a shared
machine; the fastest run is the program's own cost). ``--check`` exits 1 on any MISS.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MINIMAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Label

class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("minimal-textual-ready")

Minimal().run()
"""


PROFILE_ROWS = 3
"""Distinct user principal names on screen that mean the profile list has rows (only the profile list
shows them: the operations pane shows display names)."""


def demo_upns() -> list[bytes]:
    """The demo tenant's profiles' user principal names."""
    from console.sim.tenant import SimulatedTenant
    from console.wiring import DEMO_PROFILES

    tenant = SimulatedTenant(profiles=DEMO_PROFILES)
    return sorted({p.user_principal_name.encode() for p in tenant.graph.profiles if p.user_principal_name})


WORKDIR = tempfile.mkdtemp(prefix="startup-cwd-")
NO_CACHE: str | None = None
"""``--no-bytecode-cache``: a copy of the package without ``__pycache__``, run with PYTHONDONTWRITEBYTECODE=1
(a fresh checkout in such a shell compiles every one of its modules at every launch), to show what that costs."""


def env() -> dict[str, str]:
    # As installed: byte code cached (a PYTHONDONTWRITEBYTECODE shell would compile every module each run).
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL") and k != "PYTHONDONTWRITEBYTECODE"}
    clean["PYTHONPATH"] = str(ROOT)
    if NO_CACHE:
        clean["PYTHONDONTWRITEBYTECODE"] = "1"
        clean["PYTHONPATH"] = NO_CACHE
    return clean


def timed_process(argv: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), check=True, cwd=WORKDIR)
    return time.perf_counter() - began


def on_pty(argv: list[str], markers: list[bytes], size: tuple[int, int], timeout: float, enough: int = 1) -> float:
    """Seconds from the fork until ``enough`` of ``markers`` appeared in what ``argv`` wrote to a pty (inf: never)."""
    cols, rows = size
    state = tempfile.mkdtemp(prefix="startup-")
    environment = dict(env(), TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
    environment["EXPORT_CONSOLE_STATE_DIR"] = state
    began = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty slave is its terminal
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.chdir(WORKDIR)  # not the checkout: ``python -m`` puts the working directory first on sys.path
            os.execve(argv[0], argv, environment)
        finally:
            os._exit(127)
    seen = b""
    found = float("inf")
    try:
        while time.perf_counter() - began < timeout:
            ready, _, _ = select.select([master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            seen += data
            if sum(1 for marker in markers if marker in seen) >= enough:
                found = time.perf_counter() - began
                break
    finally:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 65536)
                except OSError:
                    pass
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x40", help="COLSxROWS of the pty (default 120x40)")
    parser.add_argument("--max-version", type=float, default=0.1)
    parser.add_argument("--max-demo", type=float, default=0.7)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--check", action="store_true", help="exit 1 on any MISS")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every module at each launch")
    args = parser.parse_args()
    global NO_CACHE
    if args.no_bytecode_cache:
        import shutil

        NO_CACHE = tempfile.mkdtemp(prefix="startup-checkout-")
        shutil.copytree(ROOT / "console", Path(NO_CACHE) / "console", ignore=shutil.ignore_patterns("__pycache__"))
    cols, _, rows = args.size.partition("x")
    size = (int(cols), int(rows))
    python = sys.executable
    names = demo_upns()
    floor_version, version, floor_demo, demo = [], [], [], []
    for _ in range(args.runs):  # interleaved, so machine load hits each alike
        floor_version.append(timed_process([python, "-c", "pass"]))
        version.append(timed_process([python, "-m", "console", "--version"]))
        floor_demo.append(on_pty([python, "-c", MINIMAL_APP], [b"minimal-textual-ready"], size, args.timeout))
        demo.append(on_pty([python, "-m", "console", "--demo"], names, size, args.timeout, PROFILE_ROWS))
    best = {
        name: min(values)
        for name, values in (("pass", floor_version), ("version", version), ("textual", floor_demo), ("demo", demo))
    }
    ok_version = best["version"] <= args.max_version
    ok_demo = best["demo"] <= args.max_demo
    print("=" * 72)
    print(f"TARGET start-up (fastest of {args.runs} runs; pty {args.size})")
    print("=" * 72)
    print(f"python -c pass                 {best['pass']:.3f} s   (floor)")
    print(
        f"export-console --version       {best['version']:.3f} s   target <= {args.max_version} s  "
        f"{'PASS' if ok_version else 'MISS'}"
    )
    print(f"minimal Textual app on screen  {best['textual']:.3f} s   (floor)")
    print(
        f"--demo to first profiles       {best['demo']:.3f} s   target <= {args.max_demo} s  "
        f"{'PASS' if ok_demo else 'MISS'}"
    )
    print(
        "all runs (s): "
        + "; ".join(
            f"{name} " + ", ".join(f"{v:.2f}" for v in values)
            for name, values in (("pass", floor_version), ("version", version), ("textual", floor_demo), ("demo", demo))
        )
    )
    print("=" * 72)
    ok = ok_version and ok_demo
    print(f"RESULT {'PASS' if ok else 'MISS'}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
