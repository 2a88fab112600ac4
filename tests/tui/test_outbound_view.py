"""The Outbound view (key 4 or the palette, issue 19): our users whose data other tenants hold, and the
removal of one user's data from one tenant, with the same rules as ``remove --outbound``.

Keys are sent in bursts: a burst of Enter or ``y`` never answers the removal question; refusals say why
and send nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from console.tui.app import ConsoleApp
from console.tui.dialogs.remove import OutboundRemoveScreen
from console.tui.entry import build_console_services
from console.tui.screens.main import MainScreen
from console.tui.screens.outbound import OutboundScreen
from console.wiring import ConnectionOptions
from tests.tui.fakes import make_services
from tests.tui.ops_fakes import burst
from tests.tui.test_console import settle
from tests.tui.test_real_engine import wait_for

HOLDINGS = {
    "1c4b0e2a-0000-4000-8000-000000000001": ["9a8b7c6d-0000-4000-8000-0000000000aa"],
    "2d5c1f3b-0000-4000-8000-000000000002": [
        "9a8b7c6d-0000-4000-8000-0000000000aa",
        "5e6f7a8b-0000-4000-8000-0000000000bb",
    ],
}


class FakeOutboundClient:
    """Lists ``HOLDINGS`` as Graph's outbound family would (the listing only: it never removes)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def list_outbound_profiles(self) -> list[str]:
        self.calls.append("list")
        return list(HOLDINGS)

    async def outbound_tenants(self, user_id: str) -> list[str]:
        self.calls.append(user_id)
        return list(HOLDINGS[user_id])


def fake_services(*, allow: bool = True, read_only_tenant: bool = False, operations: bool = False) -> Any:
    services, engine = make_services(views=None if operations else [], profiles=20)
    session = services.session
    assert session is not None
    session.allow_removal = allow
    session.read_only = read_only_tenant
    session.services = SimpleNamespace(engine=engine, client=FakeOutboundClient())
    return services


def shown_tenants(app: ConsoleApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, OutboundScreen)
    return [f"{line.user_id} {line.tenant_id}" for line in screen.lines if line.tenant_id]


async def test_key_4_lists_our_users_with_the_tenants_holding_their_data() -> None:
    app = ConsoleApp(fake_services())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OutboundScreen)
        assert shown_tenants(app) == [f"{u} {t}" for u, ts in HOLDINGS.items() for t in ts]
        assert isinstance(app.focused, OptionList)
        highlighted = screen.highlighted()  # the first tenant line, never a user line
        assert highlighted is not None and highlighted.tenant_id == HOLDINGS[next(iter(HOLDINGS))][0]
        status = str(screen.query_one("#outbound-status", Static).render())
        assert "2 users · held at 3 tenants" in status
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_the_command_palette_opens_the_outbound_view() -> None:
    app = ConsoleApp(fake_services())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"outbound")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OutboundScreen)
        assert len(shown_tenants(app)) == 3


async def test_refusals_say_why_and_open_no_question() -> None:
    # Removal off, then a read-only tenant (its read_only = true), then --read-only: each names its setting.
    for services, words in (
        (fake_services(allow=False), "allow_removal = true"),
        (fake_services(read_only_tenant=True), "read_only = true for tenant contoso.onmicrosoft.com"),
    ):
        app = ConsoleApp(services)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            burst(app, ["4", "delete", "enter", "y", "1", "enter"])
            await settle(pilot)
            assert isinstance(app.screen, OutboundScreen)
            assert any(words in entry.text for entry in app.event_log), words
    services = fake_services()
    services.read_only = True
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, ["4", "delete"])
        await settle(pilot)
        assert isinstance(app.screen, OutboundScreen)
        assert any("Read-only: removal is refused (--read-only)" in e.text for e in app.event_log)


async def test_typing_1_sends_the_outbound_removal_and_a_second_is_refused(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        sim = services.extra["simulated_tenant"]
        assert services.session is not None
        services.session.allow_removal = True
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, OutboundScreen) and bool(app.screen.lines))
        outbound = app.screen
        assert isinstance(outbound, OutboundScreen)
        line = outbound.highlighted()
        assert line is not None and line.tenant_id in sim.graph.outbound[line.user_id]
        burst(app, ["delete", "enter", "enter", "y", "y", "enter"])
        await settle(pilot)
        question = app.screen
        assert isinstance(question, OutboundRemoveScreen) and not sim.graph.removals
        # A burst of Enter and y never answered (the count box takes digits only, Enter there needs the number).
        case_box = question.query_one("#remove-case", Input)
        case_box.value = ""
        question.set_focus(case_box)
        await pilot.press(*"DSR-8")
        hint = " ".join(str(question.query_one("#remove-hint", Static).render()).split())
        assert line.tenant_id in hint and line.user_id in hint and "for case DSR-8" in hint
        question_text = " ".join(str(question.query_one("#remove-question", Static).render()).split())
        assert line.tenant_id in question_text and line.user_id in question_text
        await pilot.press("enter", "enter", "y", "enter", "2", "enter")
        await settle(pilot)
        assert app.screen is question and not sim.graph.removals
        await pilot.press("backspace")
        await pilot.press("1", "enter")
        await wait_for(pilot, lambda: len(sim.graph.removals) == 1)
        assert sim.graph.removals[0][:2] == (line.user_id, line.tenant_id)
        await wait_for(pilot, lambda: not isinstance(app.screen, OutboundRemoveScreen) and bool(outbound.highlighted()))
        assert isinstance(app.screen, OutboundScreen)
        await wait_for(pilot, lambda: "removal requested" in (outbound.highlighted() or line).removal)
        engine = services.session.services.engine
        (row,) = [r for r in engine.writer.journal.rows(engine.tenant_key) if r.kind == "removal"]
        assert (row.case, row.target_tenant, row.status) == ("DSR-8", line.tenant_id.lower(), "requested")
        # The same user at the same tenant again: refused, naming when, nothing sent.
        burst(app, ["delete", *"DSR-8", "enter", "1", "enter"])
        await settle(pilot)
        assert len(sim.graph.removals) == 1

        assert any("already requested" in e.text and "UTC" in e.text for e in app.event_log)
        await app.action_quit()


def test_the_outbound_view_and_its_question_fit_80x24(snap_compare: Callable[..., bool]) -> None:
    """You should see the question 'Remove our user's data at another tenant' asking tenant 9a8b7c6d-… to
    remove the profile data it holds of our user 1c4b0e2a-…, sent by contoso.onmicrosoft.com, the case box
    holding DSR-3, the count box (focused, empty: y is no digit) and the hint 'Type 1 and Enter to ask tenant … to remove user … for case DSR-3', over the
    Outbound view listing two users with the tenants under them."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        burst(pilot.app, ["4", "delete", *"DSR-3", "enter", "y", "y"])
        await settle(pilot)

    assert snap_compare(ConsoleApp(fake_services()), terminal_size=(80, 24), run_before=run_before)


def test_the_outbound_view_fits_80x24(snap_compare: Callable[..., bool]) -> None:
    """You should see 'Outbound: our users whose data other tenants hold' as the list's title, the status
    '2 users · held at 3 tenants', user 1c4b0e2a-… with one tenant under it (highlighted) and user
    2d5c1f3b-… with two, and the footer's Remove, Reload and Back keys."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        burst(pilot.app, ["4"])
        await settle(pilot)

    assert snap_compare(ConsoleApp(fake_services()), terminal_size=(80, 24), run_before=run_before)


async def test_with_several_tenants_the_outbound_view_names_the_picked_one(tmp_path: Path) -> None:
    """The demo's three tenants: the view has no header, so its title says whose users these are (burst)."""
    app = ConsoleApp(build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path))))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(pilot.app, ["4"])
        await settle(pilot)
        assert isinstance(app.screen, OutboundScreen)
        title = str(app.screen.query_one(OptionList).border_title)
        assert "contoso" in title and title.startswith("Outbound")
        burst(pilot.app, ["escape"])
        await settle(pilot)
        burst(pilot.app, ["ctrl+t", "4"])
        await settle(pilot)
        assert isinstance(app.screen, OutboundScreen)
        assert "fabrikam" in str(app.screen.query_one(OptionList).border_title)
        await app.action_quit()
