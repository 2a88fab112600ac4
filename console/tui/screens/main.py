"""The main screen of a signed-in session: profiles on one side, live operations on the other.

Layout follows the terminal: side by side from 160 columns, stacked from 36 lines,
and one pane at a time (keys 1 and 2) in a small terminal such as 80x24.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from console.ops.events import OperationView
from console.tui.cells import status_label
from console.tui.feed import OperationsFeed
from console.tui.messages import OperationsChanged, ProfilesFailed, ProfilesLoaded, ProfilesPage
from console.tui.profile_index import ProfileIndex
from console.tui.services import ConsoleServices, Session
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.search_box import SearchBox

WIDE_COLUMNS = 160
"""From this width the panes sit side by side."""
STACKED_LINES = 36
"""From this height (and below WIDE_COLUMNS) the panes are stacked; below it one pane shows at a time."""
TICK_SECONDS = 1.0
"""How often elapsed / next-poll cells of the rows on screen are refreshed."""


class MainScreen(Screen[None]):
    """Profiles and operations of one signed-in session."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", id="main.search", tooltip="Search profiles"),
        Binding(
            "e", "export", "Export", id="main.export", tooltip="Export the selected profiles (or the highlighted one)"
        ),
        Binding("1", "show_pane('profiles')", "Profiles", show=False, id="main.profiles", tooltip="Go to the profiles"),
        Binding(
            "2",
            "show_pane('operations')",
            "Operations",
            show=False,
            id="main.operations",
            tooltip="Go to the operations",
        ),
        Binding("ctrl+r", "reload_profiles", "Reload", show=False, id="main.reload", tooltip="List the profiles again"),
    ]

    def __init__(self, session: Session, services: ConsoleServices) -> None:
        super().__init__()
        self.session = session
        self.services = services
        self.index = ProfileIndex()
        """Every listed profile, searchable."""
        self.feed = OperationsFeed(session.engine, self)
        self._latest_key: dict[str, int] = {}
        self._pages = 0
        self._loading = True
        self._load_error = ""
        self.active_pane = "profiles"
        """The pane shown in the one-pane layout."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(id="header")
        yield Static(id="pane-tabs")
        with Container(id="panes"):
            with Vertical(id="profiles-pane", classes="pane"):
                yield SearchBox(placeholder="/ search name, UPN, userId, home tenant", id="search")
                yield Static(id="profiles-status", classes="pane-status")
                yield ProfileList(self.index, id="profiles")
            with Vertical(id="operations-pane", classes="pane"):
                yield Static(id="ops-status", classes="pane-status")
                yield OpsTable(self.services.clock, user_label=self._user_label, id="operations")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#profiles-pane").border_title = "Profiles"
        self.query_one("#operations-pane").border_title = "Operations"
        self.query_one(ConsoleHeader).show(self.session.header, demo=self.services.demo)
        self._apply_layout(self.app.size.width, self.app.size.height)
        self._show_profiles_status()
        self._show_ops_status()
        self.query_one(ProfileList).focus()
        self.feed.start()
        self.start_engine()
        self.load_profiles()
        if self.services.live_ticks:
            self.set_interval(TICK_SECONDS, self._tick, name="ops-tick")

    def on_unmount(self) -> None:
        self.feed.stop()

    # -- layout -----------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        wide = width >= WIDE_COLUMNS
        stacked = not wide and height >= STACKED_LINES
        self.set_class(wide, "-wide")
        self.set_class(stacked, "-stacked")
        self.set_class(not wide and not stacked, "-compact")
        self._show_tabs()

    def _show_tabs(self) -> None:
        parts = []
        for number, pane, title in ((1, "profiles", "Profiles"), (2, "operations", "Operations")):
            style = "reverse bold" if pane == self.active_pane else "dim"
            parts.append(f"[@click=screen.show_pane('{pane}')][{style}] {number} {title} [/][/]")
        self.query_one("#pane-tabs", Static).update(" ".join(parts), layout=False)
        self.set_class(self.active_pane == "operations", "-show-operations")

    def action_show_pane(self, pane: str) -> None:
        self.active_pane = pane
        self._show_tabs()
        if pane == "operations":
            self.query_one(OpsTable).focus()
        else:
            self.query_one(ProfileList).focus()

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if focused is None:
            return
        pane = "operations" if focused.id == "operations" else "profiles"
        if pane != self.active_pane:
            self.active_pane = pane
            self._show_tabs()

    # -- engine -------------------------------------------------------------------------

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def start_engine(self) -> None:
        """Start (or join) the engine, then show every operation the journal has."""
        await self.session.engine.start()
        self.feed_snapshot(self.session.engine.operations())
        warm_up, self.session.warm_up = self.session.warm_up, None
        if warm_up is not None:
            await warm_up()

    def feed_snapshot(self, views: list[OperationView]) -> None:
        """Show a full snapshot at once (journal rows appear on start)."""
        self._apply_operations(views)

    @on(OperationsChanged)
    def _on_operations_changed(self, message: OperationsChanged) -> None:
        self._apply_operations(message.views)

    def _apply_operations(self, views: tuple[OperationView, ...] | list[OperationView]) -> None:
        latest: dict[str, str] = {}
        for view in views:
            if view.key >= self._latest_key.get(view.user_id, -1):
                self._latest_key[view.user_id] = view.key
                latest[view.user_id] = view.display_status
        with self.app.batch_update():
            self.query_one(OpsTable).apply(views)
            self.query_one(ProfileList).set_latest(latest)
            self._show_ops_status()

    def _tick(self) -> None:
        self.query_one(OpsTable).tick()

    def _show_ops_status(self) -> None:
        table = self.query_one(OpsTable)
        counts = table.counts()
        total = sum(counts.values())
        parts = [f"{total:,} operations"]
        for status in ("running", "notStarted", "complete", "failed"):
            if counts.get(status):
                parts.append(f"{status_label(status)} {counts[status]:,}")
        others = total - sum(counts.get(s, 0) for s in ("running", "notStarted", "complete", "failed"))
        if others:
            parts.append(f"other {others:,}")
        # Fixed one-line status: no layout pass (it would repaint the whole screen 10 times a second).
        self.query_one("#ops-status", Static).update(" · ".join(parts), layout=False)
        pane = self.query_one("#operations-pane")
        subtitle = table.describe_view()
        if pane.border_subtitle != subtitle:  # a border change repaints the whole pane
            pane.border_subtitle = subtitle

    @on(OpsTable.ViewChanged)
    def _on_view_changed(self) -> None:
        self._show_ops_status()

    @on(OpsTable.OperationChosen)
    def _on_operation_chosen(self, message: OpsTable.OperationChosen) -> None:
        from console.tui.screens.details import OperationDetailsScreen

        self.app.push_screen(
            OperationDetailsScreen(
                self.session.engine, message.key, self.services.clock, self._user_label, live=self.services.live_ticks
            )
        )

    # -- profiles -----------------------------------------------------------------------

    def _user_label(self, user_id: str) -> str:
        profile = self.index.get(user_id)
        if profile is None:
            return user_id
        return profile.display_name or profile.user_principal_name or user_id

    @work(exclusive=True, group="profiles", exit_on_error=False)
    async def load_profiles(self) -> None:
        """List every page in the background; the list is usable while it loads."""
        pages = 0
        async for page in self.session.profiles():
            pages += 1
            self.post_message(ProfilesPage(tuple(page), pages))
        self.post_message(ProfilesLoaded(len(self.index), pages))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            error = str(worker.error) or type(worker.error).__name__
            if worker.group == "profiles":
                self.post_message(ProfilesFailed(error))
            else:
                self.notify(error, title="Operations", severity="error", timeout=10)

    @on(ProfilesPage)
    def _on_profiles_page(self, message: ProfilesPage) -> None:
        added = self.index.extend(message.profiles)
        self._pages = message.pages
        self.query_one(ProfileList).profiles_added(added)
        self._show_profiles_status()

    @on(ProfilesLoaded)
    def _on_profiles_loaded(self, message: ProfilesLoaded) -> None:
        self._loading = False
        self._pages = message.pages
        self._show_profiles_status()
        with self.app.batch_update():
            self.query_one(OpsTable).refresh_users()
        # The listed profiles live as long as the session: move them out of the cycle collector's
        # sight, or each full collection rescans 20,000 of them and a keypress waits 50 ms for it.
        gc.freeze()

    @on(ProfilesFailed)
    def _on_profiles_failed(self, message: ProfilesFailed) -> None:
        self._loading = False
        self._load_error = message.error
        self._show_profiles_status()
        self.notify(message.error, title="Listing profiles failed", severity="error", timeout=15)

    def action_reload_profiles(self) -> None:
        self.index.clear()
        self.query_one(ProfileList).reset()
        self._loading = True
        self._load_error = ""
        self._pages = 0
        self._show_profiles_status()
        self.load_profiles()

    def _show_profiles_status(self) -> None:
        profile_list = self.query_one(ProfileList)
        total = len(self.index)
        if self._load_error:
            head = f"[b]listing stopped[/b] after {total:,}: {self._load_error}"
        elif self._loading:
            head = f"loading… {total:,} profiles (page {self._pages})"
        else:
            head = f"{total:,} profiles"
        parts = [head]
        if profile_list.filter_text:
            parts.append(f"{len(profile_list.shown):,} match")
        parts.append(f"[b]{len(profile_list.selected):,} selected[/b]")
        self.query_one("#profiles-status", Static).update(" · ".join(parts), layout=False)

    @on(Input.Changed, "#search")
    def _on_search_changed(self, event: Input.Changed) -> None:
        self.query_one(ProfileList).set_query(event.value)
        self._show_profiles_status()

    @on(Input.Submitted, "#search")
    @on(SearchBox.Leave)
    def _on_search_leave(self) -> None:
        self.query_one(ProfileList).focus()

    @on(ProfileList.SelectionChanged)
    def _on_selection_changed(self) -> None:
        self._show_profiles_status()

    def action_focus_search(self) -> None:
        self.active_pane = "profiles"
        self._show_tabs()
        self.query_one(SearchBox).focus()

    # -- export -------------------------------------------------------------------------

    def export_targets(self) -> list[str]:
        """The selected profiles, or the highlighted one when none is selected."""
        profile_list = self.query_one(ProfileList)
        selected = profile_list.selected_ids
        if selected:
            return selected
        highlighted = profile_list.highlighted_user_id
        return [highlighted] if highlighted else []

    def action_export(self) -> None:
        from console.tui.screens.export import ExportScreen

        targets = self.export_targets()
        if not targets:
            self.notify("Select profiles first (space), or highlight one.", title="Export", severity="warning")
            return
        labels = {user_id: self._user_label(user_id) for user_id in targets}
        self.app.push_screen(ExportScreen(self.session.engine, targets, labels))

    def filter_operations(self, status_filter: str) -> None:
        """Show only some operations (the command palette's 'Filter operations')."""
        self.query_one(OpsTable).set_filter(status_filter)
        self.action_show_pane("operations")
