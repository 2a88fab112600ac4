"""The console's glitches found at 80x24 (issues 17 and 18): exports left after a send, keys after Esc."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual import events
from textual.widgets import Input, Static

from console.ops.status import PollingStatus
from console.tui.app import ConsoleApp
from console.tui.cells import clock_label
from console.tui.ops_model import OpsModel
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.ops_table import OpsTable
from tests.tui.fakes import make_services
from tests.tui.ops_fakes import NOW, label_of, op
from tests.tui.test_console import SAS, settle
from tests.tui.test_console_flows import burst
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


def test_next_poll_is_never_a_time_already_past_and_waits_for_the_tenants_throttle_gate() -> None:
    late = replace(op(1, next_poll=NOW - 30), tenant_key="fabrikam")
    calm = replace(op(2, next_poll=NOW + 45), tenant_key="contoso")
    m = OpsModel(label_of([late, calm]), lambda: NOW)
    m.apply([late, calm])
    assert m.cells[1]["next"] == "due"  # past its due time, not yet polled: not a time gone by
    assert m.cells[2]["next"] == clock_label(NOW + 45)
    m.gates = {"fabrikam": NOW + 600}  # Graph throttles fabrikam for ten minutes
    assert m.tick([1, 2]) == [1]
    assert m.cells[1]["next"] == clock_label(NOW + 600)
    assert m.cells[2]["next"] == clock_label(NOW + 45)


async def test_a_throttled_tenants_rows_show_when_they_will_really_be_polled() -> None:
    services, engine = make_services(views=[op(1, next_poll=NOW - 30, tenant_key="tenant")])
    gate = NOW + 600
    engine.polling_status = lambda: PollingStatus(5, 10_000, 1, NOW - 30, throttled_until=gate)  # type: ignore[attr-defined]
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.refresh_polling_status()  # what every tick does
        await pilot.pause()
        assert screen.query_one(OpsTable).model.cells[1]["next"] == clock_label(gate)


@pytest.mark.parametrize(
    "keys",
    [
        ["escape", "/", "q"],  # one read from the terminal: nothing runs between them
        None,  # one key at a time
    ],
)
async def test_keys_typed_right_after_esc_reach_the_screen_it_reveals(keys: list[str] | None) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        if keys is not None:
            burst(app, keys)
        else:
            for key in ("escape", "slash", "q"):
                await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one("#search", Input).value == "q"


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("\x1b/ab", ["escape", "slash", "a", "b"]),  # Textual alone: "slash", the Esc dropped
        ("\x1bq", ["escape", "q"]),  # Textual alone: "alt+q"
        ("\x1b2x", ["escape", "2", "x"]),  # Textual alone: "™" (a macOS Option key)
        ("\x1b\x1b", ["escape", "escape"]),
        ("\x1b", ["escape"]),
        ("\x1b[A\x1bOP", ["up", "f1"]),  # escape sequences stay keys
        ("\x1b[200~x\x1b[201~", ["paste"]),  # a bracketed paste stays a paste
    ],
)
def test_esc_and_the_next_key_read_in_one_go_are_two_keys(typed: str, keys: list[str]) -> None:
    """What a real terminal sends when Esc and a key come in one burst (``tmux send-keys -l``, SSH)."""
    import time

    from textual.drivers import linux_driver

    from console.tui.terminal_keys import EscThenKeyParser

    ConsoleApp(make_services()[0])
    assert getattr(linux_driver, "XTermParser") is EscThenKeyParser  # noqa: B009 - what the console's driver reads with
    parser = EscThenKeyParser()
    read = list(parser.feed(typed))
    time.sleep(0.15)  # past Textual's wait for the rest of an escape sequence (ESCDELAY, 100 ms)
    read += list(parser.tick())
    assert [e.key if isinstance(e, events.Key) else type(e).__name__.lower() for e in read] == keys


async def test_an_esc_handled_as_it_is_read_holds_no_keys() -> None:
    """Esc in the search box goes back to the list at once (a priority key): the keys after it are not held."""
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "a")
        burst(app, ["escape"])
        await pilot.pause()
        assert not app.holding_keys
        assert isinstance(app.screen, MainScreen) and app.screen.query_one("#search", Input).value == "a"
        await pilot.press("enter")  # the export form; an Esc burst there still reaches the list behind it
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        burst(app, ["escape", "/", "q"])
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.screen.query_one("#search", Input).value == "q"


async def test_an_esc_that_leaves_the_event_logs_filter_holds_no_keys() -> None:
    """Esc in the log's filter line is handled as it is read: nothing waits for it to come back up."""
    from console.tui.screens.event_log import EventLogScreen

    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, EventLogScreen)
        await pilot.press("slash", "x")
        burst(app, ["escape"])
        await pilot.pause()
        assert not app.holding_keys
