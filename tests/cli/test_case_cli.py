"""``case open|extend|close|list`` (issue 19): exit codes, JSON fields, dated events, ``export --case`` opening one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from console.cli import case_commands
from console.cli.run import main

DEC_1 = 1_796_112_000.0  # 2026-12-01T08:00:00Z


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(case_commands, "now", lambda: DEC_1)
    monkeypatch.setenv("USER", "dpo@contoso.com")
    return tmp_path


def run(state: Path, *args: str) -> int:
    return main(["--demo", "--state-dir", str(state), "case", *args])


def listed(state: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert run(state, "list", "--json") == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_open_defaults_to_today_and_one_month(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state, "open", "DSR-1", "--subject", "Ann Lee, access") == 0
    assert "due 2027-01-01" in capsys.readouterr().err
    (record,) = listed(state, capsys)
    assert record == {
        "case": "DSR-1",
        "subject": "Ann Lee, access",
        "received": "2026-12-01",
        "due": "2027-01-01",
        "daysLeft": 31,
        "state": "open",
        "exports": 0,
        "complete": 0,
        "failed": 0,
        "removals": 0,
    }


def test_received_on_the_31st_of_january_is_due_on_the_28th_of_february(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(state, "open", "DSR-2", "--received", "2026-01-31") == 0
    (record,) = listed(state, capsys)
    assert record["due"] == "2026-02-28"
    assert record["state"] == "overdue"
    assert record["daysLeft"] == (date(2026, 2, 28) - date(2026, 12, 1)).days == -276


@pytest.mark.parametrize(
    "args",
    [
        ("open", "DSR-3", "--received", "2026-02-30"),
        ("open", "DSR-3", "--received", "yesterday"),
        ("open", "DSR-3", "--due", "2026-13-01"),
        ("open", "DSR-3", "--received", "2026-12-01", "--due", "2026-11-30"),
        ("open", "DSR-3", "--received", "2026-12-01", "--due", "2027-03-02"),
        ("extend", "NOPE", "--due", "2027-01-15", "--reason", "complex"),
        ("close", "NOPE"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    state: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    assert run(state, *args) == 2
    assert "export-console:" in capsys.readouterr().err
    assert listed(state, capsys) == []


def test_open_twice_is_refused(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state, "open", "DSR-4") == 0
    assert run(state, "open", "DSR-4") == 2
    assert "already open" in capsys.readouterr().err


def test_extend_up_to_three_months_and_no_further(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state, "open", "DSR-5", "--received", "2026-11-30") == 0
    assert run(state, "extend", "DSR-5", "--due", "2027-03-01", "--reason", "complex") == 2
    assert "three months" in capsys.readouterr().err
    assert listed(state, capsys)[0]["due"] == "2026-12-30"
    assert run(state, "extend", "DSR-5", "--due", "2027-02-28", "--reason", "many systems") == 0
    assert listed(state, capsys)[0]["due"] == "2027-02-28"


def test_close_changes_the_state_and_every_change_is_a_dated_event(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.ops.cases import CaseStore
    from console.ops.journal import OperationJournal
    from console.wiring import ConnectionOptions, open_journal_only

    assert run(state, "open", "DSR-6", "--received", "2026-11-01") == 0
    assert run(state, "extend", "DSR-6", "--due", "2027-01-15", "--reason", "many systems") == 0
    assert run(state, "close", "DSR-6", "--note", "answered by mail") == 0
    assert run(state, "close", "DSR-6") == 2
    assert run(state, "extend", "DSR-6", "--due", "2027-01-20", "--reason", "late") == 2
    (record,) = listed(state, capsys)
    assert record["state"] == "closed"
    only = open_journal_only(ConnectionOptions(demo=True, state_dir=str(state)))
    try:
        journal: OperationJournal = only.journal
        store = CaseStore(journal)
        events = store.events(store.find(only.tenant_key, "DSR-6"))
    finally:
        only.close()
    assert [(e.kind, e.text, e.author, e.at) for e in events] == [
        ("opened", "received 2026-11-01", "demo admin", DEC_1),
        ("extended", "many systems", "demo admin", DEC_1),
        ("closed", "answered by mail", "demo admin", DEC_1),
    ]


def test_list_text_is_a_table_with_terminal_safe_cells(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(state, "open", "DSR-7", "--subject", "Eve \x1b[31m red") == 0
    capsys.readouterr()
    assert run(state, "list") == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    assert header.split() == [
        "CASE",
        "SUBJECT",
        "RECEIVED",
        "DUE",
        "DAYS",
        "LEFT",
        "STATE",
        "EXPORTS",
        "COMPLETE",
        "FAILED",
        "REMOVALS",
    ]
    assert "\x1b" not in out and "\\x1b[31m" in row
    assert row.split()[:2] == ["DSR-7", "Eve"] and "2027-01-01" in row and " open " in row


def test_removals_are_counted_when_the_journal_has_a_kind_column(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.wiring import ConnectionOptions, open_journal_only

    assert run(state, "open", "DSR-8") == 0
    only = open_journal_only(ConnectionOptions(demo=True, state_dir=str(state)))
    try:
        journal = only.journal
        for user in ("u1", "u2"):
            journal.record_intent(only.tenant_key or "", user, "loc", DEC_1, case="DSR-8")
        assert listed(state, capsys)[0]["exports"] == 2
        columns = {r[1] for r in journal._db.execute("PRAGMA table_info(operations)")}
        if "kind" not in columns:  # a journal from before removals (the column comes when it is opened now)
            journal._db.execute("ALTER TABLE operations ADD COLUMN kind TEXT NOT NULL DEFAULT 'export'")
        journal._db.execute("UPDATE operations SET kind='removal' WHERE user_id='u2'")
    finally:
        only.close()
    record = listed(state, capsys)[0]
    assert (record["exports"], record["removals"]) == (1, 1)
