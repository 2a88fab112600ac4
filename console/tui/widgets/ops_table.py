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
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.message import Message

from console.ops.events import OperationView
from console.tui.bindings import KeyArea
from console.tui.cells import safe_text
from console.tui.focus import hold_keys, release_keys
from console.tui.ops_model import (
    COLUMN_KEYS,
    COLUMNS,
    FILTERS,
    is_reexportable,
    is_resolvable,
    is_watched,
    shown_status,
)
from console.tui.widgets.ops_lines import OpsLines, plural
from console.tui.widgets.row_keys import RowKeys, row_key_bindings
from console.tui.widgets.widget_message import WidgetMessage

__all__ = ["COLUMNS", "COLUMN_KEYS", "FILTERS", "OpsTable"]


_key = KeyArea(
    "operations",
    priority=True,
    tooltips={
        "details": "Open the operation with its whole poll history and notes",
        "mark": "Mark or unmark the highlighted row",
        "mark-range": "Mark every row from the last mark to the cursor",
        "mark-all": "Mark every row the filters show",
        "filter-text": "Filter by user, UPN, name, operation id, error or case (case:REF, status:WORD, tenant:NAME)",
        "clear-filter": "Clear the text filter",
        "filter": "Show all, unfinished, problem, running, failed or complete operations",
        "case": "Show only the highlighted operation's case (again: every case)",
        "export": "Export again for the users of the marked (or highlighted) failed or unconfirmed operations",
        "resolve": "Mark the marked (or highlighted) unconfirmed exports checked, with a note",
        "stop": "Stop polling the marked (or highlighted) operations; their history is kept",
        "report": "Save the evidence report of the marked (or else the shown) operations",
        "pause": "Pause live updates (polling goes on)",
        "sort": "Sort by the next column",
        "sort-right": "Sort by the column to the right (as htop's > and <)",
        "sort-left": "Sort by the column to the left",
        "copy": "Copy the highlighted operation's id to the clipboard",
        "reverse": "Reverse the sort order",
    },
)


class OpsTable(OpsLines, RowKeys, can_focus=True):
    """Every export operation of the tenant, live, with marks and filters."""

    # Every key is a priority binding: it runs as the app reads it, in the order typed, before the next
    # key of a burst is routed. So "/abc" filters by abc (focus moves at once), "space space w" reports
    # on the two rows just marked, and what follows R, d or w waits for their dialog.
    BINDINGS: ClassVar[list[BindingType]] = [
        *row_key_bindings("operations"),
        _key("enter", "choose", "Details", "details"),
        _key("space", "toggle_mark", "Mark", "mark"),
        _key("v,shift+space", "mark_range", "Mark range", "mark-range", show=False),
        _key("asterisk,ctrl+a", "mark_all", "Mark shown", "mark-all", show=False),
        _key("x,u", "clear_marks", "Clear marks", "clear-marks", show=False),
        _key("slash", "filter_text", "Filter", "filter-text"),
        _key("escape", "clear_filter", "Clear filter", "clear-filter", show=False),
        _key("f", "cycle_filter", "Status", "filter"),
        _key("c", "filter_case", "Same case", "case", show=False),
        _key("e", "export_again", "Export again", "export"),
        _key("R", "resolve", "Resolve", "resolve", show=False),
        _key("d", "stop_watching", "Stop watching", "stop", show=False),
        _key("w", "save_report", "Report", "report", show=False),
        _key("p", "toggle_pause", "Pause", "pause"),
        _key("s", "cycle_sort", "Sort", "sort"),
        _key("greater_than_sign", "sort_step(1)", "Sort →", "sort-right", show=False),
        _key("less_than_sign", "sort_step(-1)", "Sort ←", "sort-left", show=False),
        _key("y", "copy_id", "Copy id", "copy", show=False),
        _key("r", "reverse_sort", "Reverse", "reverse", show=False),
    ]

    # Only what app.tcss does not style (it styles the header, cursor, rows and statuses).
    DEFAULT_CSS = """
    OpsTable > .ops-table--marked { color: $text-accent; text-style: bold; }
    OpsTable > .ops-table--changed { background: $primary-darken-3; }
    """

    class _TableMessage(WidgetMessage["OpsTable"]):
        """A message about this table (its ``control``)."""

    @dataclass
    class OperationChosen(_TableMessage):
        """Enter (or a click on the highlighted row) on an operation: show its details."""

        key: int

    class ViewChanged(_TableMessage):
        """Sort or filter changed (the pane's subtitle says which)."""

    class Updated(_TableMessage):
        """Rows, counts, marks or the highlighted row changed (coalesced: the latest replaces any pending)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, OpsTable.Updated) and message.control is self.control

    @dataclass
    class QueryChanged(_TableMessage):
        """The table changed its own text filter (Esc cleared it, ``c`` chose a case): the box follows."""

        text: str

    @dataclass
    class _OperationsMessage(_TableMessage):
        operations: tuple[OperationView, ...]

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

    def _updated(self) -> None:
        self.post_message(self.Updated(self))

    def _view_changed(self) -> None:
        self.post_message(self.ViewChanged(self))

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
        if not self.model.filter.query_text:
            return
        self.set_query("")
        self.post_message(self.QueryChanged(self, ""))

    def action_filter_case(self) -> None:
        view = self.highlighted
        case = view.case if view is not None else ""
        current = self.model.filter.query.case
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
                text = f"{plural(len(left), 'operation')} left out ({words}): {reason}"
            else:
                text = f"Nothing to do for {plural(len(left), 'operation')} ({words}): {reason}"
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
