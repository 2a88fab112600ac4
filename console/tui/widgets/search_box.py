"""The profiles search box: filters as you type; Enter, Down or Esc go back to the list, keeping the filter.

Its keys are priority bindings that move focus at once (``Screen.set_focus``), so in a burst of
keys (a slow SSH link delivers them together) the next key already reaches the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Input

from console.tui.focus import hold_keys, release_keys
from console.tui.widgets.widget_message import WidgetMessage


class SearchBox(Input):
    """Search over name, UPN, userId and home tenant (case and accents ignored, words in any order).

    Args:
        leave_to: the widget Enter, Down and Esc move to (the list); None posts ``Leave`` only.
        on_query: called with the text on every change, synchronously (the list filters before the
            next key is handled; ``Input.Changed`` would arrive a message later).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "leave",
            "Back to list",
            id="search.leave",
            priority=True,
            tooltip="Back to the list, keeping the filter (Esc there clears it)",
        ),
        Binding("enter", "leave", "To list", show=False, id="search.enter", priority=True),
        Binding("down", "leave", "To list", show=False, id="search.to-list", priority=True),
    ]

    class Leave(WidgetMessage["SearchBox"]):
        """The admin went back to the list (Enter, Down or Esc)."""

    def __init__(
        self,
        *,
        placeholder: str = "",
        leave_to: Callable[[], Widget] | None = None,
        on_query: Callable[[str], None] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(placeholder=placeholder, id=id, classes=classes)
        self._leave_to = leave_to
        self._on_query = on_query

    def watch_value(self, value: str) -> None:
        if self._on_query is not None:
            self._on_query(value)

    def action_leave(self) -> None:
        # Characters typed before this key may still wait in this box's queue: hold the keys typed
        # after it until they are in (and the list filtered), so "/garcia<Enter>a" selects Garcias only.
        if hold_keys(self.app):
            self.call_later(release_keys, self.app)
        if self._leave_to is not None:
            self.screen.set_focus(self._leave_to())
        self.post_message(self.Leave(self))
