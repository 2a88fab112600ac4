"""The Operations pane inside the real console (main screen, fake engine): bursts of keys land where typed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Static
from textual.worker import WorkerFailed

from console.ops.events import UNCONFIRMED
from console.tui.app import ConsoleApp
from console.tui.screens.details import OperationDetailsScreen
from console.tui.widgets.ops_pane import OperationsPane, OpsFilterBox
from console.tui.widgets.ops_table import OpsTable
from tests.tui.fakes import make_profiles, make_services
from tests.tui.ops_fakes import burst
from tests.tui.waiting import until

SIZE = (80, 24)


async def settle(pilot: Pilot[Any]) -> None:
    try:
        await pilot.app.workers.wait_for_complete()
    except WorkerFailed:
        raise
    await pilot.pause()
    await pilot.pause(0.05)
    await pilot.pause()


async def test_slash_and_a_name_in_one_burst_filter_the_operations_not_the_profiles() -> None:
    services, _engine = make_services()
    name = make_profiles(300)[3].display_name
    word = name.split()[-1].lower()
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["2", "/", *word])  # as a slow SSH link delivers them: all at once
        await until(pilot, lambda: app.screen.query_one(OpsFilterBox).value == word, what="the whole burst")
        await settle(pilot)
        table = app.screen.query_one(OpsTable)
        assert app.screen.query_one(OpsFilterBox).value == word
        assert table.row_count >= 1 and all(word in table.row_texts(r)[0].lower() for r in range(table.row_count))
        assert table.marked == []
        assert app.screen.query_one("#search", Input).value == ""  # the profiles' search got nothing


async def test_e_on_the_operations_pane_asks_to_export_the_operations_not_the_profiles() -> None:
    services, engine = make_services()
    requests: dict[int, tuple[int, ...]] = {}

    def hook(message: Message) -> None:  # called at each step of its bubbling: count each message once
        if isinstance(message, OpsTable.ExportRequested):
            requests[id(message)] = tuple(v.key for v in message.operations)

    app = ConsoleApp(services)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        await pilot.press("2", "asterisk", "e")
        await settle(pilot)
        assert list(requests.values()) == [(4,)]  # of six, only the failed one is exported again


async def test_enter_opens_the_details_and_live_counts_follow() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        engine.emit(replace(engine.views[2], state=UNCONFIRMED, status=None, last_error="POST timed out"))
        pane = app.screen.query_one(OperationsPane)
        await until(pilot, lambda: "? unconfirmed 1" in pane.status_text().plain, what="the live count")
        await settle(pilot)
        assert "? unconfirmed 1" in pane.status_text().plain
        assert pane.tab_label() == "Operations 6 · 2 problems"
        assert "2 Operations 6 · 2 problems" in str(app.screen.query_one("#pane-tabs", Static).render())
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, OperationDetailsScreen)


async def test_save_report_is_a_palette_command_that_opens_the_report_dialog(tmp_path: Path) -> None:
    from console.ops.journal import OperationJournal
    from console.tui.dialogs.report import ReportScreen

    services, engine = make_services()
    OperationJournal(tmp_path / "journal.sqlite3").close()
    engine.journal_path = str(tmp_path / "journal.sqlite3")  # type: ignore[attr-defined,unused-ignore]
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Save report" in commands
        commands["Save report"].callback()
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)


async def test_one_burst_filters_marks_and_reports_on_what_was_marked(tmp_path: Path) -> None:
    from console.ops.journal import OperationJournal
    from console.tui.dialogs.report import ReportScreen

    services, engine = make_services()
    OperationJournal(tmp_path / "journal.sqlite3").close()
    engine.journal_path = str(tmp_path / "journal.sqlite3")  # type: ignore[attr-defined,unused-ignore]
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["2", "/", *"running", "escape", "space", "space", "w"])
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), what="the report dialog after the burst")
        await settle(pilot)
        table = app.screen_stack[1].query_one(OpsTable)
        assert table.query_text == "running"  # nothing after Esc was typed into the filter
        assert table.order == [2, 5, 6]
        assert table.marked == [2, 5]  # the spaces marked the filtered rows
        assert isinstance(app.screen, ReportScreen) and app.screen.count == 2 and app.screen.marked
