"""The console against the real pieces: SimulatedTenant + GraphClient + OperationsEngine + journal (--demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerFailed

from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.entry import DEMO_RUNNING, DEMO_STORAGE, build_console_services
from console.tui.screens.export import ExportScreen
from console.tui.screens.login import LoginScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.storage_input import StorageLocationInput
from console.wiring import ConnectionOptions


async def wait_for(pilot: Pilot[Any], condition: object, seconds: float = 10.0) -> None:
    for _ in range(int(max(seconds, 60.0) / 0.05)):  # waits for the state; gives up late (a busy machine is slow)
        if condition():  # type: ignore[operator]
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def settle(pilot: Pilot[Any]) -> None:
    try:
        await pilot.app.workers.wait_for_complete()
    except WorkerFailed:
        pass
    await pilot.pause(0.1)


async def test_demo_opens_signed_in_with_profiles_and_running_exports(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one(OpsTable)
        await wait_for(pilot, lambda: table.row_count >= DEMO_RUNNING)
        assert len(app.screen.index) == 300
        assert "DEMO" in str(app.screen.query_one("#header").render())
        # export one more profile through the form, to a SAS URL whose signature stays hidden
        await pilot.press("end", "enter", "tab")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one(
            "#storage", StorageLocationInput
        ).value = DEMO_STORAGE  # the demo's blob stand-in checks the SAS before the POST (pre-flight)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.outcomes is not None)
        assert screen.outcomes is not None and screen.outcomes[0].accepted, screen.outcomes
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count >= DEMO_RUNNING + 1)
        sim = services.extra["simulated_tenant"]
        assert all("demo-not-a-secret" not in view.storage_location for view in table.views.values())
        assert sim.graph.operation_ids()
        await app.action_quit()


async def test_demo_operations_resume_from_the_journal(tmp_path: Path) -> None:
    first = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(first)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(OpsTable)
        await wait_for(pilot, lambda: table.row_count >= DEMO_RUNNING)
        keys = set(table.views)
        await app.action_quit()
    again = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(again)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(OpsTable)
        await wait_for(pilot, lambda: keys <= set(table.views))
        assert not any(view.state == "error" for view in table.views.values())
        await app.action_quit()


async def test_demo_sign_out_and_in_with_the_simulated_device_code(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tenants = services.tenants
        for left in (2, 1):  # the demo's three tenants: each sign-out asks, naming one; the others keep polling
            app.call_later(app.action_sign_out)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda n=left: len(tenants.live) == n and isinstance(app.screen, MainScreen))
        await app.action_sign_out()  # the last one: the login pane, as with one tenant
        await pilot.pause()
        login = app.screen
        assert isinstance(login, LoginScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: login.prompt is not None)
        assert login.prompt is not None and login.prompt.user_code
        assert login.prompt.user_code in str(login.query_one("#dc-code").render())
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, MainScreen)
                and app.screen.is_mounted
                and "signed in as" in str(app.screen.query_one("#header").render())
            ),
            seconds=15,
        )
        await wait_for(pilot, lambda: len(app.screen.query_one(ProfileList).index) == 300)
        await app.action_quit()
