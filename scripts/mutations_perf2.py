"""Mutations of the second performance pass (issue 15): ``ops`` and ``report`` print most rows from the
query's tuples; each shortcut must print what the view path prints, byte for byte.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, broken form, tests).
"""

from __future__ import annotations

from typing import Any

FAST = "tests/ops/test_read_fast_paths.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "ops from tuples: a journal state that says more is the status",
        "console/cli/journal_listing.py",
        "            state if state in self._state_words else status or _NOT_YET.get(state, state),",
        "            status or _NOT_YET.get(state, state),",
        (FAST + "test_ops_prints_the_views_table_byte_for_byte",),
    ),
    (
        "ops from tuples: a long cell is cut",
        "console/cli/journal_listing.py",
        "        if max(map(len, column)) > CELL_WIDTH:",
        "        if False:",
        (
            FAST + "test_ops_prints_the_views_table_byte_for_byte",
            FAST + "test_ops_of_printable_rows_cuts_a_long_cell_as_the_views_table_does",
        ),
    ),
    (
        "ops from tuples: unsafe text is escaped",
        "console/cli/journal_listing.py",
        '        printable = "".join(map("".join, chunk)).isprintable()',
        "        printable = True",
        (FAST + "test_ops_prints_the_views_table_byte_for_byte",),
    ),
    (
        "ops --json from tuples: Graph's storage error explained",
        "console/cli/journal_listing.py",
        '        "error": _explain(str(error)) if error else None,',
        '        "error": str(error) if error else None,',
        (FAST + "test_ops_json_prints_view_json_byte_for_byte",),
    ),
    (
        "csv fast path: a formula cell still gets its quote",
        "console/report.py",
        '        elif _written_as_joined(line := ",".join(cells)):',
        '        elif \'"\' not in (line := ",".join(cells)) and line.isprintable():',
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
    (
        "a time read without a datetime is a real moment",
        "console/report.py",
        "            real = datetime.fromisoformat(day).date().isoformat() == day",
        "            real = True",
        (FAST + "test_journal_times_read_without_a_datetime_are_the_parsed_times",),
    ),
    (
        "a time read without a datetime keeps six fraction digits",
        "console/report.py",
        '    fraction = (found[2] or "")[:6].ljust(6, "0")',
        '    fraction = (found[2] or "")[:6]',
        (FAST + "test_journal_times_read_without_a_datetime_are_the_parsed_times",),
    ),
    (
        "a delivery read without a Delivery: names still redacted",
        "console/report.py",
        "        done = redact(text)",
        "        done = text",
        (FAST + "test_the_report_rows_are_the_views_rows",),
    ),
    (
        "csv fast path: a cell with a comma is quoted",
        "console/report.py",
        """                line = ",".join([f'"{t}"' if "," in t else t for t in cells])""",
        """                line = ",".join(cells)""",
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
]
MUTATIONS += [
    (
        "a lean read still reads an intent row whole",
        "console/cli/journal_listing.py",
        '    "owner",\n    "case_ref",',
        '    "case_ref",',
        (FAST + "test_ops_prints_the_views_table_byte_for_byte",),
    ),
]
MUTATIONS += [
    (
        "markdown fast path: an empty cell is a space",
        "console/report.py",
        '                if "" in cells:',
        "                if False:",
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
    (
        "markdown fast path: < is escaped",
        "console/report.py",
        '.replace("|", "\\\\|").replace("<", "&lt;")\n                if',
        '.replace("|", "\\\\|")\n                if',
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
]
MUTATIONS += [
    (
        "csv cells without the dict: the notes",
        "console/report.py",
        '    cells[_NOTES_AT] = notes_text(_notes(journal, values[0])) if cells[_NOTES_AT] else ""',
        '    cells[_NOTES_AT] = ""',
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
    (
        "csv cells without the dict: the delivery",
        "console/report.py",
        '    cells[_DELIVERED_AT] = _delivered_cell(delivered) if delivered else ""',
        '    cells[_DELIVERED_AT] = ""',
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
]
MUTATIONS += [
    (
        "csv delivery cell without the Delivery: bytes with thousands separators",
        "console/report.py",
        '    return f"{files} files, {size:,} bytes, " + (',
        '    return f"{files} files, {size} bytes, " + (',
        (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",),
    ),
]
