"""The operations table's model, without Textual: filters, marks, cursor, alerts, pause, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from console.ops.events import FINAL, RESOLVED, TRACKING, OperationView
from console.ops.vocabulary import UnknownStatusWord
from console.tui.cursor import RowCursor
from console.tui.ops_model import (
    HIGHLIGHT_SECONDS,
    OpsModel,
    Query,
    fold,
    is_reexportable,
    readable_error,
)
from tests.tui.ops_fakes import NOW, label_of, op, triage_views


class Clock:
    def __init__(self) -> None:
        self.now: float = NOW

    def __call__(self) -> float:
        return self.now


def model(views: list[OperationView] | None = None) -> tuple[OpsModel, Clock]:
    clock = Clock()
    views = triage_views() if views is None else views
    m = OpsModel(label_of(views), clock)
    m.apply(views)
    return m, clock


def shown(m: OpsModel) -> list[int]:
    return list(m.order)


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Ana García") == "ana garcia"
    assert fold("ÉLODIE") == "elodie"


def test_text_filter_matches_every_word_in_any_order_over_name_upn_id_error_case() -> None:
    m, _ = model()
    m.set_query("garcia")
    assert shown(m) == [1]
    m.set_query("northwind dubois")  # UPN domain and name, any order
    assert shown(m) == [3]
    m.set_query("op-0005")
    assert shown(m) == [5]
    m.set_query("user.export.all")  # the error text
    assert shown(m) == [7]
    m.set_query("1b2c3d4e")  # a request-id inside the error
    assert shown(m) == [3]
    m.set_query("")
    assert len(shown(m)) == 7


def test_case_filter_is_exact() -> None:
    m, _ = model()
    m.set_query("case:dsr-1")
    assert shown(m) == [1, 2]
    m.set_query("case:DSR-2 evans")
    assert shown(m) == [4]
    m.set_query("case:DSR")
    assert shown(m) == []


def test_status_filter_uses_the_cli_vocabulary_and_combines_with_the_text() -> None:
    m, _ = model()
    m.set_filter("problem")
    assert shown(m) == [3, 4, 5, 7]
    m.set_query("northwind")
    assert shown(m) == [3, 4, 5]
    m.set_filter("unconfirmed")
    assert shown(m) == [4]
    m.set_filter("all")
    m.set_query("status:rejected")
    assert shown(m) == [5]
    with pytest.raises(UnknownStatusWord, match="use one of"):
        m.set_filter("bogus")


def test_an_unknown_status_word_in_the_text_keeps_the_previous_filter() -> None:
    m, _ = model()
    m.set_query("northwind")
    problem = m.set_query("northwind status:bogus")
    assert "unknown status 'bogus'" in problem
    assert shown(m) == [3, 4, 5]
    with pytest.raises(UnknownStatusWord):
        Query.parse("is:nonsense")


def test_marks_survive_refreshes_and_go_with_their_rows() -> None:
    m, _ = model()
    m.cursor.move(1, len(m.order))
    assert m.toggle_mark()
    m.cursor.move(3, len(m.order))
    m.toggle_mark()
    assert m.marked_keys() == [2, 4]
    # a refresh of every row keeps the marks
    m.apply([replace(v, progress=(v.progress or 0) + 1) for v in m.views.values()])
    assert m.marked_keys() == [2, 4]
    # a row that leaves the shown rows loses its mark (no action on an operation nobody sees)
    m.set_filter("problem")
    assert m.marked_keys() == [4]
    m.set_filter("all")
    assert m.marked_keys() == [4]


def test_range_marks_from_the_last_mark_and_all_shown_marks_and_clear() -> None:
    m, _ = model()
    m.cursor.move(1, len(m.order))
    m.toggle_mark()  # anchor on 2
    m.cursor.move(4, len(m.order))
    m.mark_range()
    assert m.marked_keys() == [2, 3, 4, 5]
    m.clear_marks()
    assert m.marked_keys() == []
    m.set_query("northwind")
    m.mark_all()
    assert m.marked_keys() == [3, 4, 5]
    m.set_query("")
    assert m.marked_keys() == [3, 4, 5]


def test_targets_are_the_marked_else_the_highlighted() -> None:
    m, _ = model()
    m.cursor.move(2, len(m.order))
    assert [v.key for v in m.targets()] == [3]
    m.toggle_mark(5)
    m.toggle_mark(1)
    assert [v.key for v in m.targets()] == [1, 5]


def test_only_failed_unconfirmed_rejected_or_error_are_reexportable() -> None:
    views = {v.key: v for v in triage_views()}
    assert [k for k, v in views.items() if is_reexportable(v)] == [3, 4, 5, 7]


def test_the_cursor_stays_on_its_operation_through_sorts_filters_and_updates() -> None:
    m, _ = model()
    m.cursor.move(3, len(m.order))
    assert m.highlighted_key == 4
    m.sort_by("status")
    assert m.highlighted_key == 4
    m.sort_by("user", reverse=True)
    assert m.highlighted_key == 4
    m.apply([op(8, display_name="Zed")])
    assert m.highlighted_key == 4
    m.set_query("zed")  # 4 goes: the cursor stays in range
    assert m.highlighted_key == 8


def test_first_snapshot_raises_no_alerts_then_a_failure_does_once() -> None:
    m, _ = model([op(1), op(2)])
    result = m.apply([replace(m.views[1], status="failed", state=FINAL, last_error="boom")])
    assert [v.key for v in result.failures] == [1]
    again = m.apply([replace(m.views[1], polls=9)])
    assert again.failures == []


def test_a_batch_finishing_is_reported_when_the_last_open_export_ends() -> None:
    m, _ = model([op(1), op(2), op(3, status="complete", state=FINAL, next_poll=None)])
    first = m.apply([replace(m.views[1], status="complete", state=FINAL)])
    assert first.batch_done == []
    last = m.apply([replace(m.views[2], status="failed", state=FINAL)])
    assert sorted(v.key for v in last.batch_done) == [1, 2]
    assert [v.key for v in last.failures] == [2]


def test_pause_holds_rows_but_alerts_and_resume_applies_the_latest() -> None:
    m, _ = model([op(1), op(2)])
    m.paused = True
    result = m.apply([replace(m.views[1], progress=90.0), replace(m.views[1], status="failed", state=FINAL)])
    assert result.held == 1 and [v.key for v in result.failures] == [1]
    assert m.cells[1]["progress"] == "40%"  # the table does not move while paused
    m.apply([op(3)])
    assert 3 not in m.cells
    m.resume()
    assert m.cells[1]["status"] == "failed" and 3 in m.cells and not m.paused


def test_changed_rows_are_highlighted_for_a_moment() -> None:
    m, clock = model([op(1), op(2)])
    assert not m.is_recent(1, clock.now)  # the journal's snapshot is not a change
    m.apply([replace(m.views[1], status="complete", state=FINAL, next_poll_at=None), replace(m.views[2], progress=55)])
    assert m.is_recent(1, clock.now)
    assert not m.is_recent(2, clock.now)  # progress creeping up is no news
    m.apply([op(3)])
    assert m.is_recent(3, clock.now)  # a new row (another process's export) is
    clock.now += HIGHLIGHT_SECONDS + 0.1
    assert not m.is_recent(1, clock.now)
    assert 1 in m.tick([1, 2])  # the expired highlight is repainted
    assert 1 not in m.changed_at


def test_tenant_text_is_escaped_in_cells() -> None:
    evil = op(1, display_name="x", last_error="bad \x1b[2J\x1b]52;c;AAAA\x07 \u202e")
    m, _ = model([evil])
    assert "\x1b" not in m.cells[1]["error"] and "\\x1b" in m.cells[1]["error"]
    assert "\u202e" not in readable_error(evil)


def test_storage_location_already_used_is_explained_with_the_fix_and_the_full_request_id() -> None:
    view = triage_views()[4]
    text = readable_error(view)
    assert "StorageLocationAlreadyUsed" in text
    assert "one export per storage location" in text
    assert "{userId}" in text and "RequestInfo.json" in text
    assert "5d1c2f3e-9a8b-4c7d-8e6f-0123456789ab" in text
    # already explained by the engine: not twice
    assert readable_error(replace(view, last_error=text)).count("one export per storage location") == 1


def test_resolved_rows_leave_the_problem_filter() -> None:
    m, _ = model()
    m.set_filter("problem")
    m.apply([replace(m.views[4], state=RESOLVED)])
    assert 4 not in m.order
    m.apply([replace(m.views[6], state=TRACKING, status="failed")])
    # One vocabulary: the row shows "failed", so it is counted as a problem and the problem filter shows it.
    assert 6 in m.order
    assert sum(m.counts()[word] for word in ("failed", "rejected", "error", "unconfirmed")) == len(m.order)


def test_row_cursor_follows_its_key_or_clamps() -> None:
    cursor: RowCursor[int] = RowCursor(2)
    assert cursor.follow(30, [10, 30, 20]) and cursor.row == 1
    assert cursor.follow(99, [10]) and cursor.row == 0
    assert RowCursor.scroll_for(12, 0, 10) == 3
    assert RowCursor.scroll_for(1, 5, 10) == 1


def test_a_row_whose_watching_stopped_says_error_not_graphs_last_word() -> None:
    m, _ = model()
    assert m.cells[7]["status"] == "error"  # Graph last said running; a 403 stopped the polling
    assert m.counts()["error"] == 1 and m.counts()["running"] == 2


def test_a_row_that_changes_while_filtered_out_comes_back_up_to_date_and_in_order() -> None:
    m, clock = model()
    m.sort_by("status")
    for text in ("garcia", "", "garcia"):  # only 1 shown (and every row ranked once)
        m.set_query(text)
    m.apply([replace(m.views[6], status="failed", state=FINAL, next_poll_at=None, last_error="late failure")])
    clock.now += 90
    m.set_query("")
    assert m.cells[6]["status"] == "failed" and m.cells[6]["error"] == "late failure"
    statuses = [m.cells[k]["status"] for k in m.order]
    assert statuses[:2] == ["failed", "failed"]  # sorted with the other failure, not where it was
    assert m.cells[2]["elapsed"] == "11m"  # a running row's clock moved on while it was hidden


def test_typing_on_narrows_and_deleting_widens_again() -> None:
    m, _ = model()
    steps = [("n", None), ("no", [3, 4, 5]), ("northwind ev", [4]), ("northwind e", [3, 4, 5]), ("", None)]
    for text, expected in steps:
        m.set_query(text)
        if expected is not None:
            assert m.order == expected, text
    assert len(m.order) == 7
