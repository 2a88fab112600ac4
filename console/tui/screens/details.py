"""One operation in full: who, case, status, delivery, notes, and every poll with its full request-id.

The history keeps its cursor while polls arrive (new polls are appended; nothing jumps to the
newest), and the line under it shows the highlighted poll in full (client-request-id, progress,
error). ``c`` copies the highlighted poll's request-id; ``o``, ``u`` and ``l`` copy the operation
id, the user id and the status URL (OSC 52: it works over SSH), each with a toast saying what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, cast

from rich.console import RenderableType
from rich.style import StyleType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from console.clock import Clock
from console.ops.events import Note, OperationView, PollRecord
from console.tui.bindings import KeyArea
from console.tui.cells import (
    duration_label,
    literal,
    one_line,
    progress_label,
    safe_text,
    status_label,
    time_label,
)
from console.tui.focus import hold_keys, release_keys_after_refresh
from console.tui.messages import ReportsWorkerFailures
from console.tui.ops_model import readable_error, shown_status

REFRESH_SECONDS = 1.0
"""How often an open details view looks for new polls."""
SHORT_LINES = 30
"""Below this height the history shows fewer rows at once, so the summary's times and request-ids fit."""


class DetailsEngine(Protocol):
    """What the details view asks of the engine (docs/interfaces.md, console/ops)."""

    def operation(self, key: int) -> OperationView | None: ...

    async def history(self, key: int) -> list[PollRecord]: ...

    async def notes(self, key: int) -> list[Note]: ...

    async def add_note(self, key: int, text: str, author: str | None = None) -> Note: ...


async def _answer(value: Any) -> Any:
    """The engine's answer: awaited (the async contract), or as is from an older synchronous engine."""
    if hasattr(value, "__await__"):
        return await value
    return value


def _retry_after(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}s"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{count:,} bytes"


class _LiteralGrid(Table):
    """A grid whose text cells are shown as typed: a ``str`` cell of a Rich table is read as markup."""

    def add_row(
        self, *renderables: RenderableType | None, style: StyleType | None = None, end_section: bool = False
    ) -> None:
        cells = [literal(cell) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, style=style, end_section=end_section)


def delivery_text(view: OperationView) -> str:
    """``12 files, 3.4 MB (RequestInfo.json present), checked 2027-01-15 08:00:00`` or why not known."""
    delivered = view.delivered
    if delivered is None:
        return "not checked yet" if view.status == "complete" else "—"
    checked = time_label(delivered.checked_at)
    if delivered.error:
        return f"could not check: {safe_text(delivered.error)} ({checked})"
    files = f"{delivered.files:,} file{'s' if delivered.files != 1 else ''}, {_size(delivered.bytes)}"
    info = "RequestInfo.json present" if delivered.request_info else "no RequestInfo.json"
    return f"{files} ({info}), checked {checked}"


SUMMARY_ORDER = (
    "Person",
    "Case",
    "Status",
    "Last error",
    "Submitted",
    "Completed",
    "Request-ids",
    "Operation",
    "Delivery",
    "Notes",
    "Status URL",
    "Storage",
    "User id",
    "Home tenant",
    "Repeats",
)
"""The summary's rows, most asked-for first: at 80x24 what support asks for (times, request-ids) shows
without scrolling; the long URLs come last."""


_key = KeyArea(
    "details",
    tooltips={
        "copy": "Copy the highlighted poll's request-id (support asks for it)",
        "note": "Write a note on this operation",
    },
)


class _SummaryRows:
    """Collects the summary's rows (a row labelled '' continues the one above) and lays them out in order."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, list[tuple[str, RenderableType]]]] = []

    def add_row(self, label: str, value: RenderableType) -> None:
        if label or not self.rows:
            self.rows.append((label, []))
        self.rows[-1][1].append((label, value))

    def table(self) -> Table:
        rank = {label: number for number, label in enumerate(SUMMARY_ORDER)}
        grid = _LiteralGrid.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for _label, lines in sorted(self.rows, key=lambda row: rank.get(row[0], len(rank))):
            for label, value in lines:
                grid.add_row(label, value)
        return grid


def _row_key(record: PollRecord) -> str:
    return f"{record.at!r}/{record.client_request_id}/{record.request_id}"


class OperationDetailsScreen(ReportsWorkerFailures, ModalScreen[None]):
    """Details of one export operation (Esc closes).

    Args:
        engine: the session's engine.
        key: the operation's journal key.
        clock: the console's clock.
        user_label: how a user id is shown.
        live: re-read the operation every second (snapshot tests turn it off).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        _key("escape", "close", "Close", "close"),
        _key("c", "copy_request_id", "Copy request-id", "copy"),
        _key("o", "copy('operation')", "Copy operation id", "copy-operation"),
        _key("u", "copy('user')", "Copy user id", "copy-user"),
        _key("l", "copy('location')", "Copy status URL", "copy-location"),
        # Priority: the keys typed right after n are held (by the app) for the note dialog.
        _key("n", "add_note", "Add note", "note", priority=True),
    ]

    # Not the shared .dialog class: at 80 columns this view needs the whole width (a request-id is 36).
    DEFAULT_CSS = """
    OperationDetailsScreen #details-dialog {
        width: 100%; max-width: 140; height: 100%; max-height: 48;
        border: thick $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    OperationDetailsScreen #details-body { height: 1fr; min-height: 4; }
    OperationDetailsScreen #details-summary { height: auto; margin: 0; }
    OperationDetailsScreen #history { height: auto; max-height: 9; }
    OperationDetailsScreen.-short #history { max-height: 6; }
    OperationDetailsScreen.-short #poll-detail { max-height: 2; }
    OperationDetailsScreen #poll-detail { height: auto; max-height: 3; color: $text-muted; }
    OperationDetailsScreen .hint { color: $text-muted; height: auto; }
    """

    def __init__(
        self,
        engine: object,
        key: int,
        clock: Clock,
        user_label: Callable[[str], str],
        *,
        live: bool = True,
        tenant: str = "",
    ) -> None:
        super().__init__()
        self.engine = cast(DetailsEngine, engine)
        self.tenant = tenant
        """The saved name of the operation's tenant, shown when several tenants are open ("" : one)."""
        self.key = key
        self.clock = clock
        self.user_label = user_label
        self.live = live
        self.history: list[PollRecord] = []
        """The polls shown, oldest first."""
        self.notes: list[Note] = []
        """The notes shown, oldest first."""
        self._shown: tuple[int, str, str | None] | None = None
        self._notes_shown: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="details-dialog"):
            with VerticalScroll(id="details-body"):
                yield Static(id="details-summary")
            yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            yield Static(id="poll-detail")
            yield Static(
                "Esc close · c copy request-id · o op id · u user id · l status URL · n note",
                classes="hint",
            )

    def on_resize(self) -> None:
        # At 24 lines the history gives room to the summary (its rows scroll; the summary's first do not).
        self.set_class(self.app.size.height < SHORT_LINES, "-short")

    async def on_mount(self) -> None:
        self.set_class(self.app.size.height < SHORT_LINES, "-short")
        history = self.query_one("#history", DataTable)
        for key, label in (
            ("at", "Time UTC"),
            ("http", "HTTP"),
            ("retry", "Retry"),
            ("status", "Status"),
            ("request", "request-id"),
        ):
            history.add_column(label, key=key)  # auto width: a request-id is never cut
        history.focus()
        await self.reload()
        if self.live:
            self.set_interval(REFRESH_SECONDS, self._schedule_reload, name="details-refresh")

    def _schedule_reload(self) -> None:
        self.run_worker(self.reload(), exclusive=True, group="details-reload", exit_on_error=False)

    async def reload(self) -> None:
        """Show the operation's current state; read its history and notes again when they changed."""
        view = self.engine.operation(self.key)
        if view is None:
            self.query_one("#details-summary", Static).update(f"Operation {self.key} is no longer known.")
            return
        where = f" in {self.tenant}" if self.tenant else ""
        self.query_one("#details-dialog").border_title = literal(f"Export of {self.user_label(view.user_id)}{where}")
        marker = (view.polls, view.state, view.status)
        if marker != self._shown:
            self._shown = marker
            self._show_history(list(await _answer(self.engine.history(self.key))))
        if view.notes != self._notes_shown and hasattr(self.engine, "notes"):
            self._notes_shown = view.notes
            self.notes = list(await _answer(self.engine.notes(self.key)))
        self.query_one("#details-summary", Static).update(self.summary(view))

    def _show_history(self, records: list[PollRecord]) -> None:
        table = self.query_one("#history", DataTable)
        old = [_row_key(r) for r in self.history]
        new = [_row_key(r) for r in records]
        first = not self.history
        current: str | None = None
        if new[: len(old)] == old and old:
            added = records[len(old) :]  # polls only ever arrive at the end: append, the cursor stays
        else:
            # Pruned or rewritten: rebuild, and put the cursor back on the same poll if it is still there.
            current = old[table.cursor_row] if old and 0 <= table.cursor_row < len(old) else None
            table.clear()
            added = records
            self.history = []
        for record in added:
            table.add_row(
                time_label(record.at)[11:],
                str(record.http_status) if record.http_status is not None else "—",
                _retry_after(record.retry_after),
                literal(status_label(record.status) if record.status else "—"),
                literal(record.request_id or "—"),
                key=_row_key(record),
            )
        rebuilt = not (new[: len(old)] == old and old)
        self.history = records
        if first and records:
            table.move_cursor(row=len(records) - 1, animate=False)
        elif rebuilt and not first:
            row = new.index(current) if current in new else min(table.cursor_row, len(records) - 1)
            table.move_cursor(row=max(0, row), animate=False)
        self._show_poll()

    @on(DataTable.RowHighlighted, "#history")
    def _on_poll_highlighted(self) -> None:
        self._show_poll()

    def highlighted_poll(self) -> PollRecord | None:
        """The poll under the history's cursor."""
        table = self.query_one("#history", DataTable)
        row = table.cursor_row
        return self.history[row] if 0 <= row < len(self.history) else None

    def _show_poll(self) -> None:
        record = self.highlighted_poll()
        detail = self.query_one("#poll-detail", Static)
        if record is None:
            detail.update("No polls yet.")
            return
        row = self.history.index(record) + 1
        parts = [f"poll {row} of {len(self.history)}", time_label(record.at)]
        if record.progress is not None:
            parts.append(f"progress {progress_label(record.progress)}")
        if record.client_request_id:
            parts.append(f"client-request-id {safe_text(record.client_request_id)}")
        if record.error:
            parts.append(one_line(record.error, 400))
        detail.update(Text(" · ".join(parts)))

    def summary(self, view: OperationView) -> RenderableType:
        """Who, case, status, ids, storage, times, delivery, request-ids, error and notes of ``view``."""
        now = self.clock.now()
        grid = _SummaryRows()
        name = safe_text(view.display_name or self.user_label(view.user_id))
        person = Text(name)
        if view.user_principal_name:
            person.append(f" <{safe_text(view.user_principal_name)}>")
        person.append(f" · in tenant {safe_text(self.tenant)}" if self.tenant else "")
        grid.add_row("Person", person)
        grid.add_row("Case", safe_text(view.case) or "—")
        grid.add_row(
            "Status",
            Text(status_label(safe_text(shown_status(view))), style="bold")
            .append(f"  progress {progress_label(view.progress)}", style="")
            .append(f"  journal state {safe_text(view.state)}", style="dim"),
        )
        error = readable_error(view)
        if error:
            grid.add_row("Last error", Text(error, style="bold"))
        grid.add_row("Delivery", delivery_text(view))
        if self.notes:
            for number, note in enumerate(self.notes):
                label = "Notes" if number == 0 else ""
                line = Text(f"{time_label(note.at)} {safe_text(note.author) or '—'}: ", style="dim")
                line.append(safe_text(note.text), style="")
                grid.add_row(label, line)
        else:
            grid.add_row("Notes", Text("none yet (n adds one)", style="dim"))
        grid.add_row("Operation", safe_text(view.operation_id) or "— (Graph gave no id)")
        grid.add_row("Status URL", safe_text(view.location) or "—")
        grid.add_row("Storage", safe_text(view.storage_location))
        submitted = time_label(view.submitted_at or view.created_at)
        if view.submitted_by:
            submitted += f" by {safe_text(view.submitted_by)}"
        grid.add_row("Submitted", submitted)
        completed = time_label(view.completed_at)
        if view.next_poll_at is not None and not view.is_done:
            completed += f" · next poll in {duration_label(view.next_poll_at - now)}"
        grid.add_row("Completed", f"{completed} · {view.polls:,} polls")
        ids = []
        if view.post_request_id:
            ids.append(f"export POST {safe_text(view.post_request_id)}")
        if view.final_request_id:
            ids.append(f"final poll {safe_text(view.final_request_id)}")
        if ids:
            grid.add_row("Request-ids", " · ".join(ids))
        grid.add_row("User id", safe_text(view.user_id))
        if view.home_tenant_id:
            grid.add_row("Home tenant", safe_text(view.home_tenant_id))
        if view.previous_key is not None:
            grid.add_row("Repeats", f"operation {view.previous_key} (exported again)")
        return grid.table()

    # -- keys ------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_request_id(self) -> None:
        record = self.highlighted_poll()
        if record is None or not record.request_id:
            self.notify("The highlighted poll has no request-id.", severity="warning")
            return
        self._copy("request-id", record.request_id)

    def action_copy(self, what: str) -> None:
        view = self.engine.operation(self.key)
        if view is None:
            return
        value, label = {
            "operation": (view.operation_id or "", "operation id"),
            "user": (view.user_id, "user id"),
            "location": (view.location or "", "status URL"),
        }[what]
        if not value:
            self.notify(f"This operation has no {label}.", severity="warning")
            return
        self._copy(label, value)

    def _copy(self, label: str, value: str) -> None:
        # OSC 52: the terminal (even over SSH) puts it on the admin's clipboard.
        self.app.copy_to_clipboard(value)
        self.notify(f"Copied {label} {safe_text(value)}", title="Clipboard", markup=False)

    def action_add_note(self) -> None:
        from console.tui.dialogs.note import NoteScreen

        hold_keys(self.app)  # what is typed right after n is the note
        view = self.engine.operation(self.key)
        who = safe_text(self.user_label(view.user_id)) if view is not None else str(self.key)

        def answered(text: str | None) -> None:
            if text:
                self.save_note(text)

        where = f" in {self.tenant}" if self.tenant else ""
        screen = NoteScreen(title=f"Note on the export of {who}{where}", placeholder="what you did or found")
        self.app.push_screen(screen, answered)
        release_keys_after_refresh(self.app, screen)

    @work(group="details-note", exit_on_error=False)
    async def save_note(self, text: str) -> None:
        """Record the note (time and author by the engine), then show it."""
        note = await _answer(self.engine.add_note(self.key, text))
        self.notes = [*self.notes, note]
        self._notes_shown = None
        await self.reload()
        self.notify("Note saved.", title="Note" + (f" in {self.tenant}" if self.tenant else ""), markup=False)
