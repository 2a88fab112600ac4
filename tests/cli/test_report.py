"""The evidence report (console/report.py): fields, formats, the SAS never in it, a Markdown snapshot."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.ops.events import FINAL, REJECTED, TRACKING, UNCONFIRMED, PollRecord
from console.ops.journal import OperationJournal
from console.report import FIELDS, iter_report_rows, render_report

SNAPSHOT = Path(__file__).parent / "snapshots" / "report.md"
T0 = 1_796_112_000.0  # 2026-12-01T08:00:00Z
TENANT = "11111111-2222-3333-4444-555555555555"
SIG = "REPORTSECRETSIG42"
LOCATION = f"https://acct.blob.core.windows.net/dsr-{{user}}?sv=2024-05-04&sr=c&sp=cw&sig={SIG}"


def _iso(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def build_journal(path: Path) -> OperationJournal:
    """Five operations of case DSR-1234 (complete, failed, unconfirmed, rejected, a crash leftover) and one other."""
    journal = OperationJournal(path)
    people = [
        ("aaaaaaaa-0000-4000-8000-000000000001", "Ann Lee", "ann.lee@fabrikam.com", "complete"),
        ("aaaaaaaa-0000-4000-8000-000000000002", "Bob | Pipe", "bob@fabrikam.com", "failed"),
        ("aaaaaaaa-0000-4000-8000-000000000003", "Cy\x1b[31mRed", "cy@fabrikam.com", UNCONFIRMED),
        ("aaaaaaaa-0000-4000-8000-000000000004", '=HYPERLINK("x")', "dee@fabrikam.com", REJECTED),
        ("aaaaaaaa-0000-4000-8000-000000000005", "Eve Crash", "eve@fabrikam.com", "leftover"),
    ]
    for n, (user, name, upn, outcome) in enumerate(people):
        at = T0 + 60 * n
        row = journal.record_intent(
            TENANT,
            user,
            LOCATION.replace("{user}", user),
            at,
            owner="dead-process" if outcome == "leftover" else None,
            case="DSR-1234",
            display_name=name,
            user_principal_name=upn,
            home_tenant_id="99999999-0000-4000-8000-00000000f00d",
            submitted_by="admin@contoso.com",
        )
        if outcome == "leftover":
            continue
        if outcome in ("complete", "failed"):
            row.state = TRACKING
            row.operation_id = f"op-{n}"
            row.location = f"https://graph.microsoft.com/v1.0/dataPolicyOperations/op-{n}"
            row.submitted_at = _iso(at + 1)
            journal.save_now(row, PollRecord(at + 1, 202, 60.0, f"post-rid-{n}", f"crid-{n}", None, None, ""), at + 1)
            row.state = FINAL
            row.status = outcome
            row.progress = 100.0 if outcome == "complete" else 40.0
            row.completed_at = _iso(at + 600)
            if outcome == "complete":
                row.delivered = {
                    "checked_at": at + 610,
                    "files": 4,
                    "bytes": 985,
                    "names": ["RequestInfo.json"],
                    "request_info": True,
                    "error": "",
                }
            journal.save_now(row, PollRecord(at + 300, 200, 60.0, f"mid-rid-{n}", "c", "running", 50.0, ""), at + 300)
            journal.save_now(row, PollRecord(at + 600, 200, None, f"final-rid-{n}", "c", outcome, 100.0, ""), at + 600)
        elif outcome == UNCONFIRMED:
            row.state = UNCONFIRMED
            row.last_error = "Graph answered 503 three times: check before exporting again"
            journal.save_now(row, PollRecord(at + 5, 503, None, f"post-rid-{n}", "c", None, None, "503"), at + 5)
        else:
            row.state = REJECTED
            row.last_error = (
                f"Storage destination has already been used for an export. sig={SIG} [StorageLocationAlreadyUsed]"
            )
            journal.save_now(row, PollRecord(at + 2, 400, None, f"post-rid-{n}", "c", None, None, "400"), at + 2)
    journal.add_note(1, f"requester confirmed receipt; link was ...&sig={SIG}", "admin@contoso.com", T0 + 3600)
    journal.add_note(1, "closed", "dpo@contoso.com", T0 + 7200)
    other = journal.record_intent(TENANT, "bbbbbbbb-0000-4000-8000-000000000009", "acct", T0 + 9000, case="DSR-9")
    other.state = REJECTED
    journal.save_now(other, None, T0 + 9000)
    return journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[OperationJournal]:
    j = build_journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


def test_rows_hold_every_field_for_each_kind_of_export(journal: OperationJournal) -> None:
    rows = list(iter_report_rows(journal, case="DSR-1234", now=T0 + 10_000))
    assert [list(r) for r in rows] == [list(FIELDS)] * 5
    complete, failed, unconfirmed, rejected, leftover = rows
    assert complete["status"] == "complete" and failed["status"] == "failed"
    assert unconfirmed["status"] == "unconfirmed" and rejected["status"] == "rejected"
    assert leftover["status"] == "unconfirmed"  # a dead process's intent, never "submitting"
    assert complete["exportRequestId"] == "post-rid-0" and complete["finalRequestId"] == "final-rid-0"
    assert failed["finalRequestId"] == "final-rid-1"
    assert unconfirmed["exportRequestId"] == "post-rid-2" and unconfirmed["finalRequestId"] == ""
    assert complete["submittedDateTime"] == "2026-12-01T08:00:01Z"
    assert complete["completedDateTime"] == "2026-12-01T08:10:00Z"
    assert complete["displayName"] == "Ann Lee" and complete["userPrincipalName"] == "ann.lee@fabrikam.com"
    assert complete["homeTenantId"] == "99999999-0000-4000-8000-00000000f00d"
    assert complete["submittedBy"] == "admin@contoso.com" and complete["tenant"] == TENANT
    assert [n["author"] for n in complete["notes"]] == ["admin@contoso.com", "dpo@contoso.com"]
    assert complete["notes"][0]["at"] == "2026-12-01T09:00:00Z"
    assert complete["delivered"]["files"] == 4 and complete["delivered"]["requestInfo"] is True
    assert failed["delivered"] is None
    assert all(r["case"] == "DSR-1234" for r in rows)
    assert len(list(iter_report_rows(journal, now=T0))) == 6
    assert [r["userId"] for r in iter_report_rows(journal, keys=[2, 4], now=T0)] == [
        rows[1]["userId"],
        rows[3]["userId"],
    ]
    assert len(list(iter_report_rows(journal, since=T0 + 100, now=T0))) == 4
    assert list(iter_report_rows(journal, tenant_key="another-tenant", now=T0)) == []


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_the_signature_is_never_in_the_report(journal: OperationJournal, fmt: Any) -> None:
    text = render_report(list(iter_report_rows(journal, now=T0)), fmt, generated_at=T0)
    assert SIG not in text
    assert "sig=" in text  # the location is there, masked


def test_csv_has_exactly_the_documented_header_and_parses(journal: OperationJournal) -> None:
    text = render_report(
        list(iter_report_rows(journal, case="DSR-1234", now=T0)), "csv", case="DSR-1234", generated_at=T0
    )
    parsed = list(csv.reader(io.StringIO(text)))
    assert tuple(parsed[0]) == FIELDS
    assert len(parsed) == 6 and all(len(r) == len(FIELDS) for r in parsed)
    by_user = {r[1]: dict(zip(FIELDS, r, strict=True)) for r in parsed[1:]}
    ann = by_user["aaaaaaaa-0000-4000-8000-000000000001"]
    assert ann["status"] == "complete" and "dpo@contoso.com: closed" in ann["notes"]
    assert by_user["aaaaaaaa-0000-4000-8000-000000000004"]["displayName"].startswith("'=")  # no formula


def test_json_is_one_array_of_field_objects(journal: OperationJournal) -> None:
    text = render_report(list(iter_report_rows(journal, now=T0)), "json", generated_at=T0)
    data = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert isinstance(data, list) and len(data) == 6
    assert all(tuple(item) == FIELDS for item in data)


def test_markdown_matches_the_committed_snapshot(journal: OperationJournal) -> None:
    text = render_report(
        list(iter_report_rows(journal, case="DSR-1234", now=T0 + 10_000)),
        "md",
        case="DSR-1234",
        generated_at=T0 + 86_400,
    )
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), "run with UPDATE_SNAPSHOTS=1 to accept a deliberate change"
    assert text.startswith("# Evidence report: case DSR-1234\n")
    assert "\x1b" not in text and "Bob \\| Pipe" in text


def test_markdown_without_rows_says_so() -> None:
    text = render_report([], "md", generated_at=T0)
    assert "No operations match." in text and "Operations: 0" in text
