"""One vocabulary, one count (issue 17, items 9 and 10): ``ops --status`` counts what the console's
tab and filter count, and ``ops`` names the people the journal knows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from console.cli.run import main
from console.ops.events import ERROR, FINAL, REJECTED, TRACKING, UNCONFIRMED
from console.ops.journal import OperationJournal
from console.sim.tenant import DEMO_TENANT_ID

ROWS = [
    # (name, state, Graph's status, error)
    ("Ada Lovelace", FINAL, "complete", ""),
    ("Grace Hopper", FINAL, "failed", "Graph reported the export failed"),
    ("Alan Turing", REJECTED, None, "400 StorageLocationAlreadyUsed"),
    ("Edsger Dijkstra", ERROR, "running", "403 Forbidden"),
    ("Barbara Liskov", UNCONFIRMED, None, "the POST got no answer"),
    ("Ken Thompson", TRACKING, "running", ""),
]
"""Four problems (failed, rejected, error, unconfirmed): one of them failed."""


def plant(state: Path) -> None:
    journal = OperationJournal(state / "journal-demo.sqlite3")
    now = time.time()
    for number, (name, row_state, status, error) in enumerate(ROWS, start=1):
        row = journal.record_intent(
            DEMO_TENANT_ID,
            f"0000000{number}-0000-4000-8000-000000000000",
            f"https://acct.blob.core.windows.net/dsr-{number}?sv=2024-05-04&sr=c&sp=cw&sig=S",
            now - 100,
            case="DSR-9",
            display_name=name,
            user_principal_name=name.lower().replace(" ", ".") + "@fabrikam.com",
        )
        row.state, row.status, row.last_error = row_state, status, error
        if row_state != REJECTED:
            row.operation_id = f"op-{number}"
        journal.save_now(row, now=now)
    journal.close()


@pytest.fixture
def state(isolated_state: Path) -> Path:
    isolated_state.mkdir(parents=True, exist_ok=True)
    plant(isolated_state)
    return isolated_state


def ops(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["--demo", "ops", *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_ops_status_problem_and_failed_count_what_the_console_counts(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(ops(capsys, "--status", "problem")) == 1 + 4  # the header and the four problems
    failed = ops(capsys, "--status", "failed")
    assert len(failed) == 2 and "Grace Hopper" in failed[1]
    # the error row keeps Graph's last word "running" in JSON, yet it is not counted as running
    running = [json.loads(line) for line in ops(capsys, "--status", "running", "--json")]
    assert [r["displayName"] for r in running] == ["Ken Thompson"]
    assert len(ops(capsys, "--status", "!problem")) == 1 + 2


def test_ops_has_a_name_column_and_json_keeps_its_fields(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = ops(capsys)
    assert table[0].split()[:4] == ["CASE", "NAME", "USER", "ID"]
    assert "Ada Lovelace" in table[1] and "00000001-0000-4000-8000-000000000000" in table[1]
    assert "error" in table[4].split()  # the status column says what the filters say
    record = json.loads(ops(capsys, "--json")[0])
    assert record["displayName"] == "Ada Lovelace"
    assert {"operationId", "userId", "status", "state", "case", "error"} <= set(record)
