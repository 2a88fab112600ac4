"""Several processes on one journal (issue 7): two and three ``watch`` processes share one tenant budget,
never poll an operation within its Retry-After, and take over the operations of one killed with -9.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from console.ops.budget import default_burst
from tests.e2e.helpers import (
    Console,
    Sim,
    assert_clean,
    assert_journal_matches,
    early_polls,
    finish,
    location_template,
    wait_until,
)

USERS = 6
BUDGET = 3600
"""Requests an hour for the tenant, every process together: one a second. The test's window is far
under an hour, so the pace is what binds: polls in any window of T seconds stay within T * BUDGET / 3600
(plus a small burst); two processes each spending the whole budget would send twice that."""
BURST = default_burst(BUDGET)
"""Requests the pacer may send at once above the steady pace (its token bucket)."""


def _submit(console: Console, sim: Sim, dead_port: int, duration: float = 5.0) -> list[str]:
    """Exports that want far more polls (every 0.5 s for ``duration``) than the budget gives."""
    console.env["LOC"] = location_template(dead_port)
    users = sim.user_ids(USERS)
    sim.knobs(export_duration=duration)
    result = console.run("export", *users, "--storage-location-env", "LOC", "--json")
    assert_clean(result, json_out=True)
    assert result.rc == 0, str(result)
    return users


def _budget_spent(sim: Sim) -> int:
    return sum(1 for r in sim.requests() if r["kind"] != "export")


def _over_pace(sim: Sim) -> list[str]:
    """Windows (between any two polls) holding more polls than the shared budget allows."""
    times = sorted(float(r["at"]) for r in sim.requests() if r["kind"] == "poll")
    problems = []
    for i, start in enumerate(times):
        for j in range(i + 1, len(times)):
            allowed = (times[j] - start) * BUDGET / 3600 + BURST
            if j - i + 1 > allowed + 1:
                problems.append(f"{j - i + 1} polls in {times[j] - start:.2f} s (budget allows {allowed:.1f})")
    return problems


@pytest.mark.parametrize("processes", [2, 3])
def test_watchers_share_one_budget_and_never_poll_early(
    console: Console, sim: Sim, dead_port: int, processes: int
) -> None:
    users = _submit(console, sim, dead_port)
    watchers = [console.start("--poll-budget", str(BUDGET), "watch", "--json") for _ in range(processes)]
    results = [finish(w, timeout=240) for w in watchers]
    for result in results:
        assert_clean(result, json_out=True)
        assert result.rc == 0, str(result)
    rows = console.ops()
    assert {(r["state"], r["status"]) for r in rows} == {("final", "complete")}, rows
    assert_journal_matches(rows, sim.operations(), users)
    problems = early_polls(sim.requests())
    assert not problems, "\n".join(problems[:10])
    spent = _budget_spent(sim)
    assert spent <= BUDGET, f"{processes} processes sent {spent} budgeted requests; the tenant's budget is {BUDGET}"
    over = _over_pace(sim)
    assert not over, f"{processes} processes together went over the one budget: {over[:5]}"
    # Each operation was polled to its end once, not once per process.
    polls_after_final: dict[str, int] = {}
    for record in sim.requests():
        if record["kind"] == "poll" and record["retry_after"] is None:  # a final answer carries none
            polls_after_final[record["operation_id"]] = polls_after_final.get(record["operation_id"], 0) + 1
    assert polls_after_final and max(polls_after_final.values()) == 1, polls_after_final


def test_kill_9_of_one_watcher_the_other_takes_over(console: Console, sim: Sim, dead_port: int, tmp_path: Path) -> None:
    users = _submit(console, sim, dead_port, duration=6.0)
    first = console.start("--poll-budget", str(BUDGET), "watch", "--json")
    wait_until(lambda: sum(1 for r in sim.requests() if r["kind"] == "poll") >= 1, timeout=60)
    second = console.start("--poll-budget", str(BUDGET), "watch", "--json")
    time.sleep(1.0)
    first.send_signal(signal.SIGKILL)
    killed = finish(first, timeout=30)
    assert killed.rc == -signal.SIGKILL
    survivor = finish(second, timeout=240)
    assert_clean(survivor, json_out=True)
    assert survivor.rc == 0, str(survivor)
    rows = console.ops()
    assert {(r["state"], r["status"]) for r in rows} == {("final", "complete")}, rows
    assert_journal_matches(rows, sim.operations(), users)
    problems = early_polls(sim.requests())
    assert not problems, "\n".join(problems[:10])
    assert _budget_spent(sim) <= BUDGET
    assert not _over_pace(sim)
