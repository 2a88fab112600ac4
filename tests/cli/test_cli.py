"""The headless CLI through a subprocess, against the simulated tenant (in-process --demo or loopback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import (
    SAS,
    SECRET,
    TEMPLATE,
    Served,
    child_env,
    graph_args,
    lines,
    polls,
    posts,
    run_cli,
    wait_for_polls,
)


def test_profiles_json_lists_every_page(served: Served) -> None:
    tenant, server, env = served
    done = run_cli(*graph_args(server), "profiles", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = lines(done.stdout)
    assert len(rows) == 120
    assert set(rows[0]) == {"userId", "displayName", "userPrincipalName", "homeTenantId"}
    needle = tenant.graph.profiles[5].display_name.split()[-1].upper()
    found = lines(run_cli(*graph_args(server), "profiles", "--search", needle, "--json", env=env).stdout)
    assert found and all(needle.lower() in json.dumps(r).lower() for r in found)


def test_export_wait_json_and_ops(served: Served) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[:3]]
    done = run_cli(
        *graph_args(server),
        "export",
        *users,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        "--wait",
        "--json",
        env={**env, "LOC": TEMPLATE},
    )
    assert done.returncode == 0, done.stderr
    events = lines(done.stdout)
    assert {e["userId"] for e in events} == set(users)
    finals = [e for e in events if e["event"] == "status" and e["status"] == "complete"]
    assert len(finals) == 3 and all(e["completedDateTime"] for e in finals)
    for field in (
        "operationId",
        "userId",
        "status",
        "progress",
        "submittedDateTime",
        "completedDateTime",
        "storageLocation",
        "state",
        "error",
        "case",
        "delivered",
    ):
        assert field in events[0]
    assert SECRET not in done.stdout + done.stderr
    assert all("sig=" in str(e["storageLocation"]) and SECRET not in str(e["storageLocation"]) for e in events)
    listed = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert len(listed) == 3 and {e["status"] for e in listed} == {"complete"}
    assert lines(run_cli(*graph_args(server), "ops", "--status", "failed", "--json", env=env).stdout) == []


def test_failed_export_exits_1(served: Served) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[0].user_id
    tenant.graph.faults.failing_users.add(user.lower())
    done = run_cli(
        *graph_args(server), "export", user, "--storage-location", "MyStorageAccount", "--wait", "--json", env=env
    )
    assert done.returncode == 1, done.stderr
    assert lines(done.stdout)[-1]["status"] == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "USER", "--storage-location", "   "], "empty"),
        (["export", "USER", "USER", "--storage-location", "acct"], "duplicate"),
        (["export", "--from-file", "/nonexistent/ids.txt", "--storage-location", "acct"], "cannot read"),
        (["export", "--storage-location", "acct"], "no user ids"),
        (["export", "00000000-0000-0000-0000-00000000abcd", "--storage-location", "acct"], "unknown user id"),
        (["export", "USER", "--storage-location", "http://acct.blob.core.windows.net/c"], "https"),
    ],
)
def test_bad_input_exits_2_and_submits_nothing(served: Served, args: list[str], message: str) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[0].user_id
    done = run_cli(*graph_args(server), *[user if a == "USER" else a for a in args], env=env)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not posts(tenant)


def test_usage_errors_exit_2() -> None:
    missing = run_cli("--graph-url", "https://graph.example.test/beta", "--token-env", "NO_SUCH_VAR_XYZ", "profiles")
    assert missing.returncode == 2 and "NO_SUCH_VAR_XYZ" in missing.stderr
    insecure = run_cli("--graph-url", "http://graph.example.test/beta", "--token-env", "T", "profiles", env={"T": "x"})
    assert insecure.returncode == 2 and "loopback" in insecure.stderr
    nothing = run_cli("profiles")
    assert nothing.returncode == 2 and "--demo" in nothing.stderr


def test_bad_token_exits_3(served: Served) -> None:
    _tenant, server, _env = served
    done = run_cli(*graph_args(server), "profiles", env={"SIM_TOKEN": "opaque-token-the-simulator-never-issued"})
    assert done.returncode == 3
    assert "opaque-token" not in done.stderr and "Traceback" not in done.stderr


def test_from_file_and_stdin(served: Served, tmp_path: Path) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[10:12]]
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# privacy request 42\n{users[0]}\n\n")
    done = run_cli(
        *graph_args(server), "export", "--from-file", str(ids), "--storage-location", "acctone", "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    assert [e["userId"] for e in lines(done.stdout)] == [users[0]]
    piped = run_cli(
        *graph_args(server),
        "export",
        "--from-file",
        "-",
        "--storage-location",
        "accttwo",
        "--json",
        env=env,
        stdin=users[1] + "\n",
    )
    assert piped.returncode == 0, piped.stderr
    assert lines(piped.stdout)[0]["userId"] == users[1]


def test_quota_left_is_reported(served: Served) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[:2]]
    done = run_cli(
        "--poll-budget",
        "100",
        *graph_args(server),
        "export",
        *users,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        env={**env, "LOC": TEMPLATE},
    )
    assert done.returncode == 0, done.stderr
    assert "998 of 1000 left today" in done.stderr


def test_watch_survives_kill_9(served: Served) -> None:
    """A watcher killed with SIGKILL loses nothing: a new `watch` finishes every operation."""
    tenant, server, env = served
    tenant.graph.config.export_duration = 4.0
    tenant.graph.config.retry_after = 0.5
    users = [p.user_id for p in tenant.graph.profiles[20:32]]
    env = {**env, "LOC": TEMPLATE}
    submitted = run_cli(
        *graph_args(server), "export", *users, "--storage-location-env", "LOC", "--no-storage-check", "--json", env=env
    )
    assert submitted.returncode == 0, submitted.stderr
    polled = polls(tenant)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "console", *graph_args(server), "watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(env),
    )
    wait_for_polls(tenant, polled + 3)  # killed while it polls, however slowly it started
    watcher.send_signal(signal.SIGKILL)
    watcher.wait(timeout=10)
    resumed = run_cli(*graph_args(server), "watch", "--json", env=env, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    final = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert len(final) == 12
    assert {e["status"] for e in final} == {"complete"}
    assert len(posts(tenant)) == 12  # nothing re-posted


def test_demo_profiles_needs_no_credentials() -> None:
    done = run_cli("--demo", "profiles", "--json")
    assert done.returncode == 0, done.stderr
    assert len(lines(done.stdout)) >= 200


def test_global_options_after_the_command(served: Served) -> None:
    _tenant, server, env = served
    done = run_cli("profiles", *graph_args(server), "--json", env=env)
    assert done.returncode == 0, done.stderr


def test_demo_restart_resumes_its_journal(isolated_state: Path) -> None:
    """--demo's simulator lives in the process; the journal carries its operations across restarts."""
    from console.wiring import DEMO_STORAGE

    users = [row["userId"] for row in lines(run_cli("--demo", "profiles", "--json").stdout)[:2]]
    submitted = run_cli(
        "--demo", "export", *users, "--storage-location-env", "LOC", "--json", env={"LOC": DEMO_STORAGE}
    )
    assert submitted.returncode == 0, submitted.stderr
    assert {e["tenant"] for e in lines(submitted.stdout)} == {"contoso"}  # the name the demo console shows
    watched = run_cli("--demo", "watch", "--json", timeout=120)
    assert watched.returncode == 0, watched.stderr
    final = lines(run_cli("--demo", "ops", "--json").stdout)
    assert [e["status"] for e in final] == ["complete", "complete"]


def test_fixed_location_for_one_user_is_fine_and_sas_is_never_printed(served: Served) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[3].user_id
    done = run_cli(
        *graph_args(server),
        "export",
        user,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        "--json",
        env={**env, "LOC": SAS},
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert not os.environ.get("LOC")
