"""Would SQLite building ``ops``' lines beat the Python path? The statements alone, timed (issue 15).

Issue 15's idea: let SQLite's C code build the table's and the JSON lines of the common rows (printf
``%-!*s``, ``json_quote``), with Python only for the rows SQL cannot write exactly. Before building it,
this times the statements such a path needs, fetched and thrown away (no Python per row at all): its
floor. Beside them, the commands as they are (``python -m console ops`` / ``ops --json``, whole process).

- ``table: widths + lines``: the exactness checks (not an intent, printable ASCII by ``GLOB``, Graph's
  time form on a real day, integral progress, no ``StorageLocationAlreadyUsed``), the cells
  (``_Cells._tuple_cells`` in SQL) and their widths, then each line by ``printf`` with those widths:
  two passes over the journal, as the widths must be known before the first line. ``GLOB left out``:
  the same without the printable-ASCII check (left to a bulk check in Python), its cheapest form.
- ``table: lines only, no checks``: one pass, the cells and ``printf`` alone, widths given (not exact:
  the floor of any SQL table path).
- ``json: lines, no checks``: ``json_quote`` and ``printf`` of every field, nothing checked (not exact:
  the floor of any SQL JSON path).
- ``json: lines + checks``: the same with the checks a row needs before SQL may write it (printable text
  left to a bulk check in Python), the delivery left out (Python would write it: ~40% of the rows).

Usage: ``python benchmarks/ops_sql_probe.py --state-dir DIR`` on a journal ``journal_100k.py --keep DIR``
built. Each figure is the median of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import median  # noqa: E402

PRINTABLE = "NOT GLOB '*[^ -~]*'"
TEXTS = ("case_ref", "display_name", "user_principal_name", "status", "operation_id", "last_error")
STATUS = "coalesce(nullif(status, ''), CASE state WHEN 'tracking' THEN 'notStarted' ELSE state END)"


def stamp_sure(c: str) -> str:
    """NULL, or a time in Graph's form on a real day (``report._stamp``)."""
    return (
        f"({c} IS NULL OR ({c} GLOB '[1-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]*Z' "
        f"AND substr({c}, 12, 2) <= '23' AND (length({c}) = 20 OR (substr({c}, 20, 1) = '.' "
        f"AND trim(substr({c}, 21, length({c}) - 21), '0123456789') = '')) "
        f"AND (substr({c}, 6, 2) BETWEEN '01' AND '12' AND substr({c}, 9, 2) BETWEEN '01' AND '28' "
        f"OR date(substr({c}, 1, 10), '+0 days') = substr({c}, 1, 10))))"
    )


def sure(*, printable: bool) -> str:
    """A row SQL may write (1 or 0)."""
    typed = " AND ".join(f"typeof({c}) IN ('text', 'null')" for c in (*TEXTS, "storage_location", "kind"))
    joined = " || ".join(f"coalesce({c}, '')" for c in ("state", "user_id", *TEXTS))
    return (
        f"CASE WHEN state != 'intent' AND typeof(state) = 'text' AND typeof(user_id) = 'text' AND {typed} "
        + (f"AND ({joined}) {PRINTABLE} " if printable else "")
        + "AND instr(coalesce(last_error, ''), 'StorageLocationAlreadyUsed') = 0 "
        "AND (progress IS NULL OR (abs(progress) < 1e15 AND progress = CAST(progress AS INTEGER))) "
        f"AND {stamp_sure('submitted_at')} AND {stamp_sure('completed_at')} THEN 1 ELSE 0 END"
    )


def cut(cell: str) -> str:
    return f"(CASE WHEN length({cell}) > 60 THEN substr({cell}, 1, 59) || '…' ELSE {cell} END)"


def when(c: str) -> str:
    return f"(CASE WHEN {c} IS NULL THEN '-' ELSE substr({c}, 1, 10) || ' ' || substr({c}, 12, 8) END)"


CELLS = (
    cut("coalesce(nullif(case_ref, ''), '-')"),
    cut("coalesce(nullif(display_name, ''), nullif(user_principal_name, ''), '-')"),
    cut("user_id"),
    cut(
        f"(CASE WHEN state IN ('error', 'rejected', 'resolved', 'stopped', 'unconfirmed') THEN state ELSE {STATUS} END)"
    ),
    "(CASE WHEN progress IS NULL THEN '-' ELSE CAST(CAST(progress AS INTEGER) AS TEXT) || '%' END)",
    when("submitted_at"),
    when("completed_at"),
    cut("coalesce(nullif(operation_id, ''), '(row ' || id || ')')"),
    cut("coalesce(last_error, '')"),
)


def table(db: sqlite3.Connection, *, printable: bool) -> None:
    """The widths pass, then the lines pass (each line by printf, its widths from the first pass)."""
    named = ", ".join(f"{cell} AS c{i}" for i, cell in enumerate(CELLS))
    rows = f"SELECT id, {sure(printable=printable)} AS s, {named} FROM operations"
    widths = db.execute(
        f"SELECT {', '.join(f'max(length(c{i}))' for i in range(len(CELLS)))} FROM ({rows}) WHERE s"
    ).fetchone()
    args = ", ".join(f"{max(8, w or 0)}, c{i}" for i, w in enumerate(widths))
    fmt = "%-!*s  " * len(CELLS)
    drain(db, f"SELECT CASE WHEN s THEN rtrim(printf('{fmt}', {args})) || char(10) END FROM ({rows}) ORDER BY id")


def table_lines_only(db: sqlite3.Connection) -> None:
    """One pass, nothing checked, widths given (not exact): the floor of any SQL table path."""
    args = ", ".join(f"20, {cell}" for cell in CELLS)
    drain(db, f"SELECT rtrim(printf('{'%-!*s  ' * len(CELLS)}', {args})) || char(10) FROM operations ORDER BY id")


def quoted(c: str) -> str:
    return f"(CASE WHEN {c} IS NULL THEN 'null' ELSE json_quote({c}) END)"


def iso(c: str) -> str:
    six = f"substr((CASE WHEN length({c}) = 20 THEN '' ELSE substr({c}, 21, length({c}) - 21) END) || '000000', 1, 6)"
    return (
        f"(CASE WHEN {c} IS NULL THEN 'null' ELSE '\"' || substr({c}, 1, 19) || "
        f"(CASE WHEN {six} = '000000' THEN 'Z\"' ELSE '.' || {six} || 'Z\"' END) END)"
    )


JSON_FIELDS = (
    ("operationId", quoted("operation_id")),
    ("userId", quoted("user_id")),
    ("status", f"json_quote({STATUS})"),
    ("progress", "(CASE WHEN progress IS NULL THEN 'null' ELSE CAST(CAST(progress AS INTEGER) AS TEXT) || '.0' END)"),
    ("submittedDateTime", iso("submitted_at")),
    ("completedDateTime", iso("completed_at")),
    ("storageLocation", quoted("storage_location")),
    ("state", "json_quote(state)"),
    ("error", "(CASE WHEN last_error = '' THEN 'null' ELSE json_quote(last_error) END)"),
    ("key", "id"),
    ("case", quoted("case_ref")),
    ("delivered", "(CASE WHEN delivered IS NULL OR delivered = '' THEN 'null' ELSE char(0) END)"),
    ("displayName", quoted("display_name")),
    ("userPrincipalName", quoted("user_principal_name")),
    ("kind", quoted("kind")),
    ("tenant", "json_quote(tenant_key)"),
)
JSON_LINE = (
    "printf('{"
    + ", ".join(f'"{name}": %s' for name, _ in JSON_FIELDS)
    + "}\n', "
    + ", ".join(value for _, value in JSON_FIELDS)
    + ")"
)


def json_lines(db: sqlite3.Connection, *, checked: bool) -> None:
    if checked:
        drain(db, f"SELECT CASE WHEN {sure(printable=False)} THEN {JSON_LINE} END, id FROM operations ORDER BY id")
    else:
        drain(db, f"SELECT {JSON_LINE} FROM operations ORDER BY id")


def drain(db: sqlite3.Connection, query: str) -> None:
    cursor = db.execute(query)
    while cursor.fetchmany(1000):
        pass


def timed(work: Callable[[], object], runs: int) -> float:
    walls = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        walls.append(time.perf_counter() - began)
    return median(walls)


def command(state_dir: str, *argv: str) -> Callable[[], object]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    argv_all = [sys.executable, "-m", "console", "--state-dir", state_dir, *argv]
    return lambda: subprocess.run(argv_all, stdout=subprocess.DEVNULL, check=True, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.state_dir) / "journal.sqlite3"
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    print(f"SQLite {sqlite3.sqlite_version}, median of {args.runs}")
    figures = [
        ("ops (whole process, as it is)", timed(command(args.state_dir, "ops"), args.runs)),
        ("table: widths + lines (statements only)", timed(lambda: table(db, printable=True), args.runs)),
        ("table: widths + lines, GLOB left out", timed(lambda: table(db, printable=False), args.runs)),
        ("table: lines only, no checks (statement only)", timed(lambda: table_lines_only(db), args.runs)),
        ("ops --json (whole process, as it is)", timed(command(args.state_dir, "ops", "--json"), args.runs)),
        ("json: lines, no checks (statement only)", timed(lambda: json_lines(db, checked=False), args.runs)),
        ("json: lines + checks (statement only)", timed(lambda: json_lines(db, checked=True), args.runs)),
    ]
    for name, wall in figures:
        print(f"{name:<48} {wall:6.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
