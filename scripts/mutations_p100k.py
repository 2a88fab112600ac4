"""Mutations of the p100k pass (issue 15): ``ops --json`` and the CSV report write a plain row's line
straight from the query's tuple; each such line must be what the per-row view path writes, byte for byte.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, broken form, tests).
"""

from __future__ import annotations

from typing import Any

FAST = "tests/ops/test_read_fast_paths.py::"
JSON = (FAST + "test_ops_json_prints_view_json_byte_for_byte",)
CSV = (FAST + "test_the_report_prints_the_views_rows_byte_for_byte",)
PLAIN_CSV = (FAST + "test_a_csv_report_of_plain_rows_with_deliveries_is_the_writers",)

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "ops --json line from a tuple: a NaN or infinite progress is null",
        "console/cli/journal_listing.py",
        '        shown = _FLOAT(progress) if math.isfinite(progress) else "null"',
        "        shown = _FLOAT(progress)",
        JSON,
    ),
    (
        "ops --json line from a tuple: Graph's storage error explained",
        "console/cli/journal_listing.py",
        "q(_explain(str(error))) if error",
        "q(str(error)) if error",
        JSON,
    ),
    (
        "ops --json line from a tuple: a blob cell takes the record's way",
        "console/cli/journal_listing.py",
        "    except (TypeError, ValueError):\n        return _json_view_line(values, views)",
        "    except ValueError:\n        return _json_view_line(values, views)",
        (FAST + "test_cells_that_are_no_text_print_as_the_views_print_them",),
    ),
    (
        "ops --json delivery text: the blob names are redacted",
        "console/report.py",
        '    shown = ", ".join([quote(_redact_known(n)) for n in names])',
        '    shown = ", ".join([quote(n) for n in names])',
        JSON,
    ),
    (
        "a delivery's check time by arithmetic: a fraction that rounds up takes datetime's way",
        "console/report.py",
        "    if whole < 0 or epoch - whole >= 0.999:",
        "    if whole < 0:",
        (FAST + "test_a_delivery_check_time_by_arithmetic_is_the_datetime_one", *JSON),
    ),
    (
        "csv line from a tuple: a quote sends the row to the writer",
        "console/report.py",
        "    return '\"' not in line and line.isprintable() and line[:1]",
        "    return line.isprintable() and line[:1]",
        PLAIN_CSV,
    ),
    (
        "csv line from a tuple: a character to escape sends the row to the writer",
        "console/report.py",
        "    return '\"' not in line and line.isprintable() and line[:1]",
        "    return '\"' not in line and line[:1]",
        CSV,
    ),
]
