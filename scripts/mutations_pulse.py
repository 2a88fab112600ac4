"""Mutations for the one-line pulse strip at 80 columns (issue 17 item 8, issue 18's compact strip)."""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "pulse: the one-line strip never drops detail to fit its width",
        "console/tui/pulse.py",
        "        if width is None or len(line) <= width:",
        "        if True:",
        ("tests/tui/test_tenants_console.py::test_the_one_line_strip_names_every_tenants_figures_at_80_columns",),
    ),
    (
        "pulse: the one-line strip never shortens the state's word",
        "console/tui/pulse.py",
        "    if detail <= 1:\n        word,",
        "    if detail < 0:\n        word,",
        ("tests/tui/test_tenants_console.py::test_the_one_line_strip_names_every_tenants_figures_at_80_columns",),
    ),
]
