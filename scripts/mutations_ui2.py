"""The console's habits (issue 17 items 6-11, 16, 17): event log, footers, status line, one vocabulary,
names, CLI progress, the demo's seed, sort/copy/negate/help search.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_SEED = "tests/test_demo_seed.py::"
_VOCAB = "tests/cli/test_one_vocabulary.py::"
_HABITS = "tests/tui/test_console_habits.py::"
_PROGRESS = "tests/cli/test_progress.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "ui2: the demo seeds once per journal",
        "console/demo.py",
        "if any(view.case == DEMO_CASE for view in engine.operations()):",
        "if False:",
        (f"{_SEED}test_restarting_the_demo_three_times_keeps_the_twelve_exports_it_seeded",),
    ),
    (
        "ui2: a status word matches the shown word, not Graph's last word",
        "console/ops/vocabulary.py",
        "return lambda view: shown_status(view).lower() == folded",
        "return lambda view: (view.status or '').lower() == folded",
        (
            f"{_VOCAB}test_ops_status_problem_and_failed_count_what_the_console_counts",
            f"{_HABITS}test_the_tab_the_status_line_and_the_filters_count_the_same_operations",
        ),
    ),
    (
        "ui2: the tab counts the problem group",
        "console/tui/ops_alerts.py",
        "ATTENTION = PROBLEM_WORDS",
        'ATTENTION = frozenset({"failed"})',
        (f"{_HABITS}test_the_tab_the_status_line_and_the_filters_count_the_same_operations",),
    ),
    (
        "ui2: ops --status !WORD negates",
        "console/ops/vocabulary.py",
        "return not FILTERS[word[1:]][1](view)",
        "return FILTERS[word[1:]][1](view)",
        (f"{_VOCAB}test_ops_status_problem_and_failed_count_what_the_console_counts",),
    ),
    (
        "ui2: ops has a NAME column",
        "console/cli/journal_listing.py",
        '            name or upn or "-",\n',
        "",
        (f"{_VOCAB}test_ops_has_a_name_column_and_json_keeps_its_fields",),
        ('    "CASE",\n    "NAME",\n', '    "CASE",\n'),
        ("            person_name(v),\n", ""),
    ),
    (
        "ui2: the user column falls back to the journal's name",
        "console/tui/ops_model.py",
        "return view.display_name or view.user_principal_name or label",
        "return label",
        (f"{_HABITS}test_the_user_column_shows_the_journals_names_while_the_profiles_still_load",),
    ),
    (
        "ui2: export shows its progress while sending",
        "console/cli/commands.py",
        "    printer.start_progress()\n",
        "",
        (f"{_PROGRESS}test_on_a_terminal_export_shows_sent_accepted_and_refused_on_one_rewritten_line",),
        ("        printer.redraw()  # the last count", "        pass  # the last count"),
    ),
    (
        "ui2: no progress line off a terminal",
        "console/cli/views.py",
        "self.live = (not as_json) and _is_terminal(self.progress)",
        "self.live = (not as_json) or _is_terminal(self.progress)",
        (f"{_PROGRESS}test_no_progress_when_stderr_is_not_a_terminal_or_json_is_asked",),
    ),
    (
        "ui2: the progress line is rewritten only when it changed",
        "console/cli/views.py",
        "        if text == self._shown:\n            return\n",
        "",
        (f"{_PROGRESS}test_on_a_terminal_export_shows_sent_accepted_and_refused_on_one_rewritten_line",),
    ),
    (
        "ui2: toasts are one short line",
        "console/tui/app.py",
        'short, cut = toast_text(f"{heading}: {text}" if heading else text, width',
        'short, cut = (f"{heading}: {text}" if heading else text), False; (width',
        (f"{_HABITS}test_a_failure_toasts_one_short_line_and_the_event_log_keeps_it_whole",),
    ),
    (
        "ui2: every toast goes to the event log",
        "console/tui/app.py",
        "self.event_log.add(text, title=heading, severity=severity)",
        "pass",
        (f"{_HABITS}test_a_failure_toasts_one_short_line_and_the_event_log_keeps_it_whole",),
    ),
    (
        "ui2: the event log filter",
        "console/tui/event_log.py",
        "        elif word not in line:\n            return False",
        "        elif False:\n            return False",
        (f"{_HABITS}test_a_failure_toasts_one_short_line_and_the_event_log_keeps_it_whole",),
    ),
    (
        "ui2: footers list ? and q first",
        "console/tui/footer.py",
        "return first + rest",
        "return rest + first",
        (f"{_HABITS}test_at_80_columns_the_header_names_who_is_signed_in_and_every_footer_has_help_and_quit",),
    ),
    (
        "ui2: dialogs have their own footer",
        "console/tui/dialogs/report.py",
        "        yield ConsoleFooter()  # this dialog's keys",
        "        pass  # this dialog's keys",
        (f"{_HABITS}test_at_80_columns_the_header_names_who_is_signed_in_and_every_footer_has_help_and_quit",),
    ),
    (
        "ui2: the idle login pane hides Copy code",
        "console/tui/screens/login.py",
        "return self.prompt is not None",
        "return True",
        (f"{_HABITS}test_the_idle_login_pane_offers_no_copy_code",),
    ),
    (
        "ui2: the header fits its width, the name cut last",
        "console/tui/widgets/header.py",
        "        if width is None or text.cell_len <= width:\n            return text",
        "        if True:\n            return text",
        (f"{_HABITS}test_at_80_columns_the_header_names_who_is_signed_in_and_every_footer_has_help_and_quit",),
    ),
    (
        "ui2: a token tenant GUID is shortened",
        "console/tui/widgets/header.py",
        'return _GUID.sub(lambda match: f"{match.group(0)[:8]}…", tenant)',
        "return tenant",
        (f"{_HABITS}test_a_token_tenant_guid_is_shortened_and_the_name_is_cut_last",),
    ),
    (
        "ui2: the status line repaints only on change",
        "console/tui/widgets/status_line.py",
        "if text != self._shown:",
        "if True:",
        (f"{_HABITS}test_the_status_line_shows_budget_throttling_next_poll_quota_and_pause",),
    ),
    (
        "ui2: the status line says PAUSED",
        "console/tui/screens/live_operations.py",
        "line.paused = self.query_one(OpsTable).paused",
        "line.paused = False",
        (f"{_HABITS}test_the_status_line_shows_budget_throttling_next_poll_quota_and_pause",),
    ),
    (
        "ui2: exports left today re-read after a batch",
        "console/tui/screens/live_operations.py",
        "        if counted != self._quota_counted:\n",
        "        if self._quota_counted < 0:\n",
        (f"{_HABITS}test_the_status_line_shows_budget_throttling_next_poll_quota_and_pause",),
    ),
    (
        "ui2: throttling episodes are logged",
        "console/tui/widgets/status_line.py",
        "if until is not None and self._throttled is None and self.event_log is not None:",
        "if False:",
        (f"{_HABITS}test_the_status_line_shows_budget_throttling_next_poll_quota_and_pause",),
    ),
    (
        "ui2: < sorts by the column to the left",
        "console/tui/widgets/ops_table.py",
        "position = columns.index(self.sort_column) + step",
        "position = columns.index(self.sort_column) + 1",
        (f"{_HABITS}test_sort_by_column_with_angle_brackets_copy_an_id_and_negate_a_filter",),
    ),
    (
        "ui2: y copies the operation id",
        "console/tui/widgets/ops_table.py",
        "        self.app.copy_to_clipboard(ident)\n",
        "",
        (f"{_HABITS}test_sort_by_column_with_angle_brackets_copy_an_id_and_negate_a_filter",),
    ),
    (
        "ui2: !word leaves rows out",
        "console/tui/ops_filter.py",
        "if any(word in haystack for word in query.not_words):",
        "if False:",
        (f"{_HABITS}test_sort_by_column_with_angle_brackets_copy_an_id_and_negate_a_filter",),
    ),
    (
        "ui2: the help is searched",
        "console/tui/screens/help.py",
        "if not row_matches((title, keys, description), self.query_text):",
        "if False:",
        (f"{_HABITS}test_the_help_is_searched_with_slash",),
    ),
    (
        "ui2: the budget counts the last hour's requests",
        "console/ops/budget.py",
        "                        self._spent_at.append(now)\n",
        "",
        ("tests/ops/test_polling_status.py::test_the_budget_counts_the_requests_of_the_last_hour_and_a_refund",),
    ),
    (
        "ui2: the snapshot says when Graph throttled",
        "console/ops/engine_polling.py",
        "throttled_until=gate if gate > now else None,",
        "throttled_until=None,",
        (
            "tests/ops/test_polling_status.py::test_the_snapshot_says_what_is_watched_when_the_next_poll_is_and_the_budget",
        ),
    ),
]
