"""The profiles search box: filters as you type; Enter goes to the list; Esc clears."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class SearchBox(Input):
    """Case-insensitive search over name, UPN, userId and home tenant."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "clear_or_leave",
            "Clear",
            id="search.clear",
            tooltip="Clear the search (or leave the box when it is empty)",
        ),
        Binding("down", "leave", "To list", show=False, id="search.to-list"),
    ]

    class Leave(Message):
        """The user wants to go to the list (Enter, Down, or Esc on an empty box)."""

        def __init__(self, box: SearchBox) -> None:
            super().__init__()
            self.box = box

        @property
        def control(self) -> SearchBox:
            return self.box

    def action_clear_or_leave(self) -> None:
        if self.value:
            self.value = ""
        else:
            self.post_message(self.Leave(self))

    def action_leave(self) -> None:
        self.post_message(self.Leave(self))
