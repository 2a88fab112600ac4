"""Each way the login pane asks to sign in (issue 16 folded them into one handler): Enter in the
secret's field and the Sign in button sign in, as Enter on the tenant list does; the Add tenant button
opens the form as n does."""

from __future__ import annotations

from typing import Any, cast

from textual.pilot import Pilot
from textual.widgets import Input, RadioButton

from console.tui.app import ConsoleApp
from console.tui.screens.add_tenant import AddTenantScreen
from console.tui.screens.login import LoginScreen
from console.tui.screens.main import MainScreen
from tests.tui.fakes import make_services


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    for _ in range(5):
        await pilot.pause()


async def _with_secret(pilot: Pilot[Any]) -> LoginScreen:
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    cast(RadioButton, screen.query_one("#methods").query("RadioButton").last()).value = True
    await pilot.pause()
    screen.query_one("#secret", Input).value = "s3cret"
    return screen


async def test_enter_in_the_secret_field_signs_in() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _with_secret(pilot)
        screen.query_one("#secret", Input).focus()
        await pilot.pause()
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_the_sign_in_button_signs_in() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await _with_secret(pilot)
        await pilot.click("#sign-in")
        await _settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_the_add_tenant_button_opens_the_form() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.click("#add-tenant")
        await _settle(pilot)
        assert isinstance(app.screen, AddTenantScreen)
