"""Several tenants in one console (issue 18): signing in again to a tenant signed out of, without restarting.

"Sign out of NAME" says its operations stay in the journal and that signing in to NAME again resumes them;
the palette's "Sign in to NAME" does it: the tenant's own ways in (silently first, else its device code, shown
as the login pane shows it), then its engine joins the table and its unfinished operations are polled again.
The demo's three simulated tenants (real engines, one journal) on a ManualClock, and two saved tenants.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from textual.widgets import Static

from console.config import SavedTenant, SignInMethod
from console.paths import Paths
from console.sim.tenant import DEMO_LOGIN_URL
from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.entry import build_console_services
from console.tui.screens.main import MainScreen
from console.tui.screens.sign_in_again import SignInAgainScreen
from console.tui.sessions import SavedTenantLogin
from console.tui.tenants import NOT_WATCHED, Sessions
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.ops_table import OpsTable
from console.wiring import ConnectionOptions
from tests.tui.test_tenants_saved import saved_two  # noqa: F401 (the fixture)
from tests.tui.test_tenants_signout import (
    advance_until,
    finish,
    open_demo,
    palette_text,
    polls,
    strip_text,
    unfinished,
)
from tests.tui.waiting import until


def sessions_of(app: ConsoleApp) -> Sessions:
    tenants = app.services.tenants
    assert isinstance(tenants, Sessions)
    return tenants


def main_screen(app: ConsoleApp) -> MainScreen:
    screen = app.screen_stack[1]
    assert isinstance(screen, MainScreen)
    return screen


def rows_of(app: ConsoleApp, name: str) -> list[Any]:
    model = main_screen(app).query_one(OpsTable).model
    return [view for view in model.views.values() if model.tenant_of(view) == name]


def code_shown(app: ConsoleApp) -> str:
    screen = app.screen
    if not isinstance(screen, SignInAgainScreen) or screen.prompt is None:
        return ""
    return str(screen.query_one("#dc-code", Static).render())


async def sign_out(app: ConsoleApp, pilot: Any, name: str) -> None:
    """Sign out of ``name`` as "Sign out of NAME" does once answered."""
    await main_screen(app).sign_out_tenant(name)
    await until(pilot, lambda: name in sessions_of(app).signed_out, what=f"{name} signed out")


async def test_signing_in_again_from_the_palette_resumes_its_exports_and_the_others_never_stopped(
    tmp_path: Path,
) -> None:
    app, clock = await open_demo(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        tenants = sessions_of(app)
        await until(pilot, lambda: all(unfinished(app).values()), what="every tenant's exports")  # clock still
        others = {name: tenants.get(name) for name in ("contoso", "northwind")}
        await sign_out(app, pilot, "fabrikam")
        assert "Sign in to fabrikam" not in palette_text(app)
        left = unfinished(app)["fabrikam"]
        before = polls(app)
        await advance_until(app, pilot, clock, lambda: polls(app)["contoso"] > before["contoso"], "contoso polling")
        assert polls(app)["fabrikam"] == before["fabrikam"]  # signed out: not polled

        await pilot.press("ctrl+p", *"Sign in to fabrikam", "enter")  # one burst
        await until(pilot, lambda: code_shown(app), what="fabrikam's device code")
        screen = app.screen
        assert isinstance(screen, SignInAgainScreen) and screen.prompt is not None
        assert screen.prompt.user_code in code_shown(app)
        header = str(screen.query_one(ConsoleHeader).render())  # the tenants still signed in, as on the main screen
        assert "contoso" in header and "northwind" in header
        await pilot.press("c")  # the code is copyable, as on the login pane
        assert any(f"Copied {screen.prompt.user_code}" in e.text for e in app.event_log)

        # Its own simulated identity approves the code by itself a few (simulated) seconds later.
        await advance_until(app, pilot, clock, lambda: "fabrikam" not in tenants.signed_out, "fabrikam signed in")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="back on the main screen")
        await until(
            pilot, lambda: any("Signed in to fabrikam again" in e.text for e in app.event_log), what="the toast"
        )
        assert tenants.names() == ["contoso", "fabrikam", "northwind"]  # in the same place
        table_engine = tenants.table_session.engine
        fabrikam = tenants.get("fabrikam")
        assert fabrikam is not None and getattr(table_engine, "engines", [])[1] is fabrikam.engine
        for name, session in others.items():  # never stopped, never replaced
            assert session is not None and tenants.get(name) is session
            assert getattr(session.engine, "running", False)
        assert "fabrikam" in str(main_screen(app).query_one(ConsoleHeader).render())
        assert not re.search(r"fabrikam +signed out", strip_text(app))
        await until(
            pilot,
            lambda: not any(NOT_WATCHED in (v.last_error or "") for v in rows_of(app, "fabrikam")),
            what="its rows watched again",
        )
        assert unfinished(app)["fabrikam"] == left
        assert not any(NOT_WATCHED in (v.last_error or "") for v in table_engine.operations())

        before = polls(app)
        await finish(app, pilot, clock, ("contoso", "fabrikam", "northwind"))
        assert polls(app)["fabrikam"] > before["fabrikam"]  # its exports were polled again, to completion
        assert not unfinished(app)["fabrikam"]
        assert "Sign in to fabrikam" not in palette_text(app)
        await app.action_quit()


async def test_cancelling_the_sign_in_leaves_the_tenant_signed_out(tmp_path: Path) -> None:
    app, clock = await open_demo(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        tenants = sessions_of(app)
        await until(pilot, lambda: all(unfinished(app).values()), what="every tenant's exports")
        main_screen(app).action_pick_tenant("northwind")
        await pilot.press("ctrl+p", *"Sign out of", "enter")  # "Sign out of northwind" asks first
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert '"Sign in to northwind" in the palette resumes them' in question  # the way back is named
        await pilot.press("y")
        await until(pilot, lambda: "northwind" in tenants.signed_out, what="northwind signed out")
        await pilot.press("ctrl+p", *"Sign in to")
        await until(pilot, lambda: "Sign in to northwind" in palette_text(app), what="the palette's command")
        await pilot.press("enter")
        await until(pilot, lambda: code_shown(app), what="northwind's device code")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="back on the main screen")
        assert any("Not signed in to northwind: it stays signed out" in e.text for e in app.event_log)
        left = unfinished(app)["northwind"]
        await finish(app, pilot, clock, ("contoso", "fabrikam"))  # long past the approval it would have got
        assert "northwind" in tenants.signed_out and tenants.names() == ["contoso", "fabrikam"]
        assert unfinished(app)["northwind"] == left
        assert re.search(r"northwind out", strip_text(app)) or "northwind signed out" in strip_text(app)
        assert not any("Signed in to northwind" in e.text for e in app.event_log)
        await app.action_quit()


async def test_a_saved_tenant_signs_in_again_with_its_token_variable_without_a_prompt(
    saved_two: Path,  # noqa: F811 (the fixture)
) -> None:
    options = ConnectionOptions(state_dir=str(saved_two), all_tenants=True)
    services = await asyncio.to_thread(build_console_services, options)  # as run_console does, before the app
    services.live_ticks = False
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        tenants = sessions_of(app)
        await sign_out(app, pilot, "beta")
        await pilot.press("ctrl+p", *"Sign in to beta", "enter")
        await until(pilot, lambda: "beta" not in tenants.signed_out, what="beta signed in again")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="back on the main screen")
        assert tenants.names() == ["alpha", "beta"]
        beta = tenants.get("beta")
        assert beta is not None and beta.engine in getattr(tenants.table_session.engine, "engines", [])
        assert any("Signed in to beta again" in e.text for e in app.event_log)
        await app.action_quit()


async def test_a_saved_tenant_that_needs_a_device_code_shows_it(saved_two: Path) -> None:  # noqa: F811
    from console.auth.signin import SignIn
    from console.auth.transport import TransportHttpClient
    from console.sim.tenant import SimulatedTenant

    options = ConnectionOptions(state_dir=str(saved_two), all_tenants=True)
    services = await asyncio.to_thread(build_console_services, options)  # as run_console does, before the app
    services.live_ticks = False
    tenants = services.tenants
    assert isinstance(tenants, Sessions)
    sim = SimulatedTenant(profiles=2)
    sim.identity.auto_approve_after = None  # nobody enters the code
    sim.identity.poll_interval = 1
    paths = Paths.resolve(saved_two)
    saved = SavedTenant(
        name="beta",
        tenant=sim.tenant_domain,
        method=SignInMethod.DEVICE_CODE,
        authority=f"{DEMO_LOGIN_URL}/{sim.tenant_id}",
    )
    tenants.logins["beta"] = SavedTenantLogin(  # beta as saved with a device code, against a simulated identity
        paths,
        tenants=[saved],
        make_signin=lambda chosen: SignIn(
            chosen, paths, http_client=TransportHttpClient(sim.sync_transport()), persist=False
        ),
    )
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_out(app, pilot, "beta")
        await pilot.press("ctrl+p", *"Sign in to beta", "enter")
        await until(pilot, lambda: code_shown(app), what="beta's device code")
        screen = app.screen
        assert isinstance(screen, SignInAgainScreen) and screen.prompt is not None
        assert screen.prompt.user_code in code_shown(app)
        assert "Esc cancels" in str(screen.query_one("#device-code .hint", Static).render())
        sim.identity.decline()  # the admin declines it on the verification page: the sign-in fails
        status = screen.query_one("#login-status", Static)
        await until(pilot, lambda: "Sign-in failed" in str(status.render()), what="why, under the form")
        assert any(e.severity == "error" for e in app.event_log)  # and through the App's failure handler
        assert "beta" in tenants.signed_out and tenants.names() == ["alpha"]  # nothing changed
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="back on the main screen")
        assert "beta" in tenants.signed_out
        assert "Sign in to beta" in [str(c.title) for c in app.get_system_commands(app.screen)]
        await app.action_quit()
