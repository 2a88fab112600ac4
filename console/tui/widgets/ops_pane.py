"""The Operations pane: counts, the text filter box, the live table, and the highlighted operation's error.

The pane composes the table with what surrounds it and carries out the table's bulk requests
that need the engine (resolve with a note, stop watching, save the report); ``e`` (export again)
travels up to the main screen, which owns the export form. At 80x24 the line under the table
shows the highlighted operation's last error in full, wrapped (a 10-column cell can't).
"""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from console.clock import Clock
from console.ops.events import Note, OperationView
from console.tui.cells import safe_text, status_label
from console.tui.focus import hold_keys, release_keys, release_keys_after_refresh
from console.tui.messages import ReportsWorkerFailures
from console.tui.ops_model import ATTENTION, readable_error, shown_status, tenants_named
from console.tui.ops_status import TableCounts, status_line, tab_label
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.pane import Pane

DETAIL_LINES = 5
"""Lines under the table for the highlighted operation (more is cut with an ellipsis: Enter shows all)."""


class OperationsActions(Protocol):
    """What the pane asks of the engine (docs/interfaces.md, console/ops)."""

    tenant_key: str

    def operation(self, key: int) -> OperationView | None: ...

    async def resolve(self, key: int, note: str, author: str | None = None) -> None: ...

    async def stop_watching(self, key: int) -> None: ...

    async def add_note(self, key: int, text: str, author: str | None = None) -> Note: ...


def journal_path_of(engine: object) -> str | None:
    """The engine's journal file (``engine.journal_path``, else ``engine.journal.path``)."""
    path = getattr(engine, "journal_path", None) or getattr(getattr(engine, "journal", None), "path", None)
    return str(path) if path else None


class OpsFilterBox(Input):
    """The operations' text filter: Enter, Down or Esc go back to the table and keep the filter.

    In a burst such as ``/abc<Esc><space>`` the characters may still wait in this box's queue when
    Esc is read. So Esc (a priority binding) asks the app to hold the keys typed after it, and
    leaves only once the box has taken the characters before it: the filter is then "abc", and
    the held space goes to the table (it marks a row, it is not typed into the filter).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "leave",
            "Keep filter",
            priority=True,
            id="ops-filter.leave",
            tooltip="Back to the table, filter kept",
        ),
        Binding("enter,down", "leave", "To table", show=False, priority=True, id="ops-filter.to-table"),
    ]

    class Leave(Message):
        """Back to the table: everything typed before the key that leaves is in ``value`` by now."""

    def action_leave(self) -> None:
        hold_keys(self.app)
        # Queued behind the characters typed before this key, so they land first.
        self.post_message(self.Leave())


class OperationsPane(ReportsWorkerFailures, Pane):
    """Counts, filter box, the live operations table and the highlighted operation's error.

    Args:
        engine: the session's engine (``console.ops.engine.OperationsEngine`` or a test fake).
        clock: the console's clock.
        user_label: how a user id is shown.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ops-pane--bad",
        "ops-pane--warn",
        "ops-pane--paused",
        "ops-pane--marked",
    }

    PANE_ID = "operations-pane"

    DEFAULT_CSS = """
    OperationsPane > .ops-pane--bad { color: $text-error; text-style: bold; }
    OperationsPane > .ops-pane--warn { color: $text-warning; text-style: bold; }
    OperationsPane > .ops-pane--paused { background: $warning; color: $background; text-style: bold; }
    OperationsPane > .ops-pane--marked { color: $text-accent; text-style: bold; }
    OperationsPane #ops-filter { height: 1; border: none; padding: 0 1; background: $boost; }
    OperationsPane #ops-filter:focus { background: $accent 20%; }
    OperationsPane #ops-filter.-invalid { color: $text-error; }
    OperationsPane #ops-detail { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    """

    def __init__(
        self,
        engine: object,
        clock: Clock,
        *,
        user_label: Callable[[str], str] | None = None,
        identity: str | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.user_label = user_label or (lambda user_id: user_id)
        self.identity = identity
        """Who writes notes (None: the engine's own identity)."""
        self._problem = ""
        self._subtitle_shown: str | None = None
        self._detail_shown: Text | None = None
        self._status_shown: Text | None = None

    @property
    def actions(self) -> OperationsActions:
        return cast(OperationsActions, self.engine)

    def compose(self) -> ComposeResult:
        yield Static(id="ops-status", classes="pane-status")
        yield OpsFilterBox(placeholder="filter: name, UPN, id, error · case:REF · status:WORD", id="ops-filter")
        yield OpsTable(self.clock, user_label=self.user_label, id="operations")
        yield Static(id="ops-detail")

    def on_mount(self) -> None:
        table = self.query_one(OpsTable)
        box = self.query_one(OpsFilterBox)
        table.filter_box = box
        box.display = False
        self.show_status()

    @property
    def table(self) -> OpsTable:
        return self.query_one(OpsTable)

    # -- what the pane says --------------------------------------------------------------

    def tab_label(self) -> str:
        """``Operations 7 · 2 problems`` for the one-pane layout's tab: the ``problem`` filter's count (f, ops --status)."""
        return tab_label(self.table.counts())

    def status_text(self, width: int | None = None) -> Text:
        """``3/7 shown · ● 2 marked · ✗ failed 1 · ? unconfirmed 1 · ▶ running 3 · PAUSED``.

        When that is wider than ``width``, the statuses that need nobody lose their word first
        (``▶ 3``), then the line tightens to ``4/7 shown ●2 marked │ failed 1 unconfirmed 1 │ ▶2 ✓1``:
        the words of the failures never drop off it.
        """
        for level in range(3):
            text = self._status_text(level)
            if width is None or text.cell_len <= width:
                return text
        return text

    def _status_text(self, level: int) -> Text:
        table = self.table
        model = table.model
        per_tenant = tuple(model.tenant_counts().items()) if model.has_tenants else ()
        state = TableCounts(
            table.counts(), table.row_count, len(model.marks), table.paused, len(model.held), tenants=per_tenant
        )
        return status_line(state, level, self._style)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def show_status(self) -> None:
        """Counts under the title, the title and the subtitle."""
        table = self.table
        # A fixed one-line status: no layout pass (it would repaint the whole screen 10 times a second).
        status = self.query_one("#ops-status", Static)
        width = status.content_region.width or max(20, self.size.width - 4)
        text = self.status_text(width)
        if text != self._status_shown:
            status.update(text, layout=False)
            self._status_shown = text
        title = "Operations" + (" · PAUSED" if table.paused else "")
        if self.border_title != title:
            self.border_title = title
        subtitle = table.describe_view()
        if self._subtitle_shown != subtitle:  # a border change repaints the whole pane
            self._subtitle_shown = subtitle
            self.border_subtitle = Text(safe_text(subtitle))  # it holds the typed filter: never markup
        self.show_detail()

    def detail_text(self, width: int) -> Text:
        """The highlighted operation: status, who, operation id, case; its last error in full (wrapped)."""
        table = self.table
        view = table.highlighted
        if self._problem:
            return Text(safe_text(self._problem), style=self._style("ops-pane--bad"))
        if view is None:
            if table.model.views:
                total = len(table.model.views)
                if table.query_text.strip():
                    why = f"no operation matches /{safe_text(table.query_text.strip())} (Esc on the table clears it)"
                elif table.status_filter != "all":
                    why = f"none of the {total:,} operations is {table.status_filter} (f shows others)"
                else:
                    why = "updates are paused (p resumes)"
                return Text(f"Nothing shown: {why}.")
            return Text("No operations yet: exports you send appear here.")
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(status_label(safe_text(shown_status(view))), style="bold")
        who = safe_text(table.model.label(view))
        upn = safe_text(view.user_principal_name)
        head.append(f"  {who}" + (f" <{upn}>" if upn and upn != who else ""))
        if table.model.has_tenants:
            head.append(f" · in {safe_text(table.model.tenant_of(view))}")
        if view.case:
            head.append(f" · case {safe_text(view.case)}")
        head.append(f" · {safe_text(view.operation_id or 'no operation id')}")
        error = readable_error(view)
        if not error:
            return head
        width = max(20, width)
        lines = textwrap.wrap(f"Last error: {error}", width, break_long_words=True, break_on_hyphens=False)
        if len(lines) > DETAIL_LINES - 1:
            lines = lines[: DETAIL_LINES - 1]
            lines[-1] = lines[-1][: max(0, width - 18)] + "… (Enter: details)"
        body = Text("\n".join(lines), style=self._style("ops-pane--warn") if shown_status(view) in ATTENTION else "")
        return Text("\n").join([head, body])

    def show_detail(self) -> None:
        """The highlighted operation under the table; repainted only when its text changes."""
        detail = self.query_one("#ops-detail", Static)
        width = (detail.content_region.width or self.size.width - 4) or 76
        text = self.detail_text(width)
        if text == self._detail_shown:
            return
        lines = text.plain.count("\n")
        # A layout pass repaints the screen: only when the line count changes (a 10/s storm must not).
        detail.update(text, layout=self._detail_shown is None or lines != self._detail_shown.plain.count("\n"))
        self._detail_shown = text

    # -- the table's messages ---------------------------------------------------------------

    @on(OpsTable.Updated)
    def _on_table_updated(self, event: OpsTable.Updated) -> None:
        event.stop()
        self.show_status()
        follow = getattr(self.screen, "refresh_polling_status", None)
        if follow is not None:
            follow()  # PAUSED shows on the polling status line too

    @on(OpsTable.ViewChanged)
    def _on_view_changed(self) -> None:
        self.show_status()  # and let it bubble: the main screen may follow too

    @on(OpsTable.QueryChanged)
    def _on_query_changed(self, event: OpsTable.QueryChanged) -> None:
        event.stop()
        box = self.query_one(OpsFilterBox)
        with box.prevent(Input.Changed):
            box.value = event.text
        self._problem = ""
        box.remove_class("-invalid")
        box.display = bool(event.text) or box.has_focus
        self.show_status()

    @on(Input.Changed, "#ops-filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._problem = self.table.set_query(event.value)
        event.input.set_class(bool(self._problem), "-invalid")
        self.show_status()

    @on(Input.Submitted, "#ops-filter")
    @on(OpsFilterBox.Leave)
    def _on_filter_leave(self, event: Message) -> None:
        event.stop()
        box = self.query_one(OpsFilterBox)
        self._problem = self.table.set_query(box.value)  # now, not when Input.Changed arrives
        box.set_class(bool(self._problem), "-invalid")
        if self.screen.focused is box:
            self.screen.set_focus(self.table)
        box.display = bool(box.value)
        release_keys(self.app)  # the keys typed after Esc, to the table

    # -- bulk actions ------------------------------------------------------------------------

    def _open(self, screen: Screen[Any], callback: Callable[[Any], Any]) -> None:
        """Push a dialog; the keys typed since the key that asked for it go to it once it has focus."""
        self.app.push_screen(screen, callback)
        release_keys_after_refresh(self.app, screen)

    def _who(self, operations: Sequence[OperationView]) -> list[str]:
        return [safe_text(self.table.model.label(v)) for v in operations]

    @on(OpsTable.ResolveRequested)
    def _on_resolve(self, event: OpsTable.ResolveRequested) -> None:
        event.stop()
        from console.tui.dialogs.note import ResolveScreen

        keys = [v.key for v in event.operations]
        where = tenants_named(self.table.model, event.operations)

        def answered(note: str | None) -> None:
            if note:
                self.resolve(keys, note, where)

        self._open(ResolveScreen(self._who(event.operations)), answered)

    @work(group="ops-actions", exit_on_error=False)
    async def resolve(self, keys: list[int], note: str, where: str = "") -> None:
        """Resolve each unconfirmed export with ``note`` (the engine records it with the author and time);
        ``where`` (`` in fabrikam``) ends the toasts' titles when several tenants are open."""
        title = "Resolve" + where
        done = await self._each(keys, lambda key: self.actions.resolve(key, note, self.identity), title)
        if done:
            self._acted(keys, f"Resolved {done:,} export{'s' if done != 1 else ''} with your note.", title)

    @on(OpsTable.StopRequested)
    def _on_stop(self, event: OpsTable.StopRequested) -> None:
        event.stop()
        from console.tui.dialogs.confirm import ConfirmScreen

        keys = [v.key for v in event.operations]
        who = self._who(event.operations)
        names = ", ".join(who[:3]) + (f" and {len(who) - 3:,} more" if len(who) > 3 else "")
        where = tenants_named(self.table.model, event.operations)
        question = (
            f"Stop watching {len(keys):,} export{'s' if len(keys) != 1 else ''}{where} ({names})? "
            "Graph goes on with them; the console stops polling, and their history stays in the journal."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_watching(keys, where)

        self._open(ConfirmScreen(question, title="Stop watching" + where, yes="Stop", no="Keep"), answered)

    @work(group="ops-actions", exit_on_error=False)
    async def stop_watching(self, keys: list[int], where: str = "") -> None:
        """Stop polling each operation (history kept); ``where`` ends the toasts' titles (several tenants)."""
        title = "Stop watching" + where
        done = await self._each(keys, self.actions.stop_watching, title)
        if done:
            self._acted(keys, f"Stopped watching {done:,} operation{'s' if done != 1 else ''}.", title)

    async def _each(self, keys: list[int], act: Callable[[int], Awaitable[None]], title: str) -> int:
        """Run ``act`` on each key; returns how many succeeded."""
        done = 0
        for key in keys:
            try:
                await act(key)
            except Exception as exc:  # one refusal must not hide the others: say which and why
                self.notify(f"Operation {key}: {safe_text(exc)}", title=title, severity="error", markup=False)
                continue
            done += 1
        return done

    def _acted(self, keys: list[int], text: str, title: str) -> None:
        """Some of ``keys`` were acted on: the marks go, a toast says how many, the rows follow the engine."""
        self.table.model.clear_marks()
        self.notify(text, title=title)
        self._refresh_from_engine(keys)

    def _refresh_from_engine(self, keys: list[int]) -> None:
        views = [v for v in (self.actions.operation(key) for key in keys) if v is not None]
        if views:
            self.table.apply(views)

    # -- the report ------------------------------------------------------------------------------

    def action_save_report(self) -> None:
        """Save the report of the marked, or else the shown, operations (the palette's "Save report")."""
        self.table.action_save_report()

    @on(OpsTable.ReportRequested)
    def _on_report(self, event: OpsTable.ReportRequested) -> None:
        event.stop()
        from console.tui.dialogs.report import ReportScreen
        from console.tui.report_file import propose_report_path, reports_dir

        journal = journal_path_of(self.engine)
        if journal is None:
            self.notify("This session has no journal to report from.", title="Report", severity="error")
            release_keys(self.app)
            return
        operations = event.operations
        cases = {v.case for v in operations}
        case = next(iter(cases)) if len(cases) == 1 and "" not in cases else None
        keys = [v.key for v in operations]
        marked = bool(self.table.marked)
        proposed = propose_report_path(case=case, now=self.clock.now(), directory=reports_dir(journal=journal))

        where = tenants_named(self.table.model, operations)

        def answered(path: Path | None) -> None:
            if path is not None:
                self.write_report(journal, path, keys, case, where)

        self._open(ReportScreen(proposed, len(keys), marked=marked), answered)

    @work(thread=True, group="ops-report", exit_on_error=False)
    def write_report(self, journal: str, path: Path, keys: list[int], case: str | None, where: str = "") -> None:
        """Write the report in a thread, on its own journal connection; a toast says where."""
        from console.tui.report_file import write_report

        tenant_key: Any = getattr(self.engine, "tenant_key", None)
        try:
            saved = write_report(journal, path, keys=keys, tenant_key=tenant_key, case=case, now=self.clock.now())
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(
                self.notify, safe_text(exc), title="Report not saved", severity="error", markup=False
            )
            return
        self.app.call_from_thread(
            self.notify,
            f"{saved.operations:,} operation{'s' if saved.operations != 1 else ''} → {safe_text(saved.path)}",
            title="Report saved" + where,
            timeout=15,
            markup=False,
        )
