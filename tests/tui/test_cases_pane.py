"""The Cases pane (key 3, issue 19) under Pilot: countdowns, overdue first and in red, operations below,
an alert (toast and bell) near a due date, and open / extend / close from small forms, keys in bursts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from console.ops.cases import CaseStore
from console.ops.journal import OperationJournal
from console.tui.app import ConsoleApp
from console.tui.widgets.cases_pane import CaseFormScreen, CaseList, CasesPane
from tests.tui.fakes import NOW, FakeEngine, make_services
from tests.tui.ops_fakes import burst
from tests.tui.waiting import until

SIZE = (80, 24)
TENANT = "tenant"


@pytest.fixture
def journal_path(tmp_path: Path) -> Iterator[Path]:
    """Four cases at the fixed clock (2027-01-15): overdue, due in 3 days, in 21 days, closed."""
    path = tmp_path / "journal.sqlite"
    journal = OperationJournal(path)
    store = CaseStore(journal)
    at = NOW - 86_400
    store.open(TENANT, "DSR-LATE", received=date(2026, 12, 1), subject="Bob", author="a", at=at)
    store.open(TENANT, "DSR-SOON", received=date(2026, 12, 18), subject="Ann", author="a", at=at)
    store.open(TENANT, "DSR-LATER", received=date(2027, 1, 5), author="a", at=at)
    store.open(TENANT, "DSR-DONE", received=date(2026, 12, 2), author="a", at=at)
    store.close(TENANT, "DSR-DONE", note="answered", author="a", at=at)
    journal.close()
    yield path


def cases_app(journal_path: Path) -> tuple[ConsoleApp, FakeEngine, list[int]]:
    services, engine = make_services()
    engine.journal_path = str(journal_path)  # type: ignore[attr-defined]
    engine.tenant_key = TENANT
    first = engine.views[1]
    engine.views[1] = replace(first, case="DSR-SOON")
    app = ConsoleApp(services)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    return app, engine, bells


def stored(journal_path: Path, ref: str) -> Any:
    journal = OperationJournal(journal_path)
    try:
        store = CaseStore(journal)
        case = store.get(TENANT, ref)
        return case, (store.events(case) if case else [])
    finally:
        journal.close()


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def refs(app: ConsoleApp) -> list[str]:
    panes = app.screen.query(CasesPane)  # none while a form is open
    return [c.ref for c in panes.first().shown] if panes else []


async def test_overdue_first_in_red_operations_below_and_an_alert(journal_path: Path) -> None:
    app, _engine, bells = cases_app(journal_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert app.screen.has_class("-show-cases")
        assert isinstance(app.focused, CaseList)
        assert refs(app) == ["DSR-LATE", "DSR-SOON", "DSR-LATER", "DSR-DONE"]
        case_list = app.screen.query_one(CaseList)
        late = case_list.get_option_at_index(0).prompt
        assert isinstance(late, Text)
        assert "14 days overdue" in str(late)
        assert (late.spans[0].end, "red" in str(late.spans[0].style)) == (len("DSR-LATE"), True)  # its name in red
        soon = str(case_list.get_option_at_index(1).prompt)
        assert "3 days left" in soon and "\n └ " in soon  # its operation on the line below
        assert "no operations yet" in str(case_list.get_option_at_index(2).prompt)
        toasts = [str(n.message) for n in app._notifications]
        assert len(bells) == 1 and any(t.startswith("Case deadline: DSR-LATE") for t in toasts)
        notes = [e.text for e in app.event_log.entries if e.title == "Case deadline"]
        assert len(notes) == 1 and "DSR-SOON: 3 days left (due 2027-01-18)" in notes[0]
        assert "DSR-LATER" not in " ".join(notes) and "DSR-DONE" not in " ".join(notes)
        status = app.screen.query_one("#cases-status", Static)
        assert "1 overdue" in str(status.render())


async def test_open_a_case_from_a_burst_of_keys(journal_path: Path) -> None:
    app, _engine, _bells = cases_app(journal_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["3", "o", *"DSR-NEW", "enter"])
        await until(pilot, lambda: "DSR-NEW" in refs(app), what="the new case in the list")
        case, events = stored(journal_path, "DSR-NEW")
        assert (case.received, case.due) == (date(2027, 1, 15), date(2027, 2, 15))
        assert [(e.kind, e.author) for e in events] == [("opened", "admin@contoso.onmicrosoft.com")]


async def test_extend_refuses_past_three_months_then_extends_and_close_closes(journal_path: Path) -> None:
    app, _engine, _bells = cases_app(journal_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["3", "down", "x", *"2027-03-19", "tab", *"slow systems", "enter"])  # DSR-SOON: max 03-18
        await until(pilot, lambda: isinstance(app.screen, CaseFormScreen), what="the form")
        error = app.screen.query_one("#case-error", Static)
        await until(pilot, lambda: "three months" in str(error.render()), what="the refusal")
        assert stored(journal_path, "DSR-SOON")[0].due == date(2027, 1, 18)
        await pilot.press("shift+tab", *["backspace"] * 10, *"2027-03-18", "enter")
        await until(pilot, lambda: not isinstance(app.screen, CaseFormScreen), what="the form to close")
        case, events = stored(journal_path, "DSR-SOON")
        assert case.due == date(2027, 3, 18) and (events[-1].kind, events[-1].text) == ("extended", "slow systems")
        burst(app, ["c", *"sent the data", "enter"])
        await until(pilot, lambda: stored(journal_path, "DSR-SOON")[0].state == "closed", what="the case closed")
        await until(pilot, lambda: refs(app)[-2:] == ["DSR-SOON", "DSR-DONE"] or refs(app)[-1] == "DSR-SOON")


async def test_escape_cancels_a_form_and_writes_nothing(journal_path: Path) -> None:
    app, _engine, _bells = cases_app(journal_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["3", "o", *"DSR-NO", "escape"])
        await until(pilot, lambda: app.screen.query(CasesPane), what="back on the main screen")
        await settle(pilot)
        assert stored(journal_path, "DSR-NO")[0] is None


def test_cases_pane_snapshot(snap_compare: Callable[..., bool], journal_path: Path) -> None:
    """You should see the tabs '1 Profiles 2 Operations 3 Cases' with Cases chosen, DSR-LATE first in red
    (14 days overdue), DSR-SOON (3 days left) with its operation below, DSR-LATER, DSR-DONE dimmed as
    closed, and the deadline toast."""
    app, _engine, _bells = cases_app(journal_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_an_export_for_a_case_shows_under_it_while_the_pane_is_shown(journal_path: Path) -> None:
    app, engine, _bells = cases_app(journal_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        case_list = app.screen.query_one(CaseList)
        assert "no operations yet" in str(case_list.get_option_at_index(2).prompt)  # DSR-LATER
        engine.emit(replace(engine.views[3], case="DSR-LATER"))
        await until(
            pilot,
            lambda: "no operations yet" not in str(case_list.get_option_at_index(2).prompt),
            what="the operation under its case",
        )
        assert refs(app)[2] == "DSR-LATER"
