"""A dialog with one text field: Enter hands its text on, Esc cancels (the note and save-report dialogs)."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.screen import ModalScreen
from textual.widgets import Input, Static

T = TypeVar("T")


class OneLineDialog(ModalScreen[T | None], Generic[T]):
    """Enter in the field hands its text (stripped) to ``submit``, or says ``EMPTY`` when there is none;
    Esc dismisses with None.

    The subclass composes one ``Input`` and a ``Static`` with the id ``ERROR_ID`` for what went wrong.
    """

    EMPTY: ClassVar[str] = ""
    """What an empty field says."""
    ERROR_ID: ClassVar[str] = ""
    """The selector of the line that says what went wrong."""

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.show_error(self.EMPTY)
            return
        self.submit(text)

    def show_error(self, message: str) -> None:
        self.query_one(self.ERROR_ID, Static).update(message)

    def submit(self, text: str) -> None:
        """Dismiss with what ``text`` gives, or ``show_error``."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)
