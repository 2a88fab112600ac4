"""One operation with its whole history: every poll's time, HTTP status, Retry-After and request-id."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from console.clock import Clock
from console.ops.events import OperationView, PollRecord
from console.tui.cells import duration_label, one_line, progress_label, status_label, time_label

REFRESH_SECONDS = 1.0
"""How often an open details view looks for new polls."""


def _retry_after(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}s"


class OperationDetailsScreen(ModalScreen[None]):
    """Details of one export operation (Esc closes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="details.close"),
        Binding(
            "c",
            "copy_request_id",
            "Copy request-id",
            id="details.copy",
            tooltip="Copy the last request-id (support asks for it)",
        ),
    ]

    def __init__(
        self, engine: object, key: int, clock: Clock, user_label: Callable[[str], str], *, live: bool = True
    ) -> None:
        super().__init__()
        self.engine = engine
        self.key = key
        self.clock = clock
        self.user_label = user_label
        self.live = live
        self._shown: tuple[int, str, str | None] | None = None
        self._history: list[PollRecord] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="details-dialog", classes="dialog"):
            yield Static(id="details-summary")
            yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            yield Static("Esc closes · c copies the last request-id", classes="hint")

    def on_mount(self) -> None:
        history = self.query_one("#history", DataTable)
        for key, label, width in (
            ("at", "Time UTC", 14),
            ("http", "HTTP", 4),
            ("retry", "Retry-After", 11),
            ("request", "request-id", 36),
            ("status", "Status", 13),
            ("progress", "Done", 4),
            ("error", "Error", None),
        ):
            history.add_column(label, key=key, width=width)
        self.reload()
        if self.live:
            self.set_interval(REFRESH_SECONDS, self.reload, name="details-refresh")
        history.focus()

    def reload(self) -> None:
        """Show the operation's current state; re-read its history when it has new polls."""
        view: OperationView | None = self.engine.operation(self.key)  # type: ignore[attr-defined]
        if view is None:
            self.query_one("#details-summary", Static).update(f"Operation {self.key} is no longer known.")
            return
        self.query_one("#details-dialog").border_title = f"Export of {self.user_label(view.user_id)}"
        self.query_one("#details-summary", Static).update(self._summary(view))
        marker = (view.polls, view.state, view.status)
        if marker == self._shown:
            return
        self._shown = marker
        self._history = list(self.engine.history(self.key))  # type: ignore[attr-defined]
        table = self.query_one("#history", DataTable)
        table.clear()
        for record in self._history:
            table.add_row(
                time_label(record.at)[5:],
                str(record.http_status) if record.http_status is not None else "—",
                _retry_after(record.retry_after),
                record.request_id or "—",
                status_label(record.status) if record.status else "—",
                progress_label(record.progress),
                one_line(record.error, 300) if record.error else "",
            )
        if self._history:
            table.move_cursor(row=len(self._history) - 1)

    def _summary(self, view: OperationView) -> Table:
        now = self.clock.now()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("User", f"{self.user_label(view.user_id)} ({view.user_id})")
        grid.add_row(
            "Status",
            Text(status_label(view.display_status), style="bold")
            .append(f"   progress {progress_label(view.progress)}", style="")
            .append(f"   journal state {view.state}", style="dim"),
        )
        grid.add_row("Operation", view.operation_id or "— (Graph gave no id)")
        grid.add_row("Status URL", view.location or "—")
        grid.add_row("Storage", view.storage_location)
        grid.add_row("Submitted", time_label(view.submitted_at or view.created_at))
        grid.add_row("Completed", time_label(view.completed_at))
        if view.next_poll_at is not None and not view.is_done:
            grid.add_row("Next poll in", duration_label(view.next_poll_at - now))
        grid.add_row("Polls", str(view.polls))
        if view.last_error:
            grid.add_row("Last error", Text(view.last_error, style="bold"))
        return grid

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_request_id(self) -> None:
        for record in reversed(self._history):
            if record.request_id:
                self.app.copy_to_clipboard(record.request_id)
                self.notify(f"Copied request-id {record.request_id}")
                return
        self.notify("No request-id recorded yet.", severity="warning")
