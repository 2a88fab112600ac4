"""``WidgetMessage``: the base of a widget's own messages, which name the widget as their ``control``."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.message import Message
from textual.widget import Widget

W = TypeVar("W", bound=Widget)


class WidgetMessage(Message, Generic[W]):
    """A message a widget posts about itself: ``control`` is that widget, so that a handler can pick it
    with a selector (``@on(OpsTable.Updated, "#operations")``) and compare it (``message.control is ...``)."""

    def __init__(self, widget: W) -> None:
        super().__init__()
        self.widget = widget

    @property
    def control(self) -> W:
        return self.widget
