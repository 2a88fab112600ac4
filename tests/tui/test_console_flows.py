"""Keyboard safety over SSH (bursts), bulk confirmation and the export form (issues 8, 9, 10).

A slow SSH link delivers keys in bursts: ``burst`` hands every key to the app at once, with no
pause between them (``pilot.press`` waits for the app to go idle after each key, like slow typing).
Each burst test checks the burst gives the same result as slow typing.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from console.graph.models import InboundSharedUserProfile
from console.tui.app import ConsoleApp
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.export import ExportScreen
from console.tui.screens.main import MainScreen
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.search_box import SearchBox
from console.tui.widgets.storage_input import StorageLocationInput
from console.ops.events import FINAL
from fakes import NOW, FakeBlobService, make_profiles, make_services, view
from test_console import screen_text, settle

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


async def type_keys(pilot: Pilot[object], keys: Sequence[str], *, fast: bool) -> None:
    if fast:
        burst(pilot.app, keys)  # type: ignore[arg-type]
    else:
        await pilot.press(*keys)
    await settle(pilot)


def profile_list(app: ConsoleApp) -> ProfileList:
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
        await type_keys(pilot, ["e", *URL_TYPED], fast=fast)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#storage", StorageLocationInput).value == URL_TYPED


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_enter_from_the_search_then_a_selects_only_the_matches(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, [*"/garcia", "enter", "a"], fast=fast)
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
        await type_keys(pilot, ["escape", "escape", "e", *URL_TYPED], fast=fast)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#storage", StorageLocationInput).value == URL_TYPED


@pytest.mark.parametrize("fast", [True, False], ids=["burst", "slow"])
async def test_space_then_e_exports_the_person_just_selected(fast: bool) -> None:
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, ["down", "down", "space", "e"], fast=fast)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        people = profile_list(app.screen_stack[-2])  # type: ignore[arg-type]
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
        await pilot.press("a")  # all 300 shown
        await pilot.press("e")
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
        await pilot.press("e")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert len(engine.calls) == 1 and engine.calls[0].locations == [SAS]


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
        await pilot.press("enter")
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
        await pilot.press("space", "space", "space", "e")
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
        await pilot.press("space", "space", "e")
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
        await pilot.press("e")
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
        await pilot.press("e")
        form = app.screen
        form.set_focus(form.query_one("#case", Input))
        await pilot.press(*"DSR-1234", "enter")  # Enter moves on to the storage field
        assert app.focused is form.query_one("#storage")
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert engine.calls[0].case == "DSR-1234"
        await pilot.press("escape")
        await pilot.press("down", "e")
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
        await pilot.press("e")
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen)
        assert "✗ refused" in str(form.query_one("#results", DataTable).get_row_at(0)[1])
        note = str(form.query_one("#results-note", Static).render())
        assert "StorageLocationAlreadyUsed" in note
        assert "one export per storage location" in note and "RequestInfo.json" in note and "template" in note


async def test_already_exporting_lists_them_and_can_force() -> None:
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "space", "space", "e")  # profiles 1 (running export) and 2 (notStarted)
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
        await pilot.press("e")
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
        await pilot.press("e")
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
