"""A note on an operation, and the resolution of an unconfirmed export (which records a note)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from console.tui.cells import literal
from console.tui.footer import ConsoleFooter

NOTE_LIMIT = 2000
"""Characters a note may hold (the report carries it in full)."""


class NoteScreen(ModalScreen[str | None]):
    """Asks for one line of text; Enter saves it (when not empty), Esc cancels.

    Args:
        title: the dialog's border title.
        question: what the note is for (plain text, shown above the field).
        placeholder: an example in the empty field.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="note.cancel"),
    ]

    DEFAULT_CSS = """
    NoteScreen #note-dialog { max-width: 76; }
    NoteScreen #note-question { height: auto; margin: 1 0; }
    NoteScreen #note-text { margin-bottom: 0; }
    """

    def __init__(self, *, title: str = "Add a note", question: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog", classes="dialog"):
            if self.question:
                yield Static(self.question, id="note-question", markup=False)
            yield Label("Note", classes="field-label")
            yield Input(placeholder=self.placeholder, max_length=NOTE_LIMIT, id="note-text")
            yield Static("", id="note-error", classes="error", markup=False)
            yield Static("Enter saves · Esc cancels", classes="hint")
        yield ConsoleFooter()  # this dialog's keys, not those of the table under it

    def on_mount(self) -> None:
        self.query_one("#note-dialog").border_title = literal(self.title_text)  # it names the person: never markup
        # At once, not on the next idle: the keys typed right after the key that opened us are the note.
        self.set_focus(self.query_one("#note-text", Input))

    @on(Input.Submitted, "#note-text")
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.query_one("#note-error", Static).update("Write something first (Esc cancels).")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ResolveScreen(NoteScreen):
    """Resolving unconfirmed exports: says what it means and asks for the note it records."""

    def __init__(self, who: list[str]) -> None:
        count = len(who)
        names = ", ".join(who[:3]) + (f" and {count - 3:,} more" if count > 3 else "")
        super().__init__(
            title=f"Resolve {count:,} unconfirmed export{'s' if count != 1 else ''}",
            question=(
                f"Graph may or may not have accepted the export of {names}. Resolve once you have checked "
                "(in the storage location, or with Microsoft support): the console stops counting it as "
                "unconfirmed and records your note with your name and the time."
            ),
            placeholder="e.g. checked the container: RequestInfo.json present, export done",
        )
