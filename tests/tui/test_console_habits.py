"""Issue 17: the console an admin from k9s or htop expects (items 6-10, 17), under Pilot.

Keys go as one burst (``pilot.press(*keys)``) and one at a time; both give the same screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from console.ops.events import ERROR, FINAL, REJECTED, TRACKING, UNCONFIRMED, OperationView
from console.ops.status import PollingStatus
from console.tui.app import ConsoleApp
from console.tui.widgets.ops_pane import OperationsPane
from console.tui.widgets.ops_table import OpsTable
from tests.tui.fakes import NOW, FakeEngine, FixedClock, make_profiles, make_services, view
from tests.tui.waiting import until

PEOPLE = make_profiles(8)


def triage() -> list[OperationView]:
    """Six operations; four problems (failed, rejected, error, unconfirmed), one of them failed."""
    ids = [p.user_id for p in PEOPLE]
    end = NOW - 30
    return [
        view(
            1,
            ids[0],
            status="complete",
            state=FINAL,
            progress=100,
            next_poll=None,
            completed=end,
            display_name="Ada Lovelace",
        ),
        view(
            2,
            ids[1],
            status="failed",
            state=FINAL,
            next_poll=None,
            completed=end,
            last_error="Graph said failed",
            display_name="Grace",
        ),
        view(3, ids[2], status=None, state=REJECTED, next_poll=None, last_error="400 Used", display_name="Alan"),
        view(4, ids[3], status="running", state=ERROR, next_poll=None, last_error="403", display_name="Edsger"),
        view(5, ids[4], status=None, state=UNCONFIRMED, next_poll=None, display_name="Barbara"),
        view(6, ids[5], status="running", state=TRACKING, display_name="Ken Thompson"),
    ]


def app_for(views: list[OperationView] | None = None, *, gate: asyncio.Event | None = None) -> ConsoleApp:
    services, _engine = make_services(people=PEOPLE, views=triage() if views is None else views, gate=gate)
    return ConsoleApp(services)


Press = Callable[[Pilot[Any], tuple[str, ...]], Awaitable[None]]


async def as_burst(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def one_at_a_time(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


PRESSES = [pytest.param(as_burst, id="burst"), pytest.param(one_at_a_time, id="one-at-a-time")]


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def table_of(app: ConsoleApp) -> OpsTable:
    return app.screen.query_one(OpsTable)


# -- item 9: one vocabulary, one count ------------------------------------------------------------


@pytest.mark.parametrize("press", PRESSES)
async def test_the_tab_the_status_line_and_the_filters_count_the_same_operations(press: Press) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(OperationsPane)
        assert pane.tab_label() == "Operations 6 · 4 problems"
        await press(pilot, ("2", "f", "f"))  # all -> unfinished -> problem
        table = table_of(app)
        assert table.status_filter == "problem"
        assert table.row_count == 4
        table.set_filter("failed")
        await pilot.pause()
        assert table.row_count == 1 == table.counts()["failed"]
        table.set_filter("running")
        await pilot.pause()
        assert table.row_count == 1 == table.counts()["running"]  # the error row is not running


# -- item 10: names wherever the journal knows them -------------------------------------------------


async def test_the_user_column_shows_the_journals_names_while_the_profiles_still_load() -> None:
    gate = asyncio.Event()  # the profiles never arrive in this test
    app = app_for(gate=gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        table = table_of(app)
        users = [table.row_texts(row)[0] for row in range(table.row_count)]
        assert users[0] == "Ada Lovelace" and "Ken Thompson" in users
        assert not any(user in {p.user_id for p in PEOPLE} for user in users)
        gate.set()


# -- item 6: the event log ----------------------------------------------------------------------------

LONG_ERROR = "403 Forbidden: " + " ".join(f"clause{n}" for n in range(60)) + " END-OF-ERROR"


async def _fail_one(app: ConsoleApp, pilot: Pilot[Any]) -> None:
    engine = app.services.session.engine  # type: ignore[union-attr]
    assert isinstance(engine, FakeEngine)
    running = engine.views[6]
    engine.emit(replace(running, state=ERROR, last_error=LONG_ERROR))
    # The failure's toast and log line come once the feed has passed it on: wait for them, not for a time.
    await until(pilot, lambda: any(LONG_ERROR in entry.text for entry in app.event_log) and list(app._notifications))


@pytest.mark.parametrize("press", PRESSES)
async def test_a_failure_toasts_one_short_line_and_the_event_log_keeps_it_whole(press: Press) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _fail_one(app, pilot)
        toasts = list(app._notifications)
        assert toasts and all("\n" not in t.message and len(t.message) <= 90 for t in toasts)
        assert all((t.timeout or 0) <= 6 for t in toasts)  # a few seconds, not 10 or 15
        assert any(LONG_ERROR in entry.text for entry in app.event_log)
        await press(pilot, ("ctrl+l", "/", "e", "n", "d", "-", "o", "f"))
        from console.tui.screens.event_log import EventLogScreen

        screen = app.screen
        assert isinstance(screen, EventLogScreen)
        assert screen.query_text == "end-of"
        assert len(screen.shown) == 1 and LONG_ERROR in screen.shown[0].text
        await press(pilot, ("escape", "escape"))
        assert not isinstance(app.screen, EventLogScreen)


GRAPH_FAILED = (
    "Graph reported the export failed and gives no reason (a dataPolicyOperation has no error field): check the"
    " storage location (it must be writable, unused and its SAS valid long enough), then export again (e)."
)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_event_log_shows_every_word_of_a_long_error_on_screen(size: tuple[int, int]) -> None:
    """Wrapped at the width the log really has: no letter lost at a line's end, the severity in full."""
    from tests.tui.test_console import screen_text

    app = app_for()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await _fail_one(app, pilot)
        app.notify("22 exports finished: 19 complete, 3 need attention", title="Batch finished", severity="warning")
        for _ in range(3):  # enough lines that the log needs its scroll bar
            app.notify(GRAPH_FAILED, title="Export failed: Amara Schmidt", severity="error", markup=False)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.pause()
        shown = screen_text(app)
        words = set(shown.split())
        missing = [word for word in GRAPH_FAILED.split() if word not in words]
        assert not missing, (missing, shown)
        assert {"error", "warn"} <= words and "warni" not in words  # the severity never cut mid-word
        await pilot.resize_terminal(70, 24)  # narrower: wrapped again, still nothing cut
        await pilot.pause()
        await pilot.pause()
        words = set(screen_text(app).split())
        assert not [word for word in GRAPH_FAILED.split() if word not in words]


async def test_the_event_log_never_reads_tenant_text_as_markup_and_escapes_controls() -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.notify("[bold]Eve[/bold] \x1b[31m", title="Hostile", markup=False)
        entry = list(app.event_log)[-1]
        assert entry.text == "[bold]Eve[/bold] \\x1b[31m"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert "[bold]Eve[/bold]" in entry_lines(app)


def entry_lines(app: ConsoleApp) -> str:
    from textual.widgets import RichLog

    return "\n".join(strip.text for strip in app.screen.query_one(RichLog).lines)


# -- item 7: header and footers -------------------------------------------------------------------------


def footer_keys(app: ConsoleApp) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [
        key.key_display
        for key in app.screen.query(FooterKey)
        if key.display and key.region.width and key.region.right <= app.size.width
    ]


async def test_at_80_columns_the_header_names_who_is_signed_in_and_every_footer_has_help_and_quit() -> None:
    from console.tui.widgets.header import ConsoleHeader

    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = app.screen.query_one(ConsoleHeader)
        line = header.render_line(0).text
        assert "admin@contoso.onmicrosoft.com" in line and not line.rstrip().endswith("signed in as")
        assert footer_keys(app)[:2] == ["?", "q"]
        await pilot.press("2")
        await pilot.pause()
        assert footer_keys(app)[:2] == ["?", "q"]
        from pathlib import Path

        from console.tui.dialogs.report import ReportScreen

        app.push_screen(ReportScreen(Path("report.md"), 3, marked=False))  # its own keys, not the table's
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert "esc" in keys and "space" not in keys and "f" not in keys


def test_a_token_tenant_guid_is_shortened_and_the_name_is_cut_last() -> None:
    from console.tui.services import HeaderInfo
    from console.tui.widgets.header import header_text

    info = HeaderInfo("72f988bf-86f1-41af-91ab-2d7cd011db47", "token from $GRAPH_TOKEN", "global")
    line = header_text(info, width=80).plain
    assert "72f988bf…" in line and "86f1" not in line and line.endswith("token from $GRAPH_TOKEN")
    long = HeaderInfo("prod (contoso-worldwide-holdings.onmicrosoft.com)", "dpo@contoso.com", "usgov")
    line = header_text(long, width=80).plain
    assert len(line) <= 80 and line.endswith("as dpo@contoso.com")


async def test_the_idle_login_pane_offers_no_copy_code() -> None:
    services, _engine = make_services(people=PEOPLE, signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = footer_keys(app)
        assert "c" not in keys and "esc" not in keys
        assert keys[:2] == ["?", "q"]


# -- item 8: the polling status line --------------------------------------------------------------------


class PollingEngine(FakeEngine):
    """The fake engine with the engine's read-only polling snapshot."""

    def __init__(self, views: list[OperationView]) -> None:
        super().__init__(views, clock=FixedClock())
        self.status = PollingStatus(412, 9000, 1, NOW + 12, None)
        self.reads = 0

    def polling_status(self) -> PollingStatus:
        self.reads += 1
        return self.status


def polling_app() -> tuple[ConsoleApp, PollingEngine]:
    services, _ = make_services(people=PEOPLE, views=triage())
    engine = PollingEngine(triage())
    assert services.session is not None
    services.session.engine = engine
    return ConsoleApp(services), engine


def status_line(app: ConsoleApp) -> str:
    from console.tui.widgets.status_line import PollingStatusLine

    return app.screen.query_one(PollingStatusLine).render_line(0).text


@pytest.mark.parametrize("press", PRESSES)
async def test_the_status_line_shows_budget_throttling_next_poll_quota_and_pause(press: Press) -> None:
    from console.tui.widgets.status_line import PollingStatusLine

    app, engine = polling_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = status_line(app)
        assert "412/9,000" in line and "next poll in 12s" in line and "987/1,000" in line
        widget = app.screen.query_one(PollingStatusLine)
        writes = widget.writes
        for _ in range(5):  # idle: nothing changed, nothing is written
            app.screen.refresh_polling_status()  # type: ignore[attr-defined]
        assert widget.writes == writes
        engine.status = replace(engine.status, throttled_until=NOW + 90)
        await press(pilot, ("2", "p"))
        line = status_line(app)
        from console.tui.widgets.status_line import clock_label

        assert "THROTTLED" in line and clock_label(NOW + 90) in line and "PAUSED" in line
        assert any(entry.title == "Throttled" for entry in app.event_log)
        # a batch is sent: exports left today is read again
        engine.tenant_used = 25
        new = view(7, PEOPLE[6].user_id, status="notStarted", display_name="Linus")
        engine.emit(new, "submitted")
        await press(pilot, ("p",))
        await settle(pilot)
        assert "975" in status_line(app) and "987" not in status_line(app)
        assert "PAUSED" not in status_line(app)


# -- item 17: k9s and htop habits -----------------------------------------------------------------------


@pytest.mark.parametrize("press", PRESSES)
async def test_sort_by_column_with_angle_brackets_copy_an_id_and_negate_a_filter(
    press: Press, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, ("2", ">"))
        table = table_of(app)
        assert table.sort_column == "user"
        await press(pilot, (">", ">"))
        assert table.sort_column == "progress"
        await press(pilot, ("<",))
        assert table.sort_column == "status"
        await press(pilot, ("home", "y"))
        assert copied == [table.highlighted.operation_id]  # type: ignore[union-attr]
        assert any("Copied" in entry.text for entry in app.event_log)
        await press(pilot, ("/", *"!status:complete", "escape"))
        assert table.row_count == 5 and all("complete" not in table.row_texts(r)[1] for r in range(5))
        await press(pilot, ("escape", "/", *"!grace", "enter"))
        assert table.row_count == 5


@pytest.mark.parametrize("press", PRESSES)
async def test_the_help_is_searched_with_slash(press: Press) -> None:
    from console.tui.screens.help import HelpScreen

    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, ("?", "/", *"copy"))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        assert screen.rows and all("copy" in " ".join(row).lower() for row in screen.rows)
        assert any("operation" in row[2].lower() for row in screen.rows)
        await press(pilot, ("escape", "escape"))
        assert not isinstance(app.screen, HelpScreen)


def cut_footer_keys(app: ConsoleApp) -> list[str]:
    """What the footer's line shows left of the palette key, less the keys listed whole: a key drawn in part."""
    from textual.widgets._footer import FooterKey

    from tests.tui.test_console import screen_text

    listed = [key for key in app.screen.query(FooterKey) if key.display and not key.has_class("-command-palette")]
    drawn = screen_text(app).splitlines()[-1].split("▏")[0].split()
    whole = " ".join(f"{key.key_display} {key.description}" for key in listed).split()
    return drawn[len(whole) :] if drawn[: len(whole)] == whole else drawn


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_no_footer_key_is_drawn_in_part(size: tuple[int, int]) -> None:
    """A footer lists whole keys only (a cut ``d▏`` reads as a key that does nothing); ? and q stay."""
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for screen_key in ("1", "2", "ctrl+l"):
            await pilot.press(screen_key)
            await settle(pilot)
            await pilot.pause()
            assert cut_footer_keys(app) == [], (screen_key, cut_footer_keys(app))
            assert footer_keys(app)[:2] == ["?", "q"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.resize_terminal(200, 40)  # wider: what did not fit is listed again
        await settle(pilot)
        await pilot.pause()
        wide = footer_keys(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.pause()
        assert cut_footer_keys(app) == [] and len(footer_keys(app)) < len(wide)
