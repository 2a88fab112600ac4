"""The Cases pane's alert (issue 19): a toast and the bell when an open case is within 5 days of its due
date, on the day boundary exactly (5 days left alerts, 6 does not), never for a closed case, once a session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from console.ops.cases import CaseStore
from console.ops.journal import OperationJournal
from console.tui.widgets.cases_pane import CasesPane
from tests.tui.fakes import NOW
from tests.tui.test_cases_pane import TENANT, cases_app, settle


@pytest.fixture
def journal_path(tmp_path: Path) -> Iterator[Path]:
    """At the fixed clock (2027-01-15, UTC): due in 5 days, in 6 days, and a closed one due in 2 days."""
    path = tmp_path / "journal.sqlite"
    journal = OperationJournal(path)
    opened = {"DSR-FIVE": date(2026, 12, 20), "DSR-SIX": date(2026, 12, 21), "DSR-SHUT": date(2026, 12, 17)}
    for ref, received in opened.items():  # due 2027-01-20, 2027-01-21 and 2027-01-17
        CaseStore(journal).open(TENANT, ref, received=received, author="a", at=NOW - 86_400)
    CaseStore(journal).close(TENANT, "DSR-SHUT", note="answered", author="a", at=NOW - 86_400)
    journal.close()
    yield path


async def test_the_alert_starts_at_five_days_left_and_rings_once(journal_path: Path) -> None:
    app, _engine, bells = cases_app(journal_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes = [e.text for e in app.event_log.entries if e.title == "Case deadline"]
        assert len(bells) == 1 and len(notes) == 1
        assert "DSR-FIVE: 5 days left (due 2027-01-20)" in notes[0]
        assert "DSR-SIX" not in notes[0] and "DSR-SHUT" not in notes[0]
        await pilot.press("3")  # the pane reads the cases again: no second alert for the same case
        await settle(pilot)
        app.screen.query_one(CasesPane).reload()
        await settle(pilot)
        assert len(bells) == 1
        assert len([e for e in app.event_log.entries if e.title == "Case deadline"]) == 1
