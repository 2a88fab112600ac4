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
from console.tui.dialogs.confirm import names_text
from console.tui.focus import MovesFocusNow
from console.tui.footer import ConsoleFooter

"""People listed by name before '… and N more'."""


class RemoveScreen(MovesFocusNow, ModalScreen[str | None]):
    """Asks whether to remove the personal data of ``people`` at ``tenant``; dismisses with the case
    reference when the admin typed the number of people, or None (Esc).

    Args:
        tenant: the tenant the removal is sent to (its name as the header shows it).
        people: how each person is named (display name and user id).
        case: the case reference to start with.
    """

    # Priority bindings act as the key is read, so a burst's next keys go where the admin meant them
    # ("DSR-8⏎1⏎" types the case, then the number); Enter in the count box is the Input's own.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="remove.cancel", tooltip="Close without removing anything"),
        Binding("enter", "case_given", "", show=False, priority=True, id="remove.case-enter"),
        Binding("tab", "move_focus(1)", "", show=False, priority=True, id="remove.next"),
        Binding("shift+tab", "move_focus(-1)", "", show=False, priority=True, id="remove.previous"),
    ]

    DIALOG_TITLE: ClassVar[str] = "Remove personal data"
    """The dialog's border title."""

    def __init__(
        self, tenant: str, people: Sequence[str], *, case: str = "", question: str = "", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.tenant = tenant
        self.people = list(people)
        self.case = case
        self.question = question
        """The question asked (default: remove the data of the people shared with ``tenant``)."""

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
                    self.question
                    or f"Remove the personal data of {who} shared with {safe_text(self.tenant)}? Graph deletes it "
                    "(removePersonalData) and nothing can undo it.",
                    id="remove-question",
                    markup=False,
                )
                yield Static(names_text(self.people), id="remove-names", markup=False)
            yield Input(self.case, placeholder="case reference, e.g. DSR-1234", id="remove-case")
            yield Input(
                placeholder=f"type {n} to remove {who}",
                restrict=r"[0-9]*",
                max_length=7,
                id="remove-count",
            )
            yield Static(f"Type {n} and press Enter to remove; Esc closes.", id="remove-hint", classes="hint")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#remove-dialog").border_title = literal(self.DIALOG_TITLE)
        # Synchronously: a key typed right after the question opened goes into a box, never answers.
        start = "#remove-count" if self.case.strip() else "#remove-case"
        self.set_focus(self.query_one(start, Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "case_given":  # Enter in the case box; in the count box it answers (Input.Submitted)
            focused = self.focused
            return focused is not None and focused.id == "remove-case"
        return True

    def action_case_given(self) -> None:
        # At once and whatever the box holds: characters typed before this Enter may still be on their way
        # to the box. The count box's Enter checks the case (and comes back here without one).
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
        hint.update(literal(text))  # a typed case is never read as markup
        hint.set_class(error, "error")
        hint.set_class(not error, "hint")

    def action_cancel(self) -> None:
        self.dismiss(None)


class OutboundRemoveScreen(RemoveScreen):
    """Asks the tenant ``tenant_id`` to remove the data it holds of our user ``user_id`` (outbound, issue 19).

    Names the tenant, the user and, as it is typed, the case; answered only by typing 1 (the one person),
    like the inbound question. Dismisses with the case reference, or None (Esc).

    Args:
        home: our tenant (the header's name), which sends the request.
        user_id: our user whose data ``tenant_id`` holds.
        tenant_id: the tenant asked to remove it.
        case: the case reference to start with.
    """

    DIALOG_TITLE: ClassVar[str] = "Remove our user's data at another tenant"

    def __init__(self, home: str, user_id: str, tenant_id: str, *, case: str = "") -> None:
        question = (
            f"Ask tenant {safe_text(tenant_id)} to remove the profile data it holds of our user "
            f"{safe_text(user_id)}? {safe_text(home)} sends the request (removePersonalData) and nothing can undo it."
        )
        super().__init__(tenant_id, [f"our user {user_id}"], case=case, question=question)
        self.user_id = user_id
        self.tenant_id = tenant_id

    def on_mount(self) -> None:  # (Textual runs RemoveScreen.on_mount too: the focus and the title)
        self._name_case(self.case)

    @on(Input.Changed, "#remove-case")
    def _case_typed(self, event: Input.Changed) -> None:
        self._name_case(event.value)

    def _name_case(self, case: str) -> None:
        case = one_line(case.strip(), 30)
        for_case = f"for case {case}" if case else "(give the case first)"
        self._hint(
            f"Type 1 and Enter to ask tenant {one_line(self.tenant_id, 40)} to remove user "
            f"{one_line(self.user_id, 40)} {for_case}; Esc closes.",
            error=False,
        )
