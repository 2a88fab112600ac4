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
        "console/wiring.py",
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
        "console/tui/ops_model.py",
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
        "console/cli/views.py",
        "            person_name(v),\n",
        "",
        (f"{_VOCAB}test_ops_has_a_name_column_and_json_keeps_its_fields",),
        ('headers = ["NAME", "USER ID"', 'headers = ["USER ID"'),
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
]
