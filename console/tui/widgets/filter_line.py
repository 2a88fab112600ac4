"""``FilterLine``: a screen's filter box, hidden until ``/`` opens it (the event log's, the help's)."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.widgets import Input


class FilterLine(Input):
    """A filter line: every change calls ``on_query`` with the text (``Input.Changed`` stops here), and its
    ``leave`` action (each subclass binds its own keys, so that the help lists them) focuses ``back_to``
    again, keeping the text.

    Args:
        back_to: the selector of the widget ``leave`` focuses (the list the line filters).
        on_query: called with the text on every change.
    """

    def __init__(self, *, back_to: str, on_query: Callable[[str], None], placeholder: str, id: str) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.display = False
        self._back_to = back_to
        self._on_query = on_query

    def open(self) -> None:
        """Show the line and focus it (``/``)."""
        self.display = True
        self.screen.set_focus(self)

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one(self._back_to))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._on_query(event.value)
