"""Mutations of the performance work (issue 15): big journals read as a stream, no early poll, idle output.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, broken form, tests).
"""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "a stop with polls in flight hands over at their Retry-After",
        "console/ops/engine_polling.py",
        "        self._hand_over_in_flight(self.clock.now())",
        "        pass",
        (
            "tests/ops/test_early_polls.py::"
            "test_a_stop_with_polls_in_flight_hands_over_no_earlier_than_their_retry_after",
        ),
    ),
    (
        "a running export's elapsed time changes once a minute",
        "console/tui/ops_model.py",
        "    return running_label(now - submitted), next_at",
        "    return duration_label(now - submitted), next_at",
        ("tests/tui/test_console.py::test_an_idle_table_changes_each_row_once_a_minute_not_every_second",),
    ),
    (
        "the next poll is a time of day, not a countdown",
        "console/tui/ops_model.py",
        '        next_at = clock_label(when) if when > now else "due"',
        '        next_at = duration_label(when - now) if when > now else "due"',
        ("tests/tui/test_console.py::test_an_idle_table_changes_each_row_once_a_minute_not_every_second",),
    ),
    (
        "opening a journal adds the indexes the read filters use",
        "console/ops/journal_schema.py",
        "    for statement in (*_statements(_READ_INDEXES), *CASE_TABLES):",
        "    for statement in CASE_TABLES:",
        ("tests/ops/test_journal_reads.py::test_a_journal_without_the_read_indexes_gets_them_when_opened",),
    ),
    (
        "the report's export request-id falls back on the first poll",
        "console/ops/journal_reads.py",
        "    \"WHERE polls.operation = operations.id ORDER BY rowid LIMIT 1), '') ELSE '' END, \"",
        "            \"WHERE polls.operation = operations.id ORDER BY rowid DESC LIMIT 1), '') ELSE '' END, \"",
        ("tests/ops/test_journal_reads.py::test_the_report_falls_back_on_the_kept_polls_request_ids",),
    ),
    (
        "ops --status keeps a dead process's intent as a candidate",
        "console/cli/journal_commands.py",
        "        shown = (state, UNCONFIRMED) if state == INTENT else (state,)",
        "        shown = (state,)",
        ("tests/ops/test_journal_reads.py::test_ops_status_lists_a_dead_processs_intent_as_unconfirmed",),
    ),
    (
        "note ROW beyond 64-bit is a usage error",
        "console/cli/journal_commands.py",
        "        row = journal.row(key) if key < 2**63 else None  # SQLite integers are 64-bit",
        "        row = journal.row(key)",
        ("tests/ops/test_journal_reads.py::test_note_on_a_row_number_beyond_sqlites_integers_is_a_usage_error",),
    ),
    (
        "the streamed JSON report is json.dumps with indent, byte for byte",
        "console/report.py",
        '                nested[json.dumps(marker)] = _indented(value).replace("\\n", "\\n    ")',
        "                nested[json.dumps(marker)] = _indented(value)",
        ("tests/ops/test_journal_reads.py::test_the_json_report_is_byte_for_byte_json_dumps_with_indent",),
    ),
    (
        "a stop that cannot write the journal leaves its leases to lapse",
        "console/ops/engine.py",
        "        if release and self._link.registered and flushed:",
        "        if release and self._link.registered:",
        ("tests/ops/test_early_polls.py::test_a_stop_that_cannot_write_the_journal_leaves_its_leases_to_lapse",),
    ),
]
