"""The main screen of a signed-in session: profiles on one side, live operations on the other.

Layout follows the terminal: side by side from 160 columns, stacked from 36 lines,
and one pane at a time (keys 1 and 2) in a small terminal such as 80x24.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.command import Provider
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from console.tui.bindings import KeyArea
from console.tui.cells import safe_text
from console.tui.export_launch import person_for
from console.tui.export_model import ExportMemory, Person
from console.tui.feed import OperationsFeed
from console.tui.focus import MovesFocusNow, hold_keys, release_keys_after_refresh
from console.tui.footer import ConsoleFooter
from console.tui.messages import (
    KeepsEventLog,
    ProfilesFailed,
    ProfilesLoaded,
    ProfilesPage,
    ReportsWorkerFailures,
    describe_failure,
)
from console.tui.profile_index import ProfileIndex
from console.tui.pulse import PulseBoard
from console.tui.screens.outbound import OutboundCommands, open_outbound
from console.tui.screens.tenant_view import TenantCommands, TenantView
from console.tui.services import ConsoleServices, Session
from console.tui.tenants import Sessions, tenant_key_of
from console.tui.widgets.cases_pane import CaseBook, CaseList, CasesPane
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.ops_pane import OperationsPane
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.profiles_pane import ProfilesPane
from console.tui.widgets.pulse_strip import PulseStrip
from console.tui.widgets.search_box import SearchBox
from console.tui.widgets.status_line import PollingStatusLine

WIDE_COLUMNS = 160
"""From this width the panes sit side by side."""
STACKED_LINES = 36
"""From this height (and below WIDE_COLUMNS) the panes are stacked; below it one pane shows at a time."""
TICK_SECONDS = 1.0
"""How often elapsed / next-poll cells of the rows on screen are refreshed."""

PANES = ((1, "profiles", "Profiles"), (2, "operations", "Operations"), (3, "cases", "Cases"))
"""(number, name, title) of each pane: its number key, its tab (Operations' tab adds counts) and ``show_pane``."""

_key = KeyArea(
    "main",
    priority=True,
    tooltips={
        "search": "Search profiles",
        "remove": "On the profiles: remove the personal data of the selected (or highlighted) profiles; asks you "
        "to type their number; needs allow_removal = true on the tenant",
        "export": "On Operations: export the marked (or highlighted) operations again (on the profiles, Enter)",
        "profiles": "Go to the profiles",
        "operations": "Go to the operations",
        "cases": "Go to the cases (deadlines of the data-subject requests)",
        "outbound": "Our users whose data other tenants hold; del there asks one tenant to remove one user's data",
        "details": "On Operations: open the highlighted operation",
        "tenant": "With several tenants open: show the next tenant's profiles (the export form is for it)",
        "reload": "List the profiles again",
    },
)


class MainScreen(MovesFocusNow, ReportsWorkerFailures, TenantView):
    """Profiles and operations of one signed-in session, or of several tenants at once (``tenants``)."""

    # Priority bindings run as the key is read, before the next key of a burst is routed: each moves
    # focus synchronously (Screen.set_focus), so what follows goes where the admin meant it to.
    # A focused Input still types these characters (Textual filters bindings an Input consumes).
    BINDINGS: ClassVar[list[BindingType]] = [
        _key("slash", "focus_search", "Search", "search"),
        # Priority, so that it acts as the key is read (a burst's next Enter then goes to the question, not
        # to the list's export form); in a text box Delete deletes (check_action lets the key through).
        # After Search in the footer, so that 80 columns keep Search (issue 19).
        _key("delete", "remove", "Remove", "remove"),
        _key("e", "export", "Export again", "export", show=False),
        *(_key(str(number), f"show_pane({pane!r})", title, pane, show=False) for number, pane, title in PANES),
        _key("4", "outbound", "Outbound", "outbound", show=False),
        _key("enter", "open_operation", "Details", "details", show=False),
        _key("ctrl+t", "pick_tenant", "Tenant", "tenant"),
        _key("ctrl+r", "reload_profiles", "Reload", "reload", show=False, priority=False),
        # (listed in the help under "Everywhere": no description here)
        _key("tab", "move_focus(1)", "", "next", show=False),
        _key("shift+tab", "move_focus(-1)", "", "previous", show=False),
    ]

    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {OutboundCommands, TenantCommands}
    """The command palette's entries of this screen (beside the app's): the Outbound view, the tenant picker."""

    def __init__(self, session: Session, services: ConsoleServices, tenants: Sessions | None = None) -> None:
        super().__init__()
        self.tenants = tenants or Sessions([session])
        """The open tenants (one, or several: issue 18) and the one the profiles show."""
        self.session = self.tenants.table_session
        """What the operations table follows: the tenant's session, or one over every tenant's engine."""
        self.board = PulseBoard(self.tenants, services.clock.now)
        self.services = services
        self.index = ProfileIndex()
        """Every listed profile, searchable."""
        self.feed = OperationsFeed(session.engine, self)
        self.export_memory = ExportMemory()
        """What the export form remembers for the next export of this session (the case reference)."""
        self.active_pane = "profiles"
        """The pane shown in the one-pane layout."""
        self._cases_book: CaseBook | None = None

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(id="header")
        yield Static(id="pane-tabs")
        with Container(id="panes"):
            yield ProfilesPane(self.index, on_export=self.export_profiles)
            yield OperationsPane(self.session.engine, self.services.clock, user_label=self._user_label)
            self._cases_book = self._case_book()
            yield CasesPane(
                self._cases_book,
                self.services.clock.now,
                self.session.engine.operations,
            )
        yield PulseStrip(id="pulse-strip")
        yield PollingStatusLine(
            self.session.engine,
            self.services.clock.now,
            log=self.app.event_log.add if isinstance(self.app, KeepsEventLog) else None,
            id="polling-status",
        )
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.setup_tenants()
        self.query_one("#operations-pane").border_title = "Operations"
        self.query_one("#cases-pane").border_title = "Cases"
        self.query_one(CasesPane).reload()  # an open case near its due date is announced at once
        self.query_one(ConsoleHeader).show(self.session.header, demo=self.services.demo)
        self._apply_layout(self.app.size.width, self.app.size.height)
        self.query_one(ProfilesPane).show_status()
        self._show_ops_status()
        self.set_focus(self.query_one(ProfileList))
        self.feed.start()
        self.refresh_polling_status()
        self.start_engine()
        self.load_profiles()
        if self.services.live_ticks:
            self.set_interval(TICK_SECONDS, self._tick, name="ops-tick")

    def on_unmount(self) -> None:
        self.feed.stop()
        if self._cases_book is not None:
            self._cases_book.shut()

    def _case_book(self) -> CaseBook | None:
        """The cases of this session's tenant, in its journal file (None without one: a test's fake engine)."""
        from console.tui.widgets.ops_pane import journal_path_of

        engine = self.profile_session.engine  # several tenants: the picked one's cases
        path = self.session.journal_path or journal_path_of(self.session.engine)
        if not path:
            return None
        author = self.profile_session.identity or str(getattr(engine, "identity", "") or "")
        book = CaseBook(str(path), tenant_key_of(self.profile_session), author)
        book.names = self.tenants.name_for_key() if self.tenants.several else {}  # every open tenant's cases
        return book

    # -- layout -----------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        wide = width >= WIDE_COLUMNS
        stacked = not wide and height >= STACKED_LINES
        self.set_class(wide, "-wide")
        self.set_class(stacked, "-stacked")
        self.set_class(not wide and not stacked, "-compact")
        self.layout_strip(not wide and not stacked)
        self._show_tabs()

    def _show_tabs(self) -> None:
        parts = []
        operations = self.query_one(OperationsPane).tab_label()  # "Operations 7 · 2 failed"
        for number, pane, title in PANES:
            style = "reverse bold" if pane == self.active_pane else "dim"
            label = operations if pane == "operations" else title
            parts.append(f"[@click=screen.show_pane('{pane}')][{style}] {number} {label} [/][/]")
        self.query_one("#pane-tabs", Static).update(" ".join(parts), layout=False)
        self.set_class(self.active_pane == "operations", "-show-operations")
        self.set_class(self.active_pane == "cases", "-show-cases")

    def action_show_pane(self, pane: str) -> None:
        self.active_pane = pane
        self._show_tabs()
        if pane == "cases":
            self.query_one(CasesPane).reload()
            self.set_focus(self.query_one(CaseList))
            return
        self.set_focus(self.query_one(OpsTable) if pane == "operations" else self.query_one(ProfileList))

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if focused is None:
            return
        cases = self.query_one(CasesPane)
        if focused is cases or cases in focused.ancestors:
            pane = "cases"
        else:
            pane = "operations" if self._on_operations() else "profiles"  # the table or its filter box
        if pane != self.active_pane:
            self.active_pane = pane
            self._show_tabs()

    @on(OpsTable.OperationChosen)
    def _on_operation_chosen(self, message: OpsTable.OperationChosen) -> None:
        from console.tui.screens.details import OperationDetailsScreen

        view = self.session.engine.operation(message.key)
        several = view is not None and self.tenants.several  # a tenant signed out of is named too
        tenant = self.tenants.name_for_key().get(view.tenant_key, "") if view is not None and several else ""
        engine, clock, live = self.session.engine, self.services.clock, self.services.live_ticks
        self.open_screen(OperationDetailsScreen(engine, message.key, clock, self._user_label, live=live, tenant=tenant))

    # -- profiles -----------------------------------------------------------------------

    def _user_label(self, user_id: str) -> str:
        profile = self.index.get(user_id)
        if profile is None:
            return user_id
        return safe_text(profile.display_name or profile.user_principal_name or user_id)

    @work(exclusive=True, group="profiles", exit_on_error=False)
    async def load_profiles(self) -> None:
        """List every page in the background; the list is usable while it loads."""
        pages = 0
        async for page in self.profile_session.profiles():
            pages += 1
            self.post_message(ProfilesPage(tuple(page), pages))
        self.post_message(ProfilesLoaded(len(self.index), pages))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Listing stopped: the status line says why (the App shows the failure itself)."""
        if event.state == WorkerState.ERROR and event.worker.group == "profiles":
            self.post_message(ProfilesFailed(describe_failure(event.worker.error).text))

    @on(ProfilesPage)
    def _on_profiles_page(self, message: ProfilesPage) -> None:
        self.query_one(ProfilesPane).page_listed(message.profiles, message.pages)

    @on(ProfilesLoaded)
    def _on_profiles_loaded(self, message: ProfilesLoaded) -> None:
        self.query_one(ProfilesPane).listing_done(message.pages)
        with self.app.batch_update():
            self.query_one(OpsTable).refresh_users()
        # The listed profiles live as long as the session: move them out of the cycle collector's
        # sight, or each full collection rescans 20,000 of them and a keypress waits 50 ms for it.
        gc.freeze()

    @on(ProfilesFailed)
    def _on_profiles_failed(self, message: ProfilesFailed) -> None:
        self.query_one(ProfilesPane).listing_failed(message.error)

    def action_reload_profiles(self) -> None:
        self.query_one(ProfilesPane).reset()
        self.load_profiles()

    def action_focus_search(self) -> None:
        # In the search box too: "/" is the search key, never a character searched for (no name, UPN or
        # id holds one), so "//hopper" after Esc finds Hopper. (Textual does not hand "slash" to an Input
        # before a priority binding: it is not in the keys an Input is known to consume.)
        if self._on_operations():
            raise SkipAction()  # the operations table's own "/" (its text filter)
        self.active_pane = "profiles"
        self._show_tabs()
        self.set_focus(self.query_one(SearchBox))

    def _on_operations(self) -> bool:
        """Focus is in the operations pane (its own keys apply there)."""
        focused = self.focused
        pane = self.query_one("#operations-pane")
        return focused is not None and (focused is pane or pane in focused.ancestors)

    def action_open_operation(self) -> None:
        if not isinstance(self.focused, OpsTable):  # Enter in the table's filter box only leaves the box
            raise SkipAction()
        # The table answers Enter with OperationChosen: hold what is typed next for the details view.
        self.app_hold_keys()
        raise SkipAction()

    def app_hold_keys(self) -> None:
        """Ask the app to hold the keys typed next until a screen opening now has taken focus."""
        hold_keys(self.app)

    def open_screen(self, screen: Screen[Any], callback: Callable[[Any], Any] | None = None) -> None:
        """Push ``screen`` and deliver keys typed meanwhile to it once it has focus."""
        self.app_hold_keys()
        self.app.push_screen(screen, callback)
        release_keys_after_refresh(self.app, screen)

    # -- export -------------------------------------------------------------------------

    def export_targets(self) -> list[Person]:
        """The selected profiles, or the highlighted one when none is selected."""
        profile_list = self.query_one(ProfileList)
        selected = profile_list.selected_ids
        if not selected:
            highlighted = profile_list.highlighted_user_id
            selected = [highlighted] if highlighted else []
        return [person_for(self.index, user_id) for user_id in selected]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # e is a letter of a name on the profiles (type-to-search): it exports again on Operations only.
        if action == "export":
            return self.is_mounted and self._on_operations()
        if action == "pick_tenant":
            return self.tenants.several
        if action == "remove":
            return self.is_mounted and not self._on_operations() and not isinstance(self.focused, Input)
        return True

    def action_export(self) -> None:
        if self._on_operations():
            # The operations table answers with ExportRequested (its marked or highlighted operations);
            # hold what is typed next (the URL) for the form that opens then.
            self.app_hold_keys()
            raise SkipAction()
        self.export_profiles()

    def export_profiles(self) -> None:
        """Open the export form for the selected profiles, or the highlighted one (also the palette's command)."""
        people = self.export_targets()
        if not people:
            self.notify("Select profiles first (space), or highlight one.", title="Export", severity="warning")
            return
        profile_list = self.query_one(ProfileList)
        hidden = profile_list.hidden_selected if profile_list.selected else 0
        self.open_export(people, source="profiles", hidden=hidden, search=profile_list.filter_text)

    def action_outbound(self) -> None:
        open_outbound(self)

    def action_remove(self) -> None:
        self.remove_profiles()

    def remove_profiles(self) -> None:
        """Ask to remove the personal data of the selected profiles (or the highlighted one), issue 19."""
        from console.tui.removal import remove_people

        session = self.profile_session
        title = "Remove" + self.tenant_suffix(session)  # several tenants: the toasts name the tenant
        remove_people(
            self, session, self.export_targets(), self.open_screen, read_only=self.services.read_only, title=title
        )

    def filter_operations(self, status_filter: str) -> None:
        """Show only some operations (the command palette's 'Filter operations')."""
        self.query_one(OpsTable).set_filter(status_filter)
        self.action_show_pane("operations")
