"""Issue 17 (5): every modal fits 80x24 with its title and buttons in sight (SVG snapshots).

Update them with ``pytest tests/tui/test_console_modal_snapshots.py --snapshot-update`` after checking
the pictures by eye.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot

from console.tui.app import ConsoleApp
from console.tui.widgets.storage_input import StorageLocationInput
from tests.tui.fakes import FakeBlobService, make_profiles, make_services
from tests.tui.test_console import settle
from tests.tui.test_console_flows import SAS
from tests.tui.waiting import until

TEMPLATE = SAS.replace("/exports?", "/dsr-{userId}?")


def test_bulk_question_with_warnings_and_refusals_fits_80x24(snap_compare: Callable[..., bool]) -> None:
    """You should see the question 'Export personal data?' with its title, 'Case: DSR-77', the two people
    pre-flight refused named under one reason (containers that do not exist), one grouped line for the
    containers storage could not check, the names, and the buttons 'Export 298, skip these 2 (y)' and
    'Cancel (n)' at the bottom, the long text scrolling inside."""
    people = make_profiles(300)
    blob = FakeBlobService()
    blob.missing |= {f"dsr-{people[0].user_id}", f"dsr-{people[1].user_id}"}
    services, _engine = make_services(views=[], blob=blob, people=people)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("asterisk", "enter", *"DSR-77", "tab")
        await settle(pilot)
        pilot.app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.clear_notifications()  # the select-all announcement (a toast) has had its say
        await settle(pilot)

    assert snap_compare(ConsoleApp(services), terminal_size=(80, 24), run_before=run_before)


def _status_line(app: App[Any]) -> str:
    """The main screen's polling status line (under the modal), as text."""
    for screen in app.screen_stack:
        for line in screen.query("#polling-status"):
            return str(line.render())
    return ""


def test_export_results_fit_80x24(snap_compare: Callable[..., bool]) -> None:
    """You should see the form's title 'Export personal data of 300 people', Graph's answers in a table
    that scrolls inside, and '300 accepted · Enter or Esc closes' at the bottom."""
    services, _engine = make_services(views=[])

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("asterisk", "enter", "tab")
        await settle(pilot)
        pilot.app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        # The status line re-reads today's quota once the 300 exports are in: wait for it, not for time.
        await until(pilot, lambda: "687" in _status_line(pilot.app), what="the quota")
        await pilot.app.workers.wait_for_complete()
        await until(pilot, lambda: "687" in _status_line(pilot.app), what="the quota, still")
        pilot.app.clear_notifications()
        await settle(pilot)
        # The line under the modal is drawn from the main screen's last paint: wait for the picture.
        await until(pilot, lambda: "687/1,000" in pilot.app.export_screenshot(), what="the quota on screen")

    assert snap_compare(ConsoleApp(services), terminal_size=(80, 24), run_before=run_before)
