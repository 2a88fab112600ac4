"""The parts the console's big widgets were split into, each without an app: the profile selection
and its undo, the operations' marks, the alert watch, the row filter and the Operations counts line."""

from __future__ import annotations

from collections import Counter

from rich.style import Style

from console.ops.events import ERROR, FINAL, OperationView
from console.tui.ops_alerts import AlertWatch
from console.tui.ops_filter import RowFilter
from console.tui.ops_marks import Marks
from console.tui.ops_status import TableCounts, status_line, tab_label
from console.tui.profile_selection import UNDO_DEPTH, ProfileSelection
from tests.tui.ops_fakes import op, triage_views


def test_ctrl_z_undoes_the_last_ten_select_alls_and_clears_and_no_more() -> None:
    selection = ProfileSelection()
    for step in range(UNDO_DEPTH + 2):
        assert selection.add_all([f"user-{step}"]) == 1
    assert selection.clear() == UNDO_DEPTH + 2
    assert selection.undo()  # the clear
    assert len(selection.ids) == UNDO_DEPTH + 2
    for _ in range(UNDO_DEPTH - 1):
        assert selection.undo()
    assert list(selection.ids) == ["user-0", "user-1", "user-2"]
    assert not selection.undo()  # older steps are forgotten
    assert list(selection.ids) == ["user-0", "user-1", "user-2"]


def test_a_toggle_or_a_single_select_is_not_an_undo_step() -> None:
    selection = ProfileSelection()
    selection.toggle("a")
    selection.add(["b"])
    assert not selection.undo()
    selection.toggle("a")
    assert list(selection.ids) == ["b"]


def test_a_range_mark_starts_at_the_last_mark_and_hidden_rows_lose_theirs() -> None:
    marks = Marks()
    order = [10, 11, 12, 13, 14]
    marks.toggle(11)
    assert marks.mark_range(order, 3, set(order)) == 3
    assert marks.in_order(list(reversed(order))) == [13, 12, 11]
    marks.drop_hidden({11, 14})
    assert list(marks.keys) == [11]
    assert marks.anchor is None  # 13 (the cursor's row) is hidden: a range starts at the cursor again
    assert marks.mark_range(order, 4, {11, 14}) == 2
    assert marks.clear() == 2


def test_the_snapshot_alerts_nothing_then_a_new_failure_and_a_finished_batch_alert_once() -> None:
    watch = AlertWatch()
    known: dict[int, OperationView] = {}

    def before(key: int) -> OperationView | None:
        return known.get(key)

    def batch(*views: OperationView) -> tuple[list[int], list[int]]:
        failures, done = watch.check(list(views), before)
        known.update({view.key: view for view in views})
        return [v.key for v in failures], [v.key for v in done]

    assert batch(op(1, status="failed", state=FINAL, next_poll=None), op(2), op(3)) == ([], [])
    assert batch(op(2, status="failed", state=FINAL, next_poll=None)) == ([2], [])
    assert batch(op(2, status="failed", state=FINAL, next_poll=None)) == ([], [])  # told once
    assert batch(op(3, status="complete", state=FINAL, next_poll=None)) == ([], [2, 3])
    assert batch(op(4, state=ERROR, status=None)) == ([4], [])


def test_the_fast_path_of_the_row_filter_lets_through_what_passes_does() -> None:
    views = {view.key: view for view in triage_views()}
    row_filter = RowFilter(lambda view: view.display_name or view.user_id)
    for text in ("", "fabrikam", "garcia ana", "op-000", "!fabrikam", "case:DSR-1", "status:failed", "zzz"):
        row_filter.set_query(text)
        row_filter.haystacks.clear()
        slow = [key for key in views if row_filter.passes(views[key])]
        row_filter.haystacks.clear()
        assert row_filter.select(list(views), views) == slow, text


def test_the_counts_line_drops_words_then_tightens_but_keeps_the_failures() -> None:
    counts = Counter({"failed": 2, "running": 3, "complete": 1})
    state = TableCounts(counts, shown=4, marked=1, paused=True, held=5)

    def plain(level: int) -> str:
        return status_line(state, level, lambda _component: Style()).plain

    assert plain(0) == " PAUSED (5 held)  4/6 shown · ● 1 marked · ✗ failed 2 · ▶ running 3 · ✓ complete 1"
    assert plain(1) == " PAUSED (5 held)  4/6 shown · ● 1 marked · ✗ failed 2 · ▶ 3 · ✓ 1"
    assert plain(2) == " PAUSED (5 held)  4/6 shown ●1 marked │ failed 2 │ ▶3 ✓1"
    assert tab_label(counts) == "Operations 6 · 2 problems"
    assert tab_label(Counter({"complete": 1})) == "Operations 1"
