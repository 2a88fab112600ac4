"""The profiles list: a virtualised Line API view, so 20,000 rows filter and scroll instantly.

A DataTable would have to be cleared and refilled with every filter keystroke (tens of
thousands of rows); this widget only keeps the list of matching indexes and renders the
lines on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip

from console.tui.bindings import KeyArea
from console.tui.cells import safe_text, short_id, status_label, status_role
from console.tui.profile_index import ProfileIndex
from console.tui.profile_selection import ProfileSelection
from console.tui.widgets.lines import LineList
from console.tui.widgets.row_keys import RowKeys, row_key_bindings
from console.tui.widgets.widget_message import WidgetMessage

_MARK_WIDTH = 2
_HOME_WIDTH = 9
_LATEST_WIDTH = 15
_GAP = 1

SEARCH_STARTERS = "abcdefghijklmnoprstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0" + "3456789"
"""Keys that start a search on the list (type-to-search, as file managers do). 1 and 2 switch panes,
q quits and ? is help everywhere: to search for a name starting with q, press / first."""

_key = KeyArea(
    "profiles",
    priority=True,
    tooltips={
        "toggle": "Select or unselect the highlighted profile",
        "export": "Export the selected profiles (or the highlighted one): opens the form, nothing is sent yet",
        "select-all": "Select every profile the search shows (said aloud; ctrl+z undoes)",
        "clear-selection": "Clear the selection (ctrl+z undoes)",
        "undo-selection": "Undo the last select-all or clear",
        "clear-filter": "Clear the search (the selection stays)",
    },
)

TYPE_TO_SEARCH: list[BindingType] = [
    _key(key, f"type_to_search({key!r})", "", f"type-{key}", show=False) for key in SEARCH_STARTERS
]
"""Priority bindings, so the search starts as the first key is read: the rest of a burst ("garcia") then
goes to the search box, never to the list's keys (space, *, -, Enter)."""


class ProfileList(LineList, RowKeys, can_focus=True):
    """Inbound shared user profiles: name, UPN, home tenant, latest export; cursor and selection."""

    # Priority: resolved as each key is read, in order with the screen's keys (see MainScreen.BINDINGS);
    # a non-priority binding is resolved only after the key has bubbled up, against whatever has focus then.
    BINDINGS: ClassVar[list[BindingType]] = [
        *row_key_bindings("profiles"),
        _key("space", "toggle_selection", "Select", "toggle"),
        _key("enter", "export", "Export", "export"),
        _key("asterisk,ctrl+a", "select_all", "Select shown", "select-all"),
        _key("minus", "clear_selection", "Clear selection", "clear-selection", show=False),
        _key("ctrl+z", "undo_selection", "Undo selection", "undo-selection", show=False),
        *TYPE_TO_SEARCH,
        _key("escape", "clear_filter", "Clear search", "clear-filter", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "profile-list--header",
        "profile-list--cursor",
        "profile-list--selected",
        "profile-list--status-ok",
        "profile-list--status-bad",
        "profile-list--status-warn",
        "profile-list--status-running",
        "profile-list--status-pending",
        "profile-list--status-unknown",
        "profile-list--dim",
    }

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Row (in the shown rows) under the cursor."""

    class _ListMessage(WidgetMessage["ProfileList"]):
        """A message about this list (its ``control``)."""

    @dataclass
    class SelectionChanged(_ListMessage):
        """The set of selected profiles changed."""

        count: int

    class ClearFilter(_ListMessage):
        """Esc on the list: the search should be cleared (the screen owns the search box)."""

    def __init__(
        self,
        index: ProfileIndex,
        *,
        on_clear_filter: Callable[[], None] | None = None,
        on_type: Callable[[str, bool], None] | None = None,
        on_export: Callable[[], None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """
        Args:
            index: the profiles and their search haystacks (shared with the screen).
            on_clear_filter: clears the search at once on Esc (a ``ClearFilter`` message would arrive after
                the next key of a burst); None posts ``ClearFilter``.
            on_type: starts a search with the character typed on the list, at once (type-to-search); with
                True, puts the character in front of a search a later key of the same burst started.
            on_export: opens the export form for the selection (Enter), at once.
        """
        super().__init__(name=name, id=id, classes=classes)
        self._on_clear_filter = on_clear_filter
        self._on_type = on_type
        self._on_export = on_export
        self.index = index
        """The profiles and their search haystacks (shared with the screen)."""
        self.shown: list[int] = []
        """Indexes (into ``index.profiles``) of the rows the filter lets through, in order."""
        self.filter_text = ""
        """The current filter text."""
        self.selection = ProfileSelection()
        """Selected user ids, with what ctrl+z undoes."""
        self.latest: dict[str, str] = {}
        """user_id -> display status of that user's latest export."""

    @property
    def selected(self) -> dict[str, None]:
        """Selected user ids, in the order they were selected."""
        return self.selection.ids

    # -- data -------------------------------------------------------------------------

    def profiles_added(self, added: range) -> None:
        """New profiles were appended to the index: show those that pass the filter."""
        if self.filter_text:
            self.shown.extend(self.index.matches(self.filter_text, added))
        else:
            self.shown.extend(added)
        self._update_size()
        self.refresh()

    def reset(self) -> None:
        """Forget everything shown (the index was cleared)."""
        self.shown = []
        self.selection.forget()
        self.latest.clear()
        self.cursor = 0
        self._update_size()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.SelectionChanged(self, 0))

    def set_query(self, query: str) -> int:
        """Show only the profiles matching ``query``; the cursor goes to the first match.

        Returns:
            How many profiles are shown.
        """
        self.filter_text = query
        self.shown = list(self.index.matches(query))
        self.cursor = 0
        self._update_size()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        return len(self.shown)

    def set_latest(self, updates: dict[str, str]) -> None:
        """Update the latest-export column for some users."""
        changed: set[str] = set()
        for user_id, status in updates.items():
            if self.latest.get(user_id) != status:
                self.latest[user_id] = status
                changed.add(user_id)
        if not changed:
            return
        # Repaint only the rows on screen whose state changed (line 0 is the header).
        top = int(self.scroll_y)
        height = max(0, self.scrollable_content_region.height - 1)
        width = self.scrollable_content_region.width
        profiles = self.index.profiles
        lines = [
            row - top + 1
            for row in range(top, min(len(self.shown), top + height))
            if profiles[self.shown[row]].user_id in changed
        ]
        if lines:
            self.refresh(*(Region(0, line, width, 1) for line in lines))

    @property
    def highlighted_user_id(self) -> str | None:
        """The user id under the cursor, or None when nothing is shown."""
        if 0 <= self.cursor < len(self.shown):
            return self.index.profiles[self.shown[self.cursor]].user_id
        return None

    @property
    def selected_ids(self) -> list[str]:
        """Selected user ids, in listing order."""
        index_of = self.index.index_of
        return sorted(self.selected, key=lambda user_id: index_of(user_id) or 0)

    def select(self, user_ids: Iterable[str]) -> None:
        """Add users to the selection."""
        self.selection.add(user_ids)
        self.refresh()
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    # -- actions ----------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        if not self.shown:
            self.cursor = 0
            return
        self.cursor = max(0, min(row, len(self.shown) - 1))
        self._scroll_to_cursor()
        self.refresh()

    def _cursor_row(self) -> int:
        return self.cursor

    def _row_count(self) -> int:
        return len(self.shown)

    def action_toggle_selection(self) -> None:
        user_id = self.highlighted_user_id
        if user_id is None:
            return
        self.selection.toggle(user_id)
        self.move_cursor(self.cursor + 1)
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    @property
    def hidden_selected(self) -> int:
        """How many selected profiles the search hides (they are exported too)."""
        if not self.filter_text:
            return 0
        profiles = self.index.profiles
        shown = sum(1 for i in self.shown if profiles[i].user_id in self.selected)
        return len(self.selected) - shown

    def action_select_all(self) -> None:
        profiles = self.index.profiles
        added = self.selection.add_all(profiles[i].user_id for i in self.shown)
        self.refresh()
        self.post_message(self.SelectionChanged(self, len(self.selected)))
        where = f"matching “{safe_text(self.filter_text)}”" if self.filter_text else "in the list"
        self.notify(
            f"Selected {added:,} more profiles {where}: {len(self.selected):,} selected. ctrl+z undoes.",
            title="Select all",
            severity="warning",
            markup=False,
        )

    def action_undo_selection(self) -> None:
        if not self.selection.undo():
            self.notify("Nothing to undo.", title="Selection", markup=False)
            return
        self.refresh()
        self.post_message(self.SelectionChanged(self, len(self.selected)))
        self.notify(f"Selection restored: {len(self.selected):,} selected.", title="Selection", markup=False)

    def action_type_to_search(self, character: str) -> None:
        """A printable key on the list starts a search with it (never selects or exports)."""
        if self._on_type is not None:
            self._on_type(character, False)

    def action_export(self) -> None:
        if self._on_export is not None:
            self._on_export()

    def on_key(self, event: events.Key) -> None:
        # Letters outside SEARCH_STARTERS (é, ß, ...) start a search too; keys with bindings never get here.
        # This runs when the list reads its queue: a later letter of the burst ("émile": the m) may have
        # started the search already, so this one goes in front of it (it was typed first).
        if event.is_printable and event.character and event.character not in "12q? " and self._on_type is not None:
            event.stop()
            event.prevent_default()
            self._on_type(event.character, self.screen.focused is not self)

    def action_clear_filter(self) -> None:
        if not self.filter_text:
            return
        if self._on_clear_filter is not None:
            self._on_clear_filter()
        else:
            self.post_message(self.ClearFilter(self))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc does nothing without a search: it is not shown then, and never clears the selection.
        if action == "clear_filter":
            return bool(self.filter_text)
        return True

    def action_clear_selection(self) -> None:
        if not self.selected:
            return
        count = self.selection.clear()
        self.refresh()
        self.post_message(self.SelectionChanged(self, 0))
        self.notify(f"Selection of {count:,} cleared. ctrl+z undoes.", title="Selection", markup=False)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        self.move_cursor(int(self.scroll_y) + offset.y - 1)

    def _on_resize(self, event: events.Resize) -> None:
        self._update_size()

    # -- geometry ---------------------------------------------------------------------

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def _update_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.shown) + 1)

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows_visible:
            self.scroll_to(y=self.cursor - rows_visible + 1, animate=False, immediate=True)

    def _columns(self, width: int) -> tuple[int, int, int, int]:
        """Widths of name, UPN, home tenant and latest export for ``width`` cells."""
        home = _HOME_WIDTH if width >= 70 else 0
        latest = _LATEST_WIDTH
        rest = width - _MARK_WIDTH - latest - home - _GAP * (3 if home else 2)
        name = max(8, rest * 2 // 5)
        upn = max(8, rest - name)
        return name, upn, home, latest

    # -- rendering --------------------------------------------------------------------

    def _row_line(self, y: int, row: int, width: int, base: Style) -> Strip:
        if y == 1 and not self.shown and self.filter_text:
            # An empty list says why: the search matched no one (Esc clears it).
            dim = base + self.get_component_rich_style("profile-list--dim", partial=True)
            text = f"  0 matches for “{safe_text(self.filter_text)}” · Esc on the list clears the search"
            return Strip([Segment(set_cell_size(text, width), dim)]).adjust_cell_length(width, dim)
        if row >= len(self.shown) or row < 0:
            return Strip.blank(width, base)
        profile = self.index.profiles[self.shown[row]]
        name_w, upn_w, home_w, latest_w = self._columns(width)
        style = base
        if profile.user_id in self.selected:
            style = style + self.get_component_rich_style("profile-list--selected", partial=True)
        if row == self.cursor:
            style = style + self.get_component_rich_style("profile-list--cursor", partial=True)
        mark = "● " if profile.user_id in self.selected else "  "
        status = self.latest.get(profile.user_id)
        if status:
            status_style = style + self.get_component_rich_style(
                f"profile-list--status-{status_role(status)}", partial=True
            )
            latest = set_cell_size(status_label(status), latest_w)
        else:
            status_style = style + self.get_component_rich_style("profile-list--dim", partial=True)
            latest = set_cell_size("—", latest_w)
        segments = [
            Segment(mark, style),
            Segment(set_cell_size(safe_text(profile.display_name), name_w) + " ", style),
            Segment(set_cell_size(safe_text(profile.user_principal_name), upn_w) + " ", style),
        ]
        if home_w:
            segments.append(Segment(set_cell_size(short_id(safe_text(profile.home_tenant_id)), home_w) + " ", style))
        segments.append(Segment(latest, status_style))
        return Strip(segments).adjust_cell_length(width, style)

    def _header(self, width: int, base: Style) -> Strip:
        name_w, upn_w, home_w, latest_w = self._columns(width)
        style = base + self.get_component_rich_style("profile-list--header")
        cells = [("", _MARK_WIDTH), ("Name", name_w + 1), ("User principal name", upn_w + 1)]
        if home_w:
            cells.append(("Home", home_w + 1))
        cells.append(("Latest export", latest_w))
        segments = [Segment(set_cell_size(label, size), style) for label, size in cells]
        return Strip(segments).adjust_cell_length(width, style)
