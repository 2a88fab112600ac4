"""Save report: where to write the evidence report of the marked (or shown) operations."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from console.tui.cells import safe_text
from console.tui.footer import ConsoleFooter
from console.tui.report_file import format_of


class ReportScreen(ModalScreen[Path | None]):
    """Proposes a path (editable); Enter saves there, Esc cancels. The extension picks the format.

    Args:
        proposed: the path to offer.
        count: how many operations the report covers.
        marked: True when they are the marked ones (else the shown ones).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="report.cancel")]

    DEFAULT_CSS = """
    ReportScreen #report-dialog { max-width: 100; }
    ReportScreen #report-what { height: auto; margin: 1 0; }
    """

    def __init__(self, proposed: Path, count: int, *, marked: bool) -> None:
        super().__init__()
        self.proposed = proposed
        self.count = count
        self.marked = marked

    def compose(self) -> ComposeResult:
        which = "marked" if self.marked else "shown"
        with Vertical(id="report-dialog", classes="dialog"):
            yield Static(
                f"The evidence report of the {self.count:,} {which} operation{'s' if self.count != 1 else ''}: "
                "case, person, operation, status, times, storage (signature masked), delivery, request-ids, "
                "who submitted, notes.",
                id="report-what",
                markup=False,
            )
            yield Label("Save to (.md, .csv or .json)", classes="field-label")
            yield Input(str(self.proposed), id="report-path")
            yield Static("", id="report-error", classes="error", markup=False)
            yield Static("Enter saves · Esc cancels", classes="hint")
        yield ConsoleFooter()  # this dialog's keys, not those of the table under it

    def on_mount(self) -> None:
        self.query_one("#report-dialog").border_title = "Save report"
        self.set_focus(self.query_one("#report-path", Input))

    @on(Input.Submitted, "#report-path")
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.query_one("#report-error", Static).update("Give a file name.")
            return
        path = Path(text).expanduser()
        try:
            format_of(path)
        except ValueError as exc:
            self.query_one("#report-error", Static).update(safe_text(exc))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
