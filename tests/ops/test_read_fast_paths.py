"""``ops``, ``ops --json`` and ``report`` print most rows straight from the query's tuples (issue 15):
byte for byte what the per-row view path prints, on a journal of hostile text.

The reference is the slow path kept in the code: ``print_operations`` of each row's ``view_of``,
``view_json``, and the report's ``row_for`` with the row's own history and notes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from console.cli.output import json_text
from console.cli.views import print_operations, view_json
from console.graph.models import parse_datetime
from console.ops.events import PollRecord, _iso
from console.ops.journal import OperationJournal
from console.ops.vocabulary import matches_status, parse_status_word
from console.report import (
    FIELDS,
    _csv_cell,
    _flat,
    _md_cell,
    _notes,
    iso_of,
    iter_report_rows,
    render_report,
    row_for,
    utc_of,
    utc_seconds,
    view_of,
)
from console.report import _when as report_when
from tests.helpers import rows_where
from tests.hostile import ESCAPES, MARKUP

TENANT = "11111111-2222-3333-4444-555555555555"
EVIL = "".join(ESCAPES.values())
TEXTS = [
    "",
    "plain",
    "-",
    EVIL,
    *ESCAPES.values(),
    *MARKUP.values(),
    "=1+1",
    "+cmd",
    "@SUM(A1)",
    "-2",
    " lead",
    "a|b<c>\\d",
    "line\r\nbreak\nand\rmore",
    'comma, "quote"',
    "a, b,=c",
    "é ✓ 😀 漢字",
    "x" * 70,
    "y" * 59 + "é" * 5,
    "https://a.blob.core.windows.net/c?sv=1&sig=***",
    "Bearer ***",
    "\u2028sep\u2029\ufeff\x7f\x00",
    "StorageLocationAlreadyUsed: the location was used",
]
"""Every kind of text a tenant or Graph can plant, and the cells the writers treat specially."""

STAMPS = [
    None,
    "",
    "2026-12-01T10:00:00Z",
    "2026-12-01T10:00:00.1234567Z",
    "2026-12-01T10:00:00.0000000Z",
    "2026-12-01T10:00:00.5Z",
    "2026-12-01T10:00:00.Z",
    "2026-12-01T10:00:00.000001Z",
    "2026-02-30T00:00:00Z",
    "2026-12-01T24:00:00Z",
    "2026-12-01T23:59:60Z",
    "2026-12-01T23:60:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2024-02-29T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-12-01T20:00:00Z",
    "0999-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z",
    "2026-12-01T10:00:00+02:00",
    "2026-12-01T10:00:00",
    " 2026-12-01T10:00:00Z ",
    "2026-12-01t10:00:00z",
    "2026-12-01T10:00:00.\u0661\u0662Z",
    "\uff12026-12-01T10:00:00Z",
    "2026-12-01T10:00:00.12Z\x1b[2J",
    "yesterday",
]
"""Journal times as Graph writes them, and every other form a journal may hold."""

STATES = ["intent", "intent-live", "tracking", "final", "error", "rejected", "unconfirmed", "resolved", "stopped"]
STATUSES = [None, "", "notStarted", "running", "complete", "failed", "someNewStatus", f"new{EVIL}"]
PROGRESS = [None, 50.0, 100.0, float("nan"), float("inf"), 0.4]
DELIVERED = [
    None,
    "",
    "{",
    ' {"files": 1, "bytes": 2} ',
    json.dumps({"checked_at": 1_796_000_700.5, "files": 3, "bytes": 1234567, "names": ["a.zip", "RequestInfo.json"]}),
    json.dumps({"checked_at": 1_796_000_700, "files": 0, "bytes": 0, "request_info": True, "error": f"gone {EVIL}"}),
    json.dumps({"files": "x"}),
    json.dumps({"names": [f"n{EVIL}", "b.zip?sig=***"], "request_info": 1}),
    *(
        json.dumps(
            {"checked_at": at, "files": 3, "bytes": 10**12, "names": names, "request_info": info, "error": error}
        )
        for at, names, info, error in [
            (1_796_000_700.25, ["a.zip", "RequestInfo.json"], True, ""),
            (1_796_000_700.9999996, [f"n{EVIL}", "b.zip?sv=1&sig=RAWSECRET"], False, f"gone {EVIL} sig=RAW"),
            (1_796_000_700, ["a.zip"], True, ""),
            (1_796_000_700.5, [], False, "=cmd, listed"),
        ]
    ),
]


def pick_for(n: int) -> Callable[[list[Any], int], Any]:
    """Row ``n``'s pick of a list of values (a different stride for each column: many mixes); every
    third row's text is all printable (the rows the writers print without escaping anything)."""

    def pick(values: list[Any], step: int) -> Any:
        if n % 3 == 0:
            values = [v for v in values if not isinstance(v, str) or v.isprintable()]
        return values[(n * step + n // len(values)) % len(values)]

    return pick


def build(state: Path, count: int = 160) -> None:
    """A journal whose rows cycle through every hostile value, column by column (primes: many mixes)."""
    journal = OperationJournal(state / "journal.sqlite3")
    now = time.time()
    journal.register_process("live-process", now)
    for n in range(count):
        pick = pick_for(n)
        state_word = pick(STATES, 1)
        owner = "live-process" if state_word == "intent-live" else "dead-process"
        text = pick(TEXTS, 3)
        row = journal.record_intent(
            TENANT if n % 7 or n % 3 == 0 else f"tenant{EVIL}",
            f"user-{n}-{pick(TEXTS, 5)}",
            f"https://acct.blob.core.windows.net/c{n}{text}?sv=2024&sig=PLANTED&x={text}",
            now - 1000 + n,
            owner=owner,
            case=pick(["", "DSR-1", "-", f"DSR-{EVIL}", "=cmd"], 1),
            display_name=pick(TEXTS, 7),
            user_principal_name=pick(TEXTS, 11),
            home_tenant_id=pick(TEXTS, 13),
            submitted_by=pick(TEXTS, 17),
        )
        if n % 4:
            journal.save_now(row, PollRecord(now, 202, 5.0, f"first-{n}{pick(TEXTS, 19)}", "", None, None, ""))
            journal.save_now(row, PollRecord(now, 200, 5.0, f"final-{n}", "", pick(STATUSES, 3), 100.0, ""))
        if n % 5 == 0:
            journal.add_note(row.key, f"note {pick(TEXTS, 23)}", f"dpo{pick(TEXTS, 29)}", now + n)
        if n % 10 == 0:
            journal.add_note(row.key, "second note", "ann", now + n + 1)
    journal.close()
    db = sqlite3.connect(state / "journal.sqlite3", isolation_level=None)
    for n in range(count):
        pick = pick_for(n)
        state_word = pick(STATES, 1)
        db.execute(
            "UPDATE operations SET state=?, status=?, progress=?, submitted_at=?, completed_at=?, "
            "last_error=?, operation_id=?, post_request_id=?, final_request_id=?, delivered=? WHERE id=?",
            (
                "intent" if state_word == "intent-live" else state_word,
                None if state_word.startswith("intent") else pick(STATUSES, 5),
                pick(PROGRESS, 7),
                pick(STAMPS, 3),
                pick(STAMPS, 11),
                pick(TEXTS, 31) if n % 3 else "",
                None if n % 9 == 0 else f"op-{n}{pick(TEXTS, 37)}",
                "" if n % 2 else f"post-{n}",
                "" if n % 3 else f"fin-{n}",
                pick(DELIVERED, 13),
                n + 1,
            ),
        )
    db.close()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile")
    build(path)
    return path


def cli(state: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["--state-dir", str(state), *argv]) == 0
    return capsys.readouterr().out


def reference_views(state: Path, word: str | None = None, case: str | None = None) -> list[Any]:
    journal = OperationJournal(state / "journal.sqlite3")
    now = time.time()
    views = [view_of(journal, row, now) for row in rows_where(journal, case=case)]
    journal.close()
    if word is not None:
        views = [v for v in views if matches_status(v, parse_status_word(word))]
    return views


@pytest.mark.parametrize("argv", [(), ("--status", "problem"), ("--status", "running"), ("--case", "DSR-1")])
def test_ops_prints_the_views_table_byte_for_byte(
    state: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    views = reference_views(
        state, argv[1] if argv[:1] == ("--status",) else None, argv[1] if argv[:1] == ("--case",) else None
    )
    assert views
    expected = io.StringIO()
    print_operations(views, stream=expected)
    assert cli(state, capsys, "ops", *argv) == expected.getvalue()


@pytest.mark.parametrize("argv", [(), ("--status", "unconfirmed")])
def test_ops_json_prints_view_json_byte_for_byte(
    state: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    views = reference_views(state, argv[1] if argv else None)
    assert views
    assert cli(state, capsys, "ops", "--json", *argv) == "".join(json_text(view_json(v)) + "\n" for v in views)


def reference_rows(state: Path) -> list[dict[str, Any]]:
    journal = OperationJournal(state / "journal.sqlite3")
    now = time.time()
    rows = [
        row_for(view_of(journal, row, now), journal.history(row.key), _notes(journal, row.key))
        for row in journal.rows()
    ]
    journal.close()
    return rows


def test_the_report_rows_are_the_views_rows(state: Path) -> None:
    journal = OperationJournal(state / "journal.sqlite3")
    assert list(iter_report_rows(journal)) == reference_rows(state)
    journal.close()


def cell_by_cell(rows: list[dict[str, Any]], fmt: str) -> str:
    """The report's CSV or Markdown table written one cell at a time, each through the writers' own cell
    rule (``_csv_cell``, ``_md_cell``): what the writers' whole-row shortcuts must equal."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow([_csv_cell(_flat(row, name)) for name in FIELDS])
        return out.getvalue()
    return "".join("| " + " | ".join(_md_cell(_flat(row, name)) for name in FIELDS) + " |\n" for row in rows)


@pytest.mark.parametrize("fmt", ["csv", "md", "json"])
def test_the_report_prints_the_views_rows_byte_for_byte(
    state: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    rows = reference_rows(state)
    printed = cli(state, capsys, "report", "--format", fmt)
    if fmt == "csv":
        assert printed == cell_by_cell(rows, fmt)
        return
    if fmt == "json":
        assert printed == json.dumps(rows, indent=2, allow_nan=False) + "\n"
        return
    head, table = printed.split("|---|", 1)
    assert table.split("\n", 1)[1] == cell_by_cell(rows, fmt)
    expected = render_report(rows, "md", generated_at=0.0)
    assert re.sub(r"Generated \S+ ", "Generated 1970-01-01T00:00:00Z ", head, count=1) == expected.split("|---|")[0]


def test_journal_times_read_without_a_datetime_are_the_parsed_times() -> None:
    for raw in STAMPS:
        assert iso_of(raw) == _iso(parse_datetime(raw)), raw
        assert utc_of(raw) == report_when(parse_datetime(raw)), raw


def test_ops_of_printable_rows_cuts_a_long_cell_as_the_views_table_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chunk of rows whose text is all printable skips the escaping, never the cut to 60 columns."""
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    now = time.time()
    for n, name in enumerate(["Ann", "x" * 70, "y" * 60, ""]):
        row = journal.record_intent(TENANT, f"user-{n}", "https://a.blob.core.windows.net/c", now, display_name=name)
        row.state, row.operation_id, row.status = "final", f"op-{n}", "failed"
        row.last_error = "the export failed: " + "z" * 80 if n == 2 else ""
        journal.save_now(row, None, now)
    journal.close()
    views = reference_views(tmp_path)
    expected = io.StringIO()
    print_operations(views, stream=expected)
    printed = cli(tmp_path, capsys, "ops")
    assert printed == expected.getvalue()
    assert "x" * 59 + "…" in printed and "x" * 60 not in printed


@pytest.mark.parametrize("planted", ["=1+1", "@SUM(A1)", "a, b", 'say "hi"', "-2"])
def test_a_csv_report_of_printable_rows_still_guards_each_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planted: str
) -> None:
    """Rows whose text is all printable are written as joined cells only when no cell is formula-like,
    quoted or holds a comma: a row with one such cell is written as the writer would."""
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    now = time.time()
    for n, name in enumerate(["Ann", planted, "Bob"]):
        journal.record_intent(TENANT, f"user-{n}", "https://a.blob.core.windows.net/c", now, display_name=name)
        journal.record_intent(TENANT, f"other-{n}", "https://a.blob.core.windows.net/d", now, submitted_by=name)
    journal.close()
    printed = cli(tmp_path, capsys, "report", "--format", "csv")
    assert printed == cell_by_cell(reference_rows(tmp_path), "csv")


def test_a_delivery_check_time_by_arithmetic_is_the_datetime_one() -> None:
    """``utc_seconds`` (the delivery's ``checkedAt`` without a datetime) is ``datetime``'s text for every
    moment, a fraction that rounds up to the next second and the ends of its range included."""
    moments = [0.0, 0.5, 59.999, 86399.9989, 86399.9999996, 1_796_000_700.9999996, 1_796_000_700.25]
    moments += [253402300798.5, 253402300798.9999, -1.5, 951_782_400.0, 4_107_542_399.5]  # 2000-02-29, 2100-02-28
    moments += [n * 7_777_777.123 for n in range(1, 400)]
    for moment in moments:
        assert utc_seconds(moment) == datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), moment


def test_cells_that_are_no_text_print_as_the_views_print_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blob where the journal keeps text (written by another tool) takes the per-row way in ``ops --json``
    and the CSV report, never a line made from text it is not."""
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    now = time.time()
    for n in range(3):
        row = journal.record_intent(TENANT, f"user-{n}", "https://a.blob.core.windows.net/c", now, display_name="Ann")
        row.state, row.operation_id, row.status = "final", f"op-{n}", "complete"
        journal.save_now(row, None, now)
    journal.close()
    db = sqlite3.connect(tmp_path / "journal.sqlite3", isolation_level=None)
    db.execute("UPDATE operations SET display_name = ? WHERE id = 2", (b"Bob",))
    db.execute("UPDATE operations SET submitted_by = ?, case_ref = ? WHERE id = 3", (b"x", b"DSR-1"))
    db.close()
    views = reference_views(tmp_path)
    assert cli(tmp_path, capsys, "ops", "--json") == "".join(json_text(view_json(v)) + "\n" for v in views)
    assert cli(tmp_path, capsys, "report", "--format", "csv") == cell_by_cell(reference_rows(tmp_path), "csv")


@pytest.mark.parametrize("planted", ["Ann", "Smith, Ann", 'say "hi"', "-2", "tab\there"])
def test_a_csv_report_of_plain_rows_with_deliveries_is_the_writers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planted: str
) -> None:
    """Plain final rows with a delivery (its cell holds commas: quoted) are written as the CSV writer writes
    them, and so is a row with one cell the writer quotes, defuses or escapes among them."""
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    now = time.time()
    for n, name in enumerate(["Ann", planted, "Bob"]):
        row = journal.record_intent(TENANT, f"user-{n}", "https://a.blob.core.windows.net/c", now, display_name=name)
        row.state, row.operation_id, row.status = "final", f"op-{n}", "complete"
        row.submitted_at, row.completed_at = "2026-12-01T10:00:00.1234567Z", "2026-12-01T10:10:00Z"
        journal.save_now(row, None, now)
    journal.close()
    delivered = json.dumps(
        {
            "checked_at": 1_796_000_700.5,
            "files": 3,
            "bytes": 1234567,
            "names": ["a.zip"],
            "request_info": True,
            "error": "",
        }
    )
    db = sqlite3.connect(tmp_path / "journal.sqlite3", isolation_level=None)
    db.execute("UPDATE operations SET delivered = ? WHERE id != 2", (delivered,))
    db.close()
    printed = cli(tmp_path, capsys, "report", "--format", "csv")
    assert printed == cell_by_cell(reference_rows(tmp_path), "csv")
    assert '"3 files, 1,234,567 bytes, RequestInfo.json present"' in printed
