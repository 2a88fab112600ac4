"""The main screen's live side: the engine started, its operations followed, the polling line kept current.

``LiveOperations`` is the part of ``MainScreen`` that follows the engine: it starts (or joins)
it, shows the journal's operations, asks Graph about unconfirmed exports, hands every batch of
views to the operations table, the profiles' latest-export column and the cases, and keeps
the polling status line and the exports left today current.
"""

from __future__ import annotations

from textual import on, work
from textual.screen import Screen

from console.ops.events import OperationView
from console.tui.messages import OperationsChanged
from console.tui.services import Session
from console.tui.widgets.cases_pane import CasesPane
from console.tui.widgets.ops_pane import OperationsPane
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profile_list import ProfileList
from console.tui.widgets.status_line import PollingStatusLine


class LiveOperations(Screen[None]):
    """Follows the session's engine (``MainScreen`` composes the panes it updates)."""

    session: Session
    active_pane: str
    """The pane shown in the one-pane layout (the cases follow each batch only while shown)."""

    def __init__(self) -> None:
        super().__init__()
        self._latest_key: dict[str, int] = {}
        self._quota_counted = -1

    def _show_tabs(self) -> None:
        raise NotImplementedError

    def refresh_tenant_quotas(self) -> None:
        """Each tenant's exports left today read again (several tenants: ``TenantView``)."""

    # -- engine -------------------------------------------------------------------------

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def start_engine(self) -> None:
        """Start (or join) the engine, then show every operation the journal has."""
        await self.session.engine.start()
        self.feed_snapshot(self.session.engine.operations())
        await self._reconcile()
        warm_up, self.session.warm_up = self.session.warm_up, None
        if warm_up is not None:
            await warm_up()

    def reconcile_targets(self) -> list[tuple[object, str]]:
        """The engines to ask about unconfirmed exports, each with the words its toast's title ends with."""
        return [(self.session.engine, "")]

    async def _reconcile(self) -> None:
        for engine, where in self.reconcile_targets():
            await self._reconcile_one(engine, where)

    async def _reconcile_one(self, engine: object, where: str) -> None:
        """Ask Graph about unconfirmed exports (``OperationsEngine.reconcile``) and say what it found, in a toast."""
        reconcile = getattr(engine, "reconcile", None)
        if reconcile is None:  # an engine without it (a test's fake)
            return
        report = await reconcile()
        if not report.results:
            return
        from console.tui.cells import safe_text

        lines = [report.summary()] if report.not_offered else [report.summary(), *report.lines()[:3]]
        self.notify(
            "\n".join(safe_text(line) for line in lines),
            title="Unconfirmed exports" + where,
            severity="warning" if report.remaining else "information",
            timeout=15,
            markup=False,
        )

    def feed_snapshot(self, views: list[OperationView]) -> None:
        """Show a full snapshot at once (journal rows appear on start)."""
        self._apply_operations(views)

    @on(OperationsChanged)
    def _on_operations_changed(self, message: OperationsChanged) -> None:
        self._apply_operations(message.views)

    def _apply_operations(self, views: tuple[OperationView, ...] | list[OperationView]) -> None:
        latest: dict[str, str] = {}
        for view in views:
            if view.key >= self._latest_key.get(view.user_id, -1):
                self._latest_key[view.user_id] = view.key
                latest[view.user_id] = view.display_status
        table = self.query_one(OpsTable)
        with self.app.batch_update():
            table.apply(views)
            self.query_one(ProfileList).set_latest(latest)
            self._show_ops_status()
            self.refresh_polling_status()
            if self.active_pane == "cases":  # its operations below each case follow
                self.query_one(CasesPane).reload()
        # A new export spends one of today's; a refused one gives it back: read the quota again.
        counted = sum(1 for v in table.model.views.values() if v.state != "rejected")
        if counted != self._quota_counted:
            self._quota_counted = counted
            self.refresh_quota()
            self.refresh_tenant_quotas()

    def _tick(self) -> None:
        self.query_one(OpsTable).tick()
        self.refresh_polling_status()

    # -- the polling status line ---------------------------------------------------------

    def refresh_polling_status(self) -> None:
        """Re-read the engine's polling state; the line repaints only when its text changed."""
        line = self.query_one(PollingStatusLine)
        line.paused = self.query_one(OpsTable).paused
        line.refresh_status()

    @work(exclusive=True, group="quota", exit_on_error=False)
    async def refresh_quota(self) -> None:
        """Exports left today, read again from the journal (after every batch: they change)."""
        quota = getattr(self.session.engine, "quota", None)
        if quota is None:
            return
        self.query_one(PollingStatusLine).quota = await quota()
        self.refresh_polling_status()

    def _show_ops_status(self) -> None:
        # The pane writes its own counts, title and subtitle (console/tui/widgets/ops_pane.py).
        pane = self.query_one(OperationsPane)
        pane.show_status()
        if pane.tab_label() != getattr(self, "_ops_tab", None):
            self._ops_tab = pane.tab_label()
            self._show_tabs()

    @on(OpsTable.ViewChanged)
    def _on_view_changed(self) -> None:
        self._show_ops_status()
