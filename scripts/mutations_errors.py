"""Mutations guarding issue 16 item 4: one error family with its exit codes, one worker-failure handler with one
formatter, widgets reaching the App through a typed protocol. Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

EXITS = "tests/cli/test_exit_codes.py"

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
]
