"""The main screen's tenants (issue 18): which tenant the profiles show, the picker, the pulse strip.

With one tenant nothing here shows: the console looks as it always did. With several, the
operations table follows every tenant (``console.tui.tenants.TenantsEngine``), the profile list
and the export form are for the picked tenant (ctrl+t, or the palette's "Show profiles of ..."),
and the pulse strip replaces the polling line: one line per tenant, or one for all at 80x24.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from typing import Any

from textual import on, work
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from console.ops.events import OperationView
from console.tui.cells import safe_text
from console.tui.export_launch import person_for, propose_location, re_export_choice
from console.tui.export_model import ExportMemory, Person
from console.tui.focus import release_keys
from console.tui.profile_index import ProfileIndex
from console.tui.pulse import PulseBoard
from console.tui.screens.live_operations import LiveOperations
from console.tui.services import ConsoleServices, Session
from console.tui.tenants import Sessions, tenant_key_of, tenant_name_of
from console.tui.widgets.cases_pane import CasesPane
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.ops_table import OpsTable
from console.tui.widgets.profiles_pane import ProfilesPane
from console.tui.widgets.pulse_strip import PulseStrip
from console.tui.widgets.status_line import PollingStatusLine


class TenantView(LiveOperations):
    """The tenants of the main screen (``MainScreen`` composes the panes and the strip)."""

    tenants: Sessions
    board: PulseBoard
    services: ConsoleServices
    export_memory: ExportMemory

    index: ProfileIndex
    load_profiles: Callable[[], object]

    def open_screen(self, screen: Screen[Any], callback: Callable[[Any], Any] | None = None) -> None:
        raise NotImplementedError

    def refresh_polling_status(self) -> None:
        self.read_gates()
        super().refresh_polling_status()
        self.refresh_pulse()

    def read_gates(self) -> None:
        """Each tenant's throttle gate, for the table's Next poll column (a throttled row is not polled before)."""
        gates: dict[str, float] = {}
        for session in self.tenants:
            status_of = getattr(session.engine, "polling_status", None)
            until = getattr(status_of(), "throttled_until", None) if status_of is not None else None
            if until is not None:
                gates[tenant_key_of(session)] = float(until)
        table = self.query_one(OpsTable)
        if gates != table.model.gates:
            table.model.gates = gates
            table.tick()  # the rows on screen show the new wait now, not a tick later

    def refresh_tenant_quotas(self) -> None:
        self.refresh_quotas()

    def reconcile_targets(self) -> list[tuple[object, str]]:
        """Each tenant's engine (several tenants: each toast names its tenant)."""
        if not self.tenants.several:
            return super().reconcile_targets()
        return [(session.engine, self.tenant_suffix(session)) for session in self.tenants.live]

    @property
    def profile_session(self) -> Session:
        """The session of the tenant the profile list and the export form are for."""
        return self.tenants.current_session

    def tenant_suffix(self, session: Session) -> str:
        """`` in fabrikam`` when several tenants are open (forms, questions and toasts name it), else ''."""
        return f" in {tenant_name_of(session)}" if self.tenants.several else ""

    def setup_tenants(self) -> None:
        """Tell the table the tenants' names and show the strip (several tenants only)."""
        several = self.tenants.several
        self.query_one(OpsTable).set_tenants(self.tenants.name_for_key() if several else {})
        self.query_one(PulseStrip).display = several
        self.query_one(PollingStatusLine).display = not several
        self.show_profiles_title()

    def show_profiles_title(self) -> None:
        title = "Profiles"
        if self.tenants.several:
            title += f" · {safe_text(self.tenants.current)} (^t: tenant)"
        self.query_one("#profiles-pane").border_title = title

    def layout_strip(self, compact: bool) -> None:
        """Every tenant on one line in the one-pane layout (80x24), one line each otherwise."""
        strip = self.query_one(PulseStrip)
        if strip.compact != compact:
            strip.compact = compact
            self.refresh_pulse()

    # -- the picker --------------------------------------------------------------------

    def action_pick_tenant(self, name: str = "") -> None:
        """Show the profiles of tenant ``name`` (the next one when ''); the export form is then for it."""
        if not self.tenants.several:
            self.notify("One tenant is open.", title="Tenant", severity="warning")
            return
        name = name or self.tenants.next_name()
        if name == self.tenants.current:
            return
        self.tenants.pick(name)
        self.show_picked_tenant()
        self.notify(f"Profiles of {name}: exports from the list go to {name}.", title="Tenant", markup=False)

    def show_picked_tenant(self) -> None:
        """The profile list, its title and the cases follow the picked tenant (after the picker or a sign-out)."""
        self.follow_cases()
        self.show_profiles_title()
        self.query_one(ProfilesPane).reset()
        self.load_profiles()

    def follow_cases(self) -> None:
        """The cases pane shows the picked tenant's cases (and opens new ones there)."""
        book = self.query_one(CasesPane).book
        if book is not None:
            book.tenant_key = tenant_key_of(self.profile_session)
            book.author = self.profile_session.identity or book.author
            self.query_one(CasesPane).reload()

    def operations_tenant(self, views: Iterable[OperationView]) -> Session | None:
        """The one tenant these operations belong to; None (with a toast) when they span several."""
        views = list(views)
        names = self.tenants.name_for_key()
        left = sorted({names.get(v.tenant_key, "") for v in views} & self.tenants.signed_out)
        if left:
            text = f"Signed out of {left[0]}: nothing is sent to it until you sign in to it again."
            self.notify(text, title="Export", severity="warning", markup=False)
            return None
        sessions = {id(s): s for v in views if (s := self.tenants.session_of(v)) is not None}
        if len(sessions) > 1:
            self.notify(
                "Export again acts on one tenant at a time: mark operations of one tenant (tenant:NAME filters).",
                title="Export",
                severity="warning",
            )
            return None
        return next(iter(sessions.values()), self.profile_session)

    # -- signing out of one tenant (the others keep polling) -------------------------------------

    def ask_sign_out(self) -> None:
        """Ask to sign out of the picked tenant (the one the profiles show); the others keep polling."""
        from console.tui.dialogs.confirm import ConfirmScreen

        session = self.profile_session
        name = tenant_name_of(session)
        if session.engine.posts_in_flight:
            text = f"Exports are being sent to {name}: sign out of it when Graph has answered."
            self.notify(text, title="Sign out", severity="warning", markup=False)
            return
        others = [other for other in self.tenants.names() if other != name]
        unfinished = sum(1 for view in session.engine.operations() if not view.is_done)
        question = (
            f"Sign out of {name}? Its sign-in is forgotten and its {unfinished} unfinished "
            f"operation{'s' if unfinished != 1 else ''} no longer polled: they stay in the journal "
            f'("Sign in to {name}" in the palette resumes them).\n\n{keep_polling(others)}.'
        )

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.sign_out_tenant(name)

        self.open_screen(ConfirmScreen(question, title=f"Sign out of {name}", yes="Sign out", no="Stay"), answered)

    async def sign_out_tenant(self, name: str) -> None:
        """Stop and drop tenant ``name``'s engine and forget its sign-in; its rows stay, marked not watched."""
        picked = self.tenants.current
        session, views = self.tenants.sign_out(name)
        self.feed_snapshot(views)  # its unfinished rows now say they are not watched
        self.show_signed_in()
        if self.tenants.current != picked:
            self.show_picked_tenant()
        await session.engine.stop()
        signin = getattr(session.services, "signin", None)
        if signin is not None:
            await signin.sign_out()
        if session.close is not None:
            await session.close()
        self.notify(f"Signed out of {name}; {keep_polling(self.tenants.names())}.", title="Tenant", markup=False)

    def show_signed_in(self) -> None:
        """The pulse strip and the header name the tenants signed in to now (after a sign-out or a sign-in)."""
        self.refresh_pulse()
        self.session.header = replace(self.session.header, tenant=", ".join(self.tenants.names()))
        self.query_one(ConsoleHeader).show(self.session.header, demo=self.services.demo)

    # -- signing in again to a tenant signed out of ----------------------------------------------

    def open_sign_in(self, name: str) -> None:
        """Sign in again to tenant ``name`` (signed out of): its own ways in, as at start-up."""
        from console.tui.screens.sign_in_again import SignInAgainScreen

        login = self.tenants.logins.get(name)
        if name not in self.tenants.signed_out or login is None:
            text = f"{name} cannot be signed in to from here: start the console with --tenant {name}."
            self.notify(text, title="Sign in", severity="warning", markup=False)
            release_keys(self.app)
            return
        self.open_screen(SignInAgainScreen(login, self.services, name))

    @work(group="sign-in-again", exit_on_error=False)
    async def sign_in_tenant(self, session: Session) -> None:
        """Tenant ``session.name`` signed in to again: its engine starts (resuming its unfinished operations from
        the journal) and joins the table, its rows are its own again, the strip and the header name it."""
        name = tenant_name_of(session)
        if name not in self.tenants.signed_out:  # signed in to twice: keep the first
            if session.close is not None:
                await session.close()
            self.notify(f"{name} is signed in already.", title="Sign in", severity="warning", markup=False)
            return
        try:
            await session.engine.start()
        except BaseException:
            if session.close is not None:
                await session.close()
            raise  # the App's one failure handler says why; the tenant stays signed out of
        self.tenants.sign_in(session)
        views = session.engine.operations()
        self.feed_snapshot(views)  # its rows are watched again
        self.query_one(OpsTable).set_tenants(self.tenants.name_for_key())
        self.show_signed_in()
        self.refresh_tenant_quotas()
        unfinished = sum(1 for view in views if not view.is_done)
        polled = f"{unfinished} unfinished operation{'s' if unfinished != 1 else ''} polled again"
        text = f"Signed in to {name} again: {polled if unfinished else 'nothing unfinished'}."
        self.notify(text, title="Tenant", markup=False)
        await self._reconcile_one(session.engine, self.tenant_suffix(session))

    # -- export, from the profiles (the picked tenant) or from operations (their tenant) ------------

    @on(OpsTable.ExportRequested)
    def _on_export_requested(self, message: OpsTable.ExportRequested) -> None:
        message.stop()
        latest, case = re_export_choice(message.operations)
        people = [person_for(self.index, v.user_id, v.key, v) for v in latest]
        session = self.operations_tenant(latest)
        if not people or session is None:
            release_keys(self.app)
            return
        self.open_export(people, source="operations", case=case, previous=latest, session=session)

    def open_export(
        self,
        people: list[Person],
        *,
        source: str,
        case: str | None = None,
        hidden: int = 0,
        search: str = "",
        previous: list[OperationView] | None = None,
        session: Session | None = None,
    ) -> None:
        """Open the export form for ``people`` of ``session``'s tenant (the picked one by default)."""
        from console.tui.read_only import console_read_only, refused_text
        from console.tui.screens.export import ExportScreen

        session = session or self.profile_session
        reason = console_read_only(self.services, session)  # --read-only or the tenant's read_only = true
        if reason:  # the export key, the palette's command and a re-export from Operations alike
            title = "Export" + self.tenant_suffix(session)
            self.notify(refused_text("export", reason), title=title, severity="error", markup=False)
            release_keys(self.app)  # the keys held for the form go where they were typed
            return

        suggestion, note = propose_location(session, self.services.clock.now(), people, previous or [])
        self.open_screen(
            ExportScreen(
                session.engine,
                people,
                memory=self.export_memory,
                clock=self.services.clock,
                storage_transport=getattr(session, "storage_transport", None),
                source=source,
                case=case,
                hidden=hidden,
                search=search,
                suggestion=suggestion,
                suggestion_note=note,
                tenant=tenant_name_of(session) if self.tenants.several else "",
            )
        )

    # -- the pulse strip -----------------------------------------------------------------

    def refresh_pulse(self) -> None:
        """Re-read every tenant's figures (after each batch and each tick); repaints only on change."""
        if self.tenants.several:
            self.query_one(PulseStrip).show_pulses(self.board.pulses(), self.board.now())

    @work(exclusive=True, group="pulse-quota", exit_on_error=False)
    async def refresh_quotas(self) -> None:
        """Each tenant's exports left today, read again from the journal."""
        if self.tenants.several:
            await self.board.read_quotas()
            self.refresh_pulse()


def keep_polling(names: list[str]) -> str:
    """``contoso and northwind keep polling`` (``contoso keeps polling``)."""
    if len(names) == 1:
        return f"{names[0]} keeps polling"
    return f"{', '.join(names[:-1])} and {names[-1]} keep polling"


class TenantCommands(Provider):
    """The command palette's tenant picker: "Show profiles of NAME" for each open tenant."""

    def _commands(self) -> list[tuple[str, str, object]]:
        screen = self.screen
        if not isinstance(screen, TenantView) or not screen.tenants.several:
            return []
        return [
            (f"Show profiles of {name}", f"The profile list and the export form for {name}", name)
            for name in screen.tenants.names()
        ]

    async def discover(self) -> Hits:
        for title, help_text, name in self._commands():
            yield DiscoveryHit(title, partial(self._pick, str(name)), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, name in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._pick, str(name)), help=help_text)

    def _pick(self, name: str) -> None:
        screen = self.screen
        if isinstance(screen, TenantView):
            screen.action_pick_tenant(name)
