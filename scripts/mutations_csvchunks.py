"""Mutations of the CSV report's chunks (issue 15): ``report --format csv`` makes and checks its plain rows
a thousand at a time; each line must be what the row-by-row path writes, byte for byte.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, broken form, tests).
"""

from __future__ import annotations

from typing import Any

CHUNKS = "tests/test_report_csv_chunks.py::"
AWKWARD = (CHUNKS + "test_chunks_of_plain_and_awkward_rows_are_written_as_row_by_row",)
ONE = (CHUNKS + "test_one_awkward_cell_in_a_chunk_leaves_its_row_to_the_row_by_row_path",)
DELIVERY = (CHUNKS + "test_a_delivery_read_by_one_match_is_the_parsed_one",)

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "csv chunk: a column with a quote is checked cell by cell",
        "console/report.py",
        "        joined.count('\"') == len(column)\n",
        "        True\n",
        AWKWARD,
    ),
    (
        "csv chunk: a column with a character to escape is checked cell by cell",
        "console/report.py",
        "        and joined.isprintable()\n",
        "",
        AWKWARD,
    ),
    (
        "csv chunk: a column with a comma is checked cell by cell",
        "console/report.py",
        '        and (comma or "," not in joined)\n',
        "",
        AWKWARD,
    ),
    (
        "csv chunk: a column with a formula is checked cell by cell",
        "console/report.py",
        "        and not _CELL_FORMULA.search(joined)\n",
        "",
        AWKWARD,
    ),
    (
        "csv chunk: a cell that fails leaves its row to the row-by-row path",
        "console/report.py",
        "    return (\n        type(cell) is str\n        and cell.isprintable()",
        "    return True or (\n        type(cell) is str\n        and cell.isprintable()",
        AWKWARD,
    ),
    (
        "csv chunk: the cells but the delivery's are checked before the delivery's alone",
        "console/report.py",
        "    if _column_plain(list(chain.from_iterable(others)), False):",
        "    if True:",
        AWKWARD,
    ),
    (
        "csv chunk: a row with notes goes the row-by-row way",
        "console/report.py",
        "if values[_STATE] != INTENT and not values[_NOTES]]",
        "if values[_STATE] != INTENT]",
        AWKWARD,
    ),
    (
        "csv chunk: the delivery's cell (with commas) is quoted",
        "console/report.py",
        """[f'"{cell}"' if type(cell) is str and "," in cell else cell for cell in delivery]""",
        "list(delivery)",
        AWKWARD,
    ),
    (
        "csv chunk: a tracking row without a status shows notStarted",
        "console/report.py",
        '[s or ("notStarted" if w == TRACKING else w) for s, w',
        "[s or w for s, w",
        AWKWARD,
    ),
    (
        "csv chunk: a column's times by one match only on days found real",
        "console/report.py",
        " and all(_DAYS.get(d) for d in {t[:10] for t in texts})",
        "",
        AWKWARD,
    ),
    (
        "csv chunk: a time holding a newline is not read as two times",
        "console/report.py",
        '    one_each = joined.count("\\n") == len(texts) - 1',
        "    one_each = True",
        AWKWARD,
    ),
    (
        "csv chunk: a written delivery by one match has no leading zero",
        "console/report.py",
        '"files": (0|[1-9][0-9]*), "bytes"',
        '"files": ([0-9]+), "bytes"',
        DELIVERY,
    ),
    (
        "csv chunk: a written delivery's bytes with thousands separators",
        "console/report.py",
        'return f"{files} files, {int(size):,} bytes, " + (',
        'return f"{files} files, {size} bytes, " + (',
        DELIVERY,
    ),
]
