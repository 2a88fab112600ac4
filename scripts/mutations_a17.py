"""Issue 17 at 80x24 after the console gained tenants and cases (session a17): the export form's
fit, the event log's wrapping, whole keys in the footers.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_DEMO = "tests/tui/test_console_demo.py::"
_HABITS = "tests/tui/test_console_habits.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "a17: the export form counts its fixed lines' margins (its hint stays above the footer)",
        "console/tui/screens/export.py",
        "child.outer_size.height + child.styles.margin.height",
        "child.outer_size.height",
        (f"{_DEMO}test_a_refused_bulk_form_at_80x24_keeps_its_title_and_hint_above_the_footer",),
    ),
    (
        "a17: the event log wraps at the width it has, not RichLog's 78 columns",
        "console/tui/screens/event_log.py",
        "auto_scroll=True, min_width=20)",
        "auto_scroll=True)",
        (f"{_HABITS}test_the_event_log_shows_every_word_of_a_long_error_on_screen[80x24]",),
    ),
    (
        "a17: the event log wraps again when the terminal is resized",
        "console/tui/screens/event_log.py",
        "self._fill()  # wrapped again at the new width",
        "pass  # wrapped again at the new width",
        (f"{_HABITS}test_the_event_log_shows_every_word_of_a_long_error_on_screen[120x40]",),
    ),
    (
        "a17: the event log labels a warning in a whole word",
        "console/tui/screens/event_log.py",
        "label = SEVERITY_LABELS.get(entry.severity, entry.severity[:5])",
        "label = entry.severity[:5]",
        (f"{_HABITS}test_the_event_log_shows_every_word_of_a_long_error_on_screen[80x24]",),
    ),
    (
        "a17: a footer hides the keys the palette key would cut",
        "console/tui/footer.py",
        "            if used - blank > room:",
        "            if used - blank > room + 99:",
        (f"{_HABITS}test_no_footer_key_is_drawn_in_part[80x24]",),
    ),
    (
        "a17: a footer lists its keys again when the terminal widens",
        "console/tui/footer.py",
        "        self.call_after_refresh(self.recompose)",
        "        pass",
        (f"{_HABITS}test_no_footer_key_is_drawn_in_part[80x24]",),
    ),
    (
        "a17: with several tenants the outbound view names the picked one",
        "console/tui/screens/outbound.py",
        '    tenant = tenant_name_of(session) if several else ""',
        '    tenant = ""',
        ("tests/tui/test_outbound_view.py::test_with_several_tenants_the_outbound_view_names_the_picked_one",),
    ),
]
