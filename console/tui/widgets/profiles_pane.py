"""The Profiles pane: the search box, the listing's status line and the profile list.

The pane keeps the three in step: what is typed in the box filters the list at once (the
next key of a burst finds it filtered), a letter typed on the list starts a search with it,
and the status line says how far the listing got, how many match and how many are selected.
The main screen lists the profiles (a worker) and hands each page to the pane.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from console.graph.models import InboundSharedUserProfile
from console.tui.cells import safe_text
from console.tui.profile_index import ProfileIndex
from console.tui.widgets.pane import Pane
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.search_box import SearchBox


class ProfilesPane(Pane):
    """Search box, status line and profile list over one ``ProfileIndex``.

    Args:
        index: every listed profile, searchable (shared with the screen).
        on_export: opens the export form for the selection (Enter on the list).
    """

    PANE_ID = "profiles-pane"

    def __init__(
        self,
        index: ProfileIndex,
        *,
        on_export: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.index = index
        self._on_export = on_export
        self._pages = 0
        self._loading = True
        self._load_error = ""

    def compose(self) -> ComposeResult:
        yield SearchBox(
            placeholder="/ search name, UPN, userId, home tenant",
            leave_to=lambda: self.query_one(ProfileList),
            on_query=self._on_query,
            id="search",
        )
        yield Static(id="profiles-status", classes="pane-status")
        yield ProfileList(
            self.index,
            on_clear_filter=self._clear_search,
            on_type=self._type_to_search,
            on_export=self._on_export,
            id="profiles",
        )

    # -- the listing ----------------------------------------------------------------------

    def page_listed(self, profiles: Iterable[InboundSharedUserProfile], pages: int) -> None:
        """One more page of profiles arrived: add it to the index and the list."""
        added = self.index.extend(profiles)
        self.query_one(ProfileList).profiles_added(added)
        self._listed(pages)

    def listing_done(self, pages: int) -> None:
        """Every page is in."""
        self._loading = False
        self._listed(pages)

    def listing_failed(self, error: str) -> None:
        """The listing stopped (the status line says why and after how many)."""
        self._loading = False
        self._load_error = error
        self.show_status()

    def reset(self) -> None:
        """Forget every profile listed: a new listing starts."""
        self.index.clear()
        self.query_one(ProfileList).reset()
        self._loading = True
        self._load_error = ""
        self._pages = 0
        self.show_status()

    def _listed(self, pages: int) -> None:
        self._pages = pages
        self.show_status()

    def show_status(self) -> None:
        profile_list = self.query_one(ProfileList)
        total = len(self.index)
        # A Text, never markup: the error is Graph's words.
        status = Text()
        if self._load_error:
            status.append("listing stopped", style="bold").append(f" after {total:,}: {safe_text(self._load_error)}")
        elif self._loading:
            status.append(f"loading… {total:,} profiles (page {self._pages})")
        else:
            status.append(f"{total:,} profiles")
        if profile_list.filter_text:
            shown = len(profile_list.shown)
            status.append(f" · {shown:,} match{'' if shown == 1 else 'es'}")
        status.append(" · ").append(f"{len(profile_list.selected):,} selected", style="bold")
        hidden = profile_list.hidden_selected
        if hidden:
            # Exported too: a selection the search hides is never out of sight.
            status.append(" · ").append(f"{hidden:,} selected not shown", style="bold reverse")
        self.query_one("#profiles-status", Static).update(status, layout=False)

    # -- the search -----------------------------------------------------------------------

    def _on_query(self, text: str) -> None:
        """The search text changed (synchronously, as the key is handled)."""
        if not self.is_mounted:
            return
        profile_list = self.query_one(ProfileList)
        if text != profile_list.filter_text:
            profile_list.set_query(text)
            self.show_status()

    def _clear_search(self) -> None:
        """Esc on the list: clear the search (synchronously, before the next key of a burst)."""
        search = self.query_one(SearchBox)
        search.value = ""  # on_query filters the list again
        self._on_query("")

    def _type_to_search(self, character: str, before: bool = False) -> None:
        """A character typed on the list starts a new search with it, at once (the rest of a burst follows).

        With ``before``, a later key of the burst has started the search already: this one goes in front.
        """
        search = self.query_one(SearchBox)
        if before and self.screen.focused is search:
            cursor = search.cursor_position
            search.value = character + search.value
            search.cursor_position = cursor + len(character)
            return
        # The box selects its text when focused (so "/" then typing replaces the search); here the
        # character just typed must stay, with the cursor after it, until that focus event has passed.
        select_on_focus, search.select_on_focus = search.select_on_focus, False
        self.screen.set_focus(search)
        search.call_later(setattr, search, "select_on_focus", select_on_focus)
        search.value = character  # on_query filters the list
        search.cursor_position = len(character)

    @on(ProfileList.ClearFilter)
    def _on_clear_filter(self) -> None:
        self._clear_search()

    @on(ProfileList.SelectionChanged)
    def _on_selection_changed(self) -> None:
        self.show_status()
