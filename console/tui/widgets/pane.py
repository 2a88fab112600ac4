"""``Pane``: the base of the main screen's panes (profiles, operations, cases)."""

from __future__ import annotations

from typing import ClassVar

from textual.containers import Vertical


class Pane(Vertical):
    """A pane of the main screen: its own id (``PANE_ID``, which its CSS and the one-pane layout name)
    and the class ``pane`` (app.tcss styles them alike)."""

    PANE_ID: ClassVar[str]

    def __init__(self) -> None:
        super().__init__(id=self.PANE_ID, classes="pane")
