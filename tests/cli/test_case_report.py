"""``report --case REF --part subject|internal`` (issue 19): the person's part holds no notes, internal
names or request ids; the internal part is the audit trail with the case's events and the deadline."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from console.cli import case_commands
from console.cli.run import main
from console.ops.events import FINAL, TRACKING, PollRecord
from console.wiring import ConnectionOptions, open_journal_only

DEC_1 = 1_796_112_000.0  # 2026-12-01T08:00:00Z
SIG = "PARTSECRETSIG"
LOCATION = f"https://acct.blob.core.windows.net/dsr-ann?sv=2024-05-04&sr=c&sp=cw&sig={SIG}"
NOTE = "called the requester about ticket INTERNAL-77"
ADMIN = "admin@contoso.com"
AUDIT_ACTIONS = ["case opened", "case extended", "export submitted", "export complete", "note", "deadline"]
"""The audit trail of the fixture's case, in order."""


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(case_commands, "now", lambda: DEC_1 - 11 * 86_400)  # 2026-11-20: opened, extended
    assert main(["--demo", "--state-dir", str(tmp_path), "case", "open", "DSR-1", "--received", "2026-11-20"]) == 0
    assert (
        main(
            ["--demo", "--state-dir", str(tmp_path), "case", "extend", "DSR-1", "--due", "2027-01-10"]
            + ["--reason", "many systems to search"]
        )
        == 0
    )
    only = open_journal_only(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    journal = only.journal
    row = journal.record_intent(
        only.tenant_key or "",
        "aaaaaaaa-0000-4000-8000-000000000001",
        LOCATION,
        DEC_1,
        case="DSR-1",
        display_name="Ann Lee",
        user_principal_name="ann.lee@fabrikam.com",
        submitted_by=ADMIN,
    )
    row.state = TRACKING
    row.operation_id = "op-secret-1"
    row.submitted_at = "2026-12-01T08:00:01Z"
    journal.save_now(row, PollRecord(DEC_1 + 1, 202, 60.0, "post-rid-1", "crid-1", None, None, ""), DEC_1 + 1)
    row.state = FINAL
    row.status = "complete"
    row.completed_at = "2026-12-01T08:10:00Z"
    row.delivered = {
        "checked_at": DEC_1 + 610,
        "files": 2,
        "bytes": 900,
        "names": ["RequestInfo.json", "profile.json"],
        "request_info": True,
        "error": "",
    }
    journal.save_now(row, PollRecord(DEC_1 + 600, 200, None, "final-rid-1", "c", "complete", 100.0, ""), DEC_1 + 600)
    journal.add_note(row.key, NOTE, ADMIN, DEC_1 + 700)
    only.close()
    monkeypatch.setattr(case_commands, "now", lambda: DEC_1 + 20 * 86_400)  # 2026-12-21: the report
    return tmp_path


def report(state: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["--demo", "--state-dir", str(state), "report", "--case", "DSR-1", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_the_subject_part_holds_no_notes_internal_names_or_request_ids(
    state: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    out = report(state, capsys, "--part", "subject", "--format", fmt)
    for secret in (NOTE, "INTERNAL-77", ADMIN, "post-rid-1", "final-rid-1", "crid-1", "op-secret-1", SIG, "sig="):
        assert secret not in out
    assert "https://acct.blob.core.windows.net/dsr-ann" in out
    assert "2026-12-01T08:00:01Z" in out and "2026-12-01T08:10:00Z" in out
    assert "RequestInfo.json" in out and "profile.json" in out


def test_the_subject_part_in_json_has_its_fields(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (row,) = json.loads(report(state, capsys, "--part", "subject", "--format", "json"))
    assert row == {
        "case": "DSR-1",
        "action": "export",
        "requested": "2026-12-01T08:00:01Z",
        "completed": "2026-12-01T08:10:00Z",
        "status": "complete",
        "account": "ann.lee@fabrikam.com",
        "deliveredTo": "https://acct.blob.core.windows.net/dsr-ann",
        "files": "2: RequestInfo.json, profile.json",
    }


def test_the_internal_part_is_the_audit_trail_with_the_deadline(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(csv.DictReader(io.StringIO(report(state, capsys, "--part", "internal", "--format", "csv"))))
    assert [r["action"] for r in rows] == AUDIT_ACTIONS
    extended = rows[1]
    assert (extended["text"], extended["due"]) == ("many systems to search", "2027-01-10")
    submitted = rows[2]
    assert (submitted["by"], submitted["exportRequestId"], submitted["operationId"]) == (
        ADMIN,
        "post-rid-1",
        "op-secret-1",
    )
    assert rows[3]["finalRequestId"] == "final-rid-1"
    assert (rows[4]["by"], rows[4]["text"]) == (ADMIN, NOTE)
    assert rows[5]["due"] == "2027-01-10" and rows[5]["text"] == "open, 20 day(s) left"
    assert SIG not in json.dumps(rows)
    md = report(state, capsys, "--part", "internal")
    assert "Deadline: open, 20 day(s) left" in md and "many systems to search" in md


def test_a_part_without_a_case_exits_2(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--state-dir", str(state), "report", "--part", "subject"]) == 2
    assert "--case" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_part_all_is_both_parts_in_one_report(state: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    out = report(state, capsys, "--part", "all", "--format", fmt)
    rows = json.loads(out) if fmt == "json" else list(csv.DictReader(io.StringIO(out)))
    subject = [r for r in rows if r["part"] == "subject"]
    internal = [r for r in rows if r["part"] == "internal"]
    assert [r["action"] for r in subject] == ["export"]
    assert subject[0]["deliveredTo"] == "https://acct.blob.core.windows.net/dsr-ann"
    for row in subject:  # the person's rows carry none of the internal fields
        assert not any(row[name] for name in ("by", "exportRequestId", "finalRequestId", "operationId", "text"))
    assert [r["action"] for r in internal] == AUDIT_ACTIONS
    assert internal[2]["exportRequestId"] == "post-rid-1" and internal[4]["text"] == NOTE
    assert SIG not in out


def test_part_all_in_markdown_has_the_persons_part_then_the_audit_trail(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = report(state, capsys, "--part", "all")
    person = out.index("# Your request DSR-1: what was done with your data")
    audit = out.index("# Audit trail: case DSR-1")
    assert person < audit
    assert NOTE not in out[:audit] and "post-rid-1" not in out[:audit]  # the person's part stays clean
    assert NOTE in out[audit:] and "Deadline: open, 20 day(s) left" in out[audit:]
    assert "https://acct.blob.core.windows.net/dsr-ann" in out[:audit]


def test_without_part_the_case_report_is_the_full_evidence_report(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = report(state, capsys, "--format", "json")
    (row,) = json.loads(out)
    assert row["operationId"] == "op-secret-1" and "part" not in row


def test_a_removal_is_named_a_removal_in_the_audit_trail(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.ops.journal import REMOVAL_KIND

    only = open_journal_only(ConnectionOptions(demo=True, state_dir=str(state)))
    row = only.journal.record_intent(
        only.tenant_key or "", "bbbbbbbb-0000-4000-8000-000000000002", "", DEC_1 + 900, case="DSR-1", kind=REMOVAL_KIND
    )
    row.state, row.status, row.post_request_id = FINAL, "requested", "rm-rid-1"
    row.submitted_at = row.completed_at = "2026-12-01T08:15:00Z"
    only.journal.save_now(row, PollRecord(DEC_1 + 900, 204, None, "rm-rid-1", "", "requested", None, ""), DEC_1 + 900)
    only.close()
    rows = json.loads(report(state, capsys, "--part", "all", "--format", "json"))
    assert [r["action"] for r in rows if r["part"] == "subject"] == ["export", "removal"]
    internal = [r["action"] for r in rows if r["part"] == "internal"]
    assert "removal submitted" in internal and "removal requested" in internal
    assert "rm-rid-1" not in json.dumps([r for r in rows if r["part"] == "subject"])


HOSTILE = "Mallory \x9b31m\u202eevil\u2066 \x1b[2J"
"""C1 (CSI), bidi override and isolate, and an escape sequence: never raw in any report."""


@pytest.mark.parametrize("part", ["internal", "all"])
def test_a_case_reports_json_part_writes_controls_and_bidi_as_json_escapes(
    state: Path, capsys: pytest.CaptureFixture[str], part: str
) -> None:
    only = open_journal_only(ConnectionOptions(demo=True, state_dir=str(state)))
    (row,) = only.journal.rows(only.tenant_key or "")
    row.display_name = HOSTILE
    row.user_principal_name = HOSTILE
    only.journal.save_now(row, None, DEC_1 + 800)
    only.journal.add_note(row.key, HOSTILE, ADMIN, DEC_1 + 801)
    only.close()
    out = report(state, capsys, "--part", part, "--format", "json")
    assert "Mallory" in out, "the hostile text is not in this part: the test checks nothing"
    assert not any(ch in out for ch in ("\x9b", "\u202e", "\u2066", "\x1b")), "a control reached the terminal raw"
    assert any(HOSTILE in row.values() for row in json.loads(out))  # escaped, not lost
