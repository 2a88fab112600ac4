"""Several tenants in one console (issue 18): one operations table with a Tenant column and ``tenant:NAME``,
the tenant named in the export form and its question, the picker switching the profile list, read-only per
tenant, and the pulse strip at 80x24 and 120x40 (SVG snapshots)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Static

from console.ops.status import PollingStatus
from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.pulse import PulseBoard, pulse_lines
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.services import ConsoleServices, HeaderInfo, Session
from console.tui.tenants import Sessions
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.pulse_strip import PulseStrip
from tests.tui.fakes import NOW, FakeBlobService, FakeEngine, FixedClock, make_profiles, paged_source, sample_views
from tests.tui.ops_fakes import burst
from tests.tui.test_snapshots import SAS, settle

NAMES = ("contoso", "fabrikam", "northwind")


class TenantEngine(FakeEngine):
    """A fake engine with a polling status (the pulse strip reads it) for one tenant."""

    status: PollingStatus | None = None

    def polling_status(self) -> PollingStatus | None:
        return self.status


def tenant_services(count: int, *, read_only: str = "") -> tuple[ConsoleServices, dict[str, TenantEngine]]:
    """``count`` tenants, each with its own fake engine (keys apart, as in one shared journal) and people."""
    clock = FixedClock()
    blob = FakeBlobService()
    sessions: list[Session] = []
    engines: dict[str, TenantEngine] = {}
    for number, name in enumerate(NAMES[:count]):
        people = make_profiles(20, seed=7 + number)
        views = [
            replace(v, key=v.key + 1000 * number, tenant_key=f"key-{name}") for v in sample_views(people)[: 3 + number]
        ]
        engine = TenantEngine(views, clock=clock, tenant_key=f"key-{name}")
        engine.status = PollingStatus(
            requests_this_hour=12 * (number + 1),
            per_hour=(9000, 9000, 120)[number],
            watching=len(views),
            next_poll_at=None,
            throttled_until=NOW + 40 if name == "fabrikam" else None,
        )
        engines[name] = engine
        session = Session(
            engine=engine,
            profiles=paged_source(people, 100),
            header=HeaderInfo(f"{name}.onmicrosoft.com", "admin@contoso.onmicrosoft.com"),
            name=name,
            read_only=name == read_only,
        )
        session.storage_transport = blob.transport()
        sessions.append(session)
    tenants = Sessions(sessions)
    services = ConsoleServices(session=sessions[0], clock=clock, live_ticks=False, tenants=tenants)
    return services, engines


def table(app: ConsoleApp) -> OpsTable:
    return app.screen.query_one(OpsTable)


def shown_tenants(app: ConsoleApp) -> list[str]:
    model = table(app).model
    return [model.cells[key]["tenant"] for key in model.order]


@pytest.mark.parametrize("count", [2, 3])
async def test_one_table_across_tenants_with_a_tenant_column_and_the_tenant_filter(count: int) -> None:
    services, engines = tenant_services(count)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert table(app).model.has_tenants
        assert sorted(set(shown_tenants(app))) == sorted(NAMES[:count])
        assert len(table(app).model.order) == sum(len(e.views) for e in engines.values())
        header = table(app).render_line(0).text
        assert "Tenant" in header
        counts = str(app.screen.query_one("#ops-status", Static).render())  # counts per tenant
        assert all(f"{name} {len(engine.views)}" in counts for name, engine in engines.items()), counts
        burst(app, ["2", "/", *"tenant:fabrikam"])
        await settle(pilot)
        assert shown_tenants(app) == ["fabrikam"] * len(engines["fabrikam"].views)
        burst(app, ["escape", "/", *"!tenant:fabrikam"])
        await settle(pilot)
        assert "fabrikam" not in shown_tenants(app) and shown_tenants(app)


async def test_one_tenant_shows_no_tenant_column_and_no_pulse_strip() -> None:
    services, _engines = tenant_services(1)
    services.tenants = None
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not table(app).model.has_tenants
        assert "Tenant" not in table(app).render_line(0).text
        assert not app.screen.query_one(PulseStrip).display


async def test_the_export_question_and_form_name_the_picked_tenant() -> None:
    services, engines = tenant_services(3)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")  # contoso -> fabrikam: the profile list shows fabrikam's people
        await settle(pilot)
        assert services.tenants.current == "fabrikam"
        await pilot.press(*["down"] * 10, "space", "down", "space", "down", "space", "enter", "tab")  # no export yet
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert "in fabrikam" in str(form.query_one("#export-dialog").border_title)
        await pilot.press(*SAS, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "Export the personal data of 3 people in fabrikam to" in question
        await pilot.press("y")
        await settle(pilot)
        assert len(engines["fabrikam"].calls) == 1 and not engines["contoso"].calls
        assert "for fabrikam" in str(form.query_one("#export-quota", Static).render())


async def test_the_picker_switches_the_profile_list() -> None:
    services, _engines = tenant_services(3)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first = app.screen.query_one(ProfileList).highlighted_user_id
        assert "contoso" in str(app.screen.query_one("#profiles-pane").border_title)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "fabrikam" in str(app.screen.query_one("#profiles-pane").border_title)
        assert app.screen.query_one(ProfileList).highlighted_user_id != first
        assert app.screen.query_one(ProfileList).highlighted_user_id in {p.user_id for p in make_profiles(20, seed=8)}
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.action_pick_tenant("northwind")  # the palette's "Show profiles of northwind"
        await settle(pilot)
        assert services.tenants.current == "northwind"
        assert app.screen.query_one(ProfileList).highlighted_user_id in {p.user_id for p in make_profiles(20, seed=9)}


async def test_a_read_only_tenant_refuses_and_the_others_export() -> None:
    services, engines = tenant_services(2, read_only="fabrikam")
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", "enter")  # fabrikam is read-only: the export form never opens
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        refusal = app.event_log.entries[-1]
        assert "Read-only" in refusal.text and "fabrikam" in refusal.title
        await pilot.press("ctrl+t", "enter")  # contoso is not
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert not engines["fabrikam"].calls


def test_the_pulse_figures_come_from_each_engine() -> None:
    services, engines = tenant_services(3)
    engines["northwind"].views = {
        k: replace(v, last_error="x", state="final", status="failed") for k, v in engines["northwind"].views.items()
    }
    board = PulseBoard(services.tenants, FixedClock().now)
    pulses = {pulse.tenant: pulse for pulse in board.pulses()}
    assert pulses["fabrikam"].state == "throttled" and pulses["contoso"].state == "ok"
    assert (pulses["northwind"].polls_this_hour, pulses["northwind"].poll_budget) == (36, 120)
    assert pulses["northwind"].failed == len(engines["northwind"].views)
    assert pulses["contoso"].unfinished == sum(1 for v in engines["contoso"].views.values() if not v.is_done)
    lines = pulse_lines(list(pulses.values()), NOW, compact=False)
    assert len(lines) == 3 and "polls 36/120 this hour" in lines[2]
    assert len(pulse_lines(list(pulses.values()), NOW, compact=True)) == 1


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_pulse_strip_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    services, _engines = tenant_services(3)
    assert snap_compare(ConsoleApp(services), terminal_size=size, run_before=run_before)


async def test_the_demo_opens_three_tenants_each_with_its_own_engine_and_budget(tmp_path: Any) -> None:
    from console.tui.entry import build_console_services
    from console.wiring import ConnectionOptions
    from tests.tui.waiting import until

    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    assert services.tenants is not None and services.tenants.names() == list(NAMES)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: set(shown_tenants(app)) == set(NAMES), what="every tenant's exports")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        pulses = {pulse.tenant: pulse for pulse in screen.board.pulses()}
        assert pulses["northwind"].poll_budget == 120 and pulses["contoso"].poll_budget > 120
        sims = services.extra["simulated_tenants"]
        assert sims[1].graph.faults.sporadic_fraction > 0 and not sims[0].graph.faults.sporadic_fraction
        await app.action_quit()


def test_the_one_line_strip_names_every_tenants_figures_at_80_columns() -> None:
    """At 80x24 the one-line strip drops detail (exports left, then polls, then long words) until every
    tenant's unfinished and failed figures fit, so a throttled tenant never pushes another off the line."""
    services, engines = tenant_services(3)
    engines["northwind"].views = {
        k: replace(v, last_error="x", state="final", status="failed") for k, v in engines["northwind"].views.items()
    }
    pulses = [replace(p, exports_left_today=988) for p in PulseBoard(services.tenants, FixedClock().now).pulses()]
    wide = pulse_lines(pulses, NOW, compact=True)[0]
    assert "left" in wide and "/9k" in wide
    for width in (78, 60):
        (line,) = pulse_lines(pulses, NOW, compact=True, width=width)
        assert len(line) <= width, (width, line)
        for pulse in pulses:
            assert f"{pulse.tenant} " in line and f" {pulse.unfinished}▸" in line, (width, line)
        northwind = line.split("northwind", 1)[1]
        assert f" {pulses[2].failed}✗" in northwind, line
