"""The Operations pane with Pilot: triage keys in bursts, filters, bulk actions, alerts, readable errors."""

from __future__ import annotations

from dataclasses import replace

from rich.style import Style
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.ops.events import FINAL
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.dialogs.note import ResolveScreen
from console.tui.widgets.ops_pane import OpsFilterBox
from tests.tui.ops_fakes import burst
from tests.tui.ops_host import PaneApp
from tests.tui.waiting import until

SIZE = (80, 24)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def status_line(app: PaneApp) -> str:
    return str(app.query_one("#ops-status", Static).render())


def detail(app: PaneApp) -> str:
    return str(app.query_one("#ops-detail", Static).render())


async def test_slash_then_text_in_one_burst_filters_by_that_text() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"garcia")
        await settle(pilot)
        box = app.query_one(OpsFilterBox)
        assert box.value == "garcia"  # not a mark, not an export: every key reached the box
        assert app.table.order == [1]
        assert app.table.marked == [] and app.exports == []
        assert "1/7 shown" in status_line(app)


async def test_a_real_burst_of_slash_and_text_lands_in_the_filter() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["/", *"northwind"])
        await until(pilot, lambda: app.query_one(OpsFilterBox).value == "northwind", what="the whole burst")
        await settle(pilot)
        assert app.query_one(OpsFilterBox).value == "northwind"
        assert app.table.order == [3, 4, 5]
        assert app.table.marked == [] and app.exports == []


async def test_esc_in_the_box_keeps_the_filter_and_esc_on_the_table_clears_it() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"northwind", "escape", "space")
        await settle(pilot)
        assert app.focused is app.table
        assert app.table.order == [3, 4, 5]
        assert app.table.marked == [3]  # the space after Esc went to the table
        await pilot.press("escape")
        await settle(pilot)
        assert app.table.row_count == 7
        assert app.query_one(OpsFilterBox).value == ""


async def test_marks_range_all_and_clear_with_counts_in_the_status_line() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "down", "v")
        await settle(pilot)
        assert app.table.marked == [1, 2, 3, 4]
        assert "4 marked" in status_line(app)
        await pilot.press("x")
        assert app.table.marked == []
        await pilot.press("asterisk")
        assert len(app.table.marked) == 7
        await pilot.press("u", "ctrl+a")
        assert len(app.table.marked) == 7
        # a refresh keeps them
        app.table.apply([replace(v, progress=1.0) for v in app.engine.operations()])
        await settle(pilot)
        assert len(app.table.marked) == 7


async def test_status_filter_cycles_vocabulary_words_and_combines_with_text() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", "f")  # all -> unfinished -> problem
        await settle(pilot)
        assert app.table.status_filter == "problem"
        assert app.table.order == [3, 4, 5, 7]
        await pilot.press("slash", *"contoso", "enter")
        await settle(pilot)
        assert app.table.order == [7]
        assert "filter: problem · /contoso" in (app.pane.border_subtitle or "")


async def test_case_filter_by_text_and_by_key() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"case:DSR-1", "enter")
        await settle(pilot)
        assert app.table.order == [1, 2]
        await pilot.press("escape", "down", "down", "c")  # the highlighted one's case (DSR-2)
        await settle(pilot)
        assert app.table.order == [3, 4, 5]
        assert app.query_one(OpsFilterBox).value == "case:DSR-2"
        await pilot.press("c")  # again: every case
        await settle(pilot)
        assert app.table.row_count == 7


async def test_e_posts_export_requested_with_only_the_reexportable_marked_ones() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("asterisk", "e")
        await settle(pilot)
        assert len(app.exports) == 1
        assert [v.key for v in app.exports[0].operations] == [3, 4, 5, 7]
        # nothing re-exportable highlighted: said so, nothing posted
        await pilot.press("x", "home", "e")
        await settle(pilot)
        assert len(app.exports) == 2 and app.exports[1].operations == ()
        assert any("only failed, unconfirmed, rejected or error" in str(n.message) for n in app._notifications)


async def test_resolve_asks_for_a_note_and_records_it() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"evans", "enter", "R")
        await settle(pilot)
        assert isinstance(app.screen, ResolveScreen)
        await pilot.press(*"checked the container", "enter")
        await settle(pilot)
        assert app.engine.resolved == [(4, "checked the container", None)]
        assert app.table.views[4].state == "resolved"


async def test_an_empty_resolve_note_is_refused() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"evans", "enter", "R", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ResolveScreen)
        assert app.engine.resolved == []
        await pilot.press("escape")
        await settle(pilot)
        assert app.engine.resolved == []


async def test_stop_watching_confirms_then_stops_the_marked_ones() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("asterisk", "d")  # only the two tracking ones can be stopped
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.engine.stopped == [2, 6]
        assert app.table.views[2].state == "stopped"


async def test_a_failure_toasts_and_rings_the_bell_and_a_finished_batch_too() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.bells == 0  # the journal's snapshot is no news
        two = app.engine.views[2]
        app.table.apply([replace(two, status="failed", state=FINAL, last_error="ExportFailed (request-id r-9)")])
        await settle(pilot)
        assert app.bells == 1
        assert any("ExportFailed" in str(n.message) for n in app._notifications)
        six = app.engine.views[6]
        app.table.apply([replace(six, status="complete", state=FINAL, next_poll_at=None)])
        await settle(pilot)
        assert app.bells == 2
        assert any("finished" in str(n.message) for n in app._notifications)


async def test_p_pauses_with_a_visible_marker_and_polling_results_wait() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "PAUSED" in status_line(app) and "PAUSED" in str(app.pane.border_title)
        app.table.apply([replace(app.engine.views[2], progress=99.0)])
        await settle(pilot)
        assert app.table.row_texts(1)[2] == "62%"
        assert "1 held" in status_line(app)
        await pilot.press("p")
        await settle(pilot)
        assert app.table.row_texts(1)[2] == "99%"
        assert "PAUSED" not in status_line(app)


async def test_the_highlighted_error_is_readable_in_full_under_the_table() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down")  # the rejected one: a reused location
        await settle(pilot)
        text = " ".join(detail(app).split())
        assert "StorageLocationAlreadyUsed" in text
        assert "one export per storage location" in text
        assert "5d1c2f3e-9a8b-4c7d-8e6f-0123456789ab" in text.replace(" ", "")


async def test_failed_rows_are_counted_in_red_in_the_status_line() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = app.pane.status_text()
        failed = [span.style for span in text.spans if "failed" in text.plain[span.start : span.end]]
        assert failed and isinstance(failed[0], Style)
        assert failed[0].color is not None and failed[0].bold
        assert "✗ failed 1" in text.plain and "? unconfirmed 1" in text.plain


async def test_the_filter_box_says_why_an_unknown_status_word_is_refused() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:bogus")
        await settle(pilot)
        assert app.query_one(OpsFilterBox).has_class("-invalid")
        assert "unknown status 'bogus'" in detail(app)
        assert app.table.row_count == 7
        assert isinstance(app.focused, Input)
