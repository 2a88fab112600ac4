"""OperationJournal on its own: schema 2 and the migration, privacy, durability, the read API."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from console.ops.events import PollRecord
from console.ops.journal import (
    SCHEMA_VERSION,
    JournalError,
    OperationJournal,
)
from tests.helpers import rows_where

FIXTURE = Path(__file__).parent / "fixtures" / "journal_v1.sqlite3"
TENANT = "11111111-2222-3333-4444-555555555555"
SAS = "https://acct.blob.core.windows.net/exports?sv=2022-11-02&sig=VERYSECRETSIG0042"
NOW = 1_800_000_000.0


def record(at: float, status: str | None = "running", error: str = "") -> PollRecord:
    return PollRecord(at, 200, 60.0, f"req-{at}", f"crid-{at}", status, 10.0, error)


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_schema_1_fixture_is_upgraded_in_place_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    before = sqlite3.connect(path).execute("SELECT id, state, user_id, polls FROM operations ORDER BY id").fetchall()
    assert [state for _id, state, _u, _p in before] == [
        "intent",
        "tracking",
        "unconfirmed",
        "final",
        "final",
        "rejected",
        "error",
    ]
    journal = OperationJournal(path)
    assert journal.schema_version() == SCHEMA_VERSION == 2
    rows = journal.rows(TENANT)
    assert [(r.key, r.state, r.user_id, r.polls) for r in rows] == before
    tracking = rows[1]
    assert tracking.next_poll_at == NOW + 1 + 240 and tracking.location and tracking.location.endswith("op-1")
    assert len(journal.history(tracking.key)) == 4
    assert tracking.case == "" and tracking.notes == 0 and tracking.owner is None
    # New columns and tables work on the migrated journal.
    journal.add_note(tracking.key, "checked with the DPO", "auditor@contoso.example", NOW + 500)
    assert [n.text for n in journal.notes(tracking.key)] == ["checked with the DPO"]
    # Schema 1 kept Graph's text in clear; the migration redacted it.
    assert "FIXTURESECRET" not in rows[5].last_error and "sig=***" in rows[5].last_error
    journal.close()
    assert b"FIXTURESECRET" not in raw_bytes(path)
    # Opening it again is a no-op upgrade.
    again = OperationJournal(path)
    assert len(again.rows()) == 7
    again.close()


def test_a_newer_schema_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    OperationJournal(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='9' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer export-console .*schema 9"):
        OperationJournal(path)


def test_journal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite3"
    journal = OperationJournal(path)
    row = journal.record_intent(TENANT, "u1", SAS, NOW)
    journal.queue(row, record(NOW))
    journal.flush(NOW)
    files = list(path.parent.glob("journal.sqlite3*"))
    assert {p.name for p in files} >= {"journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"}
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    journal.close()


def test_secrets_are_redacted_on_write_whatever_the_caller_passed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = OperationJournal(path)
    row = journal.record_intent(TENANT, "u1", SAS, NOW)
    row.state = "rejected"
    row.last_error = f"Graph refused {SAS.replace('sig=', '%73ig=')}"
    row.location = SAS + "#sig=ANOTHERSECRET77"
    journal.queue(row, record(NOW, error=f"400 for {SAS}"))
    journal.flush(NOW)
    journal.add_note(row.key, f"sent to {SAS}", "me", NOW)
    journal.close()
    raw = raw_bytes(path)
    assert b"VERYSECRETSIG" not in raw and b"ANOTHERSECRET" not in raw
    assert b"sig=***" in raw


def test_a_failed_flush_keeps_its_batch_and_the_next_one_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = OperationJournal(path, busy_timeout=0.05)
    rows = [journal.record_intent(TENANT, f"u{n}", SAS, NOW) for n in range(3)]
    for row in rows:
        row.state = "tracking"
        journal.queue(row, record(NOW + 1))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with pytest.raises(sqlite3.OperationalError):
        journal.flush(NOW + 1)
    assert journal.pending == 6 and journal.failed_flushes == 1
    blocker.execute("ROLLBACK")
    blocker.close()
    journal.flush(NOW + 2)
    assert journal.pending == 0
    assert [r.state for r in journal.rows()] == ["tracking"] * 3
    assert all(len(journal.history(r.key)) == 1 for r in rows)
    journal.close()


def test_a_transaction_whose_body_raised_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = OperationJournal(path)
    row = journal.record_intent(TENANT, "u1", SAS, NOW)
    row.state = "tracking"
    journal.queue(row)
    # A record SQLite cannot bind fails the body after the row's UPDATE ran inside the transaction.
    journal.queue(row, PollRecord(object(), 200, None, "", "", None, None, ""))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.Error):
        journal.flush(NOW)
    fresh = OperationJournal(path)
    assert [r.state for r in fresh.rows()] == ["intent"], "the UPDATE of a failed transaction was committed"
    fresh.close()
    assert journal.pending == 2


def test_a_second_row_for_a_tracked_operation_id_is_found(tmp_path: Path) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    first = journal.record_intent(TENANT, "u1", SAS, NOW)
    first.state, first.operation_id = "tracking", "op-7"
    journal.save_now(first, None, NOW)
    second = journal.record_intent(TENANT, "u2", SAS, NOW)
    assert journal.tracked_elsewhere(TENANT, "op-7", second.key) == first.key
    assert journal.tracked_elsewhere(TENANT, "op-7", first.key) is None
    assert journal.find_operation("OP-7") is not None and journal.find_operation("op-7").key == first.key  # type: ignore[union-attr]
    journal.close()


def test_rows_by_case_and_since_notes_resolve(tmp_path: Path) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    a = journal.record_intent(TENANT, "u1", SAS, NOW, case="DSR-1", display_name="Ana", submitted_by="me")
    b = journal.record_intent(TENANT, "u2", SAS, NOW + 100, case="DSR-2")
    assert [r.key for r in rows_where(journal, case="DSR-1")] == [a.key]
    assert [r.key for r in rows_where(journal, since=NOW + 50)] == [b.key]
    assert rows_where(journal, case="DSR-1")[0].display_name == "Ana"
    with pytest.raises(ValueError, match="not unconfirmed"):
        journal.resolve(a.key, "x", "me", NOW)
    a.state = "unconfirmed"
    journal.save_now(a, None, NOW)
    journal.resolve(a.key, "found it in the portal: it ran", "me", NOW + 10)
    [resolved] = rows_where(journal, case="DSR-1")
    assert resolved.state == "resolved" and resolved.notes == 1
    assert journal.notes(a.key)[0].author == "me"
    with pytest.raises(KeyError):
        journal.add_note(999, "x", "me", NOW)
    journal.close()


def test_a_stale_change_never_reopens_a_row_closed_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    mine, theirs = OperationJournal(path), OperationJournal(path)
    row = mine.record_intent(TENANT, "u1", SAS, NOW)
    row.state = "tracking"
    mine.save_now(row, None, NOW)
    theirs.stop_watching(row.key, NOW + 1, "other admin")
    row.polls = 3
    mine.queue(row)
    mine.flush(NOW + 2)
    assert mine.rows()[0].state == "stopped"
    mine.close()
    theirs.close()


def test_intents_of_a_live_process_are_left_alone_and_a_dead_ones_recovered(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    live, dead, watcher = (OperationJournal(path) for _ in range(3))
    live.register_process("live", NOW)
    dead.register_process("dead", NOW - 100)  # its heartbeat stopped 100 s ago
    mine = live.record_intent(TENANT, "u1", SAS, NOW)
    lost = dead.record_intent(TENANT, "u2", SAS, NOW - 100)
    orphan = watcher.record_intent(TENANT, "u3", SAS, NOW - 100, owner="")  # schema-1 style: no owner
    converted = watcher.recover_intents(TENANT, NOW + 1, owner="watcher")
    assert sorted(r.key for r in converted) == sorted([lost.key, orphan.key])
    states = {r.key: r.state for r in watcher.rows()}
    assert states == {mine.key: "intent", lost.key: "unconfirmed", orphan.key: "unconfirmed"}
    for journal in (live, dead, watcher):
        journal.close()


def test_poll_history_is_bounded_per_operation_and_in_total(tmp_path: Path) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    rows = [journal.record_intent(TENANT, f"u{n}", SAS, NOW) for n in range(3)]
    for row in rows:
        for p in range(50):
            journal.queue(row, record(NOW + p))
    journal.flush(NOW)
    assert journal.poll_count() == 150
    removed = journal.prune(keep_last=10, max_total=1000)
    assert removed == 3 * 39 and journal.poll_count() == 33
    history = journal.history(rows[0].key)
    assert history[0].at == NOW and [h.at for h in history[1:]] == [NOW + p for p in range(40, 50)]
    journal.prune(keep_last=10, max_total=12)
    assert journal.poll_count() == 12
    assert all(journal.history(r.key)[0].at == NOW for r in rows), "the first record (the 202) is kept"
    assert journal.size_bytes() > 0
    journal.close()


def test_json_has_no_nan_or_infinity_and_carries_the_new_fields(tmp_path: Path) -> None:
    import json
    import math

    journal = OperationJournal(tmp_path / "journal.sqlite3")
    row = journal.record_intent(TENANT, "u1", SAS, NOW, case="DSR-9", display_name="Zoë", user_principal_name="z@x")
    for bad in (math.nan, math.inf, -math.inf):
        row.progress = bad
        data = row.view().to_json()
        assert data["progress"] is None
        json.dumps(data, allow_nan=False)
    assert (data["case"], data["displayName"], data["userPrincipalName"], data["delivered"]) == (
        "DSR-9",
        "Zoë",
        "z@x",
        None,
    )
    journal.close()


def test_opening_waits_for_another_process_holding_a_new_journal(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "journal.sqlite3"
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")  # another process is creating the journal right now
    release = threading.Timer(0.3, lambda: blocker.execute("ROLLBACK"))
    release.start()
    try:
        journal = OperationJournal(path, busy_timeout=0.05)
    finally:
        release.join()
        blocker.close()
    assert journal.schema_version() == SCHEMA_VERSION
    journal.close()


def _close_in_another_process(path: Path) -> None:
    """Another process (``ops``, ``report``...) opens the journal, reads, and closes it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from console.ops.journal import OperationJournal\n"
        "j = OperationJournal(sys.argv[1])\n"
        "j.rows()\n"
        "j.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_second_connection_in_one_process_keeps_the_wal_of_the_first(tmp_path: Path) -> None:
    """Issue 14, item 1: a process with two connections (the console's journal and its writer thread,
    or a report) must keep its locks, so that another process closing its own never deletes the WAL."""
    path = tmp_path / "journal.sqlite3"
    first = OperationJournal(path)
    second = OperationJournal(path)  # the engine's writer opens its own connection
    row = second.record_intent(TENANT, "u1", SAS, NOW)
    third = OperationJournal(path)  # a report written from the console opens and closes one more
    third.close()
    wal = Path(f"{path}-wal")
    assert wal.exists()
    _close_in_another_process(path)
    assert wal.exists(), "another process's close deleted the WAL of a process that still has the journal open"
    row.state = "tracking"
    row.operation_id = "op-after"
    second.save_now(row, now=NOW + 1)
    seen = sqlite3.connect(path)
    try:
        found = seen.execute("SELECT operation_id FROM operations WHERE id=?", (row.key,)).fetchone()
    finally:
        seen.close()
    assert found == ("op-after",), "a write after the other process left is not visible to a new reader"
    first.close()
    second.close()


def test_the_migration_redacts_a_secret_schema_1_kept_in_a_polls_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    db = sqlite3.connect(path)
    (key,) = db.execute("SELECT id FROM operations WHERE state='tracking'").fetchone()
    db.execute(
        "INSERT INTO polls (operation, at, http_status, error) VALUES (?, ?, 400, ?)",
        (key, NOW + 2, f"400 Bad Request: cannot write to {SAS}"),
    )
    db.commit()
    db.close()
    journal = OperationJournal(path)
    errors = [poll.error for poll in journal.history(key) if poll.error]
    assert errors and all("VERYSECRETSIG0042" not in e and "sig=***" in e for e in errors)
    journal.close()
    assert b"VERYSECRETSIG0042" not in raw_bytes(path)


def test_a_rows_view_carries_every_field_with_times_and_delivery_as_values(tmp_path: Path) -> None:
    """``OperationRow.view()`` copies the view's fields by name and turns the journal's texts into values."""
    from dataclasses import fields
    from datetime import UTC, datetime

    from console.ops.events import OperationView

    journal = OperationJournal(tmp_path / "journal.sqlite3")
    row = journal.record_intent(TENANT, "u1", SAS, NOW, case="DSR-9", display_name="Zoë", user_principal_name="z@x")
    row.submitted_at, row.completed_at = "2026-12-01T10:00:00Z", "2026-12-01T10:10:00.5Z"
    row.delivered = {"checked_at": NOW + 60, "files": 3, "bytes": 42, "request_info": True}
    row.owner, row.lease_until, row.retry_after = "pid-1", NOW + 30, 5.0
    view = row.view()
    assert view.submitted_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert view.completed_at == datetime(2026, 12, 1, 10, 10, 0, 500000, tzinfo=UTC)
    assert view.delivered is not None and (view.delivered.files, view.delivered.request_info) == (3, True)
    converted = {"submitted_at", "completed_at", "delivered"}
    for field in fields(OperationView):
        if field.name not in converted:
            assert getattr(view, field.name) == getattr(row, field.name), field.name
    assert not hasattr(view, "owner") and not hasattr(view, "lease_until")
    journal.close()
