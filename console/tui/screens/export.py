"""The export form: where to, for whom, how much of today's quota is left; then per-profile results."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from console.graph.errors import GraphError
from console.ops.events import SubmitOutcome
from console.storage import redact, validate_storage_location
from console.tui.cells import one_line
from console.tui.screens.confirm import ConfirmScreen
from console.tui.services import OperationsService
from console.tui.widgets.storage_input import StorageLocationInput

PLACEHOLDER = "https://account.blob.core.windows.net/container?sv=…&sig=…  or  StorageAccountName"
"""What the storage input suggests: a container SAS URL or a storage account name (graph-api.md)."""
TARGETS_SHOWN = 5
"""Names listed before '… and N more'."""


class ExportScreen(ModalScreen[list[SubmitOutcome] | None]):
    """Export the personal data of some profiles to one storage location."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel / close", id="export.close"),
    ]

    def __init__(self, engine: OperationsService, user_ids: list[str], labels: dict[str, str]) -> None:
        super().__init__()
        self.engine = engine
        self.user_ids = list(user_ids)
        self.labels = labels
        self.outcomes: list[SubmitOutcome] | None = None
        """What Graph said, once submitted."""
        self.submitting = False
        self._tried = False

    def compose(self) -> ComposeResult:
        count = len(self.user_ids)
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(self._targets_text(), id="export-targets")
            yield Static(self._quota_text(), id="export-quota")
            yield Static(
                "Storage location (a SAS URL's signature is masked as soon as it is entered):", classes="field-label"
            )
            yield StorageLocationInput(placeholder=PLACEHOLDER, id="storage")
            yield Static("", id="storage-error", classes="error")
            yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
            yield Static(
                f"Enter exports {count} profile{'s' if count != 1 else ''} · Esc cancels",
                id="export-hint",
                classes="hint",
            )

    def on_mount(self) -> None:
        dialog = self.query_one("#export-dialog")
        count = len(self.user_ids)
        dialog.border_title = f"Export personal data of {count} profile{'s' if count != 1 else ''}"
        results = self.query_one("#results", DataTable)
        results.add_column("User", key="user", width=28)
        results.add_column("Result", key="result", width=14)
        results.add_column("Operation / Graph's answer", key="detail")
        results.display = False
        self.query_one("#storage", StorageLocationInput).focus()

    def _targets_text(self) -> str:
        names = [self.labels.get(user_id, user_id) for user_id in self.user_ids[:TARGETS_SHOWN]]
        more = len(self.user_ids) - len(names)
        text = "For: " + ", ".join(names)
        if more > 0:
            text += f" … and {more:,} more"
        return text

    def _quota_text(self) -> Text:
        report = self.engine.quota()
        text = Text()
        text.append(
            f"Exports left today: {report.tenant_left:,} of {report.tenant_limit:,} for the tenant, "
            f"{report.per_user_limit} a day per user."
        )
        if len(self.user_ids) > report.tenant_left:
            text.append(f" {len(self.user_ids):,} asked: over today's tenant limit.", style="bold")
        spent = [self.labels.get(u, u) for u in self.user_ids if report.user_left(u) < 1]
        if spent:
            text.append(f" No exports left today for: {', '.join(spent[:3])}", style="bold")
        return text

    # -- validation -----------------------------------------------------------------------

    def _error(self, message: str) -> None:
        error = self.query_one("#storage-error", Static)
        error.update(message)
        self.set_class(bool(message), "-invalid")

    @on(Input.Changed, "#storage")
    def _on_changed(self) -> None:
        if self._tried:
            self._validate()

    def _validate(self) -> str | None:
        location = self.query_one("#storage", StorageLocationInput).location
        try:
            valid = validate_storage_location(location)
        except ValueError as exc:
            self._error(str(exc))
            return None
        self._error("")
        return valid

    @on(Input.Submitted, "#storage")
    def _on_submitted(self) -> None:
        if self.submitting:
            return
        if self.outcomes is not None:
            self.dismiss(self.outcomes)
            return
        storage = self.query_one("#storage", StorageLocationInput)
        storage.mask_now()
        self._tried = True
        location = self._validate()
        if location is None:
            return
        unfinished = [user_id for user_id in self.user_ids if self.engine.unfinished_for(user_id, location)]
        if unfinished:
            names = ", ".join(self.labels.get(u, u) for u in unfinished[:TARGETS_SHOWN])
            more = len(unfinished) - min(len(unfinished), TARGETS_SHOWN)
            if more:
                names += f" … and {more:,} more"
            question = (
                f"{len(unfinished):,} of these profiles already have an unfinished export to "
                f"{redact(location)}: {names}.\n\nExport them again? (Graph counts each against today's limits.)"
            )

            def answered(again: bool | None) -> None:
                if again:
                    self.submit(location)
                else:
                    self.query_one("#storage", StorageLocationInput).focus()

            self.app.push_screen(
                ConfirmScreen(question, title="Unfinished export", yes="Export again", no="Don't"), answered
            )
            return
        self.submit(location)

    # -- submission -----------------------------------------------------------------------

    def submit(self, location: str) -> None:
        """Send the exports in an app worker, so closing the form never cancels a POST half-way."""
        storage = self.query_one("#storage", StorageLocationInput)
        storage.disabled = True
        self.submitting = True
        self.query_one("#export-hint", Static).update(
            f"Submitting {len(self.user_ids):,} exports… (Esc hides this form; the exports go on)"
        )
        self.app.run_worker(
            self._submit(location),
            group="export",
            exit_on_error=False,
            description=f"export {len(self.user_ids)} profiles",
        )

    async def _submit(self, location: str) -> None:
        # The location with its signature lives only in this coroutine and the engine's call.
        try:
            outcomes = await self.engine.submit(self.user_ids, location)
        except (ValueError, GraphError) as exc:
            self.submitting = False
            if self.is_attached:
                storage = self.query_one("#storage", StorageLocationInput)
                storage.disabled = False
                storage.focus()
                self._error(str(exc))
                self.query_one("#export-hint", Static).update("Enter exports · Esc cancels")
            else:
                self.app.notify(str(exc), title="Export refused", severity="error", timeout=15)
            return
        self.submitting = False
        if self.is_attached:
            self.show_outcomes(outcomes)
        else:
            accepted = sum(1 for outcome in outcomes if outcome.accepted)
            refused = len(outcomes) - accepted
            self.app.notify(
                f"{accepted:,} accepted" + (f", {refused:,} not: see the operations table" if refused else ""),
                title="Exports submitted",
                severity="warning" if refused else "information",
            )

    def show_outcomes(self, outcomes: list[SubmitOutcome]) -> None:
        """Show Graph's answer for each profile."""
        self.outcomes = outcomes
        results = self.query_one("#results", DataTable)
        results.display = True
        ok = 0
        for outcome in outcomes:
            label = self.labels.get(outcome.user_id, outcome.user_id)
            if outcome.accepted:
                ok += 1
                operation = outcome.operation
                detail = operation.operation_id if operation and operation.operation_id else "accepted"
                results.add_row(label, Text("✓ accepted", style="bold"), detail)
            else:
                word = "? unconfirmed" if outcome.error_type == "ExportUnconfirmed" else "✗ refused"
                results.add_row(label, Text(word, style="bold"), one_line(outcome.error, 300))
        failed = len(outcomes) - ok
        summary = f"{ok:,} accepted" + (f", {failed:,} not" if failed else "") + " · Enter or Esc closes"
        self.query_one("#export-hint", Static).update(summary)
        self.set_class(failed > 0, "-some-failed")
        results.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(self.outcomes)

    def action_close(self) -> None:
        if self.submitting:
            self.app.notify(
                "The exports are still being sent: their results will show in the operations table.", title="Export"
            )
        self.dismiss(self.outcomes)
