"""Mutations guarding issue 16 item 4: one error family with its exit codes, one worker-failure handler with one
formatter, widgets reaching the App through a typed protocol. Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

EXITS = "tests/cli/test_exit_codes.py"
FAILURES = "tests/tui/test_worker_failures.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "errors: the family's exit code is ignored",
        "console/cli/exitcodes.py",
        "    if isinstance(exc, ConsoleError):\n        return int(exc.exit_code)",
        "    if isinstance(exc, ConsoleError):\n        return EXIT_USAGE",
        (f"{EXITS}::test_every_console_error_maps_to_its_familys_exit_code",),
    ),
    (
        "errors: a ConsoleError escaping a command passes for a bug",
        "console/cli/__init__.py",
        "        if is_expected(exc):\n",
        "        if False:\n",
        (f"{EXITS}::test_a_console_error_escaping_a_command_is_its_one_line_and_code_without_a_debug_hint",),
    ),
    (
        "errors: an escaping error's text reaches the terminal raw",
        "console/cli/__init__.py",
        "        text = terminal_safe(redact(str(exc))[:300])",
        "        text = redact(str(exc))[:300]",
        (f"{EXITS}::test_a_bug_before_any_command_is_one_escaped_line_and_exit_1",),
    ),
    (
        "errors: a screen's worker failure never reaches the App's handler",
        "console/tui/messages.py",
        "            event.worker.node.app.post_message(WorkerFailed(event.worker))",
        "            pass",
        (f"{FAILURES}::test_a_worker_failure_shows_once_formatted_and_as_text",),
    ),
    (
        "errors: a worker failure's text is not made terminal-safe",
        "console/tui/messages.py",
        "terminal_safe(redact(text)))",
        "redact(text))",
        (f"{FAILURES}::test_a_worker_failure_shows_once_formatted_and_as_text",),
    ),
    (
        "errors: a worker failure's secret is shown",
        "console/tui/messages.py",
        "terminal_safe(redact(text)))",
        "terminal_safe(text))",
        (f"{FAILURES}::test_a_worker_failure_shows_once_formatted_and_as_text",),
    ),
    (
        "errors: the export form keeps its failures to itself",
        "console/tui/screens/export.py",
        "class ExportScreen(MovesFocusNow, ReportsWorkerFailures, ExportSending):",
        "class ExportScreen(MovesFocusNow, ExportSending):",
        (f"{FAILURES}::test_a_worker_failure_shows_once_formatted_and_as_text[export form]",),
    ),
    (
        "errors: the details keep their failures to themselves",
        "console/tui/screens/details.py",
        "class OperationDetailsScreen(ReportsWorkerFailures, ModalScreen[None]):",
        "class OperationDetailsScreen(ModalScreen[None]):",
        (f"{FAILURES}::test_a_worker_failure_shows_once_formatted_and_as_text[details]",),
    ),
    (
        "errors: the operations pane keeps its failures to itself",
        "console/tui/widgets/ops_pane.py",
        "class OperationsPane(ReportsWorkerFailures, Pane):",
        "class OperationsPane(Pane):",
        (f"{FAILURES}::test_a_worker_failure_shows_once_formatted_and_as_text[operations pane]",),
    ),
    (
        "errors: the formatter ignores the family's title",
        "console/tui/messages.py",
        "        title, text = error.title, str(error)",
        '        title, text = "Failed", str(error)',
        (f"{FAILURES}::test_the_formatter_gives_the_families_title_and_a_bugs_type",),
    ),
    (
        "focus: the key-holding helper does not hold",
        "console/tui/focus.py",
        "    if isinstance(app, KeyHolder):\n        app.hold_keys()\n        return True",
        "    if isinstance(app, KeyHolder):\n        return True",
        ("tests/tui/test_ops_console.py::test_one_burst_filters_marks_and_reports_on_what_was_marked",),
    ),
    (
        "errors: a sign-in failure loses its title",
        "console/auth/errors.py",
        'class SignInError(AuthenticationError, title="Sign-in failed"):',
        "class SignInError(AuthenticationError):",
        (
            "tests/auth/test_errors.py::test_a_sign_in_failure_is_a_console_error_with_its_title_exit_3_and_escaped_text",
        ),
    ),
]
