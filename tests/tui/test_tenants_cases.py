"""The Cases pane with several tenants open (issue 18): the cases of every open tenant (one shared journal),
each labelled with its tenant; a request that spans tenants shows another tenant's operations under it; a
change acts on the highlighted case's own tenant; a new case goes to the picked tenant; 80x24 fits (snapshot)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from console.ops.cases import CaseStore
from console.ops.journal import OperationJournal
from console.tui.app import ConsoleApp
from console.tui.widgets.cases_pane import CaseFormScreen, CaseList, CasesPane
from tests.tui.fakes import NOW
from tests.tui.ops_fakes import burst
from tests.tui.test_tenants_console import tenant_services
from tests.tui.waiting import until

CASES = (
    ("key-contoso", "DSR-1", date(2026, 12, 18), "Ann"),
    ("key-fabrikam", "DSR-2", date(2027, 1, 5), ""),
    ("key-northwind", "DSR-1", date(2027, 1, 10), "Bo"),
    ("key-other", "DSR-9", date(2027, 1, 10), ""),
)
"""contoso's DSR-1 (due soon), fabrikam's DSR-2, northwind's own DSR-1 (the same reference, another tenant),
and a case of a tenant not open in this console."""


@pytest.fixture
def journal_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "journal.sqlite"
    journal = OperationJournal(path)
    for key, ref, received, subject in CASES:
        CaseStore(journal).open(key, ref, received=received, subject=subject, author="a", at=NOW - 86_400)
    journal.close()
    yield path


def cases_app(journal_path: Path) -> ConsoleApp:
    services, engines = tenant_services(3)
    engines["contoso"].journal_path = str(journal_path)  # type: ignore[attr-defined]
    for name, engine in engines.items():
        first = min(engine.views)
        engine.views[first] = replace(engine.views[first], case={"contoso": "DSR-1", "fabrikam": "DSR-1"}.get(name, ""))
    app = ConsoleApp(services)
    app.bell = lambda: None  # type: ignore[method-assign]
    return app


def shown(app: ConsoleApp) -> list[tuple[str, str]]:
    return [(c.tenant_key, c.ref) for c in app.screen.query_one(CasesPane).shown]


def prompt(app: ConsoleApp, index: int) -> str:
    return str(app.screen.query_one(CaseList).get_option_at_index(index).prompt)


def form_title(app: ConsoleApp) -> str:
    return str(app.screen.query_one("#case-form").border_title) if isinstance(app.screen, CaseFormScreen) else ""


def stored_state(journal_path: Path, tenant_key: str, ref: str) -> str:
    journal = OperationJournal(journal_path)
    try:
        case = CaseStore(journal).get(tenant_key, ref)
        return case.state if case is not None else ""
    finally:
        journal.close()


async def test_every_open_tenants_cases_each_named_and_changes_go_to_its_tenant(journal_path: Path) -> None:
    app = cases_app(journal_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(shown(app)) == 3, what="the three tenants' cases")
        assert sorted(shown(app)) == [("key-contoso", "DSR-1"), ("key-fabrikam", "DSR-2"), ("key-northwind", "DSR-1")]
        prompts = {shown(app)[i]: prompt(app, i) for i in range(3)}
        assert prompts[("key-contoso", "DSR-1")].startswith("contoso · DSR-1")
        assert prompts[("key-northwind", "DSR-1")].startswith("northwind · DSR-1")
        # The request spans tenants: fabrikam's export for DSR-1 (fabrikam has no DSR-1 of its own) is listed
        # under contoso's DSR-1, named as fabrikam's.
        assert "fabrikam ·" in prompts[("key-contoso", "DSR-1")].split("\n", 1)[1]
        assert any("Case deadline" in e.title and "DSR-1 in contoso" in e.text for e in app.event_log)
        index = shown(app).index(("key-northwind", "DSR-1"))
        burst(app, [*["down"] * index, "c"])
        await until(pilot, lambda: "Close DSR-1 in northwind" in form_title(app), what="the close form, naming it")
        burst(app, [*"answered", "enter"])
        await until(pilot, lambda: stored_state(journal_path, "key-northwind", "DSR-1") == "closed", what="closed")
        assert stored_state(journal_path, "key-contoso", "DSR-1") == "open"  # the other tenant's DSR-1 stays open
        await pilot.press("ctrl+t")  # fabrikam picked: a new case is opened in fabrikam
        await until(pilot, lambda: app.services.tenants.current == "fabrikam", what="fabrikam picked")
        await pilot.press("3")
        burst(app, ["o"])
        await until(pilot, lambda: "Open a case in fabrikam" in form_title(app), what="the open form, naming it")
        burst(app, [*"DSR-1", "enter"])
        await until(pilot, lambda: stored_state(journal_path, "key-fabrikam", "DSR-1") == "open", what="opened")


def test_cases_of_three_tenants_at_80x24_snapshot(snap_compare: Any, journal_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await pilot.press("3")
        await until(pilot, lambda: len(shown(pilot.app)) == 3, what="the three tenants' cases")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(cases_app(journal_path), terminal_size=(80, 24), run_before=run_before)
