"""The crash test (issue 7): ``export --wait`` of 20 users killed with SIGKILL at seeded random moments.

After each kill: ``ops --json`` shows no row "submitting" (leftover intents are unconfirmed); the same
export again is refused (exit 2, nothing sent) unless ``--force``; ``watch`` lists every unconfirmed
export and exits 1 while any remain; every export the simulator accepted is in the journal (under
its id, or as an unconfirmed row of its user when the kill fell between the POST and the record);
no user was POSTed twice.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    Console,
    Sim,
    assert_clean,
    assert_journal_matches,
    early_polls,
    finish,
    location_template,
    posts_per_user,
    reserve_dead_port,
    wait_until,
)

RUNS = 10
USERS = 20
SEED = 20261201


@pytest.fixture(scope="module")
def crash_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    simulator = Sim(tmp_path_factory.mktemp("crash-sim"), profiles=30)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.close()


@pytest.fixture(scope="module")
def storage_port() -> Iterator[int]:
    sock = reserve_dead_port()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def _run_ops(sim: Sim, run: int) -> list[dict[str, Any]]:
    return [o for o in sim.operations() if f"/c{run:02d}-" in (o.get("storageLocation") or "")]


def _kill_one(sim: Sim, storage_port: int, base: Path, run: int) -> tuple[Console, list[str], int, int]:
    """Start the export, kill -9 it at this run's seeded moment, check what the kill left."""
    rng = random.Random(SEED + run)
    state = base / f"state-{run:02d}"
    state.mkdir()
    console = Console(sim, state, env={"LOC": location_template(storage_port, prefix=f"c{run:02d}")})
    users = sim.user_ids(USERS)
    start = len(sim.requests())
    process = console.start(*_args(users), "--wait", "--json")
    posts_before_kill = rng.randint(1, USERS)

    def posted() -> int:
        return sum(1 for r in sim.requests(start) if r["kind"] == "export")

    wait_until(lambda: posted() >= posts_before_kill or process.poll() is not None, timeout=60)
    time.sleep(rng.uniform(0.0, 0.25))
    process.send_signal(signal.SIGKILL)
    killed = finish(process, timeout=30)
    assert killed.rc == -signal.SIGKILL, str(killed)
    assert_clean(killed)

    rows = console.ops()  # never "submitting"
    assert rows, f"run {run}: the kill left nothing in the journal although the simulator saw a POST"
    assert_journal_matches(rows, _run_ops(sim, run), users)

    # The same export again: refused, nothing sent.
    mark = len(sim.requests())
    again = console.run(*_args(users), "--json")
    assert_clean(again, json_out=True)
    assert again.rc == 2, f"run {run}: {again}"
    assert not [r for r in sim.requests(mark) if r["kind"] == "export"], f"run {run}: the refused export sent a POST"
    return console, users, start, posts_before_kill


def _args(users: list[str]) -> list[str]:
    return ["export", *users, "--storage-location-env", "LOC"]


def test_kill_9_mid_export_ten_times_loses_and_doubles_nothing(
    crash_sim: Sim, storage_port: int, tmp_path: Path
) -> None:
    sim = crash_sim
    runs: list[tuple[Console, list[str], int, int]] = []
    try:
        _ten_kills(sim, storage_port, tmp_path, runs)
    finally:
        for console, *_ in runs:
            console.close()


def _ten_kills(sim: Sim, storage_port: int, tmp_path: Path, runs: list[tuple[Console, list[str], int, int]]) -> None:
    for run in range(RUNS):
        runs.append(_kill_one(sim, storage_port, tmp_path, run))
    # watch in every state dir at once (each waits for the dead exporter's leases to lapse).
    watchers = [console.start("watch", "--json") for console, *_ in runs]
    unconfirmed_runs = 0
    for run, ((console, users, start, _posts), watcher) in enumerate(zip(runs, watchers, strict=True)):
        watched = finish(watcher, timeout=180)
        assert_clean(watched, json_out=True)
        rows = console.ops()
        unconfirmed = {r["key"] for r in rows if r["state"] == "unconfirmed"}
        unconfirmed_runs += bool(unconfirmed)
        listed = {e["key"] for e in watched.events if e.get("state") == "unconfirmed"}
        assert unconfirmed <= listed, (run, unconfirmed, listed, str(watched))
        assert watched.rc == (1 if unconfirmed else 0), f"run {run}: {watched}"
        for row in rows:
            assert row["state"] in ("final", "unconfirmed"), (run, row)
            if row["state"] == "final":
                assert row["status"] == "complete", (run, row)
        records = sim.requests(start)
        assert_journal_matches(rows, _run_ops(sim, run), users)
        mine = [r for r in records if r["kind"] != "export" or r["user_id"] in {u.lower() for u in users}]
        ops_of_run = {o["id"] for o in _run_ops(sim, run)}
        exports = [r for r in mine if r["kind"] == "export" and r.get("operation_id") in ops_of_run]
        doubled = {u: n for u, n in posts_per_user(exports).items() if n > 1}
        assert not doubled, f"run {run}: POSTed twice: {doubled}"
        problems = early_polls([r for r in records if r.get("operation_id") in ops_of_run])
        assert not problems, "\n".join(problems[:10])
    # --force exports again (a new container each: one export per storage location).
    console, users, *_ = runs[-1]
    console.env["LOC"] = location_template(storage_port, prefix="forced")
    mark = len(sim.requests())
    forced = console.run(*_args(users), "--force", "--json", timeout=120)
    assert_clean(forced, json_out=True)
    assert forced.rc in (0, 1), str(forced)
    assert [r for r in sim.requests(mark) if r["kind"] == "export"], "--force sent nothing"
    print(f"{RUNS} kills, {unconfirmed_runs} of them left unconfirmed exports")
