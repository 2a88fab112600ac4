"""The export form opens its case as ``export --case`` does (issue 19, through the one submission path of issue 16).

A case never opened is opened by its first export (received today, due one calendar month later, the rule of
``case open``) and the console says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from console.ops.cases import CaseStore, default_due, utc_date
from console.ops.journal import OperationJournal
from console.tui.app import ConsoleApp
from console.tui.entry import DEMO_STORAGE, build_console_services
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.storage_input import StorageLocationInput
from console.wiring import ConnectionOptions
from tests.tui.test_real_engine import settle, wait_for


async def export_one(app: ConsoleApp, pilot: Pilot[Any], case: str) -> ExportScreen:
    """Export one profile of the demo through the form, under ``case``; the form with Graph's answers."""
    await pilot.press("end", "enter")
    form = app.screen
    assert isinstance(form, ExportScreen)
    form.query_one("#case", Input).value = case
    form.query_one("#storage", StorageLocationInput).value = DEMO_STORAGE
    form.set_focus(form.query_one("#storage", StorageLocationInput))
    await pilot.press("enter")
    await wait_for(pilot, lambda: form.outcomes is not None)
    assert form.outcomes is not None and form.outcomes[0].accepted, form.outcomes
    await pilot.press("escape")
    return form


async def test_the_export_form_opens_a_new_case_with_the_deadline_rule_and_says_so(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        session = app.screen.profile_session  # the picked tenant (the demo opens three)
        engine = session.engine
        await export_one(app, pilot, "DSR-77")
        said = [entry.text for entry in app.event_log]  # the whole sentence (the toast is cut to one line)
        assert any("Case DSR-77 opened (received today, due in one month)" in m for m in said), said
        journal_path = session.journal_path
        tenant_key = engine.tenant_key  # type: ignore[attr-defined]
        today = utc_date(engine.clock.now())  # type: ignore[attr-defined]
        await app.action_quit()
    assert journal_path is not None
    journal = OperationJournal(str(journal_path))
    try:
        case = CaseStore(journal).get(tenant_key, "DSR-77")
    finally:
        journal.close()
    assert case is not None and case.state == "open"
    assert case.received == today and case.due == default_due(today)
