"""A tenant whose profiles hold every kind of terminal escape and markup: the console shows them as text.

Display names, UPNs, home tenant ids, cases, storage locations, Graph's errors and request-ids carry
OSC 52 (clipboard), ESC[2J, OSC 8 links, DCS, the C1 CSI, SGR colours, bidi overrides and Rich/Textual
markup (``[b]``, ``[link=...]``, ``[@click=...]``). What the app renders (every segment the compositor
would write to the terminal) must hold none of those characters, no link and no click action, and the
markup must be shown as typed: in the profile list, the operations table and its detail line, the
details, the export form, the bulk confirmation and the toasts.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.text import Text
from textual import events
from textual.widgets import DataTable, Static
from textual.widgets._data_table import default_cell_formatter

from console.graph.errors import BadRequest
from console.graph.models import InboundSharedUserProfile
from console.ops.events import FINAL, PollRecord
from console.text import terminal_safe
from console.tui.app import ConsoleApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.screens.details import OperationDetailsScreen
from console.tui.screens.export import ExportScreen
from console.tui.screens.login import LoginScreen
from console.tui.services import HeaderInfo, Session
from console.tui.widgets.storage_input import StorageLocationInput
from tests.hostile import ESCAPES, MARKUP, hostile_name, leaks
from tests.tui.fakes import NOW, make_profiles, make_services, view
from tests.tui.test_console import settle

HOSTILE = {**MARKUP, **ESCAPES}
"""Markup kinds first: they are the names the form and the confirmation list."""

EVERYTHING = "".join(HOSTILE.values())
"""Every escape and every markup kind in one text."""

EVERYTHING_SHOWN = "".join(terminal_safe(v) for v in HOSTILE.values())
"""How the console must show it: the escapes visible, the markup as typed."""

SHORT = f"{MARKUP['link']} {MARKUP['bold']} {ESCAPES['osc52']}{ESCAPES['bidi']}"
"""Markup and escapes short enough for a one-line field."""

SHORT_SHOWN = terminal_safe(SHORT)

TEMPLATE = (
    "https://acct.blob.core.windows.net/dsr-{userId}?sv=2024-01-01&sr=c&sp=rcwl&se=2027-06-01T00:00:00Z&sig=S3cr3t"
)
"""A location template (one container per person), so a bulk export is only asked about, never refused."""

SIZE = (200, 60)


def hostile_people() -> list[InboundSharedUserProfile]:
    """One profile per kind of escape or markup, in its display name, UPN and home tenant id."""
    return [
        InboundSharedUserProfile(
            user_id=f"{n:08x}-0000-4000-8000-000000000000",
            display_name=hostile_name(kind, payload),
            user_principal_name=f"{kind}{payload}@evil.example",
            home_tenant_id=f"{payload}-{n}",
        )
        for n, (kind, payload) in enumerate(HOSTILE.items())
    ]


def hostile_app(*, operations: bool = True) -> tuple[ConsoleApp, Any]:
    """The console over the hostile profiles (and some ordinary ones), each with an operation whose text is hostile."""
    people = hostile_people() + make_profiles(5)
    views = []
    if operations:
        for key, person in enumerate(people[: len(HOSTILE)], start=1):
            text = EVERYTHING if key == 1 else person.display_name
            views.append(
                replace(
                    view(
                        key,
                        person.user_id,
                        last_error=f"Graph said {text}",
                        case=f"DSR {text}",
                        display_name=text if key == 1 else person.display_name,
                        user_principal_name=person.user_principal_name,
                        home_tenant_id=f"{text}-tenant",
                    ),
                    storage_location=f"https://acct.blob.core.windows.net/{text}?sig=***",
                    location=f"https://graph.example/v1.0/dataPolicyOperations/{text}",
                    operation_id=f"op-{key}{text}",
                )
            )
    services, engine = make_services(people=people, views=views)
    engine.histories[1] = [
        PollRecord(NOW - 200, 202, 60.0, f"req-{EVERYTHING}", f"client-{EVERYTHING}", None, None, ""),
        PollRecord(NOW - 100, 200, 60.0, f"req2-{EVERYTHING}", "c", f"running{EVERYTHING}", 40.0, EVERYTHING),
    ]
    return ConsoleApp(services), engine


def rendered(app: ConsoleApp) -> str:
    """What the screen would write to the terminal, as text; fails on any raw escape, link or click action."""
    lines = []
    problems: list[str] = []
    for strip in app.screen._compositor.render_strips():  # noqa: SLF001
        for segment in strip:
            found = leaks(segment.text)
            if found:
                problems.append(f"raw {found} in {segment.text!r}")
            style = segment.style
            if style is not None and style.link:
                problems.append(f"a link to {style.link!r} on {segment.text!r}")
            if style is not None and any("click" in str(key) for key in (style.meta or {})):
                problems.append(f"an action {style.meta!r} on {segment.text!r}")
        lines.append(strip.text)
    assert problems == [], problems[:5]
    return "\n".join(lines)


def summary_text(screen: OperationDetailsScreen) -> str:
    """The details' summary as one line of plain text (what the screen wraps), markup parsed if any was."""
    view = screen.engine.operation(screen.key)
    assert view is not None
    console = Console(width=1000, file=io.StringIO(), record=True)
    console.print(screen.summary(view))
    return " ".join(console.export_text().split())


def cell_text(cell: object) -> str:
    """What a DataTable shows for ``cell`` (a ``str`` cell is parsed as markup there)."""
    shown = default_cell_formatter(cell)
    assert isinstance(shown, Text)
    return shown.plain


def static_text(screen: Any, selector: str) -> str:
    """The plain text a Static shows (after markup, if it parsed any)."""
    return str(screen.query_one(selector, Static).render())


async def test_hostile_profiles_and_operations_are_shown_as_text_in_the_lists() -> None:
    app, _engine = hostile_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        text = rendered(app)
        assert "Eve bold [b]bold[/b]" in text  # the profile list, as typed
        assert "Eve osc52 \\x1b]52;c;SGV" in text  # the escape made visible, not run
        assert "Eve bidi \\u202eevil" in text
        assert "Eve c1csi \\x9b31m End" in text
        assert "dcs\\x1bP+q544e" in text  # the UPN column
        assert "\\x1b]52;" in text  # the home tenant column
        assert "Graph said [b]bold[/b][link=https:" in text  # the operations table's last error
        assert "Eve bold [b]bold[/b] End <bold[b]bold[/b]@evil.example> · case DSR" in text  # the detail line


async def test_the_details_show_every_hostile_field_as_text() -> None:
    app, _engine = hostile_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2", "home", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OperationDetailsScreen)
        text = rendered(app)
        assert "Export of Eve bold [b]bold[/b] End" in text  # the border title
        history = screen.query_one("#history", DataTable)
        shown = [cell_text(cell) for cell in history.get_row_at(1)]
        assert shown[3:] == [f"◆ running{EVERYTHING_SHOWN}", f"req2-{EVERYTHING_SHOWN}"]
        summary = summary_text(screen)
        for row in ("Person ", "Case DSR ", "Last error Graph said ", "Storage https://acct.blob.core.windows.net/"):
            assert f"{row}{EVERYTHING_SHOWN}" in summary, row
        assert f"Home tenant {EVERYTHING_SHOWN}-tenant" in summary
        assert f"Operation op-1{EVERYTHING_SHOWN}" in summary
        await pilot.press("n")  # the note dialog names the person in its title
        await settle(pilot)
        assert "Note on the export of Eve bold [b]bold[/b] End" in rendered(app)


async def test_markup_in_a_name_is_shown_as_typed_in_the_export_forms_for_line() -> None:
    """Issue 22, behaviour 20: the export form's "For:" line never interprets a name's markup."""
    app, _engine = hostile_app(operations=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("asterisk", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen)
        line = static_text(form, "#export-targets")
        assert line.startswith("For: Eve bold [b]bold[/b] End, Eve link [link=https://evil.example]link[/link] End")
        assert "Eve click [@click=app.quit]quit[/] End" in line
        assert "\\x1b]52;c;SGVsbG8=\\x07" in line
        rendered(app)


async def test_markup_in_a_name_is_shown_as_typed_in_the_bulk_confirmations_names() -> None:
    """Issue 22, behaviour 19: the bulk confirmation's list of names never interprets a name's markup."""
    app, engine = hostile_app(operations=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("asterisk", "enter")
        await settle(pilot)
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("tab", "enter")  # focus starts in Case: Tab reaches Storage
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        names = static_text(question, "#confirm-names")
        assert "• Eve bold [b]bold[/b] End" in names
        assert "• Eve link [link=https://evil.example]link[/link] End" in names
        assert "• Eve click [@click=app.quit]quit[/] End" in names
        assert "• Eve osc52 \\x1b]52;c;SGVsbG8=\\x07 End" in names
        assert "S3cr3t" not in rendered(app)
        assert engine.calls == []


async def test_a_failure_toast_shows_the_name_and_graphs_error_as_text() -> None:
    app, engine = hostile_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        failed = engine.views[1]
        engine.emit(replace(failed, status="failed", state=FINAL, last_error=f"Graph: {EVERYTHING}"), "status")
        await settle(pilot)
        text = rendered(app)
        assert "Export failed: Eve bold [b]bold[/b]" in text
        # The toast is one short line of text; the event log keeps the whole of it (issue 17, item 6).
        toast = [n for n in app._notifications if n.message.startswith("Export failed:")]  # noqa: SLF001
        assert toast and not toast[0].markup
        entry = next(e for e in app.event_log if e.title == "Export failed")
        assert entry.text.startswith(f"Eve bold [b]bold[/b] End: Graph: {EVERYTHING_SHOWN}"[:150])


async def test_graphs_refusal_is_shown_as_text_in_the_export_results() -> None:
    app, engine = hostile_app(operations=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        user = hostile_people()[1].user_id
        engine.refuse[user] = f"Graph refused {EVERYTHING}"
        await pilot.press("down", "enter")
        await settle(pilot)
        app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(TEMPLATE))
        await settle(pilot)
        await pilot.press("tab", "enter")  # focus starts in Case: Tab reaches Storage
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):  # the container SAS's warning is asked about
            await pilot.press("y")
            await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen) and form.outcomes is not None
        results = form.query_one("#results", DataTable)
        shown = [cell_text(cell) for cell in results.get_row_at(0)]
        assert shown[0] == "Eve link [link=https://evil.example]link[/link] End"
        assert shown[2].startswith(f"Graph refused {EVERYTHING_SHOWN}"[:100])
        text = rendered(app)
        assert "Eve link [link=https://evil.example]link[/link] End" in text
        assert "S3cr3t" not in text


async def test_a_listing_error_and_the_signed_in_identity_are_shown_as_text() -> None:
    """Graph's words when listing stops (status line and toast) and the token's UPN in the header."""
    app, _engine = hostile_app(operations=False)
    session = app.services.session
    assert session is not None
    people = hostile_people()

    async def failing() -> AsyncIterator[list[InboundSharedUserProfile]]:
        yield people[:2]
        raise BadRequest(f"Graph broke {SHORT}")

    session.profiles = failing
    session.header = HeaderInfo(f"contoso{EVERYTHING}", f"admin{EVERYTHING}@contoso.com")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        text = rendered(app)
        status = static_text(app.screen, "#profiles-status")
        assert status.startswith(f"listing stopped after 2: Graph broke {SHORT_SHOWN}")
        assert "Listing profiles failed" in text
        # One short line as text (issue 17, item 6: the event log keeps the whole).
        toast = [n for n in app._notifications if n.message.startswith("Listing profiles failed:")]  # noqa: SLF001
        assert toast and not toast[0].markup
        entry = next(e for e in app.event_log if e.title == "Listing profiles failed")
        assert entry.text == f"Graph broke {SHORT_SHOWN}"
        header = static_text(app.screen, "#header")
        # The header fits the terminal: the tenant is cut in its middle before the name (issue 17, item 7).
        assert f"as admin{EVERYTHING_SHOWN}@contoso.com" in header and "tenant contos" in header
        from console.tui.widgets.header import header_text

        assert f"tenant contoso{EVERYTHING_SHOWN}" in header_text(session.header).plain


async def test_a_sign_in_error_is_shown_as_text() -> None:
    services, _engine = make_services(signed_in=False, with_login=True)
    login = services.login
    assert login is not None

    async def refuse(*args: object, **kwargs: object) -> Session:
        raise RuntimeError(f"Entra said {SHORT}")

    login.sign_in = refuse  # type: ignore[method-assign]
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert static_text(app.screen, "#login-status") == f"Sign-in failed: Entra said {SHORT_SHOWN}"
        rendered(app)
