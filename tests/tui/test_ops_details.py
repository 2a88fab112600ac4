"""The details view: full request-ids, a cursor that stays while polls arrive, copies, notes, delivery."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable

from console.tui.dialogs.note import NoteScreen
from console.tui.screens.details import OperationDetailsScreen
from tests.tui.ops_fakes import NOW, PaneEngine, label_of, triage_views
from tests.tui.ops_host import PaneApp

SIZE = (80, 24)


@dataclass(frozen=True)
class Delivered:
    """The fields of console.storage.blob.Delivery the view reads."""

    checked_at: float
    files: int
    bytes: int
    names: tuple[str, ...]
    request_info: bool
    error: str = ""


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def open_details(pilot: Pilot[None], app: PaneApp, key: int) -> OperationDetailsScreen:
    screen = OperationDetailsScreen(app.engine, key, app.clock, app.label, live=False)
    await app.push_screen(screen)
    await settle(pilot)
    return screen


def summary(screen: OperationDetailsScreen) -> str:
    """The summary as plain text, as wide as needed (what the screen wraps, in one line)."""
    view = screen.engine.operation(screen.key)
    assert view is not None
    console = Console(width=400, file=io.StringIO(), record=True)
    console.print(screen.summary(view))
    return " ".join(console.export_text().split())


async def test_request_ids_in_full_and_c_copies_the_highlighted_one() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_details(pilot, app, 2)
        history = screen.query_one("#history", DataTable)
        assert history.row_count == 4
        assert history.cursor_row == 3  # opens on the newest poll
        first = [str(c) for c in history.get_row_at(0)]
        assert first[4] == "00000002-5b5b-4000-8000-000000000000"
        # at 80 columns the whole row fits: no request-id is cut (nor scrolled out of sight)
        assert history.virtual_size.width <= history.scrollable_content_region.width
        await pilot.press("up", "up", "c")
        assert app.clipboard == "00000001-aaaa-4bbb-8ccc-dddddddddddd"
        assert any("Copied request-id 00000001-aaaa" in str(n.message) for n in app._notifications)


async def test_the_cursor_stays_on_its_poll_while_new_polls_arrive() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_details(pilot, app, 2)
        history = screen.query_one("#history", DataTable)
        await pilot.press("up", "up")
        assert history.cursor_row == 1
        app.engine.histories[2] = app.engine.polls(2, 7)
        app.engine.views[2] = replace(app.engine.views[2], polls=7)
        await screen.reload()
        await settle(pilot)
        assert history.row_count == 7
        assert history.cursor_row == 1  # no jump to the newest
        await pilot.press("c")
        assert app.clipboard == "00000001-aaaa-4bbb-8ccc-dddddddddddd"


async def test_o_u_l_copy_the_operation_id_user_id_and_status_url() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_details(pilot, app, 3)
        await pilot.press("o")
        assert app.clipboard == "op-0003"
        await pilot.press("u")
        assert app.clipboard == "user-0003"
        await pilot.press("l")
        assert app.clipboard == "https://graph.example/v1.0/dataPolicyOperations/op-0003"
        messages = [str(n.message) for n in app._notifications]
        assert any(m.startswith("Copied operation id") for m in messages)
        assert any(m.startswith("Copied status URL") for m in messages)


async def test_case_profile_delivery_request_ids_and_notes_are_shown() -> None:
    views = triage_views()
    views[0] = replace(
        views[0],
        home_tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
        submitted_by="admin@contoso.com",
        post_request_id="post-1111-2222-3333-444444444444",
        final_request_id="final-5555-6666-7777-888888888888",
        delivered=Delivered(NOW - 30, 12, 3_500_000, ("RequestInfo.json",), True),  # type: ignore[arg-type,unused-ignore]
    )
    engine = PaneEngine(views)
    await engine.add_note(1, "DSR-1 answered by mail", "dpo@contoso.com")
    app = PaneApp(engine)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        screen = await open_details(pilot, app, 1)
        text = summary(screen)
        assert "Ana García <ana.garcia@fabrikam.com>" in text
        assert "72f988bf-86f1-41af-91ab-2d7cd011db47" in text
        assert "DSR-1" in text
        assert "12 files, 3.3 MB (RequestInfo.json present), checked 2027-01-15 07:59:30" in text
        assert "post-1111-2222-3333-444444444444" in text and "final-5555-6666-7777-888888888888" in text
        assert "by admin@contoso.com" in text
        assert "2027-01-15 08:00:00 dpo@contoso.com: DSR-1 answered by mail" in text


async def test_n_adds_a_note_typed_in_the_same_burst() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_details(pilot, app, 4)
        await pilot.press("n", *"called support", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert [n.text for n in app.engine.note_log[4]] == ["called support"]
        assert "called support" in summary(screen)


async def test_an_empty_note_is_not_saved() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_details(pilot, app, 4)
        await pilot.press("n", "enter")
        await settle(pilot)
        assert isinstance(app.screen, NoteScreen)
        assert 4 not in app.engine.note_log


async def test_a_reused_location_is_explained_in_the_details() -> None:
    app = PaneApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        screen = await open_details(pilot, app, 5)
        text = summary(screen)
        assert "one export per storage location" in text and "RequestInfo.json" in text
        assert "5d1c2f3e-9a8b-4c7d-8e6f-0123456789ab" in text


async def test_a_failed_export_without_graphs_reason_says_so() -> None:
    views = triage_views()
    views[2] = replace(views[2], last_error="")
    app = PaneApp(PaneEngine(views))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        screen = await open_details(pilot, app, 3)
        assert "gives no reason" in summary(screen)


def test_labels_follow_display_names() -> None:
    assert label_of(triage_views())("user-0001") == "Ana García"
