"""SVG snapshots of the Operations pane and the details view at 80x24 (fixed clock, fake engine).

Update them with ``pytest tests/tui/test_ops_snapshots.py --snapshot-update`` after checking the pictures by eye.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from console.ops.events import Note, OperationView
from console.tui.app import ConsoleApp
from tests.tui.fakes import FakeEngine, make_profiles, make_services
from tests.tui.ops_fakes import NOW, triage_views

SIZE = (80, 24)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause(0.05)
    await pilot.pause()


class Delivered:
    """The fields of console.storage.blob.Delivery the details view reads."""

    checked_at = NOW - 30
    files = 12
    bytes = 3_500_000
    names = ("RequestInfo.json",)
    request_info = True
    error = ""


def triage_app() -> tuple[ConsoleApp, FakeEngine]:
    """Seven operations over real profile ids: complete, running, failed, unconfirmed, rejected, error."""
    people = make_profiles(300)
    views: list[OperationView] = []
    for index, view in enumerate(triage_views()):
        person = people[index]
        views.append(
            replace(
                view,
                user_id=person.user_id,
                display_name=person.display_name,
                user_principal_name=person.user_principal_name,
                home_tenant_id=person.home_tenant_id,
                submitted_by="admin@contoso.onmicrosoft.com",
            )
        )
    views[2] = replace(
        views[2],
        delivered=Delivered(),  # type: ignore[arg-type,unused-ignore]
        post_request_id="0f3a2c1d-5e6b-4a79-8c0d-1e2f3a4b5c6d",
        notes=2,
    )
    services, engine = make_services(views=views, people=people)
    engine.note_rows[3] = [
        Note(1, 3, NOW - 120, "admin@contoso.onmicrosoft.com", "Graph says failed: asked the DPO for a new container"),
        Note(2, 3, NOW - 60, "dpo@contoso.onmicrosoft.com", "New container dsr-3b ready"),
    ]
    return ConsoleApp(services), engine


def test_marked_and_filtered_operations(snap_compare: Callable[..., bool]) -> None:
    """You should see the tab "2 Operations 7 · 4 problems", "4/7 shown · ● 2 marked" with ✗ failed, ! error,
    ? unconfirmed and ✗ rejected counts, only the problem operations (filter: problem), two of them
    marked with ●, the cursor on the rejected one, and under the table its StorageLocationAlreadyUsed
    error in full with the fix and the whole request-id."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("2", "f", "f", "space", "space")
        await settle(pilot)

    app, _engine = triage_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_text_filter_by_case(snap_compare: Callable[..., bool]) -> None:
    """You should see 'case:DSR-2' in the filter box, three operations of that case (failed, unconfirmed,
    rejected), '3/7 shown' and '/case:DSR-2' in the pane's subtitle."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("2", "slash", *"case:DSR-2", "enter")
        await settle(pilot)

    app, _engine = triage_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_details_with_error_notes_and_delivery(snap_compare: Callable[..., bool]) -> None:
    """You should see the failed export's details: person with UPN and home tenant, case DSR-2, status,
    operation id, status URL, storage with sig=***, delivery '12 files, 3.3 MB (RequestInfo.json
    present)', the export POST's request-id, the last error, two notes with time and author, and the poll
    history with full request-ids."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("2", "down", "down", "enter")
        await settle(pilot)

    app, _engine = triage_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
