"""Tenant text that tries to drive the terminal reaches it from no CLI output (issue 14 item 2, issue 22).

A journal holds an export whose display name, UPN, home tenant id, case, storage location, error and
note carry every kind of escape (OSC 52, ESC[2J, OSC 8, DCS, C1 CSI, SGR, bidi overrides). ``report``
in CSV (stdout and ``--output``), JSON and Markdown, ``ops`` and ``watch``'s "unconfirmed" line write
them visibly escaped; the CSV cell's other text and the JSON data are unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from console.ops.journal import OperationJournal
from console.text import terminal_safe
from tests.cli.conftest import Served, graph_args, run_cli
from tests.hostile import ESCAPES, leaks

EVIL = "".join(ESCAPES.values())
"""Every kind of escape in one text."""

NAME = f"Eve {EVIL} End"
UPN = f"eve{EVIL}@evil.example"


def plant(state: Path, tenant_id: str, user_id: str) -> None:
    """A crash leftover (its process is gone: unconfirmed) whose every text field is hostile."""
    journal = OperationJournal(state / "journal.sqlite3")
    journal.record_intent(
        tenant_id,
        user_id,
        f"https://acct.blob.core.windows.net/dsr{EVIL}?sv=2024-05-04&sr=c&sp=cw&sig=PLANTEDSECRET",
        time.time() - 5,
        owner="dead-process-id",
        case=f"DSR-{EVIL}",
        display_name=NAME,
        user_principal_name=UPN,
        home_tenant_id=f"tenant{EVIL}",
        submitted_by=f"admin{EVIL}@contoso.com",
    )
    journal.add_note(1, f"note {EVIL}", f"dpo{EVIL}@contoso.com", time.time())
    journal.close()


@pytest.fixture
def planted(served: Served, isolated_state: Path) -> Served:
    tenant, _server, _env = served
    plant(isolated_state, tenant.tenant_id, tenant.graph.profiles[0].user_id)
    return served


def test_the_csv_report_escapes_every_control_and_keeps_the_rest_of_the_cell(planted: Served, tmp_path: Path) -> None:
    _tenant, server, env = planted
    printed = run_cli(*graph_args(server), "report", "--format", "csv", env=env)
    assert printed.returncode == 0, printed.stderr
    out = tmp_path / "report.csv"
    saved = run_cli(*graph_args(server), "report", "--format", "csv", "--output", str(out), env=env)
    assert saved.returncode == 0, saved.stderr
    for text in (printed.stdout, out.read_text()):
        assert leaks(text, allow="\r\n") == []
        (row,) = list(csv.DictReader(io.StringIO(text)))
        assert row["displayName"] == terminal_safe(NAME) == f"Eve {terminal_safe(EVIL)} End"
        assert row["userPrincipalName"] == terminal_safe(UPN)
        assert row["homeTenantId"] == terminal_safe(f"tenant{EVIL}")
        assert row["case"] == terminal_safe(f"DSR-{EVIL}")
        assert row["storageLocation"].startswith(f"https://acct.blob.core.windows.net/dsr{terminal_safe(EVIL)}?")
        assert terminal_safe(f"note {EVIL}") in row["notes"]
        assert "PLANTEDSECRET" not in text
    assert leaks(saved.stderr, allow="\n") == []


def test_the_json_report_writes_c1_and_bidi_controls_as_json_escapes(planted: Served) -> None:
    """Issue 22, behaviour 21: the JSON report escapes C1 and bidi characters (the data stays the same)."""
    _tenant, server, env = planted
    done = run_cli(*graph_args(server), "report", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert leaks(done.stdout, allow="\n") == []
    assert "\\u009b" in done.stdout and "\\u202e" in done.stdout and "\\u001b" in done.stdout
    (row,) = json.loads(done.stdout)
    assert row["displayName"] == NAME and row["userPrincipalName"] == UPN  # the same data for a program


def test_the_markdown_report_and_ops_escape_every_control(planted: Served) -> None:
    _tenant, server, env = planted
    for args in (("report",), ("ops",)):
        done = run_cli(*graph_args(server), *args, env=env)
        assert done.returncode == 0, done.stderr
        assert leaks(done.stdout, allow="\n") == [], args
        assert leaks(done.stderr, allow="\n") == [], args


def test_json_lines_of_ops_and_watch_hold_no_raw_control_character(planted: Served) -> None:
    _tenant, server, env = planted
    for args in (("ops", "--json"), ("watch", "--json")):
        done = run_cli(*graph_args(server), *args, env=env)
        assert leaks(done.stdout, allow="\n") == [], args
        (record,) = [json.loads(line) for line in done.stdout.splitlines()]
        assert record["userPrincipalName"] == UPN and record["displayName"] == NAME  # the data, unchanged


def test_the_unconfirmed_line_prints_the_upn_escaped(planted: Served) -> None:
    """Issue 22, behaviour 22: ``watch``'s "unconfirmed:" line never prints the UPN raw."""
    _tenant, server, env = planted
    done = run_cli(*graph_args(server), "watch", env=env)
    assert done.returncode == 1
    assert leaks(done.stderr, allow="\n") == []
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("unconfirmed:")]
    assert line.startswith(f"unconfirmed: {terminal_safe(UPN)} (")
