"""The Outbound view (key 4 or the palette, issue 19): our users whose data other tenants hold, and the
removal of one user's data from one tenant.

The same rules as ``remove --outbound`` on the command line, from ``console.ops.removal``: refused
(nothing sent) when removal is not allowed or the session is read-only, a question naming the tenant,
the user and the case that only typing 1 answers (``OutboundRemoveScreen``), and a user already asked
of that tenant is not asked again. The list and the sending go through the ops layer: no URL here.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from console.ops.removal import RemovalTarget, outbound_holdings, previous_removals
from console.tui.cells import literal, safe_text
from console.tui.dialogs.remove import OutboundRemoveScreen
from console.tui.footer import ConsoleFooter
from console.tui.messages import ReportsWorkerFailures, describe_failure
from console.tui.outbound_model import OutboundLine, outbound_lines, outbound_summary, removal_targets
from console.tui.removal import OpenScreen, refused_or_engine, send_in_worker
from console.tui.tenants import tenant_name_of

TITLE = "Outbound: our users whose data other tenants hold"
"""The view's title (and the palette's command)."""


class OutboundScreen(ReportsWorkerFailures, Screen[None]):
    """Our users whose profile data other tenants hold, each tenant on its own line under the user.

    Args:
        session: the signed-in session (its Graph client, engine, ``allow_removal`` and ``read_only``).
        open_screen: opens the removal question, holding keys typed meanwhile (``MainScreen.open_screen``).
        read_only: ``--read-only`` (as well as the session's own).
    """

    DEFAULT_CSS = """
    OutboundScreen #outbound-list { height: 1fr; border: round $primary; }
    OutboundScreen #outbound-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "delete",
            "remove",
            "Remove",
            id="outbound.remove",
            priority=True,  # as the key is read: the keys after it in a burst wait for the question
            tooltip="Ask the highlighted tenant to remove the highlighted user's data; asks you to type 1; "
            "needs allow_removal = true on the tenant",
        ),
        Binding("ctrl+r", "reload", "Reload", id="outbound.reload", tooltip="List the outbound profiles again"),
        Binding("escape", "close", "Back", id="outbound.close", tooltip="Back to the main screen"),
    ]

    def __init__(self, session: Any, open_screen: OpenScreen, *, read_only: bool = False, tenant: str = "") -> None:
        super().__init__()
        self.session = session
        self.tenant = tenant
        """The tenant's name when several are open (this screen has no header to say whose users these are)."""
        self.open_screen = open_screen
        self.read_only = read_only
        self.lines: list[OutboundLine] = []
        """What the list shows, in order (users and the tenants under them)."""

    def compose(self) -> ComposeResult:
        yield Static(id="outbound-status", markup=False)
        yield OptionList(id="outbound-list")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        title = TITLE.replace("Outbound:", f"Outbound · {safe_text(self.tenant)}:") if self.tenant else TITLE
        self.query_one("#outbound-list").border_title = title
        self._status("loading…")
        self.set_focus(self.query_one(OptionList))  # synchronously: a burst's next key lands here
        self.load()

    def _status(self, text: str) -> None:
        self.query_one("#outbound-status", Static).update(literal(text))

    @work(exclusive=True, group="outbound", exit_on_error=False)
    async def load(self) -> None:
        """List the outbound profiles (and the removals already asked) and show them."""
        client = getattr(self.session.services, "client", None)
        if client is None:
            self._status("the outbound profiles need a signed-in tenant")
            return
        holdings = await outbound_holdings(client)
        engine: Any = getattr(self.session.services, "engine", None)
        asked = []
        if getattr(engine, "writer", None) is not None:  # a test's fake engine has no journal
            asked = await previous_removals(engine, removal_targets(holdings))
        lines = outbound_lines(holdings, asked)
        self.show(lines, outbound_summary(holdings, lines))

    def show(self, lines: list[OutboundLine], summary: str) -> None:
        """Draw ``lines``; the highlighted tenant stays highlighted when it is still there."""
        option_list = self.query_one(OptionList)
        chosen = self.highlighted()
        self.lines = lines
        option_list.clear_options()
        option_list.add_options([self._option(line) for line in lines])
        ids = [line.option_id for line in lines]
        if chosen is not None and chosen.option_id in ids:
            option_list.highlighted = ids.index(chosen.option_id)
        else:
            option_list.highlighted = next((i for i, line in enumerate(lines) if line.tenant_id), None)
        self._status(summary if lines else "no user of ours has data at another tenant")

    @staticmethod
    def _option(line: OutboundLine) -> Option:
        if not line.tenant_id:
            return Option(literal(f"user {line.user_id}", "bold"), id=line.option_id, disabled=True)
        text = Text(" └ at tenant ", style="dim").append_text(literal(line.tenant_id))
        if line.removal:
            text.append("  ").append_text(literal(line.removal, "bold"))
        return Option(text, id=line.option_id)

    def highlighted(self) -> OutboundLine | None:
        """The tenant line under the cursor (None on none)."""
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self.lines):
            return None
        line = self.lines[index]
        return line if line.tenant_id else None

    def action_remove(self) -> None:
        line = self.highlighted()
        if line is None:
            self.notify("Highlight a tenant under a user first.", title="Remove", severity="warning")
            return
        title = "Remove" + (f" in {self.tenant}" if self.tenant else "")
        engine = refused_or_engine(self, self.session, 1, read_only=self.read_only, title=title)
        if engine is None:
            return
        target = RemovalTarget(line.user_id, line.tenant_id)

        def answered(case: str | None) -> None:
            if case is not None:
                send_in_worker(self, engine, [target], case, self.session.identity, done=self.load, title=title)

        self.open_screen(OutboundRemoveScreen(self.session.header.tenant, line.user_id, line.tenant_id), answered)

    def action_reload(self) -> None:
        self._status("loading…")
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The listing stopped: the status line says why (the App shows the failure itself)."""
        if event.state == WorkerState.ERROR and event.worker.group == "outbound":
            self._status(f"listing stopped: {describe_failure(event.worker.error).text}")


def open_outbound(main: Any) -> None:
    """Open the Outbound view over the main screen ``main`` (its key and the palette's command)."""
    session = getattr(main, "profile_session", main.session)  # several tenants: the picked one's
    several = getattr(getattr(main, "tenants", None), "several", False)
    tenant = tenant_name_of(session) if several else ""
    main.open_screen(OutboundScreen(session, main.open_screen, read_only=main.services.read_only, tenant=tenant))


class OutboundCommands(Provider):
    """The command palette's entry for the Outbound view (on the main screen)."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        score = matcher.match(TITLE)
        if score > 0:
            yield Hit(score, matcher.highlight(TITLE), partial(open_outbound, self.screen), help=_HELP)

    async def discover(self) -> Hits:
        yield DiscoveryHit(TITLE, partial(open_outbound, self.screen), help=_HELP)


_HELP = "List them and ask one tenant to remove one user's data (typed confirmation)"
