"""``WidgetMessage``: the base of a widget's own messages, which name the widget as their ``control``.

As the app's messages (``console.tui.messages``), these are dataclasses: a message declares its payload as
fields after ``widget`` and is built positionally (``OpsTable.OperationChosen(table, key)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from textual.message import Message
from textual.widget import Widget

W = TypeVar("W", bound=Widget)


@dataclass
class WidgetMessage(Message, Generic[W]):
    """A message a widget posts about itself: ``control`` is that widget, so that a handler can pick it
    with a selector (``@on(OpsTable.Updated, "#operations")``) and compare it (``message.control is ...``)."""

    widget: W

    @property
    def control(self) -> W:
        return self.widget
