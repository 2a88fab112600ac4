"""The live operations table: a keyed diff over a virtualised Line API table.

Only the lines on screen are ever rendered, each from a few precomputed strings, so
5,000 operations cost the same as 50. A flush updates the cells whose text changed,
places new operations by key, and re-sorts only when the sort column changed; the
operation under the cursor stays under the cursor, on the same screen line (STYLE.md
habit 6). Time-based cells (elapsed, next poll in) tick once a second for the rows on
screen only. (A DataTable re-renders every visible cell and walks every row on each
change: about 80 ms a repaint at 5,000 rows, too much for once a second over SSH.)
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from console.clock import Clock
from console.ops.events import OperationView
from console.tui.cells import (
    STATUS_ORDER,
    duration_label,
    epoch,
    one_line,
    progress_label,
    status_label,
    status_role,
    time_label,
)
from console.tui.widgets.lines import LineList

COLUMNS: tuple[tuple[str, str], ...] = (
    ("user", "User"),
    ("status", "Status"),
    ("progress", "Done"),
    ("submitted", "Submitted UTC"),
    ("elapsed", "Elapsed"),
    ("next", "Next poll"),
    ("error", "Last error"),
)
"""Column keys and labels, in order."""

COLUMN_KEYS: tuple[str, ...] = tuple(key for key, _ in COLUMNS)
TIME_COLUMNS = ("elapsed", "next")
"""Columns that change with the clock alone."""
RIGHT_ALIGNED = frozenset({"progress", "elapsed", "next"})

FILTERS: tuple[str, ...] = ("all", "unfinished", "running", "failed", "complete")
"""Status filters, in the order ``f`` cycles through them."""

WIDTHS: dict[str, int] = {"user": 16, "status": 13, "progress": 4, "submitted": 14, "elapsed": 7, "next": 9}
"""Fixed column widths; the last error takes the rest (all but it fit 80 columns)."""
WIDE_USER = 28
"""The user column's width when the table has room (120 columns and more)."""
GAP = 2
"""Spaces between columns."""


def _submitted_epoch(view: OperationView) -> float:
    return epoch(view.submitted_at) or view.created_at


def _sort_key(column: str, view: OperationView, label: str) -> Any:
    if column == "user":
        return (label.lower(), view.key)
    if column == "status":
        return (STATUS_ORDER.get(view.display_status, 9), view.key)
    if column == "progress":
        return (view.progress if view.progress is not None else -1.0, view.key)
    if column == "elapsed":
        return (-_submitted_epoch(view), view.key)  # the longest-running have the earliest start
    if column == "next":
        return (view.next_poll_at if view.next_poll_at is not None else float("inf"), view.key)
    if column == "error":
        return (view.last_error == "", view.last_error, view.key)
    if column == "submitted":
        return (_submitted_epoch(view), view.key)
    return (view.key,)


class OpsTable(LineList, can_focus=True):
    """Every export operation of the tenant, live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="operations.up"),
        Binding("down", "cursor_down", "Down", show=False, id="operations.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="operations.page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="operations.page-down"),
        Binding("home", "first", "First", show=False, id="operations.first"),
        Binding("end", "last", "Last", show=False, id="operations.last"),
        Binding(
            "enter",
            "choose",
            "Details",
            id="operations.details",
            tooltip="Open the operation with its whole poll history",
        ),
        Binding("s", "cycle_sort", "Sort", id="operations.sort", tooltip="Sort by the next column"),
        Binding("r", "reverse_sort", "Reverse", show=False, id="operations.reverse", tooltip="Reverse the sort order"),
        Binding(
            "f",
            "cycle_filter",
            "Filter",
            id="operations.filter",
            tooltip="Show all, unfinished, running, failed or complete operations",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ops-table--header",
        "ops-table--cursor",
        "ops-table--odd-row",
        "ops-table--status-ok",
        "ops-table--status-bad",
        "ops-table--status-warn",
        "ops-table--status-running",
        "ops-table--status-pending",
        "ops-table--status-unknown",
        "ops-table--error",
    }

    class OperationChosen(Message):
        """Enter (or a click on the highlighted row) on an operation: show its details."""

        def __init__(self, table: OpsTable, key: int) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> OpsTable:
            return self.table

    class ViewChanged(Message):
        """Sort or filter changed (the pane's subtitle says which)."""

        def __init__(self, table: OpsTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> OpsTable:
            return self.table

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
        self.user_label: Callable[[str], str] = user_label or (lambda user_id: user_id)
        """How a user id is shown (the profile's name once listed)."""
        self.views: dict[int, OperationView] = {}
        """Latest view of every operation known, shown or filtered out."""
        self.order: list[int] = []
        """Keys of the shown operations, in display order."""
        self._sort_keys: list[Any] = []
        self._cells: dict[int, dict[str, str]] = {}
        self.cursor = 0
        """Row (in ``order``) under the cursor."""
        self.sort_column: str | None = None
        """Column sorted by; None keeps journal order (oldest first)."""
        self.sort_reverse = False
        self.status_filter = "all"
        """One of FILTERS."""
        self.updates = 0
        """Cells changed since start (the benchmark reads it)."""

    # -- reading -------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Operations shown (after the filter)."""
        return len(self.order)

    @property
    def highlighted_key(self) -> int | None:
        """The operation under the cursor."""
        return self.order[self.cursor] if 0 <= self.cursor < len(self.order) else None

    def row_texts(self, row: int) -> list[str]:
        """What row ``row`` shows, column by column (status with its glyph)."""
        texts = self._cells[self.order[row]]
        return [status_label(texts[c]) if c == "status" else texts[c] for c in COLUMN_KEYS]

    def counts(self) -> Counter[str]:
        """Operations per display status (all of them, whatever the filter)."""
        return Counter(view.display_status for view in self.views.values())

    def describe_view(self) -> str:
        """``sort: Status ↓ · filter: failed`` for the pane's subtitle."""
        column = dict(COLUMNS).get(self.sort_column or "", "journal order")
        arrow = " ↓" if self.sort_reverse else " ↑"
        return f"sort: {column}{arrow} · filter: {self.status_filter}"

    # -- the keyed diff ---------------------------------------------------------------

    def _passes(self, view: OperationView) -> bool:
        wanted = self.status_filter
        if wanted == "all":
            return True
        if wanted == "unfinished":
            return not view.is_done
        if wanted == "failed":
            return view.display_status in ("failed", "rejected", "error", "unconfirmed")
        return view.display_status == wanted

    def _texts(self, view: OperationView, now: float) -> dict[str, str]:
        submitted = _submitted_epoch(view)
        end = epoch(view.completed_at) if view.completed_at is not None else None
        if end is None and view.is_done:
            end = submitted  # finished without Graph's timestamp: no clock keeps running
        elapsed = (end if end is not None else now) - submitted
        next_in = "—"
        if view.next_poll_at is not None and not view.is_done:
            next_in = duration_label(view.next_poll_at - now)
        return {
            "user": self.user_label(view.user_id),
            "status": view.display_status,
            "progress": progress_label(view.progress),
            "submitted": time_label(view.submitted_at or view.created_at)[5:],
            "elapsed": duration_label(elapsed),
            "next": next_in,
            "error": one_line(view.last_error) if view.last_error else "",
        }

    def _key_of(self, key: int) -> Any:
        column = self.sort_column or ""
        return _sort_key(column, self.views[key], self._cells[key]["user"])

    def apply(self, views: Iterable[OperationView]) -> None:
        """Show the latest views: add, update changed cells, drop filtered-out rows; keep the cursor."""
        now = self.clock.now()
        resort = False
        added: list[int] = []
        removed: set[int] = set()
        visible = {key: line for line, key in enumerate(self._visible_keys(), start=1)}
        dirty_lines: list[int] = []
        for view in views:
            key = view.key
            self.views[key] = view
            shown = key in self._cells
            if not self._passes(view):
                if shown:
                    removed.add(key)
                    del self._cells[key]
                continue
            texts = self._texts(view, now)
            if not shown:
                self._cells[key] = texts
                added.append(key)
                continue
            old = self._cells[key]
            changed = [column for column in COLUMN_KEYS if old[column] != texts[column]]
            if changed:
                self._cells[key] = texts
                self.updates += len(changed)
                if key in visible:
                    dirty_lines.append(visible[key])
                if self.sort_column in changed:
                    resort = True
        if not (added or removed or resort):
            # Only the changed rows on screen are repainted: a slow SSH link gets those lines, not the table.
            if dirty_lines:
                width = self.scrollable_content_region.width
                self.refresh(*(Region(0, line, width, 1) for line in dirty_lines))
            return

        def change() -> None:
            if removed:
                self.order = [key for key in self.order if key not in removed]
            if resort or self.sort_reverse or (removed and self.sort_column is not None):
                self.order.extend(added)
                self._sort()
            else:
                self._sort_keys = [self._key_of(key) for key in self.order] if removed else self._sort_keys
                for key in added:
                    sort_key = self._key_of(key)
                    at = bisect.bisect_right(self._sort_keys, sort_key)
                    self._sort_keys.insert(at, sort_key)
                    self.order.insert(at, key)

        self._keep_cursor(change)

    def _sort(self) -> None:
        pairs = sorted(((self._key_of(key), key) for key in self.order), reverse=self.sort_reverse)
        self.order = [key for _, key in pairs]
        self._sort_keys = [sort_key for sort_key, _ in pairs] if not self.sort_reverse else []

    def _keep_cursor(self, change: Callable[[], None]) -> None:
        """Run ``change`` and put the cursor back on the same operation and screen line."""
        key = self.highlighted_key
        line = self.cursor - int(self.scroll_y)
        change()
        self._update_size()
        if key is not None and key in self._cells:
            row = self.order.index(key)
            if row != self.cursor:
                self.cursor = row
                self.scroll_to(y=max(0, row - line), animate=False, immediate=True)
        else:
            self.cursor = max(0, min(self.cursor, len(self.order) - 1))
        self.refresh()

    def tick(self) -> None:
        """Refresh elapsed and next-poll cells of the rows on screen (only those cells are repainted)."""
        now = self.clock.now()
        lines: list[int] = []
        for line, key in enumerate(self._visible_keys(), start=1):
            view = self.views[key]
            if view.is_done and view.completed_at is not None:
                continue
            texts = self._texts(view, now)
            old = self._cells[key]
            if any(old[column] != texts[column] for column in TIME_COLUMNS):
                for column in TIME_COLUMNS:
                    old[column] = texts[column]
                lines.append(line)
        if not lines:
            return
        x, width = self._span(TIME_COLUMNS)
        first, last = min(lines), max(lines)
        self.refresh(Region(x, first, width, last - first + 1))

    def _span(self, columns: tuple[str, ...]) -> tuple[int, int]:
        """Where ``columns`` (adjacent) are on a line: x and width."""
        position = 0
        start = end = 0
        for key, size in self._widths(self.scrollable_content_region.width):
            if key == columns[0]:
                start = position
            if key == columns[-1]:
                end = position + size
            position += size + GAP
        return start, end - start

    def refresh_users(self) -> None:
        """Profile names arrived: show them in the user column."""
        for key, texts in self._cells.items():
            texts["user"] = self.user_label(self.views[key].user_id)
        if self.sort_column == "user":
            self._keep_cursor(self._sort)
        self.refresh()

    # -- sorting and filtering --------------------------------------------------------

    def sort_by(self, column: str | None, reverse: bool | None = None) -> None:
        """Sort by ``column`` (None: journal order)."""
        self.sort_column = column
        if reverse is not None:
            self.sort_reverse = reverse
        self._keep_cursor(self._sort)
        self.post_message(self.ViewChanged(self))

    def set_filter(self, status_filter: str) -> None:
        """Show only operations passing ``status_filter`` (one of FILTERS)."""
        if status_filter not in FILTERS:
            raise ValueError(f"unknown operations filter {status_filter!r}")
        self.status_filter = status_filter

        def change() -> None:
            now = self.clock.now()
            self._cells = {
                key: self._cells.get(key) or self._texts(view, now)
                for key, view in self.views.items()
                if self._passes(view)
            }
            self.order = list(self._cells)
            self._sort()

        self._keep_cursor(change)
        self.post_message(self.ViewChanged(self))

    def action_cycle_sort(self) -> None:
        keys = [None, *COLUMN_KEYS]
        position = keys.index(self.sort_column) if self.sort_column in keys else 0
        self.sort_by(keys[(position + 1) % len(keys)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def action_cycle_filter(self) -> None:
        self.set_filter(FILTERS[(FILTERS.index(self.status_filter) + 1) % len(FILTERS)])

    # -- cursor -------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` and scroll it into view."""
        if not self.order:
            self.cursor = 0
            return
        self.cursor = max(0, min(row, len(self.order) - 1))
        rows_visible = self._rows_visible()
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows_visible:
            self.scroll_to(y=self.cursor - rows_visible + 1, animate=False, immediate=True)
        self.refresh()

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
        self.move_cursor(len(self.order) - 1)

    def action_choose(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.OperationChosen(self, key))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + int(self.scroll_x))
            if column is not None:
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
        return self.order[top : top + self._rows_visible()]

    def _update_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.order) + 1)

    def _widths(self, width: int) -> list[tuple[str, int]]:
        user = WIDE_USER if width >= 118 else WIDTHS["user"]
        fixed = [(key, user if key == "user" else WIDTHS[key]) for key in COLUMN_KEYS if key != "error"]
        used = sum(w for _, w in fixed) + GAP * len(fixed)
        return [*fixed, ("error", max(10, width - used))]

    def _column_at(self, x: int) -> str | None:
        position = 0
        for key, size in self._widths(self.scrollable_content_region.width):
            if position <= x < position + size + GAP:
                return key
            position += size + GAP
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y == 0:
            return self._header(width, base)
        row = int(self.scroll_y) + y - 1
        if not 0 <= row < len(self.order):
            return Strip.blank(width, base)
        texts = self._cells[self.order[row]]
        style = base
        if row % 2:
            style = style + self.get_component_rich_style("ops-table--odd-row", partial=True)
        if row == self.cursor:
            style = style + self.get_component_rich_style("ops-table--cursor", partial=True)
        segments: list[Segment] = []
        gap = " " * GAP
        total = 0
        for key, size in self._widths(width):
            text = status_label(texts[key]) if key == "status" else texts[key]
            if key in RIGHT_ALIGNED and len(text) <= size:
                cell = text.rjust(size)
            else:
                cell = set_cell_size(text, size)
                if len(text) > size > 1:
                    cell = cell[:-1] + "…"
            if key == "status":
                cell_style = style + self.get_component_rich_style(
                    f"ops-table--status-{status_role(texts[key])}", partial=True
                )
                segments.append(Segment(cell, cell_style))
                segments.append(Segment(gap, style))
            elif key == "error" and text:
                segments.append(Segment(cell, style + self.get_component_rich_style("ops-table--error", partial=True)))
                segments.append(Segment(gap, style))
            else:
                segments.append(Segment(cell + gap, style))
            total += size + GAP
        strip = Strip(segments, total)
        return strip if total == width else strip.adjust_cell_length(width, style)

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("ops-table--header", partial=True)
        segments = []
        for key, size in self._widths(width):
            label = dict(COLUMNS)[key]
            if key == self.sort_column:
                label += " ↓" if self.sort_reverse else " ↑"
            text = set_cell_size(label, size)
            if key in RIGHT_ALIGNED:
                text = text.rstrip().rjust(size)
            segments.append(Segment(text + " " * GAP, style))
        return Strip(segments).adjust_cell_length(width, style)
