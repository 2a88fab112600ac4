"""Issue 19, cases: the deadline arithmetic, the case rules, ``export --case`` opening a case, the counts."""

from __future__ import annotations

from typing import Any

DEADLINES = "tests/ops/test_case_deadlines.py"
CLI = "tests/cli/test_case_cli.py"
PANE = "tests/tui/test_cases_pane.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "cases: a month without the day does not end on its last day",
        "console/ops/cases.py",
        "    return date(year, month, min(start.day, last))",
        "    return date(year, month, min(start.day, 28))",
        (f"{DEADLINES}::test_due_is_one_calendar_month_later_or_the_months_last_day",),
    ),
    (
        "cases: an extension may go past three months",
        "console/ops/cases.py",
        "    return add_months(received, MAX_MONTHS)",
        "    return add_months(received, MAX_MONTHS + 1)",
        (
            f"{DEADLINES}::test_an_extension_reaches_at_most_three_calendar_months",
            f"{CLI}::test_extend_up_to_three_months_and_no_further",
        ),
    ),
    (
        "cases: due today counts as overdue",
        "console/ops/cases.py",
        "    return OVERDUE if today > due else OPEN",
        "    return OVERDUE if today >= due else OPEN",
        (f"{DEADLINES}::test_days_left_and_the_overdue_state_use_calendar_dates",),
    ),
    (
        "cases: a due date before receipt accepted",
        "console/ops/cases.py",
        "    if due < received:",
        "    if False:",
        (
            f"{DEADLINES}::test_check_due_refuses_before_receipt_and_past_three_months",
            f"{CLI}::test_bad_input_exits_2_and_writes_nothing",
        ),
    ),
    (
        "cases: a closed case can be extended",
        "console/ops/cases.py",
        '        if case.state == CLOSED:\n            raise CaseError(f"the case {ref!r} is closed")',
        '        if False:\n            raise CaseError(f"the case {ref!r} is closed")',
        (f"{CLI}::test_close_changes_the_state_and_every_change_is_a_dated_event",),
    ),
    (
        "cases: a change leaves no dated event",
        "console/ops/cases.py",
        "            self._event(case.tenant_key, case.ref, at, author, EXTENDED, reason.strip(), due)",
        "            pass",
        (f"{CLI}::test_close_changes_the_state_and_every_change_is_a_dated_event",),
    ),
    (
        "cases: removals never counted",
        "console/ops/cases.py",
        "            if kind:\n                removals",
        "            if False:\n                removals",
        (f"{CLI}::test_removals_are_counted_when_the_journal_has_a_kind_column",),
    ),
    (
        "cases: the list's text cells not terminal-safe",
        "console/cli/case_commands.py",
        "    print_table(_HEADERS, [list(record.values()) for record in records])",
        "    print(*[list(record.values()) for record in records])",
        (f"{CLI}::test_list_text_is_a_table_with_terminal_safe_cells",),
    ),
    (
        "cases: export --case does not open a new case",
        "console/ops/submission.py",
        '        return ref if opened else ""',
        '        return ""',
        ("tests/cli/test_case_export.py::test_export_with_a_new_case_opens_it_once",),
    ),
    (
        "cases: the subject part shows the full storage location",
        "console/report.py",
        '            "deliveredTo": "" if removal else _container(str(row.get("storageLocation") or "")),',
        '            "deliveredTo": "" if removal else str(row.get("storageLocation") or ""),',
        ("tests/cli/test_case_report.py::test_the_subject_part_holds_no_notes_internal_names_or_request_ids",),
    ),
    (
        "cases: the internal part leaves out the notes",
        "console/report.py",
        '        for note in row.get("notes") or []:',
        "        for note in []:",
        ("tests/cli/test_case_report.py::test_the_internal_part_is_the_audit_trail_with_the_deadline",),
    ),
    (
        "cases: the internal part leaves out the case's events",
        "console/report.py",
        "    for event in case_events:\n        add(**event)",
        "    for event in case_events:\n        pass",
        ("tests/cli/test_case_report.py::test_the_internal_part_is_the_audit_trail_with_the_deadline",),
    ),
    (
        "cases pane: overdue cases not first",
        "console/tui/widgets/cases_pane.py",
        '    rank = {OVERDUE: 0, "open": 1, CLOSED: 2}',
        '    rank = {OVERDUE: 2, "open": 1, CLOSED: 2}',
        (f"{PANE}::test_overdue_first_in_red_operations_below_and_an_alert",),
    ),
    (
        "cases pane: an overdue case not in red",
        "console/tui/widgets/cases_pane.py",
        '    style = "bold red" if state == OVERDUE else',
        '    style = "bold" if state == OVERDUE else',
        (f"{PANE}::test_overdue_first_in_red_operations_below_and_an_alert",),
    ),
    (
        "cases pane: no alert for a case due within 5 days",
        "console/tui/widgets/cases_pane.py",
        "c.state != CLOSED and c.days_left(today) <= ALERT_DAYS",
        "c.state != CLOSED and c.days_left(today) < 0",
        (f"{PANE}::test_overdue_first_in_red_operations_below_and_an_alert",),
    ),
    (
        "cases pane: the alert rings no bell",
        "console/tui/widgets/cases_pane.py",
        "        self.app.bell()",
        "        pass",
        (f"{PANE}::test_overdue_first_in_red_operations_below_and_an_alert",),
    ),
    (
        "cases pane: Down in a burst lands after the x that follows it",
        "console/tui/widgets/cases_pane.py",
        '        Binding("down", "cursor_down", "Down", show=False, priority=True),',
        '        Binding("down", "cursor_down", "Down", show=False),',
        (f"{PANE}::test_extend_refuses_past_three_months_then_extends_and_close_closes",),
    ),
    (
        "cases pane: Tab in a burst leaves the next characters in the same field",
        "console/tui/widgets/cases_pane.py",
        '        Binding("tab", "move_focus(1)", "", show=False, priority=True),',
        '        Binding("tab", "move_focus(1)", "", show=False),',
        (f"{PANE}::test_extend_refuses_past_three_months_then_extends_and_close_closes",),
    ),
]
