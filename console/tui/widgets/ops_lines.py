"""The operations table as drawn: the model's rows as lines, repainting only what changed.

``OpsLines`` draws what ``console.tui.ops_model.OpsModel`` says (only the lines on screen are
rendered, each from a few precomputed strings), applies the engine's views, keeps the cursor
on its operation and on its screen line, refreshes the time cells and raises the alerts.
``console.tui.widgets.ops_table.OpsTable`` adds the keys, the bindings and the messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from console.clock import Clock
from console.ops.events import OperationView
from console.tui.cells import fit, safe_text, status_label, status_role
from console.tui.cursor import RowCursor
from console.tui.ops_model import (
    COLUMN_KEYS,
    COLUMNS,
    ApplyResult,
    OpsModel,
    describe,
    readable_error,
    shown_status,
    tenants_named,
)
from console.tui.widgets.lines import LineList

TIME_COLUMNS = ("elapsed", "next")
"""Columns that change with the clock alone."""
RIGHT_ALIGNED = frozenset({"progress", "elapsed", "next"})
LABELS: dict[str, str] = {**dict(COLUMNS), "mark": "", "next": "Next"}
"""Header labels (``Next`` fits the narrow next-poll column)."""
WIDTHS: dict[str, int] = {
    "mark": 1,
    "tenant": 9,
    "user": 16,
    "case": 10,
    "status": 13,
    "progress": 4,
    "submitted": 14,
}
"""Fixed column widths; the last error takes the rest."""
WIDE_USER = 28
"""The user column's width when the table has room (118 columns and more)."""
SUBMITTED_FROM = 110
"""The submitted time is shown from this width (it is in the details at any size)."""
ROOMY_FROM = 100
"""From this width columns are two spaces apart, below it one."""
MIN_ERROR = 10


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class OpsLines(LineList):
    """Every export operation of the tenant, live, drawn from its ``OpsModel``."""

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
        return self.model.filter.status_filter

    @property
    def query_text(self) -> str:
        """The text filter as typed."""
        return self.model.filter.query_text

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
        return describe(self.model)

    # -- updates --------------------------------------------------------------------------

    def _updated(self) -> None:
        """Rows, counts, marks or the highlighted row changed (``OpsTable`` posts ``Updated``)."""

    def _view_changed(self) -> None:
        """Sort or filter changed (``OpsTable`` posts ``ViewChanged``)."""

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
                title=f"Export {shown_status(first)}{tenants_named(self.model, [first])}",
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
            text = f"{plural(len(done), 'export')} finished: {complete:,} complete"
            if problems:
                text += f", {problems:,} need attention"
            title = "Batch finished" + tenants_named(self.model, done)
            self.notify(text, title=title, severity="warning" if problems else "information", markup=False)
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

    def set_tenants(self, names: dict[str, str]) -> None:
        """Several tenants are open (tenant key -> saved name): a Tenant column, ``tenant:NAME`` filters."""
        self.model.tenant_names = dict(names)
        self._restructure(self.model.refresh_labels)

    def _restructure(self, change: Callable[[], Any], *, view_changed: bool = False) -> None:
        line = self.cursor - int(self.scroll_y)
        change()
        self._update_size()
        self._keep_line(line)
        self.refresh()
        if view_changed:
            self._view_changed()
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

    def _cursor_row(self) -> int:
        return self.cursor

    def _row_count(self) -> int:
        return len(self.model.order)

    def _page(self) -> int:
        return max(1, self._rows_visible() - 1)

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
        columns: list[tuple[str, int, int]] = [("mark", 1, 1)]
        if self.model.has_tenants:  # several tenants in one table (issue 18)
            columns.append(("tenant", WIDTHS["tenant"], gap))
        columns.append(("user", WIDE_USER if width >= 118 else 16, gap))
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

    def _row_line(self, y: int, row: int, width: int, base: Style) -> Strip:
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
