"""Save report from the Operations pane: the marked (or shown) operations, in a thread, where it says."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.ops.journal import OperationJournal
from console.tui.dialogs.report import ReportScreen
from console.tui.report_file import format_of, propose_report_path, reports_dir
from tests.tui.ops_fakes import NOW, PaneEngine, op
from tests.tui.ops_host import PaneApp
from tests.tui.waiting import until

SAS = "https://acct.blob.core.windows.net/dsr-a?sv=2024-01-01&sp=cw&se=2099-01-01&sig=S3cr3tSignatur3%2Bxyz"


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def journal_with_three(path: Path) -> list[int]:
    journal = OperationJournal(path)
    try:
        keys = []
        for n, case in enumerate(("DSR-7", "DSR-7", "DSR-8"), start=1):
            row = journal.record_intent(
                "tenant", f"user-{n}", SAS, NOW + n, case=case, display_name=f"Person {n}", submitted_by="admin@x"
            )
            keys.append(row.key)
        journal.flush()
    finally:
        journal.close()
    return keys


def pane_app(tmp_path: Path) -> tuple[PaneApp, list[int]]:
    keys = journal_with_three(tmp_path / "journal.sqlite3")
    cases = {keys[0]: "DSR-7", keys[1]: "DSR-7", keys[2]: "DSR-8"}
    views = [op(k, f"user-{i}", case=cases[k], display_name=f"Person {i}") for i, k in enumerate(keys, start=1)]
    return PaneApp(PaneEngine(views, journal_path=str(tmp_path / "journal.sqlite3"))), keys


async def test_w_saves_the_report_of_the_marked_operations_where_it_says(tmp_path: Path) -> None:
    app, keys = pane_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        proposed = Path(screen.query_one("#report-path", Input).value)
        assert proposed.parent == Path(os.environ["EXPORT_CONSOLE_STATE_DIR"]) / "reports"
        assert proposed.name.startswith("report-DSR-7-20270115-") and proposed.suffix == ".md"
        await pilot.press("enter")
        await settle(pilot)
        await until(pilot, lambda: any(n.title == "Report saved" for n in app._notifications), what="the saved toast")
        assert proposed.exists()
        text = proposed.read_text()
        assert "DSR-7" in text and "Person 1" in text and "Person 2" in text and "Person 3" not in text
        assert "S3cr3t" not in text
        assert proposed.stat().st_mode & 0o777 == 0o600
        assert any(str(proposed) in str(n.message) for n in app._notifications)


async def test_without_marks_the_report_covers_the_shown_operations_as_csv(tmp_path: Path) -> None:
    app, keys = pane_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"case:DSR-7", "enter", "w")
        await settle(pilot)
        box = app.screen.query_one("#report-path", Input)
        target = tmp_path / "out" / "dsr7.csv"
        box.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        await until(pilot, lambda: any(n.title == "Report saved" for n in app._notifications), what="the saved toast")
        rows = list(csv.DictReader(io.StringIO(target.read_text())))
        assert sorted(r["userId"] for r in rows) == ["user-1", "user-2"]


async def test_a_bad_extension_is_refused_in_the_dialog(tmp_path: Path) -> None:
    app, _ = pane_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        app.screen.query_one("#report-path", Input).value = str(tmp_path / "r.docx")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert not (tmp_path / "r.docx").exists()


def test_proposed_paths_never_overwrite(tmp_path: Path) -> None:
    first = propose_report_path(case="DSR 1/2", now=NOW, directory=tmp_path)
    assert first.name == "report-DSR-1-2-20270115-080000.md"
    first.write_text("x")
    assert propose_report_path(case="DSR 1/2", now=NOW, directory=tmp_path).name.endswith("-2.md")


def test_reports_go_under_the_state_dir_when_one_is_given(tmp_path: Path) -> None:
    assert reports_dir(tmp_path) == tmp_path / "reports"


@pytest.mark.parametrize(("name", "fmt"), [("a.md", "md"), ("a", "md"), ("a.CSV", "csv"), ("a.json", "json")])
def test_the_extension_picks_the_format(name: str, fmt: str) -> None:
    assert format_of(Path(name)) == fmt


def test_a_journal_outside_the_default_data_dir_keeps_reports_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPORT_CONSOLE_STATE_DIR")
    assert reports_dir(journal=tmp_path / "journal.sqlite3") == tmp_path / "reports"
