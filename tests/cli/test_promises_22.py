"""Issue 22: the CLI's promises a one-line break passed the suite (the exit code of ``export --wait``, the report)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from console.ops.events import FINAL, TRACKING, PollRecord
from console.ops.journal import OperationJournal
from console.paths import Paths
from console.report import iter_report_rows, render_report
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
                    try:
                        with sqlite3.connect(journal, timeout=30) as db:
                            taken = db.execute(
                                "UPDATE operations SET owner='another-process', lease_until=? "
                                "WHERE state='tracking' AND location IS NOT NULL",
                                (time.time() + 3600,),
                            ).rowcount
                    except sqlite3.OperationalError:
                        pass  # the file is there before its schema (the child creates it, then the tables)
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


def test_the_reports_final_request_id_is_the_last_final_polls(tmp_path: Path) -> None:
    # A row from before the journal kept finalRequestId, polled in its final state twice (the second
    # time by a process that took it over): the evidence names the answer that closed it, the last.
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    at = 1_796_112_000.0
    row = journal.record_intent("tenant", "user-1", "acct", at, owner=None, case="DSR-22")
    row.state, row.operation_id = TRACKING, "op-1"
    row.location = "https://graph.microsoft.com/v1.0/dataPolicyOperations/op-1"
    journal.save_now(row, PollRecord(at + 1, 202, 60.0, "post-rid", "c0", None, None, ""), at + 1)
    journal.save_now(row, PollRecord(at + 60, 200, 60.0, "running-rid", "c1", "running", 50.0, ""), at + 60)
    row.state, row.status, row.progress = FINAL, "complete", 100.0
    journal.save_now(row, PollRecord(at + 120, 200, None, "first-final-rid", "c2", "complete", 100.0, ""), at + 120)
    journal.save_now(row, PollRecord(at + 180, 200, None, "last-final-rid", "c3", "complete", 100.0, ""), at + 180)
    [stored] = journal.rows()
    assert stored.final_request_id == ""
    [entry] = json.loads(render_report(list(iter_report_rows(journal, now=at + 200)), "json", generated_at=at + 200))
    assert entry["finalRequestId"] == "last-final-rid"
    assert entry["exportRequestId"] == "post-rid"
    journal.close()
