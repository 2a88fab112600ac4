"""``FilterLine``: a screen's filter box, hidden until ``/`` opens it (the event log's, the help's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.message import Message
from textual.widgets import Input


class FilterLine(Input):
    """A filter line, hidden until ``open``: every change posts ``Query`` with the text (``Input.Changed``
    stops here), and its ``leave`` action (each subclass binds its own keys, so that the help lists them)
    focuses ``BACK_TO`` again, keeping the text."""

    BACK_TO: ClassVar[str]
    """The selector of the widget ``leave`` focuses (what the line filters)."""

    @dataclass
    class Query(Message):
        """The filter's text changed."""

        text: str

    def __init__(self, *, placeholder: str, id: str) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.display = False

    def open(self) -> None:
        """Show the line and focus it (``/``)."""
        self.display = True
        self.screen.set_focus(self)

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one(self.BACK_TO))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Query(event.value))
