"""Mutations guarding the shared helpers that folded duplicates of issue 16 (``duplicates`` in ``console/``).
Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

KEYS = "tests/tui/test_console_keys.py"
HABITS = "tests/tui/test_console_habits.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "d16: a sign-in error names Entra's trace id as a trace id",
        "console/auth/errors.py",
        '    request_id_label: ClassVar[str] = "trace id"\n',
        "",
        (
            "tests/auth/test_errors.py::test_a_sign_in_failure_is_a_console_error_with_its_title_exit_3_and_escaped_text",
        ),
    ),
    (
        "d16: Tab in a form moves focus at once (MovesFocusNow)",
        "console/tui/focus.py",
        "        move_focus_now(self.screen, step)",
        "        return None",
        (f"{KEYS}::test_case_tab_storage_typed_at_once_fill_both_fields[burst]",),
    ),
    (
        "d16: the help's search line filters as typed (FilterLine)",
        "console/tui/widgets/filter_line.py",
        "        self.post_message(self.Query(event.value))",
        "        pass",
        (f"{HABITS}::test_the_help_is_searched_with_slash[burst]",),
    ),
    (
        "d16: the event log's filter line filters as typed (FilterLine)",
        "console/tui/widgets/filter_line.py",
        "        self.post_message(self.Query(event.value))",
        "        pass",
        (f"{HABITS}::test_a_failure_toasts_one_short_line_and_the_event_log_keeps_it_whole[burst]",),
    ),
    (
        "d16: each main-screen pane carries its own id (Pane)",
        "console/tui/widgets/pane.py",
        'super().__init__(id=self.PANE_ID, classes="pane")',
        'super().__init__(classes="pane")',
        ("tests/tui/test_console.py::test_layout_has_header_panes_and_footer",),
    ),
]
