"""The journal's ``kind`` and ``target_tenant`` columns (issue 19): added on open, no schema bump."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.ops.events import FINAL
from console.ops.journal import REMOVAL_KIND, SCHEMA_VERSION, OperationJournal


def test_an_older_journal_gets_kind_on_open_and_its_rows_stay_exports(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    OperationJournal(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE operations DROP COLUMN target_tenant")
    db.execute("ALTER TABLE operations DROP COLUMN kind")
    # What an older console writes: no kind at all.
    db.execute(
        "INSERT INTO operations (tenant_key, user_id, storage_location, state, created_at, updated_at) "
        "VALUES ('t', 'u1', 'loc', 'final', 1, 1)"
    )
    db.commit()
    db.close()
    journal = OperationJournal(path)
    try:
        assert journal.schema_version() == SCHEMA_VERSION
        (old,) = journal.rows("t")
        assert old.kind == "export" and old.view().to_json()["kind"] == "export"
        removal = journal.record_intent("t", "u2", "", 2.0, kind=REMOVAL_KIND, target_tenant="abc")
        assert journal.row(removal.key) is not None
        assert [r.kind for r in journal.rows("t")] == ["export", "removal"]
        assert journal.exports_since("t", 0) == {"u1": 1}  # a removal is not an export against the quota
        assert [r.user_id for r in journal.removals_of("t", ["u2"], "abc")] == ["u2"]
        assert journal.removals_of("t", ["u2"]) == []  # inbound and outbound are different removals
    finally:
        journal.close()
    # An older console's SELECT (no kind) still reads it.
    db = sqlite3.connect(path)
    assert db.execute("SELECT user_id, state FROM operations ORDER BY id").fetchall() == [
        ("u1", FINAL),
        ("u2", "intent"),
    ]
    db.close()
