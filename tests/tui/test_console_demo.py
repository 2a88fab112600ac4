"""The export form against the real pieces (--demo): simulated Graph, engine, journal, blob stand-in.

StorageLocationAlreadyUsed end to end in the console (issue 8): a second export to a location that
already holds one is refused before the POST by the Blob pre-flight, and, with the pre-flight
unable to see it, by Graph itself, explained with the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerFailed

from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.entry import build_console_services
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.storage_input import StorageLocationInput
from console.wiring import DEMO_STORAGE, ConnectionOptions, demo_location


async def wait_for(pilot: Pilot[Any], condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(max(seconds, 60.0) / 0.05)):  # waits for the state; gives up late (a busy machine is slow)
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def settle(pilot: Pilot[Any]) -> None:
    try:
        await pilot.app.workers.wait_for_complete()
    except WorkerFailed:
        pass
    await pilot.pause(0.1)


async def send(pilot: Pilot[Any], location: str) -> ExportScreen:
    """Type ``location`` into the open form, Enter, Yes when asked; the form once Graph has answered."""
    form = pilot.app.screen
    assert isinstance(form, ExportScreen)
    storage = form.query_one("#storage", StorageLocationInput)
    storage.value = ""  # the demo proposes its own storage: replace it
    storage.post_message(events.Paste(location))
    await settle(pilot)
    await pilot.press("enter")
    await yes_if_asked(pilot, form)
    return form


async def yes_if_asked(pilot: Pilot[Any], form: ExportScreen) -> None:
    """Answer Yes once the form asks; wait for the question, Graph's answer or the refusal (not for a time)."""
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, ConfirmScreen)
            or form.outcomes is not None
            or bool(_text(form, "#storage-error"))
        ),
    )
    if isinstance(pilot.app.screen, ConfirmScreen):
        await pilot.press("y")


async def test_a_reused_location_is_refused_and_explained(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    sim = services.extra["simulated_tenant"]

    def posts() -> int:
        return sum(1 for r in sim.requests if r.method == "POST" and "exportPersonalData" in r.path)

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("end")
        first = main.query_one(ProfileList).highlighted_user_id
        assert first is not None
        location = demo_location(first)  # one fixed container, first used by this person
        await pilot.press("enter", "tab")
        form = await send(pilot, location)
        await wait_for(pilot, lambda: form.outcomes is not None)
        assert form.outcomes is not None and form.outcomes[0].accepted, form.outcomes
        await pilot.press("escape")
        before = posts()
        # someone else, the same container: refused by the pre-flight (RequestInfo.json is there) or,
        # while the first export is still being written, by Graph (StorageLocationAlreadyUsed)
        await pilot.press("up", "enter", "tab")
        await pilot.pause()
        again = await send(pilot, location)
        await settle(pilot)
        await wait_for(pilot, lambda: again.outcomes is not None or bool(_text(again, "#storage-error")))
        shown = _text(again, "#storage-error") + _text(again, "#results-note")
        assert "demo-not-a-secret" not in shown
        if again.outcomes is None:
            assert "RequestInfo.json" in shown or "export" in shown, shown
            assert posts() == before  # refused before the POST: no daily export spent
        else:
            assert not again.outcomes[0].accepted
            assert "StorageLocationAlreadyUsed" in shown and "template" in shown and "RequestInfo.json" in shown
        await app.action_quit()


def _text(screen: ExportScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_the_demo_proposes_its_own_storage_and_a_fresh_container_for_a_re_export(tmp_path: Path) -> None:
    """Issue 17 (12, 13): the demo's form starts with a location that works; exporting the same person
    again proposes a container not used before, which the demo's storage has, and Graph accepts it."""
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("end")
        person = main.query_one(ProfileList).highlighted_user_id
        assert person is not None
        await pilot.press("enter")  # the form, focus in Case
        form = app.screen
        assert isinstance(form, ExportScreen)
        storage = form.query_one("#storage", StorageLocationInput)
        assert storage.location == DEMO_STORAGE and "demo-not-a-secret" not in storage.value
        assert "Demo storage account contosoexports" in _text(form, "#storage-suggestion")
        await pilot.press(*"DSR-1", "enter", "enter")  # Case, then Storage sends (one person: no question)
        await wait_for(pilot, lambda: form.outcomes is not None)
        assert form.outcomes is not None and form.outcomes[0].accepted, form.outcomes
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")  # the same person again
        again = app.screen
        assert isinstance(again, ExportScreen)
        fresh = again.query_one("#storage", StorageLocationInput).location
        assert fresh != DEMO_STORAGE and "/dsr-{userId}-" in fresh
        assert "not used before" in _text(again, "#storage-suggestion")
        await pilot.press("enter", "enter")
        await yes_if_asked(pilot, again)  # Already exporting (the first one still runs): yes
        await wait_for(pilot, lambda: again.outcomes is not None)
        assert again.outcomes is not None and again.outcomes[0].accepted, again.outcomes
        await app.action_quit()


async def test_a_location_pasted_in_the_demo_replaces_its_proposal(tmp_path: Path) -> None:
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("end", "enter", "tab")  # Storage reached: the proposal is selected
        form = app.screen
        assert isinstance(form, ExportScreen)
        storage = form.query_one("#storage", StorageLocationInput)
        mine = DEMO_STORAGE.replace("dsr-{userId}", "mine-{userId}").replace("demo-not-a-secret", "MyS1gnature")
        storage.post_message(events.Paste(mine))
        await settle(pilot)
        assert storage.location == mine
        assert "MyS1gnature" not in storage.value
        await app.action_quit()


async def test_a_refused_bulk_form_at_80x24_keeps_its_title_and_hint_above_the_footer(tmp_path: Path) -> None:
    """Issue 17 (5): 300 selected, 295 hidden by a search, every container missing: the refusal scrolls
    inside the form; its title and its last line (what Enter does) stay on the screen, above the footer."""
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk", "slash", *"meyer", "enter", "enter", *"DSR-77", "tab")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen) and len(form.people) == 300
        missing = DEMO_STORAGE.replace("dsr-{userId}", "nowhere-{userId}")
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(missing))
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "do not exist" in _text(form, "#storage-error"))
        await settle(pilot)
        dialog = form.query_one("#export-dialog")
        hint = form.query_one("#export-hint")
        footer_top = app.size.height - 1
        assert dialog.region.y >= 0 and dialog.region.bottom <= footer_top, dialog.region
        assert hint.region.height == 1 and hint.region.bottom < dialog.region.bottom, (hint.region, dialog.region)
        assert "Esc cancels" in str(hint.render())
        await app.action_quit()
