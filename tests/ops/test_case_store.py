"""The case tables (issue 19) live beside the operations without a schema version of their own, and
``ensure_case`` (shared by ``export --case`` and ``remove --case``) opens a case only once."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from console.ops.cases import CaseStore, ensure_case
from console.ops.journal import SCHEMA_VERSION, OperationJournal


def test_the_case_tables_come_with_any_journal_and_leave_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = OperationJournal(path)
    assert journal.schema_version() == SCHEMA_VERSION == 2
    CaseStore(journal).open("t", "DSR-1", received=date(2026, 12, 1), author="a", at=1.0)
    journal.close()
    db = sqlite3.connect(path)
    try:
        db.execute("DROP TABLE case_events")  # a journal a console before issue 19 wrote (case_events lost)
        db.commit()
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()
    assert "cases" in tables and "case_events" not in tables
    again = OperationJournal(path)
    try:
        store = CaseStore(again)
        case = store.get("t", "DSR-1")
        assert case is not None and case.due == date(2027, 1, 1)
        assert store.events(case) == []  # the table is back, empty
    finally:
        again.close()


def test_ensure_case_opens_a_missing_case_once(tmp_path: Path) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite")
    try:
        assert ensure_case(journal, "t", "DSR-2", date(2026, 1, 31), "admin@contoso.com") is True
        assert ensure_case(journal, "t", "DSR-2", date(2026, 2, 2), "someone else") is False
        assert ensure_case(journal, "t", "  ", date(2026, 2, 2), "x") is False
        store = CaseStore(journal)
        case = store.get("t", "DSR-2")
        assert case is not None and (case.received, case.due) == (date(2026, 1, 31), date(2026, 2, 28))
        assert [(e.kind, e.author) for e in store.events(case)] == [("opened", "admin@contoso.com")]
        assert store.get("other-tenant", "DSR-2") is None  # per tenant
    finally:
        journal.close()
