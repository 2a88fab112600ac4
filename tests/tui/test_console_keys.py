"""Issue 17: nothing surprising from a typed name, bursts that keep their Tab, what is hidden stays in sight.

Every keyboard promise is checked twice: the keys sent as one burst (``burst``: all at once, as a slow SSH
link delivers them) and one at a time (``pilot.press``), with the same result.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual import events
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.ops.events import FINAL
from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.search_box import SearchBox
from console.tui.widgets.storage_input import StorageLocationInput
from tests.tui.fakes import NOW, FakeBlobService, make_profiles, make_services, view
from tests.tui.test_console import screen_text, settle
from tests.tui.test_console_flows import SAS, burst

TEMPLATE = SAS.replace("/exports?", "/dsr-{userId}?")
"""One container per person (several people)."""


async def type_keys(pilot: Pilot[Any], keys: list[str], *, fast: bool) -> None:
    if fast:
        burst(pilot.app, keys)  # type: ignore[arg-type]
    else:
        await pilot.press(*keys)
    await settle(pilot)


def the_list(app: ConsoleApp) -> ProfileList:
    return app.screen.query_one(ProfileList)


def text(app: ConsoleApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


# -- 1. typing a name on the list searches: it never selects, exports or switches ----------------


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_typing_a_name_on_the_list_searches_and_never_selects_or_opens_a_form(fast: bool) -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        profiles = the_list(app)
        await type_keys(pilot, list("garcia"), fast=fast)
        assert app.screen.query_one(SearchBox).value == "garcia"
        assert isinstance(app.focused, SearchBox)
        assert profiles.selected == {}  # the `a` never reached "Select shown"
        assert 0 < len(profiles.shown) < 300
        assert all("garcia" in profiles.index.profiles[i].display_name.lower() for i in profiles.shown)
        # Esc (to the list), Esc (clears), then another name: a new search, no form
        await type_keys(pilot, ["escape", "escape", *"Meyer"], fast=fast)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(SearchBox).value == "Meyer"
        assert profiles.selected == {}
        assert engine.calls == []


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_a_name_typed_after_a_search_starts_a_new_search(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, [*"/garcia", "enter", *"emma"], fast=fast)
        assert isinstance(app.screen, MainScreen)  # `e` no longer opens the form on the list
        assert app.screen.query_one(SearchBox).value == "emma"
        assert the_list(app).selected == {}


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_star_selects_everything_shown_aloud_and_ctrl_z_undoes_it(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    said: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            said.append(message.notification.message)

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await settle(pilot)
        profiles = the_list(app)
        await type_keys(pilot, ["space", "asterisk"], fast=fast)
        assert len(profiles.selected) == 300
        assert any(
            "Selected 299 more profiles in the list: 300 selected. ctrl+z undoes." in entry.text
            for entry in app.event_log
        ), said
        await type_keys(pilot, ["ctrl+z"], fast=fast)
        assert len(profiles.selected) == 1
        await type_keys(pilot, ["ctrl+a", "minus"], fast=fast)
        assert profiles.selected == {}
        await type_keys(pilot, ["ctrl+z"], fast=fast)
        assert len(profiles.selected) == 300


# -- 2. a selection hidden by the search is always in sight ------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_a_selection_hidden_by_the_search_shows_on_the_list_the_form_and_the_question(fast: bool) -> None:
    services, engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        profiles = the_list(app)
        await type_keys(pilot, ["*", "/", *"meyer", "enter"], fast=fast)
        shown = len(profiles.shown)
        assert 0 < shown < 300
        hidden = 300 - shown
        assert f"{hidden} selected not shown" in text(app, "#profiles-status")
        await type_keys(pilot, ["enter"], fast=fast)  # the form: for all 300
        form = app.screen
        assert isinstance(form, ExportScreen) and len(form.people) == 300
        assert f"{hidden} of them are not shown by the search “meyer”" in text(app, "#export-hidden")
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert f"{hidden} of them are not shown by the search" in text(app, "#confirm-question")
        assert engine.calls == []


# -- 3. Tab in a burst goes where it was typed; focus starts in the first field ------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_case_tab_storage_typed_at_once_fill_both_fields(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, ["enter", *"DSR-77", "tab", *"https://q"], fast=fast)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert form.query_one("#case", Input).value == "DSR-77"
        assert form.query_one("#storage", StorageLocationInput).value == "https://q"
        assert app.focused is form.query_one("#storage")


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_enter_on_case_moves_to_storage_at_once(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, ["enter"], fast=False)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert app.focused is form.query_one("#case")  # the first field drawn is the first focused
        await type_keys(pilot, [*"DSR-8", "enter", *"acct", "shift+tab", *"1"], fast=fast)
        assert form.query_one("#case", Input).value == "DSR-81"
        assert form.query_one("#storage", StorageLocationInput).value == "acct"


# -- 4. typing into the hidden signature shows ------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_keys_typed_into_the_hidden_signature_change_its_shown_length(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        storage = app.screen.query_one("#storage", StorageLocationInput)
        storage.post_message(events.Paste(SAS))
        await settle(pilot)
        signature = SAS.split("sig=")[1]
        assert f"sig=*** holds {len(signature)} characters (hidden)" in text(app, "#storage-secret")
        await type_keys(pilot, ["home", "end"], fast=fast)
        assert storage.cursor_position == len(storage.value)
        await type_keys(pilot, list("qqq"), fast=fast)
        assert storage.value.endswith("sig=***")
        assert storage.location.endswith(signature + "qqq")
        assert f"sig=*** holds {len(signature) + 3} characters (hidden)" in text(app, "#storage-secret")
        assert signature not in screen_text(app)


# -- 5. questions fit 80x24: title and buttons always in sight ------------------------------------------


async def test_a_bulk_export_to_unreachable_storage_fits_80x24_with_grouped_warnings() -> None:
    blob = FakeBlobService()
    blob.unreachable = True
    services, engine = make_services(views=[], blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk", "enter")
        await settle(pilot)
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        shown = screen_text(app)
        assert "Export personal data?" in shown  # the title
        assert "Export 300 (y)" in shown and "Cancel (n)" in shown  # the buttons
        question = text(app, "#confirm-question")
        assert question.count("could not be reached") == 1  # one line for 300 containers
        assert "300 containers" in question
        assert engine.calls == []


# -- 12-15. the demo and re-exports; pre-flight names people; the question names the case -----------


async def test_the_question_names_the_case() -> None:
    services, _engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "enter", *"DSR-1234", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Case: DSR-1234" in text(app, "#confirm-question")


async def test_preflight_names_the_people_refused_and_goes_on_without_them() -> None:
    people = make_profiles(300)
    blob = FakeBlobService()
    blob.missing.add(f"dsr-{people[1].user_id}")
    services, engine = make_services(views=[], blob=blob, people=people)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space", "enter", "tab")
        form = app.screen
        assert isinstance(form, ExportScreen)
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        asked = text(app, "#confirm-question")
        assert "does not exist" in asked and people[1].display_name in asked
        assert "Export 2, skip these 1 (y)" in screen_text(app)
        await pilot.press("n")  # back to the form: the location (with its signature) is still there
        await settle(pilot)
        storage = form.query_one("#storage", StorageLocationInput)
        assert storage.location == TEMPLATE
        assert people[1].display_name in text(app, "#storage-error")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert len(engine.calls) == 1
        assert engine.calls[0].user_ids == [people[0].user_id, people[2].user_id]


async def test_a_re_export_keeps_its_case_and_proposes_a_container_not_used_before() -> None:
    people = make_profiles(300)
    failed = view(
        1,
        people[20].user_id,
        status="failed",
        state=FINAL,
        next_poll=None,
        completed=NOW - 60,
        case="DSR-9",
    )
    services, _engine = make_services(views=[failed], people=people)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert form.query_one("#case", Input).value == "DSR-9"
        note = text(app, "#storage-suggestion")
        assert "Used before" in note and "/exports-20270115?" in note


async def test_the_details_view_at_80x24_shows_submitted_completed_and_request_ids() -> None:
    long_error = "Graph reported the export failed: " + "the storage location could not be written. " * 6
    failed = view(
        1,
        make_profiles(1)[0].user_id,
        status="failed",
        state=FINAL,
        next_poll=None,
        completed=NOW - 60,
        last_error=long_error,
        post_request_id="req-post-0001",
        final_request_id="req-final-0009",
    )
    services, _engine = make_services(views=[failed])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "enter")
        await settle(pilot)
        shown = screen_text(app)
        for words in ("Export of", "Submitted", "Completed", "req-post-0001", "req-final-0009", "Esc close"):
            assert words in shown, words


async def test_a_second_signature_pasted_after_a_masked_one_is_never_shown() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        storage = app.screen.query_one("#storage", StorageLocationInput)
        storage.post_message(events.Paste(SAS))
        await settle(pilot)
        storage.post_message(events.Paste("&sig=An0therS3cret"))
        await settle(pilot)
        assert "An0therS3cret" not in storage.value
        assert "An0therS3cret" not in screen_text(app)
        assert storage.value.endswith("&sig=***")


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_a_name_starting_with_an_accent_keeps_every_letter(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, list("émile"), fast=fast)
        assert app.screen.query_one(SearchBox).value == "émile"
        assert the_list(app).selected == {}


async def test_fixing_the_container_after_a_refusal_keeps_the_signature() -> None:
    blob = FakeBlobService()
    blob.missing.add("exports")
    services, engine = make_services(blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        form = app.screen
        assert isinstance(form, ExportScreen)
        storage = form.query_one("#storage", StorageLocationInput)
        storage.post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "does not exist" in text(app, "#storage-error") and engine.calls == []
        assert form.people[0].label in text(app, "#storage-error")  # the person, not only a container
        storage.cursor_position = storage.value.index("exports") + len("exports")
        await pilot.press(*"-2")  # the admin created exports-2 instead
        await settle(pilot)
        assert storage.location == SAS.replace("/exports?", "/exports-2?")
        await pilot.press("enter")
        await settle(pilot)
        assert len(engine.calls) == 1 and engine.calls[0].locations == [SAS.replace("/exports?", "/exports-2?")]
