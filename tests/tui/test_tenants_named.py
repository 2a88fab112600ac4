"""Several tenants in one console (issue 18): the tenant is named in every question, form and toast about
operations, cases or profiles (stop watching, a failure alert, the Outbound view, removal refusals)."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Static

from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.screens.outbound import OutboundScreen
from console.tui.widgets.ops_table import OpsTable
from tests.tui.ops_fakes import burst
from tests.tui.test_tenants_console import tenant_services
from tests.tui.waiting import until


def titles(app: ConsoleApp) -> list[str]:
    return [entry.title for entry in app.event_log]


async def test_stop_watching_and_a_failure_alert_name_the_tenant() -> None:
    services, engines = tenant_services(3)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(OpsTable).model.order, what="the operations")
        watched = next(v for v in engines["fabrikam"].views.values() if v.state == "tracking")
        burst(app, ["2", "/", *"tenant:fabrikam", "enter"])
        table = app.screen.query_one(OpsTable)
        model = table.model
        await until(
            pilot,
            lambda: {model.tenant_of(model.views[key]) for key in model.order} == {"fabrikam"},
            what="fabrikam's operations only",
        )
        table.move_cursor(table.model.order.index(watched.key))
        burst(app, ["d"])
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "Stop watching 1 export in fabrikam" in question
        assert "in fabrikam" in str(app.screen.query_one("#confirm-dialog").border_title)
        await pilot.press("y")
        await until(pilot, lambda: "Stop watching in fabrikam" in titles(app), what="the toast naming fabrikam")
        failed = next(v for v in engines["northwind"].views.values() if not v.is_done)
        engines["northwind"].emit(replace(failed, state="final", status="failed", last_error="denied"))
        await until(pilot, lambda: "Export failed in northwind" in titles(app), what="the alert naming northwind")


async def test_the_outbound_view_and_a_refused_removal_name_the_picked_tenant() -> None:
    services, _engines = tenant_services(3)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(OpsTable).model.order, what="the operations")
        await pilot.press("ctrl+t")  # fabrikam
        await until(pilot, lambda: services.tenants.current == "fabrikam", what="fabrikam picked")
        burst(app, ["delete"])  # removal is off for fabrikam: the refusal names it
        await until(pilot, lambda: "Remove in fabrikam" in titles(app), what="the refusal naming fabrikam")
        burst(app, ["4"])
        await until(pilot, lambda: isinstance(app.screen, OutboundScreen), what="the Outbound view")
        await until(
            pilot,
            lambda: "fabrikam" in str(app.screen.query_one("#outbound-list").border_title),
            what="its title naming fabrikam",
        )
