"""A saved tenant's ``read_only = true`` in the console (issue 19): as ``--read-only``, the export key, the
re-export from Operations, the palette's export command and removal (inbound and outbound) refuse, naming
the setting; the operations go on being shown."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from console.config import SavedTenant
from console.tui.app import ConsoleApp
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.screens.outbound import OutboundScreen
from console.tui.sessions import session_from_services
from console.tui.widgets.ops_table import OpsTable
from tests.tui.ops_fakes import burst
from tests.tui.test_console import settle
from tests.tui.test_outbound_view import fake_services

SETTING = "read_only = true for tenant contoso.onmicrosoft.com in config.toml"


def test_the_session_of_a_read_only_saved_tenant_is_read_only() -> None:
    def services(saved: SavedTenant | None) -> Any:
        return SimpleNamespace(
            client=SimpleNamespace(list_profiles=None),
            shared_profiles_available=True,
            engine=None,
            tenant_label="contoso",
            identity="admin",
            cloud="global",
            aclose=None,
            warm_up=None,
            storage_transport=None,
            journal_path=None,
            saved_tenant=saved,
        )

    assert session_from_services(services(SavedTenant("contoso", "t", read_only=True))).read_only
    assert not session_from_services(services(SavedTenant("contoso", "t"))).read_only
    assert not session_from_services(services(None)).read_only


async def test_a_read_only_tenant_refuses_every_change_and_names_the_setting() -> None:
    app = ConsoleApp(fake_services(read_only_tenant=True, operations=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, ["enter", "enter"])  # the export key on the profiles
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        main = app.screen
        assert isinstance(main, MainScreen)
        main.filter_operations("failed")  # the palette's "Filter operations: failed"
        await settle(pilot)
        burst(app, ["e"])  # export the failed one again from Operations
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one(OpsTable)
        assert table.views  # watching goes on: the operations are shown
        burst(app, ["1"])
        await settle(pilot)
        app.screen.export_profiles()  # the palette's "Export selected profiles"
        await settle(pilot)
        assert not any(isinstance(s, ExportScreen) for s in app.screen_stack)
        exports = [e.text for e in app.event_log if f"Read-only: export is refused ({SETTING})" in e.text]
        assert len(exports) == 4, [e.text for e in app.event_log]
        burst(app, ["delete", "1", "enter"])
        await settle(pilot)
        burst(app, ["4", "delete", "1", "enter"])
        await settle(pilot)
        assert isinstance(app.screen, OutboundScreen)
        removals = [e.text for e in app.event_log if f"Read-only: removal is refused ({SETTING})" in e.text]
        assert len(removals) == 2
