"""Issue 16, the console's UI in parts (selection, marks, alerts, row filter, counts line): break the line, the tests fail."""

from __future__ import annotations

from typing import Any

P = "tests/tui/test_tui_parts.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "tuisplit: ctrl+z keeps only the last ten steps",
        "console/tui/profile_selection.py",
        "        del self._undo[:-UNDO_DEPTH]",
        "        pass",
        (P + "test_ctrl_z_undoes_the_last_ten_select_alls_and_clears_and_no_more",),
    ),
    (
        "tuisplit: a single select is not an undo step",
        "console/tui/profile_selection.py",
        "        before = len(self.ids)\n",
        "        self._remember()\n        before = len(self.ids)\n",
        (P + "test_a_toggle_or_a_single_select_is_not_an_undo_step",),
    ),
    (
        "tuisplit: a hidden row's anchor is dropped",
        "console/tui/ops_marks.py",
        "        if self.anchor is not None and self.anchor not in shown:",
        "        if False:",
        (P + "test_a_range_mark_starts_at_the_last_mark_and_hidden_rows_lose_theirs",),
    ),
    (
        "tuisplit: a failure is told once",
        "console/tui/ops_alerts.py",
        "            if shown_status(view) in ATTENTION and was != shown_status(view):",
        "            if shown_status(view) in ATTENTION:",
        (P + "test_the_snapshot_alerts_nothing_then_a_new_failure_and_a_finished_batch_alert_once",),
    ),
    (
        "tuisplit: the filter's fast path builds the haystacks it searches",
        "console/tui/ops_filter.py",
        "        if query.words and len(haystacks) < len(views):",
        "        if False:",
        (P + "test_the_fast_path_of_the_row_filter_lets_through_what_passes_does",),
    ),
    (
        "tuisplit: the counts line keeps the failures' words at level 1",
        "console/tui/ops_status.py",
        "        short = level >= 2 or (level == 1 and status not in ATTENTION)",
        "        short = level >= 1",
        (P + "test_the_counts_line_drops_words_then_tightens_but_keeps_the_failures",),
    ),
]
