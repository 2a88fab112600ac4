"""SVG snapshots of the console's main screens at 80x24 and 120x40 (fixed clock, fake services).

Update them with ``pytest tests/tui --snapshot-update`` after checking the pictures by eye.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerFailed

from console.tui.app import ConsoleApp
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.storage_input import StorageLocationInput
from tests.tui.fakes import make_services
from tests.tui.waiting import until

SIZES = [(80, 24), (120, 40)]
SAS = "https://acct.blob.core.windows.net/exports?sv=2024-01-01&sr=c&sp=rcwl&se=2027-06-01T00:00:00Z&sig=S3cr3tSignatur3%2Bxyz"
"""A container SAS URL valid at the fixed clock (2027-01-15): its signature must show as ***."""


async def settle(pilot: Pilot[Any]) -> None:
    try:
        await pilot.app.workers.wait_for_complete()
    except WorkerFailed:
        pass
    await pilot.pause()
    await pilot.pause(0.05)
    await pilot.pause()


def main_app() -> ConsoleApp:
    services, _engine = make_services()
    return ConsoleApp(services)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """You should see the header (tenant, signed-in admin, cloud), the Profiles pane with 300 profiles
    and their latest export (✓ complete, ▶ running, … notStarted, ✗ failed), and at 120x40 the
    Operations pane below it with six operations; at 80x24 the pane tabs '1 Profiles  2 Operations'."""
    assert snap_compare(main_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_operations_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """You should see the Operations pane focused, the cursor on the second operation (▶ running 62%),
    each status with a glyph, and 'sort: User ↑ · filter: all' under the pane."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("2", "down", "s")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_search_and_selection(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """You should see 'smith' in the search box, only Smiths listed, two of them selected (●),
    and '… match · 2 selected' in the status line."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"smith", "enter", "space", "space")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_export_form(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """You should see the export form for one profile with today's quota (987 of 1,000 left) and the
    storage location with its signature masked as sig=***."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("enter", "tab")
        await settle(pilot)
        storage = pilot.app.screen.query_one("#storage", StorageLocationInput)
        storage.post_message(events.Paste(SAS))
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=size, run_before=run_before)


def test_export_results(snap_compare: Callable[..., bool]) -> None:
    """You should see per-profile results: two ✓ accepted with their operation ids."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        operations = pilot.app.screen.query_one(OpsTable)
        before = len(operations.views)
        await pilot.press("down", "down", "down", "down", "down", "down", "down", "space", "space", "enter", "tab")
        await settle(pilot)
        template = SAS.replace("/exports?", "/dsr-{userId}?")
        pilot.app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(template))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        # The operations feed flushes the two new rows behind the form (20 ms batches): wait for them.
        await until(pilot, lambda: len(operations.views) == before + 2, what="the two new operations")
        await settle(pilot)
        pilot.app.screen_stack[-2].refresh(layout=True)  # the main screen behind the form, drawn as it is now
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_operation_details(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """You should see one operation's details and its history: 202 at submission, 200s, a 429 without
    Retry-After, each with its request-id."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("2", "down", "enter")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_login_device_code(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """You should see the login pane: saved tenants contoso and fabrikam, the device-code method, and
    the code DEMO-4F7K with https://microsoft.com/devicelogin and 'expires in 15m00s'."""
    services, _engine = make_services(signed_in=False, with_login=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.query_one("#device-code").display, what="the device code")
        await until(pilot, lambda: "DEMO-4F7K" in str(pilot.app.screen.query_one("#dc-code", Static).render()))

    assert snap_compare(ConsoleApp(services), terminal_size=size, run_before=run_before)


def test_help(snap_compare: Callable[..., bool]) -> None:
    """You should see the Keys overlay listing every binding, grouped: Everywhere, Main screen, Profiles
    list, Search box, Operations table, Login pane, Export form, Operation details."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=(120, 40), run_before=run_before)


def test_wide_layout(snap_compare: Callable[..., bool]) -> None:
    """You should see Profiles and Operations side by side at 200x60."""
    assert snap_compare(main_app(), terminal_size=(200, 60), run_before=settle)


async def _three_selected(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("down", "down", "down", "down", "down", "down", "down", "space", "space", "space", "enter", "tab")
    await settle(pilot)


def test_export_form_template_preview(snap_compare: Callable[..., bool]) -> None:
    """You should see the export form for three people at 80x24: who (names), today's quota, the Case
    field, the proposed template .../exports-{userId}?...sig=*** in the storage field and a preview of the
    first three resolved locations, every signature masked."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _three_selected(pilot)
        pilot.app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=(80, 24), run_before=run_before)


def test_export_form_fixed_location_warning(snap_compare: Callable[..., bool]) -> None:
    """You should see, for three people and one fixed container, the warning naming Graph's rule (one export
    per storage location, StorageLocationAlreadyUsed) and the proposal 'ctrl+t uses one container per person'."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _three_selected(pilot)
        pilot.app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=(80, 24), run_before=run_before)


def test_bulk_confirmation(snap_compare: Callable[..., bool]) -> None:
    """You should see 'Export the personal data of 3 people to https://acct.../exports-{userId}?...sig=***?',
    the three names listed, and the buttons 'Export 3 (y)' and 'Cancel (n)' with Cancel focused (the default)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _three_selected(pilot)
        template = SAS.replace("/exports?", "/exports-{userId}?")
        pilot.app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(template))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=(80, 24), run_before=run_before)


def test_add_tenant(snap_compare: Callable[..., bool]) -> None:
    """You should see the add-tenant form at 80x24: labels Name, Tenant, Client id, Cloud, Sign in (device code
    only: the default client is a public client), and the Save and Cancel buttons above the footer."""
    services, _engine = make_services(signed_in=False, with_login=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(ConsoleApp(services), terminal_size=(80, 24), run_before=run_before)


def test_no_match(snap_compare: Callable[..., bool]) -> None:
    """You should see '0 matches for “nobody”' in the profiles list and '0 matches' in its status line."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"nobody")
        await settle(pilot)

    assert snap_compare(main_app(), terminal_size=(80, 24), run_before=run_before)
