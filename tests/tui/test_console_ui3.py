"""The console's glitches found at 80x24 (issues 17 and 18): exports left after a send, keys after Esc."""

from __future__ import annotations

from textual import events
from textual.widgets import Static

from console.tui.app import ConsoleApp
from console.tui.screens.export import ExportScreen
from tests.tui.fakes import make_services
from tests.tui.test_console import SAS, settle
from tests.tui.waiting import until


async def test_the_forms_exports_left_today_is_read_again_after_a_batch_is_sent() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        quota = screen.query_one("#export-quota", Static)
        assert "Exports left today: 987 of 1,000" in str(quota.render())
        screen.query_one("#storage").post_message(events.Paste(SAS))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert engine.submitted
        await until(pilot, lambda: "Exports left today: 986 of 1,000" in str(quota.render()))
