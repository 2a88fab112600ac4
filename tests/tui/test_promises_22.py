"""Issue 22: the console's promises a one-line break passed the suite (the bulk confirmation, targets)."""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.screens.export import ExportScreen
from console.tui.widgets.storage_input import StorageLocationInput
from tests.tui.fakes import FakeBlobService, make_profiles, make_services
from tests.tui.ops_host import PaneApp
from tests.tui.waiting import until

SIZE = (80, 24)
FUTURE = "2027-06-01T00:00:00Z"
TEMPLATE = f"https://acct.blob.core.windows.net/dsr-{{userId}}?sv=2024-01-01&ss=b&srt=co&sp=rwlc&se={FUTURE}&sig=S3cr3tSignatur3"
"""An account SAS for one container per user, with read and list rights: the pre-flight checks each, nothing to warn about."""


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def ask_about_two(pilot: Pilot[None], app: ConsoleApp, blob: FakeBlobService) -> ConfirmScreen:
    """Mark two people, give a location with nothing to warn about, Enter: the question (waited for)."""
    await settle(pilot)
    await pilot.press("space", "down", "space", "enter")  # two people marked
    await settle(pilot)
    form = app.screen
    assert isinstance(form, ExportScreen) and len(form.people) == 2
    form.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
    await settle(pilot)
    await pilot.press("tab", "enter")  # focus starts in Case: Tab reaches Storage
    await until(
        pilot,
        lambda: isinstance(app.screen, ConfirmScreen) or form.outcomes is not None,
        what="the question or Graph's answers",
    )
    assert blob.requests, "the pre-flight never ran"
    question = app.screen
    assert isinstance(question, ConfirmScreen), "a bulk export was sent without asking"
    assert "\n!" not in str(question.query_one("#confirm-question", Static).render()), "there was a warning"
    return question


async def test_a_bulk_export_without_any_warning_is_still_confirmed_before_anything_is_sent() -> None:
    blob = FakeBlobService()  # every container exists and is empty: nothing to warn about
    services, engine = make_services(views=[], profiles=20, blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_about_two(pilot, app, blob)  # type: ignore[arg-type]
        assert engine.calls == []
        await pilot.press("y")
        await until(pilot, lambda: bool(engine.calls), what="the export")
        assert len(engine.calls) == 1 and len(engine.calls[0].locations) == 2


async def test_esc_on_the_bulk_question_answers_no_and_sends_nothing() -> None:
    blob = FakeBlobService()
    services, engine = make_services(views=[], profiles=20, blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await ask_about_two(pilot, app, blob)  # type: ignore[arg-type]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the answer No")
        await settle(pilot)  # type: ignore[arg-type]
        assert isinstance(app.screen, ExportScreen), "Esc left the form too"
        assert engine.calls == [], "Esc on the question sent the export"


def status_line(app: PaneApp) -> str:
    return str(app.query_one("#ops-status", Static).render())


async def test_marked_operations_the_filter_hides_are_not_targets_of_an_action() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")  # all seven marked, among them 2 and 6 (still tracking)
        await pilot.press("f")  # the unfinished ones shown: 2, 4, 6 keep their marks
        await settle(pilot)
        assert app.table.order == [2, 4, 6] and app.table.marked == [2, 4, 6]
        await pilot.press("f")  # the problems shown: 3, 4, 5, 7; of the marked ones only 4
        await settle(pilot)
        assert app.table.order == [3, 4, 5, 7]
        assert app.table.marked == [4]
        assert "1 marked" in status_line(app), "the status line counts marks the filter hides"
        await pilot.press("d")  # stop watching: the one shown marked operation is not tracking
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("y")
            await settle(pilot)
        assert app.engine.stopped == [], "a hidden marked operation was acted on"
        await pilot.press("e")
        await settle(pilot)
        assert [v.key for v in app.exports[-1].operations] == [4]


async def test_marks_the_typed_filter_hides_are_dropped_and_never_acted_on() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        await pilot.press("slash", *"case:DSR-1", "enter")  # only 1 and 2 shown
        await settle(pilot)
        assert app.table.order == [1, 2]
        await pilot.press("space")  # mark the highlighted one again
        await settle(pilot)
        assert "1 marked" in status_line(app)
        await pilot.press("end", "space", "d")  # 2 (tracking) marked too: stop watching it, not 6
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.engine.stopped == [2], "a hidden operation was acted on"


MARKUP_NAME = "[b]Mallory[/b] [link=https://evil.example]click[/link] [@click=app.quit]x[/@click]"
"""A display name a partner tenant controls, written as Rich markup."""


async def test_markup_in_a_name_is_shown_as_typed_in_the_form_and_the_confirmation() -> None:
    people = make_profiles(5)
    people[0] = replace(people[0], display_name=MARKUP_NAME)
    blob = FakeBlobService()
    services, engine = make_services(views=[], people=people, blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)  # type: ignore[arg-type]
        await pilot.press("space", "down", "space", "enter")
        await settle(pilot)  # type: ignore[arg-type]
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert "[b]Mallory[/b]" in str(form.query_one("#export-targets", Static).render())
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)  # type: ignore[arg-type]
        await pilot.press("tab", "enter")  # focus starts in Case: Tab reaches Storage
        await settle(pilot)  # type: ignore[arg-type]
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        names = str(question.query_one("#confirm-names", Static).render())
        assert "[b]Mallory[/b] [link=https://evil.example]click[/link]" in names
        assert engine.calls == []
