"""The benchmarks still run (tiny sizes). CI never times them: the numbers live in benchmarks/README.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "args",
    [
        ["watch_1000.py", "--ops", "10", "--retry-after", "0.5", "--min-duration", "1", "--max-duration", "2",
         "--rounds", "1"],
        ["budget_2000.py", "--ops", "60", "--poll-budget", "450"],
        ["track_10000.py", "--ops", "200", "--users", "100", "--poll-budget", "900", "--spread-hours", "0.2"],
    ],
    ids=["watch", "budget", "track"],
)
def test_benchmark_smoke(args: list[str]) -> None:
    done = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TARGET" in done.stdout and "PASS" in done.stdout
