"""The live operations table: a keyed diff over a virtualised Line API table, with triage keys.

Only the lines on screen are ever rendered, each from a few precomputed strings, so
5,000 operations cost the same as 50. What is shown, in which order, what is marked and
what an update changed is decided by ``console.tui.ops_model.OpsModel`` (no Textual);
this widget draws it, turns keys into calls on it and repaints only the lines that changed.
The operation under the cursor stays under the cursor, on the same screen line (STYLE.md
habit 6). (A DataTable re-renders every visible cell and walks every row on each change:
about 80 ms a repaint at 5,000 rows, too much for once a second over SSH.)

Triage, as k9s, htop and lazydocker users expect: ``space`` marks, ``v`` marks a range from
the last mark, ``*``/``ctrl+a`` marks everything shown, ``x``/``u`` clears; ``/`` filters by
text, ``f`` by status; ``e`` exports the marked (or highlighted) failed ones again, ``R``
resolves unconfirmed ones, ``d`` stops watching; ``p`` pauses live updates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from console.tui.focus import hold_keys, release_keys
from console.clock import Clock
from console.ops.events import OperationView
from console.tui.cells import fit, safe_text, status_label, status_role
from console.tui.cursor import RowCursor
from console.tui.widgets.lines import LineList
from console.tui.ops_model import (
    COLUMN_KEYS,
    COLUMNS,
    FILTERS,
    ApplyResult,
    OpsModel,
    is_reexportable,
    is_resolvable,
    is_watched,
    readable_error,
    shown_status,
)

__all__ = ["COLUMNS", "COLUMN_KEYS", "FILTERS", "OpsTable"]

TIME_COLUMNS = ("elapsed", "next")
"""Columns that change with the clock alone."""
RIGHT_ALIGNED = frozenset({"progress", "elapsed", "next"})
LABELS: dict[str, str] = {**dict(COLUMNS), "mark": "", "next": "Next"}
"""Header labels (``Next`` fits the narrow next-poll column)."""
WIDTHS: dict[str, int] = {"mark": 1, "user": 16, "case": 10, "status": 13, "progress": 4, "submitted": 14}
"""Fixed column widths; the last error takes the rest."""
WIDE_USER = 28
"""The user column's width when the table has room (118 columns and more)."""
SUBMITTED_FROM = 110
"""The submitted time is shown from this width (it is in the details at any size)."""
ROOMY_FROM = 100
"""From this width columns are two spaces apart, below it one."""
MIN_ERROR = 10


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class OpsTable(LineList, can_focus=True):
    """Every export operation of the tenant, live, with marks and filters."""

    # Every key is a priority binding: it runs as the app reads it, in the order typed, before the next
    # key of a burst is routed. So "/abc" filters by abc (focus moves at once), "space space w" reports
    # on the two rows just marked, and what follows R, d or w waits for their dialog.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="operations.up", priority=True),
        Binding("down", "cursor_down", "Down", show=False, id="operations.down", priority=True),
        Binding("pageup", "page_up", "Page up", show=False, id="operations.page-up", priority=True),
        Binding("pagedown", "page_down", "Page down", show=False, id="operations.page-down", priority=True),
        Binding("home", "first", "First", show=False, id="operations.first", priority=True),
        Binding("end", "last", "Last", show=False, id="operations.last", priority=True),
        Binding(
            "enter",
            "choose",
            "Details",
            id="operations.details",
            tooltip="Open the operation with its whole poll history and notes",
            priority=True,
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            id="operations.mark",
            tooltip="Mark or unmark the highlighted row",
            priority=True,
        ),
        Binding(
            "v,shift+space",
            "mark_range",
            "Mark range",
            show=False,
            id="operations.mark-range",
            tooltip="Mark every row from the last mark to the cursor",
            priority=True,
        ),
        Binding(
            "asterisk,ctrl+a",
            "mark_all",
            "Mark shown",
            show=False,
            id="operations.mark-all",
            tooltip="Mark every row the filters show",
            priority=True,
        ),
        Binding("x,u", "clear_marks", "Clear marks", show=False, id="operations.clear-marks", priority=True),
        Binding(
            "slash",
            "filter_text",
            "Filter",
            id="operations.filter-text",
            tooltip="Filter by user, UPN, name, operation id, error or case (case:REF, status:WORD)",
            priority=True,
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="operations.clear-filter",
            tooltip="Clear the text filter",
            priority=True,
        ),
        Binding(
            "f",
            "cycle_filter",
            "Status",
            id="operations.filter",
            tooltip="Show all, unfinished, problem, running, failed or complete operations",
            priority=True,
        ),
        Binding(
            "c",
            "filter_case",
            "Same case",
            show=False,
            id="operations.case",
            tooltip="Show only the highlighted operation's case (again: every case)",
            priority=True,
        ),
        Binding(
            "e",
            "export_again",
            "Export again",
            id="operations.export",
            tooltip="Export again for the users of the marked (or highlighted) failed or unconfirmed operations",
            priority=True,
        ),
        Binding(
            "R",
            "resolve",
            "Resolve",
            show=False,
            id="operations.resolve",
            tooltip="Mark the marked (or highlighted) unconfirmed exports checked, with a note",
            priority=True,
        ),
        Binding(
            "d",
            "stop_watching",
            "Stop watching",
            show=False,
            id="operations.stop",
            tooltip="Stop polling the marked (or highlighted) operations; their history is kept",
            priority=True,
        ),
        Binding(
            "w",
            "save_report",
            "Report",
            show=False,
            id="operations.report",
            tooltip="Save the evidence report of the marked (or else the shown) operations",
            priority=True,
        ),
        Binding(
            "p",
            "toggle_pause",
            "Pause",
            id="operations.pause",
            tooltip="Pause live updates (polling goes on)",
            priority=True,
        ),
        Binding("s", "cycle_sort", "Sort", id="operations.sort", tooltip="Sort by the next column", priority=True),
        Binding(
            "greater_than_sign",
            "sort_step(1)",
            "Sort →",
            show=False,
            id="operations.sort-right",
            tooltip="Sort by the column to the right (as htop's > and <)",
            priority=True,
        ),
        Binding(
            "less_than_sign",
            "sort_step(-1)",
            "Sort ←",
            show=False,
            id="operations.sort-left",
            tooltip="Sort by the column to the left",
            priority=True,
        ),
        Binding(
            "y",
            "copy_id",
            "Copy id",
            show=False,
            id="operations.copy",
            tooltip="Copy the highlighted operation's id to the clipboard",
            priority=True,
        ),
        Binding(
            "r",
            "reverse_sort",
            "Reverse",
            show=False,
            id="operations.reverse",
            tooltip="Reverse the sort order",
            priority=True,
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ops-table--header",
        "ops-table--cursor",
        "ops-table--odd-row",
        "ops-table--marked",
        "ops-table--changed",
        "ops-table--status-ok",
        "ops-table--status-bad",
        "ops-table--status-warn",
        "ops-table--status-running",
        "ops-table--status-pending",
        "ops-table--status-unknown",
        "ops-table--error",
    }

    # Only what app.tcss does not style (it styles the header, cursor, rows and statuses).
    DEFAULT_CSS = """
    OpsTable > .ops-table--marked { color: $text-accent; text-style: bold; }
    OpsTable > .ops-table--changed { background: $primary-darken-3; }
    """

    class _TableMessage(Message):
        def __init__(self, table: OpsTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> OpsTable:
            return self.table

    class OperationChosen(_TableMessage):
        """Enter (or a click on the highlighted row) on an operation: show its details."""

        def __init__(self, table: OpsTable, key: int) -> None:
            super().__init__(table)
            self.key = key

    class ViewChanged(_TableMessage):
        """Sort or filter changed (the pane's subtitle says which)."""

    class Updated(_TableMessage):
        """Rows, counts, marks or the highlighted row changed (coalesced: the latest replaces any pending)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, OpsTable.Updated) and message.table is self.table

    class QueryChanged(_TableMessage):
        """The table changed its own text filter (Esc cleared it, ``c`` chose a case): the box follows."""

        def __init__(self, table: OpsTable, text: str) -> None:
            super().__init__(table)
            self.text = text

    class _OperationsMessage(_TableMessage):
        def __init__(self, table: OpsTable, operations: tuple[OperationView, ...]) -> None:
            super().__init__(table)
            self.operations = operations

    class ExportRequested(_OperationsMessage):
        """``e``: export again for the users of these (failed, unconfirmed, rejected or error) operations.

        ``operations`` is empty when none of the marked or highlighted ones can be exported again
        (a toast has said why): nothing to open then.
        """

    class ResolveRequested(_OperationsMessage):
        """``R``: mark these unconfirmed exports checked (the pane asks for the note)."""

    class StopRequested(_OperationsMessage):
        """``d``: stop watching these operations (the pane confirms)."""

    class ReportRequested(_OperationsMessage):
        """``w``: save the evidence report of these operations (the marked, else the shown)."""

    def __init__(
        self,
        clock: Clock,
        *,
        user_label: Callable[[str], str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock
        self.model = OpsModel(user_label, clock.now)
        """What is shown, sorted, filtered and marked (no Textual)."""
        self.filter_box: Widget | None = None
        """The text filter box ``/`` focuses (set by the pane that composes both)."""
        self.bell_on_alerts = True
        """Ring the terminal bell when an export fails or a batch finishes."""

    # -- reading -------------------------------------------------------------------------

    @property
    def user_label(self) -> Callable[[str], str]:
        """How a user id is shown (the profile's name once listed)."""
        return self.model.user_label

    @property
    def views(self) -> dict[int, OperationView]:
        """Latest view of every operation known, shown or filtered out."""
        return self.model.views

    @property
    def order(self) -> list[int]:
        """Keys of the shown operations, in display order."""
        return self.model.order

    @property
    def cursor(self) -> int:
        """Row (in ``order``) under the cursor."""
        return self.model.cursor.row

    @property
    def sort_column(self) -> str | None:
        return self.model.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self.model.sort_reverse

    @property
    def status_filter(self) -> str:
        return self.model.status_filter

    @property
    def query_text(self) -> str:
        """The text filter as typed."""
        return self.model.query_text

    @property
    def paused(self) -> bool:
        return self.model.paused

    @property
    def updates(self) -> int:
        """Cells changed since start (the benchmark reads it)."""
        return self.model.updates

    @property
    def marked(self) -> list[int]:
        """Marked keys, in display order."""
        return self.model.marked_keys()

    @property
    def row_count(self) -> int:
        """Operations shown (after the filters)."""
        return len(self.model.order)

    @property
    def highlighted_key(self) -> int | None:
        """The operation under the cursor."""
        return self.model.highlighted_key

    @property
    def highlighted(self) -> OperationView | None:
        """The view under the cursor."""
        return self.model.highlighted

    def row_texts(self, row: int) -> list[str]:
        """What row ``row`` shows, column by column in ``COLUMN_KEYS`` order (status with its glyph)."""
        texts = self.model.cells[self.model.order[row]]
        return [status_label(texts[c]) if c == "status" else texts[c] for c in COLUMN_KEYS]

    def counts(self) -> Counter[str]:
        """Operations per display status (all of them, whatever the filter)."""
        return self.model.counts()

    def describe_view(self) -> str:
        """``sort: Status ↓ · filter: failed`` for the pane's subtitle."""
        return self.model.describe()

    # -- updates --------------------------------------------------------------------------

    def _updated(self) -> None:
        self.post_message(self.Updated(self))

    def apply(self, views: Iterable[OperationView]) -> None:
        """Show the latest views: add, update changed cells, drop filtered-out rows; keep the cursor."""
        line = self.cursor - int(self.scroll_y)
        result = self.model.apply(views)
        self._after(result, line)
        self._alert(result)
        self._updated()

    def _after(self, result: ApplyResult, line: int) -> None:
        if result.structure:
            self._update_size()
            self._keep_line(line)
            self.refresh()
            return
        if result.dirty:
            # Only the changed rows on screen are repainted: a slow SSH link gets those lines, not the table.
            visible = {key: y for y, key in enumerate(self._visible_keys(), start=1)}
            width = self.scrollable_content_region.width
            regions = [Region(0, visible[key], width, 1) for key in result.dirty if key in visible]
            if regions:
                self.refresh(*regions)

    def _keep_line(self, line: int) -> None:
        """Scroll so the cursor's row stays on screen line ``line`` (where the admin last saw it)."""
        target = max(0, self.cursor - max(0, line))
        if int(self.scroll_y) != target:
            self.scroll_to(y=target, animate=False, immediate=True)

    def _alert(self, result: ApplyResult) -> None:
        if result.failures:
            first = result.failures[0]
            who = safe_text(self.model.label(first))
            more = f" and {len(result.failures) - 1:,} more" if len(result.failures) > 1 else ""
            reason = readable_error(first) or shown_status(first)  # in full: the event log keeps it all
            self.notify(
                f"{who}{more}: {reason}",
                title=f"Export {shown_status(first)}",
                severity="error",
                timeout=10,
                markup=False,
            )
            if self.bell_on_alerts:
                self.app.bell()
        if result.batch_done:
            done = result.batch_done
            complete = sum(1 for v in done if shown_status(v) == "complete")
            problems = len(done) - complete
            text = f"{_plural(len(done), 'export')} finished: {complete:,} complete"
            if problems:
                text += f", {problems:,} need attention"
            self.notify(text, title="Batch finished", severity="warning" if problems else "information", markup=False)
            if self.bell_on_alerts and not result.failures:
                self.app.bell()

    def tick(self) -> None:
        """Refresh elapsed and next-poll cells of the rows on screen, and end expired highlights."""
        keys = self._visible_keys()
        changed = set(self.model.tick(keys))
        if not changed:
            return
        expired = set(self.model.expired)
        width = self.scrollable_content_region.width
        regions = [Region(0, y, width, 1) for y, key in enumerate(keys, start=1) if key in expired]
        lines = [y for y, key in enumerate(keys, start=1) if key in changed and key not in expired]
        if lines:
            # Only the two time columns of those lines: the idle cost over SSH is those few cells.
            x, span = self._span(TIME_COLUMNS)
            first, last = min(lines), max(lines)
            regions.append(Region(x, first, span, last - first + 1))
        self.refresh(*regions)

    def _span(self, columns: tuple[str, ...]) -> tuple[int, int]:
        """Where ``columns`` (adjacent) are on a line: x and width."""
        position = start = end = 0
        for key, size, gap in self._widths(self.scrollable_content_region.width):
            if key == columns[0]:
                start = position
            if key == columns[-1]:
                end = position + size
            position += size + gap
        return start, end - start

    def refresh_users(self) -> None:
        """Profile names arrived: show them in the user column."""
        self._restructure(self.model.refresh_labels)

    def _restructure(self, change: Callable[[], Any], *, view_changed: bool = False) -> None:
        line = self.cursor - int(self.scroll_y)
        change()
        self._update_size()
        self._keep_line(line)
        self.refresh()
        if view_changed:
            self.post_message(self.ViewChanged(self))
        self._updated()

    # -- sorting and filtering --------------------------------------------------------

    def sort_by(self, column: str | None, reverse: bool | None = None) -> None:
        """Sort by ``column`` (None: journal order)."""
        self._restructure(lambda: self.model.sort_by(column, reverse), view_changed=True)

    def set_filter(self, status_filter: str) -> None:
        """Show only operations in ``status_filter`` (a word of ``console.ops.vocabulary``).

        Raises:
            UnknownStatusWord: (a ValueError) with the valid words.
        """
        self._restructure(lambda: self.model.set_filter(status_filter), view_changed=True)

    def set_query(self, text: str) -> str:
        """Filter by text (see ``OpsModel``); returns "" or why the text cannot be used."""
        problem = ""

        def change() -> None:
            nonlocal problem
            problem = self.model.set_query(text)

        self._restructure(change, view_changed=True)
        return problem

    def action_cycle_sort(self) -> None:
        keys = [None, *COLUMN_KEYS]
        position = keys.index(self.sort_column) if self.sort_column in keys else 0
        self.sort_by(keys[(position + 1) % len(keys)])

    def action_sort_step(self, step: int) -> None:
        """Sort by the shown column left (-1) or right (+1) of the sorted one, as htop's < and >."""
        shown = [column for column, _size, _gap in self._widths(self.scrollable_content_region.width or 80)]
        columns = [column for column in shown if column in COLUMN_KEYS]
        if self.sort_column in columns:
            position = columns.index(self.sort_column) + step
        else:
            position = 0 if step > 0 else len(columns) - 1
        self.sort_by(columns[position % len(columns)])

    def action_copy_id(self) -> None:
        """Copy the highlighted operation's id (Graph's, else its journal row) without opening it."""
        view = self.highlighted
        if view is None:
            self.notify("No operation is highlighted.", title="Copy", severity="warning")
            return
        ident = view.operation_id or str(view.key)
        self.app.copy_to_clipboard(ident)
        what = "operation id" if view.operation_id else "journal row (Graph gave no id)"
        self.notify(f"Copied the {what} {safe_text(ident)}", title="Copy", markup=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def action_cycle_filter(self) -> None:
        self._restructure(self.model.cycle_filter, view_changed=True)

    def action_filter_text(self) -> None:
        """``/``: go to the filter box at once, so the keys typed right after land in it."""
        box = self.filter_box
        if box is None:
            return
        box.display = True
        # Synchronously: Widget.focus() waits for the next idle, and a burst of keys would reach the table.
        self.screen.set_focus(box)

    def action_clear_filter(self) -> None:
        """Esc on the table: clear the text filter (marks and status filter stay)."""
        if not self.model.query_text:
            return
        self.set_query("")
        self.post_message(self.QueryChanged(self, ""))

    def action_filter_case(self) -> None:
        view = self.highlighted
        case = view.case if view is not None else ""
        current = self.model.query.case
        text = "" if current is not None or not case else f"case:{case}"
        if not case and current is None:
            self.notify("The highlighted operation has no case.", title="Case", severity="warning")
            return
        self.set_query(text)
        self.post_message(self.QueryChanged(self, text))

    # -- marks -------------------------------------------------------------------------

    def _repaint_rows(self) -> None:
        self.refresh()
        self._updated()

    def action_toggle_mark(self) -> None:
        # As in htop and the profile list: the cursor moves on, so space space marks two rows.
        self.model.toggle_mark()
        self.move_cursor(self.cursor + 1)
        self._repaint_rows()

    def action_mark_range(self) -> None:
        self.model.mark_range()
        self._repaint_rows()

    def action_mark_all(self) -> None:
        self.model.mark_all()
        self._repaint_rows()

    def action_clear_marks(self) -> None:
        self.model.clear_marks()
        self._repaint_rows()

    # -- bulk actions ----------------------------------------------------------------------

    def _pick(self, action: str, wanted: Callable[[OperationView], bool], reason: str) -> tuple[OperationView, ...]:
        targets = self.model.targets()
        if not targets:
            self.notify("No operation is shown.", title=action, severity="warning")
            return ()
        chosen = tuple(v for v in targets if wanted(v))
        left = [v for v in targets if not wanted(v)]
        if left:
            words = ", ".join(sorted(Counter(safe_text(shown_status(v)) for v in left)))
            if chosen:
                text = f"{_plural(len(left), 'operation')} left out ({words}): {reason}"
            else:
                text = f"Nothing to do for {_plural(len(left), 'operation')} ({words}): {reason}"
            self.notify(text, title=action, severity="warning", markup=False)
        return chosen

    def action_export_again(self) -> None:
        chosen = self._pick(
            "Export again", is_reexportable, "only failed, unconfirmed, rejected or error operations are exported again"
        )
        # Posted even when empty (the toast said why): the screen then releases the keys it held for the form.
        self.post_message(self.ExportRequested(self, chosen))

    def _hold_keys(self) -> None:
        """A dialog opens for this key: the keys typed right after it are for the dialog (the app holds them)."""
        hold_keys(self.app)

    def action_resolve(self) -> None:
        chosen = self._pick("Resolve", is_resolvable, "only unconfirmed exports are resolved")
        if chosen:
            self._hold_keys()
            self.post_message(self.ResolveRequested(self, chosen))

    def action_stop_watching(self) -> None:
        chosen = self._pick("Stop watching", is_watched, "only operations still being watched can be stopped")
        if chosen:
            self._hold_keys()
            self.post_message(self.StopRequested(self, chosen))

    def action_save_report(self) -> None:
        marked = self.model.marked_keys()
        keys = marked or list(self.model.order)
        if not keys:
            self.notify("No operation is shown: nothing to report.", title="Report", severity="warning")
            return
        self._hold_keys()
        self.post_message(self.ReportRequested(self, tuple(self.model.views[k] for k in keys)))

    def action_toggle_pause(self) -> None:
        if self.model.paused:
            line = self.cursor - int(self.scroll_y)
            result = self.model.resume()
            self._after(result, line)
            self.refresh()
        else:
            self.model.paused = True
        self.set_class(self.model.paused, "-paused")
        self._updated()

    # -- cursor -------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` and scroll it into view."""
        before = self.cursor
        self.model.cursor.move(row, len(self.model.order))
        top = int(self.scroll_y)
        target = RowCursor.scroll_for(self.cursor, top, self._rows_visible())
        if target != top:
            self.scroll_to(y=target, animate=False, immediate=True)
        self.refresh()
        if self.cursor != before:
            self._updated()

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(1, self._rows_visible() - 1))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(1, self._rows_visible() - 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.model.order) - 1)

    def action_choose(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.OperationChosen(self, key))
            return
        release_keys(self.app)  # nothing opens: the keys the screen held for the details go on

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + int(self.scroll_x))
            if column is not None and column != "mark":
                self.sort_by(column, not self.sort_reverse if column == self.sort_column else False)
            return
        row = int(self.scroll_y) + offset.y - 1
        if row == self.cursor and event.chain >= 2:
            self.action_choose()
        else:
            self.move_cursor(row)

    def _on_resize(self, event: events.Resize) -> None:
        self._update_size()

    # -- geometry and rendering -----------------------------------------------------------

    def _rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _visible_keys(self) -> list[int]:
        top = int(self.scroll_y)
        return self.model.order[top : top + self._rows_visible()]

    def _update_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.model.order) + 1)

    def _widths(self, width: int) -> list[tuple[str, int, int]]:
        """(column, width, gap after it) for a line ``width`` cells wide; the error takes the rest."""
        gap = 2 if width >= ROOMY_FROM else 1
        columns: list[tuple[str, int, int]] = [("mark", 1, 1), ("user", WIDE_USER if width >= 118 else 16, gap)]
        if self.model.has_cases:
            columns.append(("case", WIDTHS["case"], gap))
        columns += [("status", WIDTHS["status"], gap), ("progress", WIDTHS["progress"], gap)]
        if width >= SUBMITTED_FROM:
            columns.append(("submitted", WIDTHS["submitted"], gap))
        columns += [("elapsed", 7, gap), ("next", 9 if width >= ROOMY_FROM else 8, gap)]
        used = sum(size + after for _, size, after in columns)
        columns.append(("error", max(MIN_ERROR, width - used), 0))
        return columns

    def _column_at(self, x: int) -> str | None:
        position = 0
        for key, size, gap in self._widths(self.scrollable_content_region.width):
            if position <= x < position + size + gap:
                return key
            position += size + gap
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y == 0:
            return self._header(width, base)
        row = int(self.scroll_y) + y - 1
        order = self.model.order
        if not 0 <= row < len(order):
            return Strip.blank(width, base)
        key = order[row]
        texts = self.model.cells[key]
        marked = key in self.model.marks
        style = base
        if row % 2:
            style = style + self.get_component_rich_style("ops-table--odd-row", partial=True)
        if self.model.is_recent(key, self.clock.now()):
            style = style + self.get_component_rich_style("ops-table--changed", partial=True)
        if marked:
            style = style + self.get_component_rich_style("ops-table--marked", partial=True)
        if row == self.cursor:
            style = style + self.get_component_rich_style("ops-table--cursor", partial=True)
        segments: list[Segment] = []
        total = 0
        for column, size, gap in self._widths(width):
            if column == "mark":
                text = "●" if marked else " "
            elif column == "status":
                text = status_label(texts[column])
            else:
                text = texts[column]
            cell = text.rjust(size) if column in RIGHT_ALIGNED and len(text) <= size else fit(text, size)
            cell_style = style
            if column == "status":
                role = status_role(texts[column])
                cell_style = style + self.get_component_rich_style(f"ops-table--status-{role}", partial=True)
            elif column == "error" and text:
                cell_style = style + self.get_component_rich_style("ops-table--error", partial=True)
            segments.append(Segment(cell, cell_style))
            if gap:
                segments.append(Segment(" " * gap, style))
            total += size + gap
        # One escape sequence per run of equal style, not per cell: fewer bytes down a slow SSH link.
        strip = Strip(Segment.simplify(segments), total)
        return strip if total == width else strip.crop_extend(0, width, style)

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("ops-table--header", partial=True)
        segments = []
        for column, size, gap in self._widths(width):
            label = LABELS[column] if not (column == "next" and size >= 9) else "Next poll"
            if column == self.sort_column:
                label += " ↓" if self.sort_reverse else " ↑"
            text = fit(label, size)
            if column in RIGHT_ALIGNED:
                text = text.rstrip().rjust(size)
            segments.append(Segment(text + " " * gap, style))
        return Strip(segments).crop_extend(0, width, style)
