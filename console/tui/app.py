"""The console app: composition and routing only (screens do the work)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer

from console.redact import redact
from console.tui import terminal_keys
from console.tui.bindings import KeyArea
from console.tui.cells import safe_text
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.event_log import (
    ERROR_TOAST_SECONDS,
    TOAST_SECONDS,
    TOAST_WIDTH,
    EventLog,
    plain_text,
    toast_text,
)
from console.tui.messages import ReportsWorkerFailures, SessionOpened, WorkerFailed, describe_failure
from console.tui.screens.main import MainScreen
from console.tui.services import ConsoleServices, Session
from console.tui.widgets.ops_table import FILTERS

QUIT_QUESTION = "quit-question"
"""Id of the 'exports in flight: quit anyway?' question (q on it does not ask twice)."""
HOLD_SECONDS = 0.5
"""Longest a burst of keys waits for a screen that is opening (then it goes to whatever has focus)."""


_key = KeyArea(
    "app",
    priority=True,
    tooltips={
        "quit": "Quit (asks first while exports are being sent; polling resumes from the journal next time)",
        "help": "Show every key",
        "event-log": "The event log: every toast, failure, throttling and batch end with its time and full text",
    },
)


class ConsoleApp(ReportsWorkerFailures, App[int]):
    """``export-console`` with no command: profiles, exports and live operations.

    Args:
        services: the engine, profiles, sign-in and header info (injected; see ``services.py``).
    """

    CSS_PATH = ["global.tcss", "app.tcss"]
    TITLE = "export-console"

    # Priority: q and ? work on every screen, modal or not (an Input that is being typed into keeps them).
    BINDINGS: ClassVar[list[BindingType]] = [
        _key("q", "quit", "Quit", "quit"),
        _key("question_mark", "help", "Help", "help"),
        _key("ctrl+l", "event_log", "Log", "event-log", show=False),
    ]

    def __init__(self, services: ConsoleServices) -> None:
        super().__init__()
        terminal_keys.install()  # Esc and the next key read in one go stay two keys
        self.services = services
        self.session: Session | None = None
        """The signed-in session, or None on the login pane."""
        self._quitting = False
        self._held: list[events.Key] | None = None
        self._hold_timer: Timer | None = None
        self._release_pending = False
        self._escape_in_flight: Screen[object] | None = None
        """The screen an Esc was sent to while it has not come back up to the App (keys after it are held)."""
        self._priority_ran = False
        """A priority binding handled the key being delivered (as it was read: nothing to wait for)."""
        self.event_log = EventLog(services.clock.now)
        """Every toast, failure, throttling episode and batch end, in full (ctrl+l shows it)."""

    # -- notifications: short toasts, the whole text in the event log -------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Log the whole text, then toast one short line for a few seconds (the log keeps the rest).

        Whoever calls it, the text is redacted (a SAS signature or token in it is masked) and made
        terminal-safe before the log or a toast holds it."""
        text = redact(plain_text(message, markup=markup))
        heading = redact(plain_text(title, markup=markup))
        self.event_log.add(text, title=heading, severity=severity)
        # One line, no title line: "Copy: Copied the operation id 384b…" fits the toast (half the screen).
        width = max(20, min(TOAST_WIDTH, self.size.width // 2 - 4))
        short, cut = toast_text(f"{heading}: {text}" if heading else text, width - (9 if len(text) > width else 0))
        if cut:
            short += " (^l log)"
        seconds = ERROR_TOAST_SECONDS if severity == "error" else TOAST_SECONDS
        super().notify(
            safe_text(short),
            severity=severity,
            timeout=min(timeout, seconds) if timeout is not None else seconds,
            markup=False,
        )

    def action_event_log(self) -> None:
        """Show the event log (again: close it)."""
        from console.tui.screens.event_log import EventLogScreen

        if isinstance(self.screen, EventLogScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(EventLogScreen(self.event_log))

    # -- keys typed faster than a frame ---------------------------------------------------
    #
    # Textual sends each key to the widget focused when the key is read, but a focus change or
    # a new screen takes effect a message later. Over SSH a burst of keys arrives at once: the
    # keys after "/" would still reach the list ("a" selecting everything shown), the URL after
    # "e" would reach no one. Keys that move focus are priority bindings that focus at once
    # (``Screen.set_focus``); keys that open a screen hold what follows until it has focus.

    def hold_keys(self) -> None:
        """Keep the keys typed from now on until ``release_keys`` (or HOLD_SECONDS), then deliver them in order."""
        if self._held is None:
            self._held = []
        self._release_pending = False  # a release asked for before this hold waits for this one
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = self.set_timer(HOLD_SECONDS, self.release_keys, name="release-held-keys")

    def release_keys(self) -> None:
        """Deliver the held keys, in the order they were typed, to whatever has focus now."""
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        self._escape_in_flight = None  # an Esc a widget kept (it never came back up) holds nothing any more
        if self._held is None or self._release_pending:
            return
        self._release_pending = True
        # call_later: after any focus change already queued (Widget.focus defers to the app's queue);
        # keys read until then are still held, so none overtakes the held ones.
        self.call_later(self._replay_held)

    def release_keys_after_refresh(self, screen: Screen[object]) -> None:
        """Release held keys once ``screen`` has been laid out and has taken its focus."""
        screen.call_after_refresh(self.release_keys)

    @property
    def holding_keys(self) -> bool:
        """Keys are being held until a screen has taken focus."""
        return self._held is not None

    async def _replay_held(self) -> None:
        if not self._release_pending:
            return  # a newer hold (another screen opening) took over
        self._release_pending = False
        pending, self._held = self._held or [], None
        while pending:
            await self._deliver_key(pending.pop(0))
            if self._held is not None:
                # That key opened another screen: what follows waits for it, still in order.
                self._held[:0] = pending
                return

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._held is not None:
                self._held.append(event)
            else:
                await self._deliver_key(event)
            return
        await super().on_event(event)

    async def _deliver_key(self, event: events.Key) -> None:
        """Send one typed key on its way; after an Esc, hold the keys typed next until it has been handled.

        An Esc goes to the focused widget and comes back up to the App, which runs the binding it meets on
        the way (most often: close this screen). Keys read meanwhile would reach the screen being closed;
        held, they reach the screen the Esc reveals (or, if nothing closes, what has focus: at the latest
        after HOLD_SECONDS).
        """
        self._priority_ran = False
        await super().on_event(event)
        if event.key == "escape" and not self._priority_ran and not self._escape_in_flight:
            self._escape_in_flight = self.screen
            self.hold_keys()

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        ran = await super()._check_bindings(key, priority)
        self._priority_ran = self._priority_ran or (ran and priority)  # handled as read: nothing to wait for
        return ran

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs App._on_key (the bindings) after this one, for the same message: look after it.
        if event.key == "escape" and self._escape_in_flight:
            self.call_next(self._escape_handled)

    def _escape_handled(self) -> None:
        """The Esc came back up and its binding ran: deliver the held keys to the screen it left in front."""
        closed = self._escape_in_flight is not self.screen
        self._escape_in_flight = None
        if closed:
            self.release_keys_after_refresh(self.screen)
        else:
            self.release_keys()

    def on_mount(self) -> None:
        for name, why in self.services.extra.get("set_aside", []):  # several tenants: one could not sign in
            self.notify(f"{name}: set aside, not polled: {why}", title="Tenant", severity="error", markup=False)
        tenants = self.services.tenants
        if tenants is not None:  # several tenants at once (issue 18): one table, a session each
            self.session = tenants.table_session
            self.push_screen(MainScreen(self.session, self.services, tenants))
        elif self.services.session is not None:
            self.session = self.services.session
            self.push_screen(MainScreen(self.session, self.services))
        else:
            self.push_screen(self._login_screen(try_silent=True))

    def _login_screen(self, *, try_silent: bool, notice: str = "") -> Screen[None]:
        from console.tui.screens.login import LoginScreen
        from console.tui.screens.unavailable import NoLoginScreen

        if self.services.login is None:
            return NoLoginScreen(self.services)
        return LoginScreen(self.services.login, self.services, try_silent=try_silent, notice=notice)

    # -- sessions -----------------------------------------------------------------------

    @on(SessionOpened)
    async def _on_session_opened(self, message: SessionOpened) -> None:
        if self.services.tenants is not None:  # several tenants: one signed in to again joins the others
            await self.close_forms()
            if isinstance(self.screen, MainScreen):
                self.screen.sign_in_tenant(message.session)
            return
        if self.session is not None and self.session is not message.session:
            await self.close_session()
        self.session = message.session
        await self.close_forms()  # e.g. the add-tenant form open when a silent sign-in succeeds
        await self.switch_screen(MainScreen(message.session, self.services))

    async def close_session(self) -> None:
        """Stop polling and release the session (its unfinished operations stay in the journal)."""
        session, self.session = self.session, None
        if session is None:
            return
        await session.engine.stop()
        if session.close is not None:
            await session.close()

    async def action_sign_out(self) -> None:
        """Sign out of the current tenant and show the login pane; with several tenants signed in, sign out
        of the picked one only (it asks first, naming it) and the others keep polling."""
        tenants = self.services.tenants
        if tenants is not None and isinstance(self.screen, MainScreen) and len(tenants.live) > 1:
            self.screen.ask_sign_out()
            return
        last = tenants.live[0] if tenants is not None and tenants.live else None  # the last of several
        if not await self._leave_tenant(
            "This console was given a token (--token-env): there is nothing to sign out of.",
            "sign out",
            no_login_needed=last is not None,
        ):
            return
        if self.services.login is not None:
            await self.services.login.sign_out(None)
        signin = getattr(last.services, "signin", None) if last is not None else None
        if signin is not None:
            await signin.sign_out()
        await self.switch_screen(self._login_screen(try_silent=False, notice="Signed out."))

    async def action_switch_tenant(self) -> None:
        """Leave this tenant (staying signed in to it) and pick another on the login pane."""
        if await self._leave_tenant(
            "Start the console with --tenant NAME or without --token-env to switch tenants.", "switch tenants"
        ):
            await self.switch_screen(self._login_screen(try_silent=False))

    async def _leave_tenant(self, without_login: str, doing: str, *, no_login_needed: bool = False) -> bool:
        """Close the forms and the session; False (and say why, with ``without_login`` or what one is
        ``doing``) when there is no login pane (unless ``no_login_needed``) or exports are being sent."""
        if self.services.login is None and not no_login_needed:
            self.notify(without_login, severity="warning")
            return False
        if self.session is not None and self.session.engine.posts_in_flight:
            self.notify(f"Exports are being sent: {doing} when Graph has answered.", severity="warning")
            return False
        await self.close_forms()
        await self.close_session()
        self.services.tenants = None  # the login pane opens one tenant at a time
        return True

    async def close_forms(self) -> None:
        """Close every form and overlay over the base screen (before it is replaced: no stale screen under it)."""
        while len(self.screen_stack) > 2:
            await self.pop_screen()

    @on(WorkerFailed)
    def _on_worker_failed(self, message: WorkerFailed) -> None:
        """The one place a worker's failure is shown, whichever screen or widget ran it (``ReportsWorkerFailures``):
        one formatter (``describe_failure``), a toast of text (never markup) and the whole of it in the event log."""
        failure = describe_failure(message.worker.error, group=message.worker.group)
        self.notify(failure.text, title=failure.title, severity="error", timeout=15, markup=False)

    # -- keys ---------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; ask first only while export POSTs are in flight (polling resumes from the journal)."""
        session = self.session
        in_flight = session.engine.posts_in_flight if session is not None else 0
        if in_flight:
            if isinstance(self.screen, ConfirmScreen) and self.screen.id == QUIT_QUESTION:
                return
            question = (
                f"{in_flight} export request{'s are' if in_flight != 1 else ' is'} being sent to Graph. "
                "Quitting now may leave them unconfirmed (you'd check them before exporting again).\n\n"
                "Quit anyway?"
            )

            async def answered(quit_now: bool | None) -> None:
                if quit_now:
                    await self._quit_now()

            self.push_screen(
                ConfirmScreen(question, title="Exports in flight", yes="Quit", no="Stay", id=QUIT_QUESTION), answered
            )
            return
        await self._quit_now()

    async def _quit_now(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        await self.close_session()
        self.exit(0)

    def action_help(self) -> None:
        from console.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # ? again closes it
            return
        sections, extra = help_sections()
        self.push_screen(HelpScreen(sections, extra))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from console.tui.screens.login import LoginScreen

        # Session commands only where they make sense: never over a form (it would be left stale).
        main = screen if isinstance(screen, MainScreen) else None
        tenants = self.services.tenants
        if main is not None and tenants is not None and len(tenants.live) > 1:
            yield SystemCommand(
                f"Sign out of {tenants.current}",
                f"Forget {tenants.current}'s sign-in and stop polling it; the other tenants keep polling",
                partial(self.call_later, self.action_sign_out),
            )
        elif self.services.login is not None and (main is not None or isinstance(screen, LoginScreen)):
            if self.session is not None:
                yield SystemCommand(
                    "Sign out",
                    "Forget this tenant's tokens and show the login pane",
                    partial(self.call_later, self.action_sign_out),
                )
            else:
                yield SystemCommand("Sign in", "Sign in to the highlighted tenant", self._sign_in_from_palette)
            yield SystemCommand(
                "Switch tenant", "Pick another saved tenant", partial(self.call_later, self.action_switch_tenant)
            )
        if main is not None and tenants is not None:  # several tenants: each one signed out of can come back
            for name in tenants.left_names():
                yield SystemCommand(
                    f"Sign in to {name}",
                    f"Sign in to {name} again: its unfinished operations are polled again",
                    partial(main.open_sign_in, name),
                )
        if main is not None:
            yield SystemCommand(
                "Export selected profiles", "Open the export form for the selection", main.export_profiles
            )
            yield SystemCommand("Reload profiles", "List the tenant's profiles again", main.action_reload_profiles)
            for status_filter in FILTERS:
                yield SystemCommand(
                    f"Filter operations: {status_filter}",
                    f"Show {status_filter} operations in the table",
                    partial(main.filter_operations, status_filter),
                )
            from console.tui.widgets.ops_pane import OperationsPane

            yield SystemCommand(
                "Save report",
                "Write the evidence report of the marked, or else the shown, operations",
                main.query_one(OperationsPane).action_save_report,
            )
        yield SystemCommand(
            "Event log", "Every toast, failure, throttling and batch end, in full", self.action_event_log
        )
        yield SystemCommand("Keys", "Show every key binding", self.action_help)

    def _sign_in_from_palette(self) -> None:
        from console.tui.screens.login import LoginScreen

        if isinstance(self.screen, LoginScreen):
            self.screen.action_sign_in()


def help_sections() -> tuple[list[tuple[str, type[DOMNode]]], list[tuple[str, str, str]]]:
    """Where each key works: (title, class whose own BINDINGS are listed) and the keys Textual adds.

    One list for the help overlay and the README's key table (``tests/test_readme.py`` keeps them equal).
    """
    from console.tui.dialogs.confirm import ConfirmScreen
    from console.tui.screens.add_tenant import AddTenantScreen
    from console.tui.screens.details import OperationDetailsScreen
    from console.tui.screens.event_log import EventLogScreen
    from console.tui.screens.export import ExportScreen
    from console.tui.screens.login import LoginScreen
    from console.tui.screens.outbound import OutboundScreen
    from console.tui.widgets.cases_pane import CasesPane
    from console.tui.widgets.ops_table import OpsTable
    from console.tui.widgets.profile_list import ProfileList
    from console.tui.widgets.search_box import SearchBox

    sections: list[tuple[str, type[DOMNode]]] = [
        ("Everywhere", ConsoleApp),
        ("Main screen", MainScreen),
        ("Profiles list", ProfileList),
        ("Search box", SearchBox),
        ("Operations table", OpsTable),
        ("Cases pane", CasesPane),
        ("Outbound view (4)", OutboundScreen),
        ("Login pane", LoginScreen),
        ("Export form", ExportScreen),
        ("Questions (bulk export, quit)", ConfirmScreen),
        ("Operation details", OperationDetailsScreen),
        ("Add a tenant", AddTenantScreen),
        ("Event log", EventLogScreen),
    ]
    extra = [
        ("Everywhere", "^p", "Command palette: sign in/out, switch tenant, export selected, filter operations"),
        ("Everywhere", "tab, shift+tab", "Move between the search box, the list and the table"),
        ("Search box", "enter, down", "Go to the list, on the first match (the filter stays)"),
        ("Profiles list", "a-z, 0-9", "Start a search with that letter (type-to-search; 1, 2, q, ? keep their jobs)"),
        ("Export form", "tab, ⏎ on Case", "Next field (Case, then Storage); keys typed after it go there"),
    ]
    return sections, extra
