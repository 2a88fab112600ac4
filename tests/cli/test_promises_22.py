"""Issue 22: the CLI's promises a one-line break passed the suite (the exit code of ``export --wait``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from console.paths import Paths
from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant
from tests.cli.conftest import TEMPLATE, child_env, graph_args


def test_export_wait_exits_1_when_the_wait_ends_with_the_export_still_running(isolated_state: Path) -> None:
    # The export runs for an hour. While `export --wait` watches it, another process takes its lease
    # over (as a `watch` does when this one's lease lapses): the wait ends, the export still runs.
    # "--wait" promises 0 only when every export is complete, so this is 1.
    tenant = SimulatedTenant(profiles=5, retry_after=0.3, export_duration=3600)
    user = tenant.graph.profiles[0].user_id
    with LoopbackServer(tenant) as server:
        env = {"SIM_TOKEN": tenant.issue_token(lifetime=3600), "LOC": TEMPLATE}
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "console",
                *graph_args(server),
                "export",
                user,
                "--storage-location-env",
                "LOC",
                "--no-storage-check",
                "--wait",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(env),
        )
        try:
            journal = Paths.resolve(str(isolated_state)).journal_file
            deadline = time.monotonic() + 60
            taken = 0
            while taken == 0 and child.poll() is None and time.monotonic() < deadline:
                if journal.exists():
                    with sqlite3.connect(journal, timeout=30) as db:
                        taken = db.execute(
                            "UPDATE operations SET owner='another-process', lease_until=? "
                            "WHERE state='tracking' AND location IS NOT NULL",
                            (time.time() + 3600,),
                        ).rowcount
                if taken == 0:
                    time.sleep(0.05)  # polling the journal for the state the test needs, not a timing guess
            assert taken == 1, "the export never reached the journal as tracking"
            out, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
    [operation_id] = tenant.graph.operation_ids()
    still = tenant.graph.operation(operation_id)
    assert still is not None and still["status"] in ("notStarted", "running")
    assert child.returncode == 1, (child.returncode, out, err)
