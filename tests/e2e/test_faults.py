"""The fault suite (issue 7): the simulator misbehaves on purpose, in a subprocess on loopback, while a
real ``export-console export --wait --json`` runs against it.

Every case asserts: no traceback, valid JSON Lines, the contract's exit code, a readable ``ops --json``
(no row left "submitting"), nothing lost or doubled (the journal against the simulator's record of
accepted exports), at most one POST per user, and no poll before the previous answer's Retry-After
(from the simulator's request log).
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    PYTHON,
    Console,
    Result,
    Sim,
    assert_clean,
    assert_journal_matches,
    assert_no_early_polls,
    finish,
    location_template,
    posts_per_user,
    wait_until,
)

USERS = 3


def export_args(users: list[str], *extra: str) -> list[str]:
    return ["export", *users, "--storage-location-env", "LOC", "--wait", "--json", *extra]


def prepare(console: Console, sim: Sim, dead_port: int, count: int = USERS) -> list[str]:
    console.env["LOC"] = location_template(dead_port)
    return sim.user_ids(count)


def check(
    console: Console, sim: Sim, result: Result, users: list[str], rc: set[int], *, early_ok: bool = False
) -> list[dict[str, Any]]:
    """The promises every case keeps; returns the ``ops --json`` rows of ``users``."""
    assert_clean(result, json_out=True)
    assert result.rc in rc, str(result)
    rows = [r for r in console.ops() if r["userId"].lower() in {u.lower() for u in users}]
    assert len(rows) == len(users), rows
    assert_journal_matches(rows, sim.operations(), users)
    records = sim.requests() if early_ok else assert_no_early_polls(sim)
    # A POST Graph refused outright (429, 4xx) created nothing: trying again later is no double.
    sent = [r for r in records if not (r.get("kind") == "export" and 400 <= int(r["status"]) < 500)]
    doubled = {u: n for u, n in posts_per_user(sent).items() if n > 1}
    assert not doubled, f"a user was POSTed more than once: {doubled}"
    return rows


def all_complete(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert row["state"] == "final" and row["status"] == "complete", row


# ------------------------------------------------------------------------------- the simple cases

THROTTLING = {
    "baseline": {},
    "storm-429-retry-after-polls": dict(storm_status=429, storm_retry_after="1", storm_only="polls", storm_seconds=3),
    "storm-429-no-retry-after-all": dict(storm_status=429, storm_seconds=3),
    "storm-503-retry-after-polls": dict(storm_status=503, storm_retry_after="1", storm_only="polls", storm_seconds=3),
    "storm-504-no-retry-after-polls": dict(storm_status=504, storm_only="polls", storm_seconds=3),
    "sporadic-429-no-retry-after": dict(sporadic_fraction=0.25, sporadic_only="polls"),
    "sporadic-503-retry-after": dict(
        sporadic_fraction=0.25, sporadic_status=503, sporadic_retry_after="0.5", sporadic_only="polls"
    ),
    "burst-500-polls": dict(errors_next=4, error_status=500, errors_only="polls"),
    "burst-502-listing": dict(errors_next=2, error_status=502, errors_only="lists"),
    "burst-504-retry-after-polls": dict(errors_next=3, error_status=504, error_retry_after="1", errors_only="polls"),
    "unknown-status": dict(unknown_status_every=1),
    "null-status": dict(null_status_every=1),
    "string-progress": dict(string_progress_every=1),
    "retry-after-0": dict(retry_after_value="0"),
    "retry-after-negative": dict(retry_after_value="-5"),
    "retry-after-http-date": dict(retry_after_value="http-date"),
    "retry-after-fractional": dict(retry_after_value="2.128"),
    "location-body-only": dict(location="body_only"),
}


@pytest.mark.parametrize("knobs", THROTTLING.values(), ids=THROTTLING.keys())
def test_fault_then_every_export_completes(console: Console, sim: Sim, dead_port: int, knobs: dict[str, Any]) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(**knobs)
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {0})
    all_complete(rows)
    completed = [e for e in result.events if e.get("state") == "final" and e.get("status") == "complete"]
    assert {e["userId"] for e in completed} == set(users), result.out


@pytest.mark.parametrize("kind", ["nan", "infinity"])
def test_non_finite_progress_keeps_json_valid(console: Console, sim: Sim, dead_port: int, kind: str) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(malformed_next=3, malformed_kind=kind, malformed_only="polls")
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {0})
    all_complete(rows)
    for row in rows:  # ops --json too: every number finite or null
        assert row["progress"] is None or isinstance(row["progress"], (int, float)), row


UNREADABLE = ("truncated", "html", "empty", "not_object")


@pytest.mark.slow
def test_unreadable_poll_bodies_never_crash(console: Console, sim: Sim, dead_port: int) -> None:
    """One poll answer of each unreadable kind (cut JSON, an HTML page, no body, an array), one run.

    Slow: after an unreadable answer the engine waits its 60 s default instead of that answer's
    Retry-After (reported to the graph owner), so the four operations finish about a minute late.
    """
    users = prepare(console, sim, dead_port, 4)
    sim.knobs(malformed_next=1, malformed_kind=UNREADABLE[0], malformed_only="polls")
    process = console.start(*export_args(users))
    for kind in UNREADABLE[1:]:
        wait_until(lambda: sim.knobs()["knobs"]["malformed_next"] == 0, timeout=60)
        sim.knobs(malformed_next=1, malformed_kind=kind)
    wait_until(lambda: sim.knobs()["knobs"]["malformed_next"] == 0, timeout=60)
    result = finish(process, timeout=150)
    rows = check(console, sim, result, users, {0})
    all_complete(rows)


@pytest.mark.parametrize("style", ["foreign_host", "bad_port", "ipv6", "bad_ipv6", "garbage"])
def test_odd_location_is_an_error_for_that_operation(console: Console, sim: Sim, dead_port: int, style: str) -> None:
    users = prepare(console, sim, dead_port, 2)
    sim.knobs(location_style=style)
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {1})
    for row in rows:
        assert row["state"] in ("error", "unconfirmed"), row
        assert row["error"], row
    # The token never followed the Location anywhere: the simulator saw no poll at all.
    assert not [r for r in sim.requests() if r["kind"] == "poll"]


def test_relative_location_never_crashes(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 2)
    sim.knobs(location_style="relative")
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {0, 1})
    for row in rows:
        assert row["state"] in ("final", "error", "unconfirmed"), row


def test_permanent_poll_error_stops_after_bounded_tries(console: Console, sim: Sim, dead_port: int) -> None:
    """A 400 on every poll: the engine stops after PERMANENT_ERROR_LIMIT tries, spaced by its error
    backoff (2 s doubling), so ``--wait`` ends; the bound below is that schedule plus a wide margin."""
    from console.ops.engine import ERROR_BACKOFF_START, PERMANENT_ERROR_LIMIT

    users = prepare(console, sim, dead_port, 2)
    sim.knobs(poll_error=400)
    schedule = sum(ERROR_BACKOFF_START * 2 ** (n - 1) for n in range(1, PERMANENT_ERROR_LIMIT))
    result = console.run(*export_args(users), timeout=schedule + 30)
    rows = check(console, sim, result, users, {1})
    for row in rows:
        assert row["state"] == "error", row
        assert "400" in row["error"], row
    polls: dict[str, int] = {}
    for record in sim.requests():
        if record["kind"] == "poll":
            polls[record["operation_id"]] = polls.get(record["operation_id"], 0) + 1
    assert polls and max(polls.values()) <= PERMANENT_ERROR_LIMIT, polls


def test_poll_gone_404_is_an_error(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 2)
    sim.knobs(poll_error=404)
    result = console.run(*export_args(users), timeout=120)
    rows = check(console, sim, result, users, {1})
    assert {r["state"] for r in rows} == {"error"}, rows


def test_forbidden_polls_exit_3_naming_the_permission(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 2)
    sim.knobs(forbid_polls=True)
    result = console.run(*export_args(users), timeout=120)
    rows = check(console, sim, result, users, {3})
    assert "User.Export.All" in result.err + result.out, str(result)
    for row in rows:
        assert row["state"] in ("tracking", "error"), row
        assert row["operationId"], row


# ------------------------------------------------------------------------------- the export POST


def test_reset_after_the_server_acted_leaves_it_unconfirmed(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(drop_next=1, drop_when="after", drop_only="exports")
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {1})
    unconfirmed = [r for r in rows if r["state"] == "unconfirmed"]
    assert len(unconfirmed) == 1, rows
    # Graph did accept it: the simulator holds one operation for that user, never a second POST.
    lost_user = unconfirmed[0]["userId"].lower()
    assert [o for o in sim.operations() if o["userId"].lower() == lost_user]
    assert posts_per_user(sim.requests())[lost_user] == 1
    for row in rows:
        if row is not unconfirmed[0]:
            assert row["state"] == "final" and row["status"] == "complete", row


def test_reset_before_the_server_acted_never_doubles(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(drop_next=1, drop_when="before", drop_only="exports")
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {0, 1})
    states = sorted(r["state"] for r in rows)
    # The client cannot tell "before" from "after": unconfirmed is the honest answer (or, for a
    # client that knows nothing was sent, a retried export); never two exports for one user.
    assert states in (["final"] * 3, ["final", "final", "unconfirmed"]), rows
    assert result.rc == (1 if "unconfirmed" in states else 0), str(result)


def test_5xx_on_the_export_post_is_unconfirmed_never_reposted(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(errors_next=1, error_status=503, error_retry_after="1", errors_only="exports")
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {1})
    assert sorted(r["state"] for r in rows) == ["final", "final", "unconfirmed"], rows
    posts = posts_per_user(sim.requests())
    assert sorted(posts.values()) == [1, 1, 1], posts


def test_429_on_the_export_post_never_doubles(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(throttle_next=1, throttle_retry_after="1", throttle_only="exports")
    result = console.run(*export_args(users))
    rows = check(console, sim, result, users, {0, 1})
    per_user = {o["userId"].lower() for o in sim.operations()}
    assert len(per_user) == len(sim.operations()), "a user got two exports"
    for row in rows:
        assert row["state"] in ("final", "rejected"), row


# ------------------------------------------------------------------------------- the server


def test_server_killed_and_restarted_exports_are_adopted(
    console: Console, sim: Sim, dead_port: int, tmp_path: Path
) -> None:
    users = prepare(console, sim, dead_port)
    sim.duration = 4.0
    sim.knobs(export_duration=4.0)
    process = console.start(*export_args(users))
    wait_until(lambda: len(sim.operations()) == len(users), timeout=60)
    before = sim.operations()
    sim.kill()
    time.sleep(1.5)  # the client meets refused connections meanwhile
    sim.start(port=sim.port, adopt=before)
    result = finish(process, timeout=120)
    rows = check(console, sim, result, users, {0}, early_ok=True)
    all_complete(rows)
    assert {r["operationId"] for r in rows} == {o["id"] for o in before}
    assert_no_early_polls(sim)  # the second life's record


@pytest.mark.slow
def test_hung_poll_times_out_and_the_export_finishes(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 2)
    sim.knobs(hang_next=1, hang_seconds=3600, hang_only="polls")
    result = console.run(*export_args(users), timeout=150)
    rows = check(console, sim, result, users, {0})
    all_complete(rows)


def test_stuck_operation_keeps_waiting_and_sigterm_exits_130(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(stuck_users=[users[0]])
    process = console.start(*export_args(users))
    wait_until(lambda: len(sim.operations()) == len(users), timeout=60)
    wait_until(lambda: sum(1 for o in sim.operations() if o["status"] == "complete") == 2, timeout=60)
    time.sleep(2 * sim.retry_after + 0.5)  # the client notices the two completions
    process.send_signal(signal.SIGTERM)
    result = finish(process, timeout=60)
    assert result.rc == 130, str(result)
    assert "watch" in result.err, str(result)  # the resume hint
    rows = check(console, sim, result, users, {130})
    states = {r["userId"]: (r["state"], r["status"]) for r in rows}
    assert states[users[0]][0] == "tracking", states
    assert all(states[u] == ("final", "complete") for u in users[1:]), states


def test_401_mid_run_exits_3_and_keeps_the_operations(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port)
    sim.knobs(export_duration=4.0)
    process = console.start(*export_args(users))
    wait_until(lambda: len(sim.operations()) == len(users), timeout=60)
    sim.knobs(revoke_tokens=True)
    result = finish(process, timeout=120)
    rows = check(console, sim, result, users, {3})
    for row in rows:
        assert row["state"] in ("tracking", "final"), row
        assert row["operationId"], row


def test_absurd_retry_after_on_one_request_does_not_close_the_client(
    console: Console, sim: Sim, dead_port: int
) -> None:
    """429 with Retry-After 1e9 on one poll: reported for that operation, the others go on and finish."""
    users = prepare(console, sim, dead_port)
    sim.knobs(throttle_next=1, throttle_retry_after="1e9", throttle_only="polls")
    process = console.start(*export_args(users))
    wait_until(lambda: sum(1 for o in sim.operations() if o["status"] == "complete") == len(users), timeout=60)
    throttled = [r for r in sim.requests() if r["status"] == 429]
    assert len(throttled) == 1, throttled
    victim = throttled[0]["operation_id"]
    others = [o["id"] for o in sim.operations() if o["id"] != victim]
    # The other exports' completions are polled (the client is not closed for the hour).
    wait_until(
        lambda: (
            {r["operation_id"] for r in sim.requests() if r["kind"] == "poll" and r["retry_after"] is None}
            >= set(others)
        ),
        timeout=60,
    )
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    result = finish(process, timeout=60)
    rows = check(console, sim, result, users, {0, 1, 130})
    by_id = {r["operationId"]: r for r in rows}
    assert "1e9" in (by_id[victim]["error"] or ""), by_id[victim]  # reported, with the value
    assert by_id[victim]["state"] in ("tracking", "error"), by_id[victim]
    for op_id in others:
        assert (by_id[op_id]["state"], by_id[op_id]["status"]) == ("final", "complete"), by_id[op_id]


# ------------------------------------------------------------------------------- the disk


def _set_fsize(pid: int, limit: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))  # the soft limit only: raised again after


def test_full_disk_mid_run_loses_nothing(console: Console, sim: Sim, dead_port: int) -> None:
    """A full disk, without tmpfs or LD_PRELOAD: RLIMIT_FSIZE lowered on the running exporter (prlimit),
    so every write that grows a file fails (EFBIG, as ENOSPC would), then raised again."""
    users = prepare(console, sim, dead_port, 4)
    sim.knobs(export_duration=3.0)
    process = console.start(*export_args(users))
    wait_until(lambda: len(sim.operations()) == len(users), timeout=60)
    _set_fsize(process.pid, 1)
    try:
        time.sleep(4.0)  # every export completes on Graph's side while the journal cannot grow
    finally:
        _set_fsize(process.pid, resource.RLIM_INFINITY)
    result = finish(process, timeout=60)
    rows = check(console, sim, result, users, {0})
    all_complete(rows)


def test_locked_journal_mid_run_loses_nothing(console: Console, sim: Sim, dead_port: int) -> None:
    users = prepare(console, sim, dead_port, 4)
    sim.knobs(export_duration=3.0)
    process = console.start(*export_args(users))
    wait_until(lambda: len(sim.operations()) >= 1, timeout=60)
    journal = next(console.state_dir.rglob("journal.sqlite3"))
    locker = subprocess.Popen(
        [
            PYTHON,
            "-c",
            "import sqlite3,sys,time\n"
            "db=sqlite3.connect(sys.argv[1],isolation_level=None,timeout=30)\n"
            "db.execute('BEGIN EXCLUSIVE'); print('locked',flush=True); time.sleep(4); db.execute('ROLLBACK')\n",
            str(journal),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    assert locker.wait(timeout=30) == 0
    result = finish(process, timeout=120)
    rows = check(console, sim, result, users, {0})
    all_complete(rows)
    # The journal is a sound SQLite database afterwards.
    with sqlite3.connect(journal) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_unwritable_state_dir_is_one_line_not_a_traceback(console: Console, sim: Sim, dead_port: int) -> None:
    """A state dir that cannot be created (a file in its way): the export refuses plainly, sends nothing."""
    users = prepare(console, sim, dead_port, 1)
    blocked = console.state_dir / "blocked"
    blocked.write_text("not a directory")
    other = Console(sim, blocked / "state", env=dict(console.env))
    result = other.run(*export_args(users))
    assert_clean(result, json_out=True)
    assert result.rc in (1, 2), str(result)
    assert not sim.operations()
    assert os.path.isfile(blocked)
