"""The export form: for whom, under which case, where to (one location per person); then Graph's answers.

Nothing is sent before every check passed: the SAS rules (no network), Blob pre-flight with the SAS
(the container exists and holds no earlier export), and, for more than one person or any warning,
an explicit Yes (the default answer is No). See ../shared/graph-api.md, exportPersonalData. The rules,
the conflict and quota checks and the case are the CLI's too: ``console.ops.submission``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

import httpx
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState

from console.clock import Clock, SystemClock
from console.graph.errors import GraphError
from console.ops.engine import AlreadyExporting
from console.ops.events import OperationView, QuotaReport, SubmitOutcome
from console.ops.submission import Submission, case_opened_text, targets_for
from console.redact import redact
from console.tui.cells import literal, safe_text
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.export_model import (
    ExportMemory,
    LocationPlan,
    PeopleCheck,
    Person,
    bulk_question,
    check_people,
    force_question,
    names_text,
    outcome_cells,
    plan_locations,
    plural,
    preview_text,
    proposal_text,
    quota_text,
)
from console.tui.focus import MovesFocusNow, move_focus_now
from console.tui.footer import ConsoleFooter
from console.tui.messages import ReportsWorkerFailures, describe_failure
from console.tui.services import OperationsService
from console.tui.widgets.storage_input import StorageLocationInput

PLACEHOLDER = "https://account.blob.core.windows.net/container?sv=…&sig=…  or  StorageAccountName"
"""What the storage input suggests: a container SAS URL or a storage account name (graph-api.md)."""
TEMPLATE_PLACEHOLDER = "https://account.blob.core.windows.net/dsr-{userId}?sv=…&sig=…"
"""What it suggests for several people: one container each."""
TARGETS_SHOWN = 5
"""Names listed before '… and N more'."""


class ExportSending(ModalScreen[list[SubmitOutcome] | None]):
    """The export form's second half: the question, the POSTs (through ``console.ops.submission``) and Graph's
    answers, with the lines and hints both halves show. ``ExportScreen`` is the form itself."""

    engine: OperationsService
    people: list[Person]
    memory: ExportMemory
    hidden: int
    search: str
    skipped: list[Person]
    outcomes: list[SubmitOutcome] | None
    submitting: bool
    quota_report: QuotaReport | None
    tenant: str
    load_quota: Callable[[], object]
    """Read today's exports left again (``ExportScreen.load_quota``, a worker)."""

    def _fit(self) -> None:
        """The fixed lines (title, names, fields, hint) always show; what varies scrolls inside at 80x24."""
        dialog = self.query_one("#export-dialog")
        body = self.query_one("#export-body")
        # Margins too (the quota's and the hint's blank line): outer_size leaves them out.
        fixed = sum(
            child.outer_size.height + child.styles.margin.height
            for child in dialog.children
            if child is not body and child.display
        )
        # The screen less its footer, the dialog's border and one line of air.
        height = max(3, self.size.height - 1 - 2 - 1 - fixed)
        if body.styles.max_height is None or body.styles.max_height.value != height:
            body.styles.max_height = height

    def _hidden_text(self) -> str:
        if not self.hidden:
            return ""
        search = f" “{safe_text(self.search)}”" if self.search else ""
        return f"{plural(self.hidden, 'of them is', 'of them are')} not shown by the search{search}: exported too"

    def _idle_hint(self) -> str:
        count = len(self.people)
        return f"Enter exports {plural(count, 'person', 'people')} · Esc cancels"

    def _targets_text(self) -> str:
        return "For: " + names_text(self.people, TARGETS_SHOWN)

    def _show(self, selector: str, text: str) -> None:
        widget = self.query_one(selector, Static)
        widget.update("\n".join(safe_text(line) for line in text.split("\n")))
        widget.display = bool(text)
        self.call_after_refresh(self._fit)

    def _error(self, message: str) -> None:
        self._show("#storage-error", message)
        self.set_class(bool(message), "-invalid")

    def _set_editable(self, editable: bool) -> None:
        self.query_one("#storage", StorageLocationInput).disabled = not editable
        self.query_one("#case", Input).disabled = not editable
        if editable:
            self.set_focus(self.query_one("#storage", StorageLocationInput))

    # -- confirmation and submission -----------------------------------------------------------

    def confirm_and_send(
        self, plan: LocationPlan, warnings: list[str], *, check: PeopleCheck[Person] | None = None
    ) -> None:
        """Send at once for one person with nothing to warn about; otherwise ask first (default No).

        When pre-flight refused some people, the question offers to go on without them.
        """
        refused = {p.user_id for p in check.refused_people} if check is not None else set()
        going = [p for p in self.people if p.user_id not in refused]
        skipped = [p for p in self.people if p.user_id in refused]
        if len(self.people) == 1 and not warnings and not skipped:
            self.submit(plan)
            return
        self.query_one("#export-hint", Static).update("Nothing is sent until you answer Yes.")
        storage = self.query_one("#storage", StorageLocationInput)
        where = redact(storage.location.strip())
        count = len(going)
        question = bulk_question(
            count,
            where,
            self.query_one("#case", Input).value.strip(),
            hidden=self._hidden_text(),
            refused=check.refused if skipped and check is not None else (),
            warnings=warnings,
            quota=self.quota_report,
            tenant=self.tenant,
        )

        def answered(go: bool | None) -> None:
            if go:
                self.skipped = skipped
                self.submit(plan, people=going)
            else:
                self._set_editable(True)
                self.query_one("#export-hint", Static).update(self._idle_hint())

        yes = f"Export {count:,}" + (f", skip these {len(skipped):,}" if skipped else "")
        self.app.push_screen(
            ConfirmScreen(
                question,
                title="Export personal data?" if not self.tenant else f"Export personal data in {self.tenant}?",
                yes=yes,
                no="Cancel",
                names=[p.label for p in going],
                id="bulk-confirm",
            ),
            answered,
        )

    def submit(self, plan: LocationPlan, *, force: bool = False, people: list[Person] | None = None) -> None:
        """Send the exports in an app worker, so closing the form never cancels a POST half-way.

        Args:
            plan: the checked locations (one per person of the form).
            force: export again although an export is unfinished (the admin said so).
            people: who to send for (the form's people without those pre-flight refused); None: all.
        """
        if people is not None and len(people) != len(self.people):
            keep = {p.user_id for p in people}
            pairs = [(p, loc) for p, loc in zip(self.people, plan.locations, strict=True) if p.user_id in keep]
            self.people = [p for p, _loc in pairs]
            plan = replace(plan, rules=replace(plan.rules, locations=tuple(loc for _p, loc in pairs)))
            self.query_one("#export-targets", Static).update(self._targets_text())
        self._set_editable(False)
        self.submitting = True
        self.memory.case = self.query_one("#case", Input).value.strip()
        self.query_one("#export-hint", Static).update(
            f"Submitting {plural(len(self.people), 'export')}… (Esc hides this form; the exports go on)"
        )
        self.app.run_worker(
            self._submit(plan, force=force),
            group="export",
            exit_on_error=False,
            description=f"export {len(self.people)} profiles",
        )

    async def _submit(self, plan: LocationPlan, *, force: bool) -> None:
        # The locations with their signatures live only in the plan, this coroutine and the engine's call.
        targets = targets_for(self.people, plan.locations)
        try:
            sent = await Submission(self.engine).send(targets, case=self.memory.case, force=force)
        except AlreadyExporting as exc:
            self.submitting = False
            if self.is_attached:
                self._ask_force(plan, list(exc.conflicts))
            else:
                self._notify_refused(str(exc))
            return
        except (ValueError, GraphError) as exc:
            self.submitting = False
            if self.is_attached:
                self._set_editable(True)
                self._error(f"✗ {redact(str(exc))}")
                self.query_one("#export-hint", Static).update(self._idle_hint())
            else:
                self._notify_refused(str(exc))
            return
        self.submitting = False
        if sent.case_opened:
            said = safe_text(case_opened_text(sent.case_opened))
            self.app.notify(said[:1].upper() + said[1:], markup=False)
        if self.is_attached:
            self.show_outcomes(sent.outcomes)
        else:
            accepted = sum(1 for outcome in sent.outcomes if outcome.accepted)
            refused = len(sent.outcomes) - accepted
            self.app.notify(
                f"{accepted:,} accepted" + (f", {refused:,} not: see the operations table" if refused else ""),
                title="Exports submitted" + self._in_tenant(),
                severity="warning" if refused else "information",
            )

    def _notify_refused(self, text: str) -> None:
        title = "Export refused" + self._in_tenant()
        self.app.notify(safe_text(redact(text)), title=title, severity="error", timeout=15, markup=False)

    def _in_tenant(self) -> str:
        """`` in fabrikam`` when several tenants are open (every toast names the tenant), else ''."""
        return f" in {safe_text(self.tenant)}" if self.tenant else ""

    def _ask_force(self, plan: LocationPlan, conflicts: list[OperationView]) -> None:
        self._set_editable(True)
        self.query_one("#export-hint", Static).update(self._idle_hint())
        labels = {p.user_id: p.label for p in self.people}
        users = list(dict.fromkeys(view.user_id for view in conflicts))
        states = {view.user_id: view.display_status for view in conflicts}
        question = force_question(len(users))

        def answered(again: bool | None) -> None:
            if again:
                self.submit(plan, force=True)
            else:
                self.set_focus(self.query_one("#storage", StorageLocationInput))

        self.app.push_screen(
            ConfirmScreen(
                question,
                title="Already exporting",
                yes="Export again",
                no="Don't",
                names=[f"{labels.get(u, u)} ({states[u]})" for u in users],
            ),
            answered,
        )

    def show_outcomes(self, outcomes: list[SubmitOutcome]) -> None:
        """Show Graph's answer for each person (StorageLocationAlreadyUsed with its fix)."""
        self.outcomes = outcomes
        self.load_quota()  # the batch spent some of today's exports: read them again, as the status line does
        labels = {p.user_id: p.label for p in self.people}
        results = self.query_one("#results", DataTable)
        results.display = True
        explained: list[str] = []
        for outcome in outcomes:
            word, detail, reason = outcome_cells(outcome)
            label = labels.get(outcome.user_id, outcome.user_id)
            results.add_row(literal(label), Text(word, style="bold"), literal(detail))
            if reason and reason not in explained:
                explained.append(reason)
        ok = sum(1 for outcome in outcomes if outcome.accepted)
        for person in self.skipped:
            results.add_row(literal(person.label), Text("– skipped", style="bold"), "refused by the storage pre-flight")
        failed = len(outcomes) - ok
        self._show("#results-note", "\n".join(explained[:2]))
        summary = f"{ok:,} accepted" + (f", {failed:,} not" if failed else "") + " · Enter or Esc closes"
        self.query_one("#export-hint", Static).update(summary)
        self.set_class(failed > 0, "-some-failed")
        # The form's fields have done their job: hide them so the answers fit at 80x24.
        for selector in ("#storage-warnings", "#storage-proposal", "#storage-preview"):
            self.query_one(selector).display = False
        self.set_focus(results)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(self.outcomes)

    def action_close(self) -> None:
        if self.submitting:
            self.app.notify(
                "The exports are still being sent: their results will show in the operations table.", title="Export"
            )
        self.dismiss(self.outcomes)


class ExportScreen(MovesFocusNow, ReportsWorkerFailures, ExportSending):
    """Export the personal data of some people, each to their own storage location.

    Args:
        engine: the operations engine (``submit``, ``quota``).
        people: who the export is for (named in the form).
        memory: what the session remembers between exports (the case reference).
        clock: the time for the SAS expiry rules.
        storage_transport: httpx transport for the Blob pre-flight (the demo's stand-in), None for the network.
        source: "profiles" or "operations" (an export again of earlier operations).
        case: the case reference to start with (a re-export keeps its case); None: the session's last one.
        hidden: how many of ``people`` the profile search hides (named in the form and the confirmation).
        search: that search's text.
        suggestion: a full location to start with (the demo's own storage; a fresh container), or ''.
        suggestion_note: one line saying where a proposed location comes from (or what to use instead), or ''.
    """

    # Priority: Tab and Enter on Case move focus as the key is read, so in a burst ("DSR-77<Tab>https://...")
    # what follows goes to the next field (a non-priority Tab moves focus only after the keys behind it).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel / close", id="export.close"),
        Binding("tab", "move_focus(1)", "", show=False, priority=True, id="export.next"),
        Binding("shift+tab", "move_focus(-1)", "", show=False, priority=True, id="export.previous"),
        Binding("enter", "next_field", "", show=False, priority=True, id="export.case-enter"),
        Binding(
            "ctrl+t",
            "use_template",
            "Use template",
            id="export.template",
            tooltip="Use the proposed template: one container per person",
        ),
    ]

    def __init__(
        self,
        engine: OperationsService,
        people: list[Person],
        *,
        memory: ExportMemory | None = None,
        clock: Clock | None = None,
        storage_transport: httpx.AsyncBaseTransport | None = None,
        source: str = "profiles",
        case: str | None = None,
        hidden: int = 0,
        search: str = "",
        suggestion: str = "",
        suggestion_note: str = "",
        tenant: str = "",
    ) -> None:
        super().__init__()
        self.engine = engine
        self.tenant = tenant
        """The saved name of the tenant exported from, when several are open (the form names it), else ''."""
        self.people = list(people)
        self.memory = memory or ExportMemory()
        self.clock: Clock = clock or SystemClock()
        self.storage_transport = storage_transport
        self.source = source
        self.start_case = self.memory.case if case is None else case
        """What the Case field starts with."""
        self.hidden = hidden
        """How many of the people the profile search hides."""
        self.search = search
        self.suggestion = suggestion
        """The location the Storage field starts with (full; the signature is masked at once)."""
        self.suggestion_note = suggestion_note
        self.skipped: list[Person] = []
        """People pre-flight refused and the admin chose to go on without."""
        self.outcomes: list[SubmitOutcome] | None = None
        """What Graph said, once submitted."""
        self.submitting = False
        """POSTs are being sent (Esc hides the form; the app asks before quitting)."""
        self.checking = False
        """The storage pre-flight is running (nothing sent yet)."""
        self.plan: LocationPlan | None = None
        """The latest check of the storage location."""
        self.quota_report: QuotaReport | None = None
        self._tried = False

    @property
    def user_ids(self) -> list[str]:
        """The user ids the form is for, in order."""
        return [p.user_id for p in self.people]

    def compose(self) -> ComposeResult:
        many = len(self.people) > 1
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(self._targets_text(), id="export-targets", markup=False)
            yield Static(self._hidden_text(), id="export-hidden", classes="warning", markup=False)
            yield Static("Exports left today: …", id="export-quota")
            with Horizontal(classes="field-row"):
                yield Static("Case", classes="field-label")
                yield Input(
                    value=self.start_case,
                    placeholder="request reference, e.g. DSR-1234 (optional; kept for the next export)",
                    id="case",
                    select_on_focus=False,
                )
            with Horizontal(classes="field-row"):
                yield Static("Storage", classes="field-label")
                yield StorageLocationInput(placeholder=TEMPLATE_PLACEHOLDER if many else PLACEHOLDER, id="storage")
            yield Static("", id="storage-secret", classes="hint", markup=False)
            yield Static(self.suggestion_note, id="storage-suggestion", classes="hint", markup=False)
            with VerticalScroll(id="export-body"):
                yield Static("", id="storage-error", classes="error", markup=False)
                yield Static("", id="storage-warnings", classes="warning", markup=False)
                yield Static("", id="storage-proposal", classes="hint", markup=False)
                yield Static("", id="storage-preview", classes="hint", markup=False)
                yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
                yield Static("", id="results-note", classes="warning", markup=False)
            yield Static(self._idle_hint(), id="export-hint", classes="hint")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        dialog = self.query_one("#export-dialog")
        count = len(self.people)
        verb = "Export again" if self.source == "operations" else "Export personal data of"
        dialog.border_title = f"{verb} {plural(count, 'person', 'people')}{self._in_tenant()}"
        results = self.query_one("#results", DataTable)
        results.add_column("Person", key="user", width=24)
        results.add_column("Result", key="result", width=14)
        results.add_column("Operation / Graph's answer", key="detail")
        results.display = False
        for selector in ("#storage-error", "#storage-warnings", "#storage-proposal", "#storage-preview"):
            self.query_one(selector).display = False
        self.query_one("#results-note").display = False
        self.query_one("#storage-secret").display = False
        self.query_one("#storage-suggestion").display = bool(self.suggestion_note)
        self.query_one("#export-hidden").display = bool(self.hidden)
        if self.suggestion:
            storage = self.query_one("#storage", StorageLocationInput)
            storage.insert_text_at_cursor(self.suggestion)
            storage.mask_now()
            # Selected when reached, like a browser's proposal: a pasted SAS replaces it, never joins it.
            storage.select_on_focus = True
        self.call_after_refresh(self._fit)
        # Synchronously, on the first field: keys typed right after the form was asked for (held by the
        # app) go to Case, then Tab or Enter to Storage, in the screen's order.
        self.set_focus(self.query_one("#case", Input))
        self.load_quota()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # ctrl+t is shown (and works) only while there is a template to propose.
        if action == "use_template":
            return bool(self.plan is not None and self.plan.proposal and not self.submitting)
        if action == "next_field":  # Enter on Case; on Storage it sends (Input.Submitted)
            focused = self.focused
            return focused is not None and focused.id == "case"
        return True

    def action_next_field(self) -> None:
        move_focus_now(self, 1)

    # -- quota ---------------------------------------------------------------------------

    @work(exclusive=True, group="export-quota", exit_on_error=False)
    async def load_quota(self) -> None:
        """Ask the engine how much of today's quota is left (it reads the journal off the event loop)."""
        report = await self.engine.quota()
        self.quota_report = report
        self.query_one("#export-quota", Static).update(quota_text(report, self.people, self.tenant))

    # -- checking the location (no network) ------------------------------------------------

    @on(Input.Changed, "#storage")
    def _on_storage_changed(self) -> None:
        storage = self.query_one("#storage", StorageLocationInput)
        if storage.select_on_focus and storage.location != self.suggestion:
            storage.select_on_focus = False  # edited: the proposal is the admin's own text now
        self._refresh_plan()

    def _refresh_plan(self) -> LocationPlan | None:
        """Check what is typed and show errors, warnings, the proposal and the preview."""
        storage = self.query_one("#storage", StorageLocationInput)
        # Typing into the hidden signature changes nothing visible but this line.
        secret = storage.signature_length
        self._show("#storage-secret", f"sig=*** holds {secret:,} characters (hidden)" if secret else "")
        location = storage.location
        if not location.strip() and not self._tried:
            if self.plan is not None and self.plan.proposal:
                self.refresh_bindings()
            self.plan = None
            for selector in ("#storage-warnings", "#storage-proposal", "#storage-preview"):
                self._show(selector, "")
            self._error("")
            return None
        plan = plan_locations(location, self.people, now=self.clock.now())
        had_proposal = bool(self.plan and self.plan.proposal)
        self.plan = plan
        if had_proposal != bool(plan.proposal):
            self.refresh_bindings()
        self._error("\n".join(f"✗ {e}" for e in plan.errors))
        self._show("#storage-warnings", "\n".join(f"! {w}" for w in plan.warnings))
        self._show("#storage-proposal", proposal_text(plan))
        self._show("#storage-preview", preview_text(plan, self.people))
        return plan

    def action_use_template(self) -> None:
        """Replace a fixed location by the proposed per-person template (the signature stays masked)."""
        if self.plan is None or not self.plan.proposal or self.submitting:
            return
        storage = self.query_one("#storage", StorageLocationInput)
        storage.value = ""
        storage.insert_text_at_cursor(self.plan.proposal)
        storage.mask_now()
        self._refresh_plan()

    @on(Input.Submitted, "#case")
    def _on_case_submitted(self) -> None:
        # Enter on a field moves to the next one; only the storage field sends.
        self.set_focus(self.query_one("#storage", StorageLocationInput))

    @on(Input.Submitted, "#storage")
    def _on_submitted(self) -> None:
        if self.submitting or self.checking:
            return
        if self.outcomes is not None:
            self.dismiss(self.outcomes)
            return
        storage = self.query_one("#storage", StorageLocationInput)
        storage.mask_now()
        self._tried = True
        plan = self._refresh_plan()
        if plan is None or plan.blocked:
            return
        self.checking = True
        self._set_editable(False)
        self.query_one("#export-hint", Static).update("Checking the storage location… (nothing is sent yet)")
        self.check_storage(plan)

    # -- pre-flight (network, SAS only) ------------------------------------------------------

    @work(exclusive=True, group="export-check", exit_on_error=False)
    async def check_storage(self, plan: LocationPlan) -> None:
        """Blob pre-flight of every distinct location, then the confirmation (nothing is sent here)."""
        check = await check_people(self.people, plan.locations, transport=self.storage_transport)
        self.checking = False
        refused = check.refused_people
        if refused:
            self._error("\n".join(f"✗ {reason}: {names_text(list(people), 3)}" for reason, people in check.refused))
            if len(refused) == len(self.people):
                # Nobody left to export: the location stays in the form (signature too) to be fixed.
                self._set_editable(True)
                self.query_one("#export-hint", Static).update(self._idle_hint())
                return
        self.confirm_and_send(plan, [*plan.warnings, *check.warnings], check=check)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place for this form's worker failures: say what happened, let the admin try again."""
        if event.state != WorkerState.ERROR or event.worker.group not in ("export-check", "export-quota"):
            return
        error = describe_failure(event.worker.error).text  # the App shows the failure; the form says what it means
        if event.worker.group == "export-quota":
            self.query_one("#export-quota", Static).update(literal(f"Today's quota is not known: {error}"))
            return
        self.checking = False
        self._set_editable(True)
        self._error(f"✗ the storage check failed: {error}")
        self.query_one("#export-hint", Static).update(self._idle_hint())
