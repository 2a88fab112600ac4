"""The removal question (issue 19): names the tenant and the people, answered only by typing their number.

``removePersonalData`` is destructive and Graph gives nothing to undo it, so neither Enter nor ``y`` ever
answers: the count box takes digits only, and Enter there goes ahead only when it holds exactly the
number of people (and a case reference was given). A burst of Enter or ``y`` typed into the dialog
leaves it open. Esc cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.tui.cells import literal, one_line, safe_text
from console.tui.footer import ConsoleFooter

NAMES_SHOWN = 5
"""People listed by name before '… and N more'."""


class RemoveScreen(ModalScreen[str | None]):
    """Asks whether to remove the personal data of ``people`` at ``tenant``; dismisses with the case
    reference when the admin typed the number of people, or None (Esc).

    Args:
        tenant: the tenant the removal is sent to (its name as the header shows it).
        people: how each person is named (display name and user id).
        case: the case reference to start with.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="remove.cancel", tooltip="Close without removing anything"),
    ]

    def __init__(self, tenant: str, people: Sequence[str], *, case: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.tenant = tenant
        self.people = list(people)
        self.case = case

    @property
    def count(self) -> int:
        """How many people the removal is for: the number that must be typed."""
        return len(self.people)

    def compose(self) -> ComposeResult:
        n = self.count
        who = "1 person" if n == 1 else f"{n:,} people"
        with Vertical(id="remove-dialog", classes="dialog"):
            with VerticalScroll(id="remove-body"):
                yield Static(
                    f"Remove the personal data of {who} shared with {safe_text(self.tenant)}? Graph deletes it "
                    "(removePersonalData) and nothing can undo it.",
                    id="remove-question",
                    markup=False,
                )
                yield Static(self._names_text(), id="remove-names", markup=False)
            yield Input(self.case, placeholder="case reference, e.g. DSR-1234", id="remove-case")
            yield Input(
                placeholder=f"type {n} to remove {who}",
                restrict=r"[0-9]*",
                max_length=7,
                id="remove-count",
            )
            yield Static(f"Type {n} and press Enter to remove; Esc closes.", id="remove-hint", classes="hint")
        yield ConsoleFooter()

    def _names_text(self) -> str:
        shown = [f"  • {one_line(name, 60)}" for name in self.people[:NAMES_SHOWN]]
        more = len(self.people) - len(shown)
        if more > 0:
            shown.append(f"  … and {more:,} more")
        return "\n".join(shown)

    def on_mount(self) -> None:
        self.query_one("#remove-dialog").border_title = literal("Remove personal data")
        # Synchronously: a key typed right after the question opened goes into a box, never answers.
        start = "#remove-count" if self.case.strip() else "#remove-case"
        self.set_focus(self.query_one(start, Input))

    @on(Input.Submitted, "#remove-case")
    def _case_given(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self._hint("Give the case reference this removal answers.", error=True)
            return
        self.set_focus(self.query_one("#remove-count", Input))

    @on(Input.Submitted, "#remove-count")
    def _count_given(self, event: Input.Submitted) -> None:
        event.stop()
        case = self.query_one("#remove-case", Input).value.strip()
        if not case:
            self._hint("Give the case reference this removal answers.", error=True)
            self.set_focus(self.query_one("#remove-case", Input))
            return
        if event.value.strip() != str(self.count):
            self._hint(f"Type {self.count} (the number of people) to remove; Esc closes.", error=True)
            return
        self.dismiss(case)

    def _hint(self, text: str, *, error: bool) -> None:
        hint = self.query_one("#remove-hint", Static)
        hint.update(text)
        hint.set_class(error, "error")
        hint.set_class(not error, "hint")

    def action_cancel(self) -> None:
        self.dismiss(None)
