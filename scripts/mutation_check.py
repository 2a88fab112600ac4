"""Break each promise once and check that the suite notices (issue 11: "a test that cannot fail is a defect").

Each mutation replaces one exact snippet of one source file, runs the tests that guard it, and restores
the file whatever happens. A mutation that no test catches is printed as SURVIVED and makes the script
exit 1. Run it from the repository root::

    .venv/bin/python scripts/mutation_check.py            # every mutation
    .venv/bin/python scripts/mutation_check.py -k budget  # the ones whose name contains "budget"
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    more: tuple[tuple[str, str], ...] = ()
    """Further (snippet, broken form) pairs applied in the same file."""


MUTATIONS: list[Mutation] = []
"""Filled in below: (what promise, file, exact snippet, its broken form, the tests that guard it)."""


def mutation(name: str, path: str, old: str, new: str, tests: tuple[str, ...], *more: tuple[str, str]) -> None:
    MUTATIONS.append(Mutation(name, path, old, new, tuple(tests), tuple(more)))


def run(m: Mutation) -> tuple[str, float]:
    file = ROOT / m.path
    original = file.read_text()
    pairs = ((m.old, m.new), *m.more)
    mutated = original
    for old, new in pairs:
        if mutated.count(old) != 1:
            return f"STALE (snippet found {mutated.count(old)} times)", 0.0
        mutated = mutated.replace(old, new)
    file.write_text(mutated)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--no-header", *m.tests],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        file.write_text(original)
    took = time.monotonic() - started
    if done.returncode == 0:
        return "SURVIVED", took
    # The short summary's lines (a captured log line may start with "ERROR" too).
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED tests", "ERROR tests"))]
    return "caught by " + (failed[0].split(" ", 1)[1].split(" - ")[0] if failed else f"exit {done.returncode}"), took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    args = parser.parse_args()
    from mutations import register

    register(mutation)
    survived = 0
    for m in MUTATIONS:
        if args.k and args.k not in m.name:
            continue
        verdict, took = run(m)
        survived += verdict == "SURVIVED" or verdict.startswith("STALE")
        print(f"{m.name:<60} {verdict} ({took:.0f} s)", flush=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    raise SystemExit(main())
