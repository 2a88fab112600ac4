"""Processes meeting on one journal (issue 14): the console beside each headless command, two consoles,
``watch`` beside ``export --wait``, kill -9 of each, a stop signal, and a full disk under each.

The console is the real Textual app (``ConsoleApp`` headless, in its own process, on the simulator),
so its journal is opened exactly as an admin's is: the synchronous connection of the wiring plus the
engine's writer thread. Every case checks, across processes: no row lost, none doubled, no poll before
the previous answer's Retry-After (the simulator's record), and the console's WAL intact (its open
descriptor still names the live ``-wal`` file, never a deleted one).
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    PYTHON,
    ROOT,
    SAS_SIG,
    Console,
    Result,
    Sim,
    assert_clean,
    assert_journal_matches,
    assert_no_early_polls,
    child_env,
    finish,
    location_template,
    posts_per_user,
    wait_until,
)

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the console's descriptors in /proc")

CONSOLE_SCRIPT = """
import sys
from console.tui.app import ConsoleApp
from console.tui.entry import build_console_services
from console.wiring import ConnectionOptions

options = ConnectionOptions(graph_url=sys.argv[1], token_env="T", state_dir=sys.argv[2])
ConsoleApp(build_console_services(options)).run(headless=True, size=(160, 50))
"""
"""The console as an admin opens it (``export-console --graph-url URL --token-env T``), without a terminal."""


# ------------------------------------------------------------------------------------------ helpers


def journal_of(console: Console) -> Path:
    return console.state_dir / "journal.sqlite3"


def read(journal: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One query on a connection of this (other) process, opened and closed again, as any reader does."""
    db = sqlite3.connect(journal, timeout=30)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def heartbeat(journal: Path, pid: int) -> float:
    found = read(journal, "SELECT MAX(heartbeat) FROM processes WHERE pid = ?", (pid,)) if journal.exists() else []
    return float(found[0][0]) if found and found[0][0] is not None else 0.0


def count_state(journal: Path, state: str) -> int:
    """Rows in ``state`` (0 while the journal or its tables do not exist yet)."""
    try:
        return int(read(journal, "SELECT COUNT(*) FROM operations WHERE state = ?", (state,))[0][0])
    except sqlite3.Error:
        return 0


def polls_written(journal: Path) -> int:
    return int(read(journal, "SELECT COALESCE(SUM(polls), 0) FROM operations")[0][0])


def open_console(console: Console) -> subprocess.Popen[str]:
    """The console on the simulator, in its own process; returns once it beats in the journal."""
    err = open(console.state_dir / f"console-{time.monotonic_ns()}.err", "w")  # noqa: SIM115 - the child's
    process = subprocess.Popen(
        [PYTHON, "-c", CONSOLE_SCRIPT, console.sim.graph_url, str(console.state_dir)],
        cwd=ROOT,
        env=child_env(console.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=err,
        text=True,
    )
    console.children.append(process)
    wait_until(lambda: process.poll() is not None or heartbeat(journal_of(console), process.pid) > 0, timeout=60)
    assert process.poll() is None, f"the console exited: {Path(err.name).read_text()[-2000:]}"
    return process


def assert_wal_intact(process: subprocess.Popen[str], journal: Path) -> None:
    """The live process still writes the live WAL: it exists and no descriptor of it names a deleted file."""
    wal = f"{journal}-wal"
    assert os.path.exists(wal), f"{wal} is gone while pid {process.pid} has the journal open"
    fds = Path(f"/proc/{process.pid}/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:  # closed meanwhile
            pass
    assert f"{wal} (deleted)" not in targets, f"pid {process.pid} writes a deleted WAL: its writes are lost"


def assert_writes_visible(process: subprocess.Popen[str], journal: Path) -> None:
    """The process's next write (its heartbeat) reaches another process's reader."""
    before = heartbeat(journal, process.pid)
    wait_until(lambda: heartbeat(journal, process.pid) > before, timeout=30)


def kill_9(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def set_fsize(pid: int, limit: int) -> None:
    """A full disk for one process: RLIMIT_FSIZE (every write growing a file fails, as ENOSPC would)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))


def export_args(users: list[str], *extra: str) -> list[str]:
    return ["export", *users, "--storage-location-env", "LOC", "--json", *extra]


def prepare(console: Console, sim: Sim, dead_port: int, count: int, duration: float = 6.0) -> list[str]:
    console.env["LOC"] = location_template(dead_port)
    users = sim.user_ids(count)
    sim.knobs(export_duration=duration)
    return users


def submit(console: Console, users: list[str]) -> None:
    result = console.run(*export_args(users))
    assert_clean(result, json_out=True)
    assert result.rc == 0, str(result)


def no_doubles(sim: Sim) -> None:
    doubled = {u: n for u, n in posts_per_user(sim.requests()).items() if n > 1}
    assert not doubled, f"a user was POSTed more than once: {doubled}"


def finish_all(console: Console, sim: Sim, users: list[str]) -> list[dict[str, Any]]:
    """``watch`` brings every operation to its end; then the journal matches Graph's record, one row each."""
    result = console.run("watch", "--json", timeout=120)
    assert_clean(result, json_out=True)
    assert result.rc == 0, str(result)
    rows = console.ops()
    assert len(rows) == len(users), rows
    assert {(r["state"], r["status"]) for r in rows} == {("final", "complete")}, rows
    assert_journal_matches(rows, sim.operations(), users)
    assert_no_early_polls(sim)
    no_doubles(sim)
    return rows


@pytest.fixture
def sim_1s(tmp_path: Path) -> Iterator[Sim]:
    """A simulator answering Retry-After: 1 (the second poll of an answer is then easy to tell early)."""
    simulator = Sim(tmp_path, retry_after=1.0)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.close()


# ------------------------------------------------------------------------------ the console + each


HEADLESS = {
    "ops": ["ops"],
    "ops-json": ["ops", "--json"],
    "report": ["report"],
    "report-csv": ["report", "--format", "csv"],
    "profiles": ["profiles"],
    "profiles-json": ["profiles", "--json"],
    "note": ["note", "1", "checked beside the console"],
}


def test_every_headless_command_beside_an_open_console_leaves_its_journal_whole(
    console: Console, sim: Sim, dead_port: int
) -> None:
    """Issue 14, item 1: each headless command closing beside the console used to delete its WAL."""
    users = prepare(console, sim, dead_port, 3, duration=12.0)
    submit(console, users[:2])
    journal = journal_of(console)
    tui = open_console(console)
    wait_until(lambda: polls_written(journal) > 0, timeout=60)  # the console polls and journals
    for name, args in HEADLESS.items():
        result = console.run(*args)
        assert_clean(result)
        assert result.rc == 0, f"{name}: {result}"
        assert_wal_intact(tui, journal)
        assert_writes_visible(tui, journal)
    # A command that writes rows beside it: the console sees the new export and polls it too.
    result = console.run(*export_args(users[2:]))
    assert_clean(result, json_out=True)
    assert result.rc == 0, str(result)
    assert_wal_intact(tui, journal)
    # And a watch beside it, to the end of every export (they are the console's: watch waits for them).
    result = console.run("watch", "--json", timeout=120)
    assert_clean(result, json_out=True)
    assert result.rc == 0, str(result)
    assert_wal_intact(tui, journal)
    assert_writes_visible(tui, journal)
    written = polls_written(journal)
    kill_9(tui)
    # What the console wrote before the kill is all there afterwards.
    assert polls_written(journal) >= written
    finish_all(console, sim, users)
    assert read(journal, "SELECT COUNT(*) FROM notes")[0][0] == 1, "the note written beside the console was lost"


def test_two_consoles_and_kill_9_of_each(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 3, duration=8.0)
    submit(console, users)
    journal = journal_of(console)
    first = open_console(console)
    second = open_console(console)
    wait_until(lambda: polls_written(journal) > 0, timeout=60)
    result = console.run("ops", "--json")
    assert result.rc == 0, str(result)
    for tui in (first, second):
        assert_wal_intact(tui, journal)
        assert_writes_visible(tui, journal)
    kill_9(first)
    assert_wal_intact(second, journal)
    assert_writes_visible(second, journal)  # it lives on, and takes the dead one's operations over
    wait_until(lambda: count_state(journal, "final") == len(users), timeout=90)
    written = polls_written(journal)
    kill_9(second)
    assert polls_written(journal) == written
    finish_all(console, sim, users)


@pytest.mark.parametrize("victim", ["none", "export", "watch"])
def test_watch_beside_export_wait_and_kill_9_of_each(console: Console, sim: Sim, dead_port: int, victim: str) -> None:
    users = prepare(console, sim, dead_port, 3, duration=6.0)
    exporter = console.start(*export_args(users, "--wait"))
    wait_until(lambda: len(sim.operations()) == len(users), timeout=60)
    watcher = console.start("watch", "--json")
    wait_until(lambda: heartbeat(journal_of(console), watcher.pid) > 0, timeout=60)
    time.sleep(1.0)  # both poll, or wait for the other
    survivors = {"export": [watcher], "watch": [exporter], "none": [exporter, watcher]}[victim]
    if victim != "none":
        kill_9(exporter if victim == "export" else watcher)
    for process in survivors:
        result = finish(process, timeout=120)
        assert_clean(result, json_out=True)
        assert result.rc == 0, str(result)
    finish_all(console, sim, users)


# ------------------------------------------------------------------------------- a stop signal


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_journals_the_last_poll_answer_and_the_next_process_waits_for_it(
    tmp_path: Path, sim_1s: Sim, dead_port: int, signum: int
) -> None:
    """Issue 14, item 5: the answer to a poll in flight when the signal came is journalled (its
    Retry-After with it), so the ``watch`` started right after never polls within it."""
    sim = sim_1s
    state = tmp_path / "state"
    state.mkdir()
    console = Console(sim, state)
    try:
        users = prepare(console, sim, dead_port, 1, duration=8.0)
        exporter = console.start(*export_args(users, "--wait"))
        wait_until(lambda: any(r["kind"] == "poll" for r in sim.requests()), timeout=60)
        # The next poll hangs a moment at Graph: the signal comes while it is in flight.
        sim.knobs(hang_next=1, hang_seconds=1.5, hang_only="polls")
        polls = sum(1 for r in sim.requests() if r["kind"] == "poll")
        wait_until(lambda: exporter.poll() is not None or _hang_began(sim), timeout=30, pause=0.02)
        exporter.send_signal(signum)
        result = finish(exporter, timeout=60)
        assert result.rc == 130, str(result)
        assert_clean(result, json_out=True)
        # The hung poll was answered (Retry-After: 1) after the signal: the simulator recorded it.
        wait_until(lambda: sum(1 for r in sim.requests() if r["kind"] == "poll") > polls, timeout=30)
        watcher = console.run("watch", "--json", timeout=120)
        assert_clean(watcher, json_out=True)
        assert watcher.rc == 0, str(watcher)
        assert_no_early_polls(sim)
        rows = console.ops()
        assert_journal_matches(rows, sim.operations(), users)
        no_doubles(sim)
    finally:
        console.close()


def _hang_began(sim: Sim) -> bool:
    """The simulator counted the hang down: a poll is held at Graph, sent and unanswered."""
    response = sim.http.get("/_sim/knobs")
    assert response.status_code == 200, response.text
    return int(response.json()["hang_next"]) == 0


# ------------------------------------------------------------------------------- a full disk


def test_a_full_disk_under_export_wait_ends_and_prints_every_export_graph_accepted(
    console: Console, sim: Sim, dead_port: int
) -> None:
    """Issue 14, item 4: the intents are on disk, then the disk fills while Graph accepts the POSTs: the
    run ends on its own (exit 1), with every accepted operation id and status URL on stderr (no SAS)."""
    users = prepare(console, sim, dead_port, 3, duration=6.0)
    sim.knobs(delay=2.0, delay_only="exports")  # the POSTs take a while at Graph
    exporter = console.start(*export_args(users, "--wait"))
    journal = journal_of(console)
    wait_until(lambda: count_state(journal, "intent") == len(users), timeout=60, pause=0.01)
    set_fsize(exporter.pid, 1)
    result = finish(exporter, timeout=90)  # a hang fails here
    sim.knobs(delay=0.0)
    assert_clean(result, json_out=True)
    assert result.rc == 1, str(result)
    accepted = sim.operations()
    assert len(accepted) == len(users)
    for operation in accepted:
        # The summary at the end, one line each (the warning when the write failed said it once already).
        wanted = f"{operation['userId']}: operation {operation['id']}, status URL http"
        assert any(wanted in line for line in result.err.splitlines()), f"not printed: {wanted}\n{result.err}"
    assert SAS_SIG not in result.out + result.err
    # Nothing lost: each is unconfirmed in the journal (its intent, its owner gone), never a fresh export.
    rows = console.ops()
    assert {r["state"] for r in rows} == {"unconfirmed"}, rows
    assert_journal_matches(rows, accepted, users)
    assert_no_early_polls(sim)
    no_doubles(sim)


def test_a_full_disk_under_watch_ends_it_and_the_next_watch_finishes(
    console: Console, sim: Sim, dead_port: int
) -> None:
    users = prepare(console, sim, dead_port, 2, duration=15.0)
    submit(console, users)
    journal = journal_of(console)
    watcher = console.start("watch", "--json")
    wait_until(lambda: polls_written(journal) > 0, timeout=60)
    set_fsize(watcher.pid, 1)
    result = finish(watcher, timeout=90)
    assert_clean(result, json_out=True)
    assert result.rc == 1, str(result)
    assert "journal" in result.err, str(result)
    finish_all(console, sim, users)


def test_a_full_disk_under_the_console_loses_nothing_and_it_goes_on(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 2, duration=10.0)
    submit(console, users)
    journal = journal_of(console)
    tui = open_console(console)
    wait_until(lambda: polls_written(journal) > 0, timeout=60)
    set_fsize(tui.pid, 1)
    try:
        result = console.run("ops", "--json")  # a reader beside it, meanwhile
        assert result.rc == 0, str(result)
        assert_wal_intact(tui, journal)
        time.sleep(3.0)  # the console polls on, and cannot write
    finally:
        set_fsize(tui.pid, resource.RLIM_INFINITY)
    assert_wal_intact(tui, journal)
    assert_writes_visible(tui, journal)
    wait_until(lambda: count_state(journal, "final") == len(users), timeout=90)
    kill_9(tui)
    finish_all(console, sim, users)


@pytest.mark.parametrize("command", ["ops", "report", "export"])
def test_a_full_disk_under_a_command_beside_the_console_leaves_the_console_whole(
    console: Console, sim: Sim, dead_port: int, command: str
) -> None:
    users = prepare(console, sim, dead_port, 2, duration=8.0)
    submit(console, users[:1])
    journal = journal_of(console)
    tui = open_console(console)
    wait_until(lambda: polls_written(journal) > 0, timeout=60)
    args = {"ops": ["ops", "--json"], "report": ["report"], "export": export_args(users[1:])}[command]
    limit = "import resource,sys; resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))"
    argv = console.argv(*args)
    done = subprocess.run(
        [
            PYTHON,
            "-c",
            f"{limit}\nimport runpy; sys.argv = {argv[2:]!r}; runpy.run_module('console', run_name='__main__')",
        ],
        cwd=ROOT,
        env=child_env(console.env),
        capture_output=True,
        text=True,
        timeout=90,
    )
    result = Result(argv, done.returncode, done.stdout, done.stderr)
    assert_clean(result)
    if command == "export":  # its intent cannot be written: nothing is sent
        assert result.rc == 1, str(result)
        assert "journal" in result.err, str(result)
        assert users[1].lower() not in {o["userId"].lower() for o in sim.operations()}
    else:  # reading needs no disk
        assert result.rc == 0, str(result)
    assert_wal_intact(tui, journal)
    assert_writes_visible(tui, journal)
    kill_9(tui)
    finish_all(console, sim, users[:1])
