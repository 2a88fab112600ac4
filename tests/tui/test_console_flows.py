"""Keyboard safety over SSH (bursts), bulk confirmation and the export form (issues 8, 9, 10).

A slow SSH link delivers keys in bursts: ``burst`` hands every key to the app at once, with no
pause between them (``pilot.press`` waits for the app to go idle after each key, like slow typing).
Each burst test checks the burst gives the same result as slow typing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, RadioButton, Static

from console.graph.models import InboundSharedUserProfile
from console.ops.events import FINAL
from console.tui.app import HOLD_SECONDS, ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.messages import SessionOpened
from console.tui.screens.add_tenant import AddTenantScreen
from console.tui.screens.export import ExportScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.login import LoginScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.search_box import SearchBox
from console.tui.widgets.storage_input import StorageLocationInput
from tests.tui.fakes import NOW, FakeBlobService, make_profiles, make_services, view
from tests.tui.test_console import screen_text, settle

FUTURE = "2027-06-01T00:00:00Z"
"""A SAS expiry well after the tests' fixed now (2027-01-15)."""
SAS = f"https://acct.blob.core.windows.net/exports?sv=2024-01-01&sr=c&sp=rcwl&se={FUTURE}&sig=S3cr3tSignatur3"
"""A container SAS URL whose signature must never reach the screen."""
URL_TYPED = "https://acct.blob.core.windows.net/c?sv=2024-01-01&sp=rcwl"
"""What an admin types right after `e` (no signature, so the input shows it as typed)."""


def burst(app: ConsoleApp, keys: Sequence[str]) -> None:
    """Deliver ``keys`` to the app all at once, as a slow SSH link does (no pause between keys)."""
    driver = app._driver  # noqa: SLF001 - the pilot's own way in, minus its wait after each key
    assert driver is not None
    for key in keys:
        character = key if len(key) == 1 else None
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, character)
        event.set_sender(app)
        driver.send_message(event)


async def type_keys(pilot: Pilot[Any], keys: Sequence[str], *, fast: bool) -> None:
    if fast:
        burst(pilot.app, keys)  # type: ignore[arg-type]
    else:
        await pilot.press(*keys)
    await settle(pilot)


async def until(pilot: Pilot[Any], condition: Any, seconds: float = 5.0) -> None:
    """Wait for the state ``condition()`` checks, not for a time: a worker may start another (check, then send).

    ``seconds`` is only how long the state needs at least (a timer of the app); the wait gives up
    far later (a minute at least), so a busy machine that runs the app slowly never fails the test.
    """
    for _ in range(int(max(seconds, 60.0) / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")


def profile_list(app: ConsoleApp | Widget) -> ProfileList:
    return app.screen.query_one(ProfileList)


# -- 1. keys go where they were typed ------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_slash_garcia_filters_and_selects_no_one(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, list("/garcia"), fast=fast)
        profiles = profile_list(app)
        assert app.screen.query_one(SearchBox).value == "garcia"
        assert isinstance(app.focused, SearchBox)
        assert profiles.selected == {}  # the `a` never reached "Select shown"
        assert profiles.shown and all(
            "garcia" in profiles.index.profiles[i].display_name.lower() for i in profiles.shown
        )


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_slash_meyer_never_opens_the_export_form(fast: bool) -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, list("/meyer"), fast=fast)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(SearchBox).value == "meyer"
        assert engine.calls == []


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_e_then_a_url_at_once_loses_nothing(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, ["enter", "tab", *URL_TYPED], fast=fast)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#storage", StorageLocationInput).value == URL_TYPED


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_enter_from_the_search_then_a_selects_only_the_matches(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, [*"/garcia", "enter", "asterisk"], fast=fast)
        profiles = profile_list(app)
        assert app.focused is profiles
        garcias = {profiles.index.profiles[i].user_id for i in profiles.shown}
        assert 0 < len(garcias) < 300
        assert set(profiles.selected) == garcias


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_escape_escape_e_and_a_url_open_the_form_with_the_url(fast: bool) -> None:
    """Esc leaves the box (filter kept), Esc on the list clears the filter, `e` opens the form at once."""
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, list("/garcia"), fast=False)
        await type_keys(pilot, ["escape", "escape", "enter", "tab", *URL_TYPED], fast=fast)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#storage", StorageLocationInput).value == URL_TYPED


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_space_then_e_exports_the_person_just_selected(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, ["down", "down", "space", "enter"], fast=fast)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        people = profile_list(app.screen_stack[-2])
        assert screen.user_ids == people.selected_ids == [people.index.profiles[2].user_id]


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_slash_on_an_empty_search_box_is_never_typed(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, [*"//hopper"], fast=fast)
        assert app.screen.query_one(SearchBox).value == "hopper"


async def test_slash_after_escape_searches_again_from_scratch() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, [*"/garcia", "escape", "escape", *"/meyer"], fast=True)
        assert app.screen.query_one(SearchBox).value == "meyer"
        profiles = profile_list(app)
        assert profiles.shown and all(
            "meyer" in profiles.index.profiles[i].display_name.lower() for i in profiles.shown
        )


async def test_escape_keeps_the_filter_then_clears_it_and_never_the_selection() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        profiles = profile_list(app)
        await pilot.press("space", "space")
        await pilot.press(*"/garcia")
        shown = len(profiles.shown)
        await pilot.press("escape")
        assert app.focused is profiles
        assert app.screen.query_one(SearchBox).value == "garcia"
        assert len(profiles.shown) == shown  # the filter is kept
        await pilot.press("escape")
        assert app.screen.query_one(SearchBox).value == ""
        assert len(profiles.shown) == 300
        await pilot.press("escape")  # a bare Esc on the list does nothing
        assert len(profiles.selected) == 2
        assert isinstance(app.screen, MainScreen) and app.is_running


# -- 2. act on what is under the cursor; confirm bulk exports -------------------------------------


async def test_bulk_export_asks_with_the_count_the_masked_location_and_the_names() -> None:
    services, engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")  # all 300 shown
        await pilot.press("enter", "tab")
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert "For: Isabella Garcia, Bianca Meyer" in str(form.query_one("#export-targets", Static).render())
        template = SAS.replace("/exports?", "/dsr-{userId}?")
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(template))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        text = str(question.query_one("#confirm-question", Static).render())
        assert "Export the personal data of 300 people to https://acct.blob.core.windows.net/dsr-{userId}?" in text
        assert "sig=***" in text and "S3cr3t" not in screen_text(app)
        names = str(question.query_one("#confirm-names", Static).render())
        assert "Isabella Garcia" in names and "… and 295 more" in names
        assert engine.calls == []  # nothing sent while asking
        await pilot.press("enter")  # the default answer is No
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert engine.calls == []
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert len(engine.calls) == 1
        locations = engine.calls[0].locations
        assert len(set(locations)) == 300
        assert all(loc.endswith("sig=S3cr3tSignatur3") for loc in locations)


async def test_one_person_without_warnings_is_sent_without_asking() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: len(engine.calls) == 1)
        assert engine.calls[0].locations == [SAS]


async def test_e_on_the_operations_pane_exports_their_users_again() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.screen
        failed = engine.views[4]
        await pilot.press("2")
        table = main.query_one(OpsTable)
        table.move_cursor(next(i for i in range(6) if table.row_texts(i)[1] == "✗ failed"))
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert form.user_ids == [failed.user_id]  # the operation's user, not the highlighted profile
        assert form.people[0].previous_key == 4
        assert profile_list(main).highlighted_user_id != failed.user_id
        assert "Export again 1 person" in (form.query_one("#export-dialog").border_title or "")


async def test_export_requested_by_the_operations_table_names_its_people() -> None:
    people = make_profiles(300)
    failed = [
        view(key, people[10 + key].user_id, status="failed", state=FINAL, next_poll=None, completed=NOW - 60)
        for key in (2, 4, 5)
    ]
    services, engine = make_services(views=failed)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        table = main.query_one(OpsTable)
        chosen = (engine.views[4], engine.views[5], engine.views[2])
        table.post_message(OpsTable.ExportRequested(table, chosen))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert form.user_ids == [v.user_id for v in chosen]
        targets = str(form.query_one("#export-targets", Static).render())
        for operation in chosen:
            assert main.index.get(operation.user_id).display_name in targets  # type: ignore[union-attr]
        form.query_one("#storage", StorageLocationInput).post_message(
            events.Paste(SAS.replace("exports", "x-{userId}"))
        )
        await settle(pilot)
        await pilot.press("tab", "enter")  # from Case (the first field) to Storage, which sends
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert [t.previous_key for t in engine.calls[0].targets] == [4, 5, 2]


# -- 3. the export form: templates, SAS rules, case, pre-flight, Graph's answers ----------------------


async def test_several_people_get_a_proposed_template_and_a_masked_preview() -> None:
    services, engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space", "enter", "tab")
        form = app.screen
        assert isinstance(form, ExportScreen)
        storage = form.query_one("#storage", StorageLocationInput)
        storage.post_message(events.Paste(SAS))
        await settle(pilot)
        warning = str(form.query_one("#storage-warnings", Static).render())
        assert "one export per storage location" in warning  # Graph's rule, before anything is sent
        proposal = str(form.query_one("#storage-proposal", Static).render())
        assert "ctrl+t" in proposal and "/exports-{userId}?" in proposal and "S3cr3t" not in proposal
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "/exports-{userId}?" in storage.value and storage.value.endswith("sig=***")
        preview = str(form.query_one("#storage-preview", Static).render())
        ids = form.user_ids
        for user_id in ids:
            assert f"/exports-{user_id}?" in preview
        assert "S3cr3t" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert engine.calls[0].locations == [SAS.replace("/exports?", f"/exports-{u}?") for u in ids]


async def test_a_fixed_location_for_several_people_is_named_in_the_confirmation() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "one export per storage location" in str(app.screen.query_one("#confirm-question", Static).render())
        assert engine.calls == []


@pytest.mark.parametrize(
    ("location", "words"),
    [
        (SAS.replace(FUTURE, "2026-01-01T00:00:00Z"), "se"),
        (SAS.replace("sp=rcwl", "sp=rl"), "sp"),
        (SAS.replace("sig=S3cr3tSignatur3", "sig="), "sig"),
    ],
    ids=["expired", "cannot-write", "empty-signature"],
)
async def test_sas_errors_block_with_the_message(location: str, words: str) -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        form = app.screen
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(location))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        error = str(form.query_one("#storage-error", Static).render())
        assert words in error and "S3cr3t" not in error
        assert engine.calls == []


async def test_the_case_is_passed_and_remembered_for_the_next_export() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        form = app.screen
        form.set_focus(form.query_one("#case", Input))
        await pilot.press(*"DSR-1234", "enter")  # Enter moves on to the storage field
        assert app.focused is form.query_one("#storage")
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: len(engine.calls) == 1)
        assert engine.calls[0].case == "DSR-1234"
        await pilot.press("escape")
        await pilot.press("down", "enter", "tab")
        assert app.screen.query_one("#case", Input).value == "DSR-1234"


async def test_storage_location_already_used_is_explained_with_the_fix() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        user_id = profile_list(app).highlighted_user_id
        assert user_id is not None
        engine.refuse[user_id] = (
            "Storage destination has already been used for an export. If this is not true, delete "
            "'RequestInfo.json' from the container and try again. [StorageLocationAlreadyUsed] (request-id 77a)"
        )
        engine.refuse_codes[user_id] = "StorageLocationAlreadyUsed"
        await pilot.press("enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, ExportScreen)
        await until(pilot, lambda: form.outcomes is not None)
        await settle(pilot)
        assert "✗ refused" in str(form.query_one("#results", DataTable).get_row_at(0)[1])
        note = str(form.query_one("#results-note", Static).render())
        assert "StorageLocationAlreadyUsed" in note
        assert "one export per storage location" in note and "RequestInfo.json" in note and "template" in note


async def test_already_exporting_lists_them_and_can_force() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "space", "space", "enter", "tab")  # profiles 1 (running export) and 2 (notStarted)
        app.screen.query_one("#storage", StorageLocationInput).post_message(
            events.Paste(SAS.replace("exports", "x-{userId}"))
        )
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")  # the bulk question
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        names = str(question.query_one("#confirm-names", Static).render())
        assert "Bianca Meyer (running)" in names and "Ben Nguyen (notStarted)" in names
        assert engine.calls == []
        await pilot.press("y")
        await settle(pilot)
        assert len(engine.calls) == 1 and engine.calls[0].force


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda blob: blob.missing.add("exports"), "ContainerNotFound"),
        (lambda blob: blob.used.add("exports"), "RequestInfo.json"),
    ],
    ids=["missing-container", "earlier-export"],
)
async def test_preflight_refusal_is_shown_and_nothing_is_sent(setup: object, words: str) -> None:
    blob = FakeBlobService()
    setup(blob)  # type: ignore[operator]
    services, engine = make_services(blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        form = app.screen
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        error = str(form.query_one("#storage-error", Static).render())
        assert error.startswith("✗") and "S3cr3t" not in error
        assert words in error or "container" in error
        assert engine.calls == []
        assert blob.requests and all("authorization" not in r.headers for r in blob.requests)


async def test_unreachable_storage_is_a_warning_not_a_block() -> None:
    blob = FakeBlobService()
    blob.unreachable = True
    services, engine = make_services(blob=blob)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)  # the warning is shown before anything is sent
        assert engine.calls == []
        await pilot.press("y")
        await settle(pilot)
        assert len(engine.calls) == 1


# -- 5. search as people type names ------------------------------------------------------------


def _people_with_accents() -> list[InboundSharedUserProfile]:
    people = make_profiles(20)
    extra = [
        InboundSharedUserProfile(
            "aaaaaaaa-0000-4000-8000-000000000001", "José García", "jose.garcia@fabrikam.com", "t-fab"
        ),
        InboundSharedUserProfile(
            "aaaaaaaa-0000-4000-8000-000000000002", "GARCÍA Ana", "ana@contoso-partner.com", "t-con"
        ),
        InboundSharedUserProfile("aaaaaaaa-0000-4000-8000-000000000003", "Zoë Ørsted", "zoe@adatum.com", "t-ada"),
    ]
    return [*people, *extra]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("garcia", {"José García", "GARCÍA Ana"}),
        ("GARCÍA", {"José García", "GARCÍA Ana"}),
        ("fabrikam garcia", {"José García"}),
        ("garcia   fabrikam", {"José García"}),
        ("zoe", {"Zoë Ørsted"}),
        ("t-con ana", {"GARCÍA Ana"}),
    ],
)
async def test_search_ignores_case_and_accents_and_matches_every_word(query: str, expected: set[str]) -> None:
    people = _people_with_accents()
    services, _engine = make_services(people=people, views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *query)
        profiles = profile_list(app)
        found = {profiles.index.profiles[i].display_name for i in profiles.shown}
        generated = {p.display_name for p in people[:20]}
        assert found - generated == expected


async def test_no_match_says_so_in_the_list() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nobody here")
        assert "0 matches" in screen_text(app)
        assert "0 matches" in str(app.screen.query_one("#profiles-status", Static).render())


# -- 4. modals -------------------------------------------------------------------------------------


def footer_text(app: ConsoleApp) -> str:
    return screen_text(app).splitlines()[-1]


async def test_modal_footers_show_only_keys_that_work_there() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Search" in footer_text(app) and "Export" in footer_text(app)
        await pilot.press("space", "space", "enter", "tab")
        await settle(pilot)
        footer = footer_text(app)
        assert "Cancel" in footer
        for stale in ("Search", "Export", "Select", "Quit", "Help"):
            assert stale not in footer, footer
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        footer = footer_text(app)
        assert "Yes" in footer and "No" in footer and "Cancel / close" not in footer


async def test_q_asks_while_exports_are_sent_whatever_is_on_screen() -> None:
    services, engine = make_services(views=[])
    engine.submit_gate = asyncio.Event()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: engine.posts_in_flight == 1)
        assert isinstance(app.screen, ExportScreen)  # the form, still sending
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.id == "quit-question"
        await pilot.press("q")  # not asked twice
        await pilot.pause()
        assert [type(s).__name__ for s in app.screen_stack].count("ConfirmScreen") == 1
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen) and app.is_running
        await pilot.press("question_mark")  # help works on a modal too
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.id == "quit-question"
        await pilot.press("n")
        engine.submit_gate.set()
        await settle(pilot)


async def test_question_mark_opens_and_closes_help_on_any_screen() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Quit" not in footer_text(app) or "q" in footer_text(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_sign_out_and_switch_tenant_close_open_forms_first() -> None:
    for action in ("action_sign_out", "action_switch_tenant"):
        services, _engine = make_services(with_login=True)
        app = ConsoleApp(services)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter", "tab")
            await pilot.pause()
            assert isinstance(app.screen, ExportScreen)
            await getattr(app, action)()
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            assert [type(s).__name__ for s in app.screen_stack[1:]] == ["LoginScreen"], action


async def test_the_palette_offers_session_commands_only_on_the_main_screen() -> None:
    services, _engine = make_services(with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        on_main = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Sign out", "Switch tenant", "Export selected profiles"} <= on_main
        await pilot.press("enter", "tab")
        await pilot.pause()
        over_form = {c.title for c in app.get_system_commands(app.screen)}
        assert not over_form & {"Sign out", "Switch tenant", "Export selected profiles", "Reload profiles"}
        assert "Keys" in over_form


async def test_add_tenant_fits_80x24_with_labels_and_enter_moves_on() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddTenantScreen)
        text = screen_text(app)
        for label in ("Name", "Tenant", "Client id", "Cloud", "Sign in", "Save", "Cancel"):
            assert label in text, label
        assert form.query_one("#add-tenant-dialog").region.bottom <= 24
        assert form.query_one("#save").region.bottom <= 23  # above the footer
        await pilot.press(*"woodgrove", "enter")
        assert app.focused is form.query_one("#tenant-id")
        await pilot.press(*"woodgrove.onmicrosoft.com", "enter")
        assert app.focused is form.query_one("#client-id")
        assert [m.id for m in form.methods] == ["device_code"]  # the default public client: delegated only
        assert [b.id for b in form.query("RadioButton") if b.display] == ["method-device_code"]
        await pilot.press(*"0f0e0d0c-1111-2222-3333-444455556666")
        await pilot.pause()
        assert [m.id for m in form.methods] == ["device_code", "client_secret", "certificate"]
        assert [b.id for b in form.query("RadioButton") if b.display] == [
            "method-device_code",
            "method-client_secret",
            "method-certificate",
        ]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.selected_tenant is not None and app.screen.selected_tenant.name == "woodgrove"


async def test_the_client_secret_is_cleared_from_the_login_form_once_used() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        cast(RadioButton, screen.query_one("#methods").query("RadioButton").last()).value = True
        await pilot.pause()
        secret = screen.query_one("#secret", Input)
        secret.value = "wrong-secret"
        screen.action_sign_in()
        assert secret.value == ""
        await settle(pilot)
        assert "AADSTS7000215" in str(screen.query_one("#login-status", Static).render())
        assert "wrong-secret" not in screen_text(app)


async def test_ctrl_t_is_offered_only_when_there_is_a_template_to_propose() -> None:
    services, _engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        assert "Use template" not in footer_text(app)  # one person: nothing to propose
        await pilot.press("escape", "space", "space", "enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        assert "Use template" in footer_text(app)


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_2_e_and_a_url_at_once_export_the_operation_again(fast: bool) -> None:
    people = make_profiles(300)
    failed = [view(1, people[20].user_id, status="failed", state=FINAL, next_poll=None, completed=NOW - 60)]
    services, _engine = make_services(views=failed)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, ["2", "e", "tab", *URL_TYPED], fast=fast)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert form.user_ids == [people[20].user_id] and form.people[0].previous_key == 1
        assert form.query_one("#storage", StorageLocationInput).value == URL_TYPED


async def test_a_signature_in_graphs_error_never_reaches_the_screen() -> None:
    services, engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        user_id = profile_list(app).highlighted_user_id
        assert user_id is not None
        engine.refuse[user_id] = f"Graph refused the storage location {SAS} [BadRequest] (request-id 9f1e)"
        await pilot.press("enter", "tab")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, ExportScreen)
        await until(pilot, lambda: form.outcomes is not None)
        # The answer is on screen once the form has shown it (a repaint later): wait for that, not for a time.
        await until(pilot, lambda: "request-id 9f1e" in screen_text(app))
        assert "S3cr3t" not in screen_text(app)


async def test_the_palettes_export_command_exports_profiles_even_from_the_operations_pane() -> None:
    services, _engine = make_services(views=[])
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "2")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Export selected profiles"].callback()
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen) and len(form.user_ids) == 1


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_tab_from_the_search_then_a_selects_the_matches(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, [*"/garcia", "tab", "asterisk"], fast=fast)
        profiles = profile_list(app)
        assert app.screen.query_one(SearchBox).value == "garcia"
        assert app.focused is profiles
        assert set(profiles.selected) == {profiles.index.profiles[i].user_id for i in profiles.shown}


async def test_a_sign_in_that_succeeds_under_a_form_leaves_no_stale_login_screen() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, AddTenantScreen)
        assert services.login is not None
        app.post_message(SessionOpened(services.login.session_factory()))  # type: ignore[attr-defined]
        await settle(pilot)
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["MainScreen"]


async def test_held_keys_are_delivered_in_order_even_when_no_screen_opens() -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.hold_keys()  # as `e` on an operation that cannot be exported again does
        assert app.holding_keys
        burst(app, list("/smith"))
        typed_while_held: list[str] = []

        def released() -> bool:
            # Checked at every step of the wait (however slowly a busy machine runs it), not after a pause.
            if app.holding_keys and app.screen.query_one(SearchBox).value:
                typed_while_held.append(app.screen.query_one(SearchBox).value)
            return not app.holding_keys

        await until(pilot, released, seconds=HOLD_SECONDS + 5)  # the timer lets them go
        assert typed_while_held == [], "held keys reached the search box before the hold ended"
        await settle(pilot)
        assert app.screen.query_one(SearchBox).value == "smith"
