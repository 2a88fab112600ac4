"""Several tenants in one console (issue 18): signing out of one, or one whose token fails, leaves the others
polling. The demo's three simulated tenants (real engines, one shared journal) on a ManualClock: time moves
only when the test says, so "its operations do not advance" is a fact, not a wait."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from textual.widgets import Static

from console.clock import ManualClock
from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.entry import build_console_services
from console.tui.screens.main import MainScreen
from console.tui.tenants import NOT_WATCHED, Sessions
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.pulse_strip import PulseStrip
from console.wiring import ConnectionOptions
from tests.tui.waiting import until

NAMES = ("contoso", "fabrikam", "northwind")


def unfinished(app: ConsoleApp) -> dict[str, int]:
    """Unfinished operations shown, per tenant."""
    model = app.screen.query_one(OpsTable).model
    totals = dict.fromkeys(NAMES, 0)
    for view in model.views.values():
        totals[model.tenant_of(view)] += not view.is_done
    return totals


def polls(app: ConsoleApp) -> dict[str, int]:
    """Polls of every operation shown, per tenant (what the table says Graph was asked)."""
    model = app.screen.query_one(OpsTable).model
    totals = dict.fromkeys(NAMES, 0)
    for view in model.views.values():
        totals[model.tenant_of(view)] += view.polls
    return totals


async def advance_until(app: ConsoleApp, pilot: Any, clock: ManualClock, condition: Any, what: str) -> None:
    """Move the clock a poll interval at a time (letting the engines answer) until ``condition()``."""

    def moved() -> bool:
        if condition():
            return True
        clock.advance(5)
        return False

    await until(pilot, moved, what=what)


async def finish(app: ConsoleApp, pilot: Any, clock: ManualClock, names: tuple[str, ...]) -> None:
    """Move the clock until every operation of the tenants ``names`` has finished."""
    await advance_until(app, pilot, clock, lambda: not any(unfinished(app)[n] for n in names), f"{names} finishing")


async def open_demo(tmp_path: Path, pilot_size: tuple[int, int] = (120, 40)) -> tuple[ConsoleApp, ManualClock]:
    clock = ManualClock()
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)), clock=clock)
    services.live_ticks = False
    return ConsoleApp(services), clock


def palette_text(app: ConsoleApp) -> str:
    from textual.command import CommandList

    found = app.screen.query(CommandList)
    return (
        " ".join(str(found.first().get_option_at_index(i).prompt) for i in range(found.first().option_count))
        if found
        else ""
    )


def strip_text(app: ConsoleApp) -> str:
    return str(app.screen.query_one(PulseStrip).render())


async def test_signing_out_of_one_tenant_leaves_the_others_polling(tmp_path: Path) -> None:
    app, clock = await open_demo(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        tenants = app.services.tenants
        assert isinstance(tenants, Sessions)
        await pilot.press("ctrl+t")  # the profiles show fabrikam: sign-out acts on it
        await until(pilot, lambda: tenants.current == "fabrikam", what="fabrikam picked")
        await until(pilot, lambda: all(unfinished(app).values()), what="every tenant's exports")  # clock still
        await pilot.press("ctrl+p", *"Sign out of")  # the palette's "Sign out of fabrikam"
        await until(pilot, lambda: "Sign out of fabrikam" in palette_text(app), what="the palette's command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "Sign out of fabrikam?" in question and "contoso and northwind keep polling" in question
        await pilot.press("y")
        await until(pilot, lambda: "fabrikam" in tenants.signed_out, what="fabrikam signed out")
        await until(
            pilot,
            lambda: any("Signed out of fabrikam; contoso and northwind keep polling" in e.text for e in app.event_log),
            what="the toast",
        )
        assert isinstance(app.screen, MainScreen)
        assert tenants.current == "northwind" and tenants.names() == ["contoso", "northwind"]
        fabrikam = tenants.sessions[1].engine
        assert not getattr(fabrikam, "running", True)  # its engine is stopped and dropped
        table_engine = tenants.table_session.engine
        assert fabrikam not in getattr(table_engine, "engines", [])
        before, left = polls(app), unfinished(app)["fabrikam"]
        fabrikam_graph = app.services.extra["simulated_tenants"][1].graph
        sent = len(fabrikam_graph.requests)
        await finish(app, pilot, clock, ("contoso", "northwind"))
        assert polls(app)["contoso"] > before["contoso"] and polls(app)["northwind"] > before["northwind"]
        assert polls(app)["fabrikam"] == before["fabrikam"] and unfinished(app)["fabrikam"] == left
        assert len(fabrikam_graph.requests) == sent  # nothing more was asked of fabrikam's Graph
        model = app.screen.query_one(OpsTable).model
        fabrikam_rows = [v for v in model.views.values() if model.tenant_of(v) == "fabrikam"]
        assert fabrikam_rows  # its rows stay in the table, the unfinished marked as not watched
        assert all(NOT_WATCHED in v.last_error for v in fabrikam_rows if not v.is_done)
        assert any(not v.is_done for v in fabrikam_rows)
        assert re.search(r"fabrikam +signed out", strip_text(app))
        await app.action_quit()


async def test_a_failing_token_on_one_tenant_leaves_the_others_polling(tmp_path: Path) -> None:
    app, clock = await open_demo(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: all(unfinished(app).values()), what="every tenant's exports")  # clock still
        sims = app.services.extra["simulated_tenants"]
        sims[2].graph.faults.unauthorized_next = 10_000  # northwind's token is refused from now on
        await advance_until(app, pilot, clock, lambda: "sign-in failed" in strip_text(app), "northwind set aside")
        assert re.search(r"northwind +sign-in failed", strip_text(app))
        left = unfinished(app)["northwind"]
        await finish(app, pilot, clock, ("contoso", "fabrikam"))
        assert unfinished(app)["northwind"] == left and left
        assert re.search(r"northwind +sign-in failed", strip_text(app))
        await app.action_quit()
