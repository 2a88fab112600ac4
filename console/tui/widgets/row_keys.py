"""The cursor keys the console's two line lists share (the profiles and the operations table).

Each list puts ``row_key_bindings(PREFIX)`` in its own bindings (their ids differ); the actions they
name are these. A list mixing this in (after its widget base, so its own methods win) says where the
cursor is, how many rows it shows, how far a page goes, and moves its cursor.
"""

from __future__ import annotations

from textual.binding import Binding

from console.tui.bindings import KeyArea

_ROW_KEYS = (
    ("up", "cursor_up", "Up", "up"),
    ("down", "cursor_down", "Down", "down"),
    ("pageup", "page_up", "Page up", "page-up"),
    ("pagedown", "page_down", "Page down", "page-down"),
    ("home", "first", "First", "first"),
    ("end", "last", "Last", "last"),
)
"""(key, action, description, id after the list's prefix) of each cursor key."""


def row_key_bindings(prefix: str) -> list[Binding]:
    """The six cursor keys as priority bindings (each runs as the key is read, in order with the keys of
    a burst), kept out of the footer, with the ids ``PREFIX.up`` ... ``PREFIX.last``."""
    keys = KeyArea(prefix, priority=True)
    return [keys(key, action, description, name, show=False) for key, action, description, name in _ROW_KEYS]


class RowKeys:
    """Up, Down, Page up, Page down, Home and End on a list whose cursor is a row number."""

    def _cursor_row(self) -> int:
        raise NotImplementedError

    def _row_count(self) -> int:
        raise NotImplementedError

    def _page(self) -> int:
        raise NotImplementedError

    def move_cursor(self, row: int) -> None:
        raise NotImplementedError

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor_row() - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor_row() + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor_row() - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor_row() + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self._row_count() - 1)
