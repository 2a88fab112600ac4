"""A small app that shows only the Operations pane (the main screen's other parts change elsewhere)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Footer

from console.clock import ManualClock
from console.tui.widgets.ops_pane import OperationsPane
from console.tui.widgets.ops_table import OpsTable
from tests.tui.ops_fakes import NOW, PaneEngine, label_of, triage_views


class PaneApp(App[None]):
    """The pane with a fake engine and a manual clock; records every message the pane posts upward."""

    CSS_PATH = ["../../console/tui/global.tcss", "../../console/tui/app.tcss"]

    def __init__(self, engine: PaneEngine | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        views = triage_views()
        self.engine = engine or PaneEngine(views)
        self.clock = ManualClock(NOW)
        self.label = label_of(list(self.engine.views.values()))
        self.exports: list[OpsTable.ExportRequested] = []
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield OperationsPane(self.engine, self.clock, user_label=self.label)
        yield Footer()

    def on_mount(self) -> None:
        self.pane.table.apply(self.engine.operations())
        self.set_focus(self.pane.table)

    @property
    def pane(self) -> OperationsPane:
        return self.query_one(OperationsPane)

    @property
    def table(self) -> OpsTable:
        return self.query_one(OpsTable)

    def on_ops_table_export_requested(self, message: OpsTable.ExportRequested) -> None:
        self.exports.append(message)

    def bell(self) -> None:
        self.bells += 1
