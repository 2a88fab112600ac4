"""Mutations guarding the gaps the issue 14 audit closed (``--case ""``, Ctrl+C while the entry is imported).
Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

EXITS = "tests/cli/test_exit_codes.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "issue 14.6: export --case '' exports without the case",
        "console/cli/parser.py",
        '"--case", metavar="REF", type=_CASE_REF, help=',
        '"--case", metavar="REF", type=str, help=',
        (f"{EXITS}::test_an_empty_case_is_a_usage_error_and_nothing_is_exported",),
    ),
    (
        "issue 14.6: ops --case '' lists every case",
        "console/cli/parser.py",
        'ops.add_argument("--case", metavar="REF", type=_CASE_REF,',
        'ops.add_argument("--case", metavar="REF", type=str,',
        (f"{EXITS}::test_an_empty_case_is_a_usage_error_and_nothing_is_exported",),
    ),
    (
        "issue 14.6: Ctrl+C while python -m console imports its entry is a traceback",
        "console/__main__.py",
        "except KeyboardInterrupt:  # Ctrl+C before the entry's own guard",
        "except ImportError:  # Ctrl+C before the entry's own guard",
        (f"{EXITS}::test_ctrl_c_while_importing_the_entry_is_one_line_and_130",),
    ),
]
