"""A yes/no question in a modal; the safe answer (No) is the default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console.tui.cells import literal, one_line, safe_text
from console.tui.footer import ConsoleFooter

NAMES_SHOWN = 5


def names_text(names: Sequence[str]) -> str:
    """The first ``NAMES_SHOWN`` names a question is about, one a line, and how many more."""
    shown = [f"  • {one_line(name, 60)}" for name in names[:NAMES_SHOWN]]
    more = len(names) - len(shown)
    if more > 0:
        shown.append(f"  … and {more:,} more")
    return "\n".join(shown)


"""Names listed under a question about many people before '… and N more'."""
FRAME_LINES = 9
"""Lines around the question: the dialog's border (2), the buttons (3 and a margin), the footer, slack."""


def _safe_lines(text: str) -> str:
    """``text`` terminal-safe line by line (its own line breaks kept)."""
    return "\n".join(safe_text(line) for line in text.split("\n"))


class ConfirmScreen(ModalScreen[bool]):
    """Asks ``question``; dismisses with True (y / the yes button) or False (n, Esc, Enter on No).

    Args:
        question: the question, one or more sentences.
        title: the dialog's title.
        yes: label of the button that goes ahead.
        no: label of the button that does not (focused: Enter answers No).
        names: people the question is about; the first NAMES_SHOWN are listed.
        id: the screen's id.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(
        self,
        question: str,
        *,
        title: str = "Confirm",
        yes: str = "Yes",
        no: str = "No",
        names: Sequence[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.question = question
        self.title_text = title
        self.yes_label = yes
        self.no_label = no
        self.names = list(names)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            # A long question (many warnings, many names) scrolls here; the title and buttons always show.
            with VerticalScroll(id="confirm-body"):
                yield Static(_safe_lines(self.question), id="confirm-question", markup=False)
                if self.names:
                    yield Static(names_text(self.names), id="confirm-names", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes_label} (y)", id="confirm-yes", variant="warning")
                yield Button(f"{self.no_label} (n)", id="confirm-no", variant="primary")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#confirm-dialog").border_title = literal(self.title_text)
        self._fit(self.app.size.height)
        # Synchronously: a key typed right after the question opened must meet No, not the screen.
        self.set_focus(self.query_one("#confirm-no", Button))

    def on_resize(self) -> None:
        self._fit(self.app.size.height)

    def _fit(self, height: int) -> None:
        """Cap the question's height so the dialog (title, buttons) fits the terminal above the footer."""
        self.query_one("#confirm-body").styles.max_height = max(2, height - FRAME_LINES)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
