"""Removal from the console (issue 19): refused unless allowed, answered only by typing the number of people.

Keys are sent in bursts, as a paste or a fast typist would: a burst of Enter or ``y`` never answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.pilot import Pilot

from console.tui.app import ConsoleApp
from console.tui.dialogs.remove import RemoveScreen
from console.tui.entry import build_console_services
from console.tui.screens.main import MainScreen
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.search_box import SearchBox
from console.wiring import ConnectionOptions
from tests.tui.fakes import make_services
from tests.tui.test_console import settle
from tests.tui.test_console_flows import burst
from tests.tui.test_real_engine import wait_for


def allowed_fake_services(allow: bool = True) -> Any:
    services, engine = make_services(views=[], profiles=20)
    session = services.session
    assert session is not None
    session.allow_removal = allow
    session.services = SimpleNamespace(engine=engine)
    return services


async def test_removal_is_refused_naming_allow_removal_when_not_allowed() -> None:
    app = ConsoleApp(allowed_fake_services(allow=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert any("allow_removal = true" in entry.text for entry in app.event_log)


async def test_read_only_refuses_removal_and_export() -> None:
    services = allowed_fake_services()
    services.read_only = True
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        texts = [entry.text for entry in app.event_log]
        assert any("Read-only: removal" in t for t in texts) and any("Read-only: export" in t for t in texts)


async def test_a_burst_of_enter_or_y_never_answers_the_question() -> None:
    app = ConsoleApp(allowed_fake_services())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "space", "delete", "enter", "enter", "y", "y", "enter", "y", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RemoveScreen) and screen.count == 2
        # The count box takes digits only: y never reaches it, and Enter there needs the number.
        await pilot.press("tab", "y", "y", "enter", "enter", "1", "enter")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_delete_then_enter_in_one_burst_opens_the_removal_question_not_the_export_form() -> None:
    """The keys of a slow link arrive together: Delete acts as it is read, so the Enter after it reaches the
    question (which Enter never answers), not the profile list (where Enter opens the export form)."""
    app = ConsoleApp(allowed_fake_services())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, ["space", "delete", "enter", "enter"])
        await settle(pilot)
        assert isinstance(app.screen, RemoveScreen) and app.screen.count == 1
        assert [type(s).__name__ for s in app.screen_stack].count("ExportScreen") == 0


async def test_delete_in_the_search_box_deletes_a_character() -> None:
    app = ConsoleApp(allowed_fake_services())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "a", "b", "home", "delete")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(SearchBox).value == "b"


async def test_typing_the_number_sends_the_removal_and_journals_it(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        sim = services.extra["simulated_tenant"]
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and not sim.graph.removals  # demo: off by default
        main.profile_session.allow_removal = True
        await pilot.press("delete", "enter", "enter", "y", "y", "enter", "y", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RemoveScreen) and not sim.graph.removals
        # The bursts typed "yyy" as the case; Enter in the count box (empty, then no digits from y) never answered.
        await pilot.press("shift+tab", *["backspace"] * 3, *"DSR-5", "enter", "enter", "y", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RemoveScreen) and not sim.graph.removals
        await pilot.press("1", "enter")
        await wait_for(pilot, lambda: len(sim.graph.removals) == 1)
        assert isinstance(app.screen, MainScreen)
        engine = services.session.services.engine if services.session else None
        assert engine is not None
        journal = engine.writer.journal
        await wait_for(pilot, lambda: any(r.kind == "removal" for r in journal.rows(engine.tenant_key)))
        (row,) = [r for r in journal.rows(engine.tenant_key) if r.kind == "removal"]
        assert row.status == "requested" and row.case == "DSR-5" and row.post_request_id == sim.graph.removals[0][2]
        assert row.display_name  # the profile's name kept for the report
        table = main.query_one(OpsTable)
        await wait_for(pilot, lambda: row.key in table.views)  # the operations pane shows it
        assert table.views[row.key].kind == "removal" and table.views[row.key].display_status == "requested"
        await app.action_quit()


def test_the_removal_question_fits_80x24(snap_compare: Callable[..., bool]) -> None:
    """You should see the dialog 'Remove personal data' asking to remove the personal data of 2 people
    shared with contoso.onmicrosoft.com, the two names, an empty case box (focused), a count box saying
    'type 2 to remove 2 people', and 'Type 2 and press Enter to remove; Esc closes.'"""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "down", "space", "delete")
        await settle(pilot)

    assert snap_compare(ConsoleApp(allowed_fake_services()), terminal_size=(80, 24), run_before=run_before)


async def test_a_refused_removal_toast_shows_tenant_text_as_escaped_data(monkeypatch: Any) -> None:
    """What a removal's toasts carry from the tenant (a user id, the holding tenant, an error) reaches the
    terminal escaped and redacted, as every other failure does."""
    import console.tui.removal as removal
    from console.ops.removal import AlreadyRemoved, RemovalOutcome
    from tests.tui.fakes import view

    hostile = "evil\x1b]52;c;SGVsbG8=\x07tenant sig=S3cr3t"
    shown: list[str] = []
    screen = SimpleNamespace(notify=lambda text, **_kw: shown.append(text))

    async def already(*_args: Any, **_kw: Any) -> Any:
        raise AlreadyRemoved([view(1, "u-1", target_tenant=hostile, kind="removal")])

    monkeypatch.setattr(removal, "submit_removals", already)
    await removal._send(screen, None, [], "DSR-1", "admin", "Remove")  # type: ignore[arg-type]  # noqa: SLF001

    async def failed(*_args: Any, **_kw: Any) -> Any:
        target = SimpleNamespace(label="Zoë")
        return [RemovalOutcome(target, None, "", f"Graph said {hostile}", 1)]  # type: ignore[arg-type]

    monkeypatch.setattr(removal, "submit_removals", failed)
    await removal._send(screen, None, [], "DSR-1", "admin", "Remove")  # type: ignore[arg-type]  # noqa: SLF001
    assert len(shown) == 2 and "ask again from the command line (--force)" in shown[0]
    for text in shown:
        assert "\x1b" not in text and "\x07" not in text and "S3cr3t" not in text, text
        assert "\\x1b]52" in text
