"""Pilot-driven tests of every flow of the console, against in-memory services."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, cast

import pytest
from textual import events
from textual.message import Message
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, RadioButton, Static
from textual.worker import WorkerFailed

from console.ops.events import FINAL
from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.messages import OperationsChanged
from console.tui.screens.details import OperationDetailsScreen
from console.tui.screens.export import ExportScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.login import LoginScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.storage_input import StorageLocationInput
from tests.tui.fakes import NOW, FakeEngine, FakeLogin, make_services, view
from tests.tui.waiting import until

SAS = "https://acct.blob.core.windows.net/exports?sv=2024-01-01&sp=rcwl&se=2099-01-01&sig=S3cr3tSignatur3%2Bxyz"
"""A container SAS URL whose signature must never reach the screen."""


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish (and the workers they start: check, then send) and messages drain."""
    for _ in range(5):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # the screens show worker errors; tests assert on what is shown
        await pilot.pause()
        await pilot.pause(0.05)  # the operations feed gathers a burst for 20 ms
        await pilot.pause()
        if all(worker.is_finished for worker in pilot.app.workers):
            break


def text_of(app: ConsoleApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def screen_text(app: ConsoleApp) -> str:
    """Everything on screen as plain text (what an admin sees)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())  # noqa: SLF001


async def test_layout_has_header_panes_and_footer() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.query_one("#profiles-pane").border_title == "Profiles"
        assert screen.query_one("#operations-pane").border_title == "Operations"
        header = text_of(app, "#header")
        assert "contoso.onmicrosoft.com" in header
        assert "admin@contoso.onmicrosoft.com" in header
        assert "global" in header
        assert screen.has_class("-stacked")
        assert "Quit" in screen_text(app)


@pytest.mark.parametrize(("size", "layout"), [((80, 24), "-compact"), ((120, 40), "-stacked"), ((200, 60), "-wide")])
async def test_layout_follows_the_terminal(size: tuple[int, int], layout: str) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.screen.has_class(layout)


async def test_compact_layout_switches_panes_with_1_and_2() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#profiles-pane").display
        assert not screen.query_one("#operations-pane").display
        await pilot.press("2")
        assert screen.query_one("#operations-pane").display
        assert not screen.query_one("#profiles-pane").display
        assert isinstance(app.focused, OpsTable)
        await pilot.press("1")
        assert screen.query_one("#profiles-pane").display
        assert isinstance(app.focused, ProfileList)


async def test_profiles_load_in_the_background_with_progress() -> None:
    gate = asyncio.Event()
    services, _engine = make_services(profiles=300, page_size=100, gate=gate)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "loading… 200 profiles (page 2)" in text_of(app, "#profiles-status"))
        assert len(app.screen.query_one(ProfileList).shown) == 200
        gate.set()
        await settle(pilot)
        assert text_of(app, "#profiles-status").startswith("300 profiles")


async def test_profile_rows_show_name_upn_home_tenant_and_latest_export() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        profile_list = app.screen.query_one(ProfileList)
        first = profile_list.index.profiles[0]
        line = profile_list.render_line(1).text
        assert first.display_name in line
        assert first.user_principal_name in line
        assert first.home_tenant_id[:8] in line
        assert "✓ complete" in line  # the latest export of the first profile
        assert "✗ failed" in profile_list.render_line(4).text


async def test_search_filters_as_you_type_and_enter_goes_to_the_first_match() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        profile_list = app.screen.query_one(ProfileList)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"GARCIA")
        profiles = profile_list.index.profiles
        assert profile_list.shown
        assert all(
            "garcia" in profiles[i].display_name.lower() + profiles[i].user_principal_name for i in profile_list.shown
        )
        assert f"{len(profile_list.shown)} match" in text_of(app, "#profiles-status")
        await pilot.press("enter")
        assert cast(object, app.focused) is profile_list
        assert profile_list.cursor == 0
        assert profile_list.highlighted_user_id == profiles[profile_list.shown[0]].user_id
        # userId and home tenant are searched too
        await pilot.press("slash")
        await pilot.press("escape")  # back to the list, the filter kept
        assert cast(object, app.focused) is profile_list
        assert app.screen.query_one("#search", Input).value == "GARCIA"
        await pilot.press("escape")  # Esc on the list clears it
        assert app.screen.query_one("#search", Input).value == ""
        assert len(profile_list.shown) == 300
        target = profiles[123]
        app.screen.query_one("#search", Input).value = target.user_id[:13].upper()
        await pilot.pause()
        assert profile_list.shown == [123]
        app.screen.query_one("#search", Input).value = target.home_tenant_id
        await pilot.pause()
        assert 123 in profile_list.shown
        assert all(profiles[i].home_tenant_id == target.home_tenant_id for i in profile_list.shown)
        await pilot.press("escape")  # on the list: clears
        assert len(profile_list.shown) == 300


async def test_space_toggles_selection_and_a_selects_everything_shown() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        profile_list = app.screen.query_one(ProfileList)
        await pilot.press("space", "space")
        assert len(profile_list.selected) == 2
        assert "2 selected" in text_of(app, "#profiles-status")
        await pilot.press("up", "space")
        assert len(profile_list.selected) == 1
        await pilot.press("slash", *"smith", "enter")
        shown = len(profile_list.shown)
        await pilot.press("asterisk")
        assert len(profile_list.selected) == shown + 1
        assert f"{shown + 1} selected" in text_of(app, "#profiles-status")
        await pilot.press("minus")
        assert not profile_list.selected


async def test_q_in_the_search_box_types_instead_of_quitting() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q")
        assert app.screen.query_one("#search", Input).value == "q"
        assert app.is_running
        assert not engine.stopped


async def test_export_the_highlighted_profile_with_a_masked_sas() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        profile_list = app.screen.query_one(ProfileList)
        await pilot.press("down", "down", "down", "down", "down", "down", "down")
        user_id = profile_list.highlighted_user_id
        assert user_id is not None
        assert profile_list.cursor == 7
        await pilot.press("enter", "tab")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        storage = screen.query_one("#storage", StorageLocationInput)
        assert app.focused is storage
        assert screen.user_ids == [user_id]
        assert "Exports left today: 987 of 1,000" in str(screen.query_one("#export-quota", Static).render())
        # validation: empty, then not https
        await pilot.press("enter")
        assert "empty" in str(screen.query_one("#storage-error", Static).render())
        await pilot.press(*"ftp://x")
        await pilot.press("enter")
        assert "https" in str(screen.query_one("#storage-error", Static).render())
        storage.value = ""
        # paste the SAS URL: the signature is masked at once
        storage.post_message(events.Paste(SAS))
        await pilot.pause()
        assert "S3cr3t" not in storage.value
        assert storage.value.endswith("sig=***")
        assert storage.location == SAS
        assert "S3cr3t" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert engine.submitted == [([user_id], SAS)]
        results = screen.query_one("#results", DataTable)
        assert results.display and results.row_count == 1
        assert "✓ accepted" in str(results.get_row_at(0)[1])
        assert "S3cr3t" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one(OpsTable)
        assert table.row_count == 7
        assert profile_list.latest[user_id] == "notStarted"


async def test_a_typed_signature_is_masked_from_its_first_character() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        storage = app.screen.query_one("#storage", StorageLocationInput)
        await pilot.press(*"https://a.blob.core.windows.net/c?sig=a")
        assert storage.value == "https://a.blob.core.windows.net/c?sig=***"
        await pilot.press(*"bc")
        assert storage.value.endswith("sig=***")  # still being typed, still masked
        assert "abc" not in screen_text(app)
        await pilot.press(*"&sv=1")
        assert storage.value == "https://a.blob.core.windows.net/c?sig=***&sv=1"
        assert storage.location == "https://a.blob.core.windows.net/c?sig=abc&sv=1"
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press("backspace")  # into the mask: the signature is dropped, to be entered again
        assert "sig=" in storage.value and storage.location.endswith("sig=") or not storage.has_signature
        storage.value = ""
        await pilot.press(*"https://a.blob.core.windows.net/c?sv=1&sig=xyz")
        storage.mask_now()
        assert storage.value.endswith("sig=***")
        assert storage.location.endswith("sig=xyz")


async def test_export_selected_profiles_shows_per_profile_results() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        profile_list = app.screen.query_one(ProfileList)
        await pilot.press("down", "down", "down", "down", "down", "down", "down", "space", "space", "space")
        chosen = profile_list.selected_ids
        engine.refuse[chosen[1]] = "Graph refused the storage location [BadRequest] (request-id 9f1e)"
        await pilot.press("enter", "tab")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.user_ids == chosen
        await pilot.press(*"MyStorageAccount", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # more than one person: asked first
        await pilot.press("y")
        await settle(pilot)
        results = screen.query_one("#results", DataTable)
        assert results.row_count == 3
        cells = [str(results.get_row_at(i)[1]) for i in range(3)]
        assert cells.count("✓ accepted") == 2 and cells.count("✗ refused") == 1
        assert "request-id 9f1e" in str(results.get_row_at(1)[2])
        assert "1 not" in str(screen.query_one("#export-hint", Static).render())


async def test_an_unfinished_export_to_the_same_location_asks_first() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        profile_list = app.screen.query_one(ProfileList)
        await pilot.press("down")  # profile 1 has a running export to acct/exports
        await pilot.press("enter", "tab")
        storage = app.screen.query_one("#storage", StorageLocationInput)
        storage.value = "https://acct.blob.core.windows.net/exports?sv=2024&sp=rcwl&se=2099-01-01&sig=other"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "unfinished or unconfirmed export" in str(app.screen.query_one("#confirm-question", Static).render())
        assert "sig=other" not in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert engine.submitted == []
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert engine.submitted == [
            (
                [profile_list.highlighted_user_id],
                "https://acct.blob.core.windows.net/exports?sv=2024&sp=rcwl&se=2099-01-01&sig=other",
            )
        ]
        assert engine.calls[-1].force


async def test_export_with_nothing_shown_warns() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"no such person", "enter", "enter", "tab")
        assert isinstance(app.screen, MainScreen)


async def test_live_updates_keep_the_cursor_and_are_coalesced() -> None:
    services, engine = make_services()
    changed: list[int] = []

    def hook(message: Message) -> None:
        if isinstance(message, OperationsChanged):
            changed.append(len(message.views))

    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot)
        await pilot.press("2", "down", "down")
        table = app.screen.query_one(OpsTable)
        assert table.highlighted_key == 3
        scroll = table.scroll_y
        before = table.updates
        # a storm: 200 status changes in one go, plus new operations
        for n in range(200):
            key = 1 + n % 6
            engine.emit(replace(engine.views[key], progress=float(n % 100)), "progress")
        for key in range(7, 12):
            engine.emit(view(key, f"user-{key}", status="notStarted", progress=0.0))
        await until(pilot, lambda: table.row_count == 11, what="the storm's new rows")
        await settle(pilot)
        assert sum(changed) <= 11 + 6  # latest view per key, not one message per event
        assert len(changed) <= 3
        assert table.row_count == 11
        assert table.highlighted_key == 3
        assert table.scroll_y == scroll
        assert table.updates - before <= 6 * 2  # only the cells that changed


async def test_status_cells_have_a_glyph_and_graphs_word() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(OpsTable)
        statuses = [table.row_texts(i)[1] for i in range(table.row_count)]
        assert statuses == ["✓ complete", "▶ running", "… notStarted", "✗ failed", "▶ running", "▶ running"]
        engine_row = table.row_texts(1)
        assert engine_row[2] == "62%"
        assert engine_row[4] == "10m"  # elapsed since submission (fixed clock), in whole minutes while running
        assert engine_row[5] == "08:00:45"  # next poll at (UTC)


async def test_columns_sort_and_the_cursor_stays_on_its_operation() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "down", "down", "down")
        table = app.screen.query_one(OpsTable)
        assert table.highlighted_key == 4
        await pilot.press("s")  # sort by user
        assert table.sort_column == "user"
        assert table.highlighted_key == 4
        users = [table.row_texts(i)[0] for i in range(table.row_count)]
        assert users == sorted(users, key=str.lower)
        await pilot.press("s")  # by status: failures first
        assert table.sort_column == "status"
        assert table.row_texts(0)[1] == "✗ failed"
        assert table.highlighted_key == 4
        await pilot.press("r")
        assert table.row_texts(table.row_count - 1)[1] == "✗ failed"
        # a status change re-sorts, the cursor follows its operation
        engine.emit(replace(engine.views[2], status="complete", state=FINAL, progress=100.0, next_poll_at=None))
        await until(pilot, lambda: table.views[2].status == "complete", what="the status change in the table")
        await settle(pilot)
        assert table.highlighted_key == 4
        assert "sort: Status ↓" in (app.screen.query_one("#operations-pane").border_subtitle or "")


async def test_enter_opens_the_whole_history_of_an_operation() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OperationDetailsScreen)
        history = screen.query_one("#history", DataTable)
        assert history.row_count == 4
        # (the details view belongs to the operations slice: only what the history must hold is checked here)
        first = [str(c) for c in history.get_row_at(0)]
        assert "202" in first and "60s" in first and "req-submit-0001" in first
        throttled = [str(c) for c in history.get_row_at(2)]
        assert "429" in throttled
        await pilot.press("c")
        assert app.clipboard == "req-poll-0004"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_filter_operations_from_the_command_palette_commands() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in (
            "Export selected profiles",
            "Filter operations: failed",
            "Filter operations: all",
            "Reload profiles",
            "Keys",
        ):
            assert title in commands
        commands["Filter operations: failed"].callback()
        await pilot.pause()
        table = app.screen.query_one(OpsTable)
        assert table.row_count == 1 and table.row_texts(0)[1] == "✗ failed"
        await pilot.press("f")  # cycles on to complete
        assert table.status_filter == "complete"
        commands["Filter operations: all"].callback()
        await pilot.pause()
        assert table.row_count == 6


async def test_command_palette_opens_with_ctrl_p() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"filter operations")
        await until(pilot, lambda: "Filter operations: failed" in screen_text(app), what="the palette's match")


async def test_help_lists_every_binding() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(f"{keys} {description}" for _section, keys, description in app.screen.rows)
        from console.tui.screens.help import _bindings

        for _title, node_type in app.screen.sections:
            for binding in _bindings(node_type):
                if binding.description:
                    assert (binding.tooltip or binding.description) in text, binding
        assert "Command palette" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_q_quits_and_stops_polling_without_asking() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.simulate_key("q")  # (pilot.press waits for a screen that is gone once the app exits)
        for _ in range(1200):  # until the engine is stopped (a minute at most: a busy machine is slow, not wrong)
            if engine.stopped:
                break
            await asyncio.sleep(0.05)
    assert engine.stopped
    assert app.return_code == 0


async def test_q_asks_first_while_exports_are_in_flight() -> None:
    services, engine = make_services()
    engine.submit_gate = asyncio.Event()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab", *"MyStorageAccount", "enter")
        await until(pilot, lambda: engine.posts_in_flight == 1, what="the POST in flight")
        await pilot.press("escape")  # the form hides; the POST goes on
        assert isinstance(app.screen, MainScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and not engine.stopped
        engine.submit_gate.set()
        await settle(pilot)
        assert engine.posts_in_flight == 0
        assert app.screen.query_one(OpsTable).row_count == 7
        app.simulate_key("q")
        for _ in range(1200):  # until the engine is stopped (a minute at most: a busy machine is slow, not wrong)
            if engine.stopped:
                break
            await asyncio.sleep(0.05)
    assert engine.stopped


async def test_journal_operations_appear_on_start() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert engine.started
        assert app.screen.query_one(OpsTable).row_count == len(engine.views)
        assert "6 operations" in text_of(app, "#ops-status")


# -- sign-in ---------------------------------------------------------------------------


async def test_login_pane_runs_the_device_code_flow() -> None:
    services, engine = make_services(signed_in=False, with_login=True)
    login = services.login
    assert isinstance(login, FakeLogin)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert "not signed in" in text_of(app, "#header")
        await pilot.press("down")  # fabrikam
        await pilot.press("up")  # contoso
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one("#device-code").display, what="the device code")
        assert "https://microsoft.com/devicelogin" in text_of(app, "#dc-url")
        assert "DEMO-4F7K" in text_of(app, "#dc-code")
        assert "expires in 15m00s" in text_of(app, "#dc-countdown")
        await pilot.press("c")
        assert app.clipboard == "DEMO-4F7K"
        login.approved.set()
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")


async def test_escape_cancels_the_device_code_flow() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        await until(pilot, lambda: screen.query_one("#device-code").display, what="the device code")
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.query_one("#device-code").display
        assert "cancelled" in text_of(app, "#login-status")
        assert isinstance(app.screen, LoginScreen)


async def test_a_failed_client_secret_sign_in_says_why() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        cast(RadioButton, screen.query_one("#methods").query("RadioButton").last()).value = True
        await pilot.pause()
        assert screen.query_one("#secret").display
        screen.query_one("#secret", Input).value = "wrong"
        screen.action_sign_in()
        await settle(pilot)
        assert "AADSTS7000215" in text_of(app, "#login-status")
        screen.query_one("#secret", Input).value = "s3cret"
        screen.action_sign_in()
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")


async def test_a_saved_sign_in_opens_the_console_silently() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    assert isinstance(services.login, FakeLogin)
    services.login.silent_ok = True
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")


async def test_sign_out_and_in_again() -> None:
    services, engine = make_services(with_login=True)
    assert isinstance(services.login, FakeLogin)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Sign out" in titles and "Switch tenant" in titles
        await app.action_sign_out()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert engine.stopped
        assert services.login.signed_out == [None]
        assert "Sign in" in [c.title for c in app.get_system_commands(cast("Screen[object]", app.screen))]
        services.login.approved.set()
        await pilot.press("enter")
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")


async def test_add_a_tenant_from_the_login_pane() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"woodgrove", "enter", *"woodgrove.onmicrosoft.com", "enter", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert [t.name for t in screen.tenants][-1] == "woodgrove"
        assert screen.selected_tenant is not None and screen.selected_tenant.name == "woodgrove"


async def test_token_sessions_have_nothing_to_sign_out_of() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Sign out" not in [c.title for c in app.get_system_commands(app.screen)]
        await app.action_sign_out()
        assert isinstance(app.screen, MainScreen)


async def test_elapsed_ticks_for_rows_on_screen() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(OpsTable)
        engine.clock.advance(60)
        table.tick()
        assert table.row_texts(1)[4] == "11m"
        assert table.row_texts(1)[5] == "due"  # its time has passed, not polled yet: never a time gone by
        assert table.row_texts(0)[4] == "24m00s"  # complete: stopped at completion
        await pilot.pause()
        assert "11m" in screen_text(app)  # the ticked cells were repainted


async def test_an_idle_table_changes_each_row_once_a_minute_not_every_second() -> None:
    """Issue 15: with nothing happening a row's cells change once a minute, not at every second's tick."""
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(OpsTable)
        keys = list(table.model.order)
        changes: dict[int, int] = {}
        for _ in range(59):  # a minute of one-second ticks: each running row changes once (its minute)
            engine.clock.advance(1)
            for key in table.model.tick(keys):
                changes[key] = changes.get(key, 0) + 1
        assert changes and max(changes.values()) == 1, changes


def test_now_is_fixed() -> None:
    assert FakeEngine().clock.now() == NOW
