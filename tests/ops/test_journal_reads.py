"""The journal's streamed reads (``ops`` and ``report`` on big journals): one query, the indexes the filters need."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from console.ops.events import FINAL, TRACKING, PollRecord
from console.ops.journal import SCHEMA_VERSION, OperationJournal, row_from_values
from console.report import iter_report_rows

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER = "22222222-3333-4444-5555-666666666666"
T0 = 1_796_112_000.0
INDEXES = {"operations_state", "operations_case", "operations_created", "operations_submitted"}


def fill(journal: OperationJournal) -> None:
    for n in range(12):
        row = journal.record_intent(
            TENANT if n % 3 else OTHER,
            f"user-{n}",
            f"https://a.blob.core.windows.net/c{n}",
            T0 + n,
            case=f"DSR-{n % 2}",
        )
        if n % 4:
            row.state, row.operation_id, row.location, row.status = TRACKING, f"op-{n}", f"https://g/op-{n}", "running"
            journal.save_now(row, PollRecord(T0 + n, 202, 5.0, f"post-{n}", "", None, None, ""))


def plan(db: sqlite3.Connection, where: str, params: tuple[object, ...]) -> str:
    return " ".join(str(r[-1]) for r in db.execute(f"EXPLAIN QUERY PLAN SELECT id FROM operations {where}", params))


def test_a_journal_without_the_read_indexes_gets_them_when_opened(tmp_path: Path) -> None:
    """An older console's journal (same schema 2, no such indexes) gets them; its schema version stays."""
    path = tmp_path / "journal.sqlite3"
    journal = OperationJournal(path)
    fill(journal)
    journal.close()
    db = sqlite3.connect(path, isolation_level=None)
    for name in INDEXES:
        db.execute(f"DROP INDEX {name}")
    db.close()
    journal = OperationJournal(path)
    assert journal.schema_version() == SCHEMA_VERSION == 2
    assert len(journal.rows()) == 12  # nothing lost on the way
    journal.close()
    db = sqlite3.connect(path)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert INDEXES <= names
    assert "operations_case" in plan(db, "WHERE case_ref = ? ORDER BY id", ("DSR-1",))
    assert "operations_state" in plan(db, "WHERE state IN (?, ?) ORDER BY id", ("intent", "unconfirmed"))
    assert "operations_created" in plan(db, "WHERE created_at >= ?", (T0 + 11,))
    db.close()


@pytest.mark.parametrize(
    "filters",
    [{}, {"tenant_key": TENANT}, {"case": "DSR-1"}, {"since": T0 + 5}, {"states": ["intent"], "tenant_key": OTHER}],
)
def test_streamed_rows_are_the_listed_rows(tmp_path: Path, filters: dict[str, object]) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    fill(journal)
    case, since = filters.pop("case", None), filters.pop("since", None)
    listed = [  # rows() filters by tenant and state; the case and the period are checked here
        row
        for row in journal.rows(**filters)  # type: ignore[arg-type]
        if (case is None or row.case == case) and (since is None or row.created_at >= since)  # type: ignore[operator]
    ]
    filters.update({"case": case, "since": since})
    streamed = [row_from_values(values) for values in journal.iter_values(**filters)]  # type: ignore[arg-type]
    assert listed and [r.key for r in streamed] == [r.key for r in listed]
    assert streamed == listed
    journal.close()


def test_the_report_falls_back_on_the_kept_polls_request_ids(tmp_path: Path) -> None:
    """Without the POST's or the final poll's request-id on the row, the first and the last final poll's."""
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    keys = []
    for n, final in enumerate((True, False)):
        row = journal.record_intent(TENANT, f"user-{n}", f"https://a.blob.core.windows.net/c{n}", T0 + n)
        row.state, row.operation_id, row.location = TRACKING, f"op-{n}", f"https://g/op-{n}"
        journal.save_now(row, PollRecord(T0 + 1, 202, 5.0, f"first-{n}", "", None, None, ""))
        journal.save_now(row, PollRecord(T0 + 2, 200, 5.0, f"running-{n}", "", "running", 50.0, ""))
        if final:
            row.state, row.status = FINAL, "complete"
            journal.save_now(row, PollRecord(T0 + 3, 200, 5.0, f"done-{n}", "", "complete", 100.0, ""))
            journal.save_now(row, PollRecord(T0 + 4, 200, 5.0, f"late-{n}", "", None, None, ""))
        keys.append(row.key)
    rows = list(iter_report_rows(journal, tenant_key=TENANT, now=T0 + 10))
    assert [(r["exportRequestId"], r["finalRequestId"]) for r in rows] == [("first-0", "done-0"), ("first-1", "")]
    journal.close()


def test_note_on_a_row_number_beyond_sqlites_integers_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    fill(journal)
    journal.close()
    code = main(["--state-dir", str(tmp_path), "note", "99999999999999999999999", "checked"])
    assert code == 2
    assert "no operation '99999999999999999999999' in the journal" in capsys.readouterr().err


@pytest.mark.parametrize("word", ["unconfirmed", "problem", "unfinished"])
def test_ops_status_lists_a_dead_processs_intent_as_unconfirmed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    """The query narrows ``--status`` by state; an intent row must stay a candidate (it reads as unconfirmed)."""
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    journal.record_intent(TENANT, "crashed-user", "https://a.blob.core.windows.net/c", T0, owner="dead-process")
    journal.close()
    assert main(["--state-dir", str(tmp_path), "ops", "--status", word, "--json"]) == 0
    out = capsys.readouterr().out
    assert '"userId": "crashed-user"' in out and '"state": "unconfirmed"' in out


def test_the_json_report_is_byte_for_byte_json_dumps_with_indent() -> None:
    """The streamed JSON writer (C encoder, nested values spliced in) writes what ``json.dumps(indent=2)`` does."""
    import io
    import json

    from console.report import FIELDS, write_json

    tricky: dict[str, Any] = {name: f'{name} \x1b[31m\u202e "q" \\ é ✓' for name in FIELDS}
    tricky["delivered"] = {"files": 3, "bytes": 1.5, "names": ["a\nb", "RequestInfo.json"], "requestInfo": True}
    tricky["notes"] = [{"at": "2026-12-01T10:00:00Z", "author": "ann", "text": "x"}, {"at": None, "text": ""}]
    empty: dict[str, Any] = {name: None for name in FIELDS} | {"notes": [], "delivered": {}}
    cases: list[list[dict[str, Any]]] = [[], [tricky], [empty, tricky, empty]]
    for rows in cases:
        out = io.StringIO()
        assert write_json(rows, out) == len(rows)
        assert out.getvalue() == json.dumps(rows, indent=2, allow_nan=False) + "\n"


def test_reading_the_journal_imports_neither_the_storage_slice_nor_asyncio() -> None:
    """``ops`` and ``report`` start fast: the journal, its stores and the listing never need httpx."""
    import subprocess
    import sys

    code = (
        "import sys; import console.ops.journal, console.ops.events, console.cli.journal_listing; "
        "print(sorted(m for m in ('httpx', 'console.storage.blob', 'console.ops.budget') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_listing_knows_the_one_storage_error_it_explains() -> None:
    from console.cli.journal_listing import _ALREADY_USED
    from console.storage.sas import STORAGE_LOCATION_ALREADY_USED

    assert _ALREADY_USED == STORAGE_LOCATION_ALREADY_USED


def test_the_journal_commands_import_neither_the_engine_httpx_nor_asyncio(tmp_path: Path) -> None:
    """``ops``, ``ops --json`` and ``report`` through the CLI entry load only the journal (issue 15 start-up)."""
    import subprocess
    import sys

    heavy = ("httpx", "asyncio", "console.ops.engine", "console.graph.client", "textual", "msal")
    for command in (["ops"], ["ops", "--json"], ["report", "--format", "csv"]):
        code = (
            "import sys; from console.cli import main; "
            f"rc = main(['--state-dir', {str(tmp_path)!r}, *{command!r}]); "
            f"print(rc, sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stderr.strip().splitlines()[-1] == "0 []", (command, done.stderr)
