"""``report --format csv`` checks its plain rows a chunk at a time (``console.report.plain_lines``, issue 15):
byte for byte what the row-by-row path writes, whatever mix of awkward rows a chunk holds.

The references: the rows as dicts written by ``write_csv`` (``_flat_cells`` and the writer, no chunk),
and the cell-by-cell writer of tests/ops/test_read_fast_paths.py.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import console.report as report
from console.ops.journal import OperationJournal
from console.ops.journal_model import lean_columns
from console.report import _REPORT_READ, iter_report_rows, plain_lines, write_csv
from tests.ops.test_read_fast_paths import DELIVERED as DELIVERIES
from tests.ops.test_read_fast_paths import build, cell_by_cell, reference_rows

TENANT = "11111111-2222-3333-4444-555555555555"
DELIVERED = json.dumps(
    {"checked_at": 1_796_000_700.5, "files": 3, "bytes": 1234567, "names": ["a.zip"], "request_info": True, "error": ""}
)
PLANTS: list[tuple[str, Any]] = [
    ("display_name", 'say "hi"'),
    ("display_name", "Smith, Ann"),
    ("display_name", "=1+1"),
    ("user_principal_name", "-2"),
    ("user_principal_name", "@SUM(A1)"),
    ("home_tenant_id", "+cmd"),
    ("home_tenant_id", "tab\there"),
    ("case_ref", "line\r\nbreak"),
    ("case_ref", "é ✓ 😀"),
    ("case_ref", "nul\x00byte"),
    ("submitted_by", "\x1b[2J"),
    ("submitted_by", b"blob"),
    ("storage_location", "https://a.blob.core.windows.net/c?x=1,2"),
    ("kind", "=removal"),
    ("status", "-failed"),
    ("status", ""),
    ("operation_id", None),
    ("operation_id", "op,1"),
    ("post_request_id", '"quoted"'),
    ("final_request_id", "=fin"),
    ("submitted_at", "2026-02-30T00:00:00Z"),
    ("submitted_at", "2026-12-01T10:00:00+02:00"),
    ("submitted_at", "2026-12-01T24:00:00Z"),
    ("submitted_at", b"2026-12-01T10:00:00Z"),
    ("completed_at", "2026-12-01T10:00:00.5Z"),
    ("completed_at", ""),
    ("completed_at", "yesterday"),
    ("completed_at", "2026-12-01T10:00:00Z\n2026-12-01T10:00:00Z"),
    ("delivered", "{"),
    ("delivered", json.dumps({"files": 1})),
    ("delivered", DELIVERED.replace('"error": ""', '"error": "=gone, badly"')),
    ("delivered", DELIVERED.replace('"files": 3', '"files": -3')),
    ("delivered", DELIVERED.replace('"names": ["a.zip"]', '"names": [1, null]')),
    ("state", "intent"),
    ("state", "error"),
    ("state", "tracking"),
    ("state, status", ("tracking", None)),
    ("state, status", ("error", None)),
    ("state, status", ("stopped", "")),
]
"""One awkward value in one column (or values in columns) of one row: the row must be written as the
row-by-row path writes it."""


def journal_of(tmp_path: Path, plants: list[tuple[str, Any]], plain: int = 3) -> Path:
    """A journal of final rows with a delivery, each planted row between ``plain`` plain ones."""
    path = tmp_path / "journal.sqlite3"
    journal = OperationJournal(path)
    now = time.time()
    count = (len(plants) + 1) * (plain + 1)
    for n in range(count):
        row = journal.record_intent(
            TENANT,
            f"user-{n}",
            f"https://a.blob.core.windows.net/c{n}?sv=1&sig=SECRET",
            now,
            case="DSR-1",
            display_name=f"User {n}",
            user_principal_name=f"user{n}@contoso.com",
            home_tenant_id=TENANT,
            submitted_by="admin@contoso.com",
        )
        row.state, row.operation_id, row.status = "final", f"op-{n}", "complete"
        row.submitted_at, row.completed_at = "2026-12-01T10:00:00.1234567Z", "2026-12-01T10:10:00Z"
        journal.save_now(row, None, now)
        if n % 11 == 5:
            journal.add_note(row.key, "a note, with a comma", "dpo@contoso.com", now)
    journal.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE operations SET delivered = ? WHERE id % 2 = 0", (DELIVERED,))
    for i, (columns, value) in enumerate(plants):
        names = columns.split(", ")
        values = value if len(names) > 1 else (value,)
        assignments = ", ".join(f"{name} = ?" for name in names)
        db.execute(f"UPDATE operations SET {assignments} WHERE id = ?", (*values, (i + 1) * (plain + 1)))  # noqa: S608
    db.close()
    return path


def chunked(path: Path) -> str:
    journal = OperationJournal(path)
    out = io.StringIO()
    write_csv(iter_report_rows(journal, now=time.time()), out)
    journal.close()
    return out.getvalue()


def row_by_row(path: Path) -> str:
    """``write_csv`` of the rows as dicts: ``_flat_cells`` and the writer's rule per row, no chunk."""
    journal = OperationJournal(path)
    out = io.StringIO()
    write_csv(list(iter_report_rows(journal, now=time.time())), out)
    journal.close()
    return out.getvalue()


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_chunks_of_plain_and_awkward_rows_are_written_as_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    path = journal_of(tmp_path, PLANTS)
    monkeypatch.setattr(report, "_CHUNK", chunk)
    printed = chunked(path)
    assert printed == row_by_row(path)
    assert printed.count("\r\n") > len(PLANTS) * 4  # every row, the header
    assert '"3 files, 1,234,567 bytes, RequestInfo.json present"' in printed


@pytest.mark.parametrize(("column", "value"), PLANTS)
def test_one_awkward_cell_in_a_chunk_leaves_its_row_to_the_row_by_row_path(
    tmp_path: Path, column: str, value: Any
) -> None:
    """A chunk whose one cell fails its column's check: that row only is left to the other path, the
    plain rows around it still come out as lines."""
    path = journal_of(tmp_path, [(column, value)], plain=4)
    assert chunked(path) == row_by_row(path)
    journal = OperationJournal(path)
    query = f"SELECT {lean_columns(_REPORT_READ)}, '', '' FROM operations ORDER BY id"
    values = journal.connection.fetch(query)
    journal.close()
    lines = plain_lines(values)
    assert lines[0] is not None and lines[0].endswith("\r\n")
    assert sum(line is None for line in lines) <= 1 + sum(1 for v in values if v[_REPORT_READ.index("notes")])


def test_the_hostile_journal_is_written_as_cell_by_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hostile text, time and delivery of tests/ops/test_read_fast_paths.py, in chunks of five."""
    build(tmp_path)
    monkeypatch.setattr(report, "_CHUNK", 5)
    assert chunked(tmp_path / "journal.sqlite3") == cell_by_cell(reference_rows(tmp_path), "csv")


def test_only_the_chosen_rows_and_tenants_are_written(tmp_path: Path) -> None:
    path = journal_of(tmp_path, [("tenant_key", "other-tenant"), ("display_name", "Smith, Ann")])
    journal = OperationJournal(path)
    keys = [1, 3, 4, 8, 9]
    for kwargs in ({"keys": keys}, {"tenants": [TENANT]}, {"names": {TENANT: "Contoso, Ltd"}}, {"case": "DSR-1"}):
        rows = iter_report_rows(journal, now=time.time(), **kwargs)
        out = io.StringIO()
        write_csv(rows, out)
        expected = io.StringIO()
        write_csv(list(iter_report_rows(journal, now=time.time(), **kwargs)), expected)
        assert out.getvalue() == expected.getvalue(), kwargs
    journal.close()


def test_a_delivery_read_by_one_match_is_the_parsed_one() -> None:
    """``_delivery_text`` (a written delivery by one regular expression) says what ``_delivered_cell``
    says of every delivery text, written or not."""
    written = json.loads(DELIVERED)
    texts: list[str | bytes] = [DELIVERED, *(text for text in DELIVERIES if text)]
    changes: dict[str, list[Any]] = {
        "checked_at": [1796000700, 1.5e300, -0.5, float("inf"), float("nan"), "x", True, None],
        "files": [0, 7, -1, 10**30, 3.0, True, "3", None],
        "bytes": [0, 999, 1000, 10**12, -1000, 2.5, False],
        "names": [[], ["a.zip", "b.zip"], ["é"], ['a"b'], ["a\\b"], ["\x1b"], [1], "a.zip", None],
        "request_info": [True, False, 1, 0, "true", None],
        "error": ["", "gone", "sig=SECRET", None],
    }
    for key, values in changes.items():
        for value in values:
            texts.append(json.dumps({**written, key: value}))
    texts += [DELIVERED.replace('"files": 3', '"files": 03'), DELIVERED.replace("1796000700.5", "1796000700.5E2")]
    texts += [DELIVERED.replace(", ", ","), DELIVERED + " ", " " + DELIVERED, DELIVERED.replace("}", ', "x": 1}')]
    texts += [DELIVERED.replace('"files": 3', '"files": 3, "files": 4'), DELIVERED.encode(), "{}", "[]", "null"]
    for text in texts:
        assert report._delivery_text(text) == report._delivered_cell(text), text
