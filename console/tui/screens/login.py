"""The login pane: pick or add a saved tenant, choose a method, run the device-code flow.

The device code is shown with its URL, a copy key and a countdown; Esc cancels.
"""

from __future__ import annotations

import threading
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from console.tui.cells import duration_label, literal, safe_text
from console.tui.footer import ConsoleFooter
from console.tui.messages import ReportsWorkerFailures, SessionOpened, describe_failure
from console.tui.services import (
    ConsoleServices,
    DeviceCodeHooks,
    DeviceCodePrompt,
    LoginService,
    SignInMethod,
    TenantChoice,
)
from console.tui.widgets.header import ConsoleHeader


class LoginScreen(ReportsWorkerFailures, Screen[None]):
    """Sign in to a saved tenant."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel sign-in", id="login.cancel"),
        Binding("c", "copy_code", "Copy code", id="login.copy", tooltip="Copy the device code"),
        Binding("n", "add_tenant", "Add tenant", id="login.add-tenant", tooltip="Save a new tenant"),
    ]

    def __init__(
        self, login: LoginService, services: ConsoleServices, *, try_silent: bool = True, notice: str = ""
    ) -> None:
        super().__init__()
        self.login = login
        self.services = services
        self.try_silent_first = try_silent
        self.notice = notice
        self.tenants: list[TenantChoice] = []
        self.methods: list[SignInMethod] = []
        self.prompt: DeviceCodePrompt | None = None
        """The device code being shown, if any."""
        self._cancel: threading.Event | None = None
        self._countdown: Timer | None = None

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(id="header")
        with Horizontal(id="login-body"):
            with Vertical(id="login-tenants", classes="pane"):
                yield OptionList(id="tenant-list")
                yield Button("Add tenant… (n)", id="add-tenant")
            with Vertical(id="login-method", classes="pane"):
                yield RadioSet(id="methods")
                yield Input(placeholder="client secret", password=True, id="secret")
                yield Button("Sign in", id="sign-in", variant="primary")
                with Vertical(id="device-code"):
                    yield Static(id="dc-url")
                    yield Static(id="dc-code")
                    yield Static(id="dc-countdown")
                    yield Static("c copies the code · Esc cancels", classes="hint")
                yield Static(literal(self.notice), id="login-status")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one(ConsoleHeader).show(None, demo=self.services.demo)
        self.query_one("#login-tenants").border_title = "Tenant"
        self.query_one("#login-method").border_title = "Sign in"
        self.query_one("#device-code").display = False
        self.query_one("#secret").display = False
        self.reload_tenants(self.services.initial_tenant)
        self.query_one("#tenant-list", OptionList).focus()
        if self.try_silent_first and self.selected_tenant is not None:
            self.sign_in_silently(self.selected_tenant)

    # -- tenants and methods ----------------------------------------------------------

    def reload_tenants(self, select: str | None = None) -> None:
        """Show the saved tenants, selecting ``select`` (or the first)."""
        self.tenants = self.login.tenants()
        options = self.query_one("#tenant-list", OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{t.name}\n[dim]{t.tenant} · {t.cloud}{' · ' + t.detail if t.detail else ''}[/dim]", id=t.name)
            for t in self.tenants
        )
        if not self.tenants:
            self._status("No saved tenant yet: add one (n).")
            return
        names = [t.name for t in self.tenants]
        options.highlighted = names.index(select) if select in names else 0
        self._show_methods()

    @property
    def selected_tenant(self) -> TenantChoice | None:
        """The highlighted tenant."""
        highlighted = self.query_one("#tenant-list", OptionList).highlighted
        if highlighted is None or not self.tenants:
            return None
        return self.tenants[highlighted]

    @property
    def selected_method(self) -> SignInMethod | None:
        index = self.query_one("#methods", RadioSet).pressed_index
        if not self.methods:
            return None
        return self.methods[max(0, index)]

    @on(OptionList.OptionHighlighted, "#tenant-list")
    def _show_methods(self) -> None:
        tenant = self.selected_tenant
        if tenant is None:
            return
        methods = self.login.methods(tenant)
        if [m.id for m in methods] == [m.id for m in self.methods]:
            return
        self.methods = methods
        radio = self.query_one("#methods", RadioSet)
        radio.remove_children()
        radio.mount_all(RadioButton(m.label, value=(i == 0)) for i, m in enumerate(methods))
        self._show_secret()

    @on(RadioSet.Changed, "#methods")
    def _show_secret(self) -> None:
        method = self.selected_method
        self.query_one("#secret").display = bool(method and method.needs_secret)

    @on(Button.Pressed, "#add-tenant")
    def action_add_tenant(self) -> None:
        """Save a new tenant (n, or the Add tenant button), then select it."""
        from console.tui.screens.add_tenant import AddTenantScreen

        def added(name: str | None) -> None:
            if name:
                self.reload_tenants(name)
                self._status(f"Saved tenant {name}. Enter signs in.")

        self.app.push_screen(AddTenantScreen(self.login), added)

    # -- signing in -------------------------------------------------------------------

    def _status(self, text: str | Text) -> None:
        """Say ``text`` under the form (a ``str`` is shown as typed: it may name a tenant or quote an error)."""
        self.query_one("#login-status", Static).update(text if isinstance(text, Text) else literal(text))

    @on(OptionList.OptionSelected, "#tenant-list")
    @on(Button.Pressed, "#sign-in")
    @on(Input.Submitted, "#secret")
    def action_sign_in(self) -> None:
        """Sign in to the chosen tenant with the chosen method: the Sign in button, a tenant chosen (Enter or a
        click on the list) or Enter in the secret's field."""
        tenant, method = self.selected_tenant, self.selected_method
        if tenant is None or method is None:
            self._status("Pick a tenant first (or add one with n).")
            return
        if self._cancel is not None:
            return  # already signing in
        secret_input = self.query_one("#secret", Input)
        secret = secret_input.value if method.needs_secret else ""
        # The secret lives on only in this sign-in call: not in the Input, not on screen (issue 7).
        secret_input.value = ""
        self._cancel = threading.Event()
        self.refresh_bindings()  # Esc cancels now
        self._status(f"Signing in to {tenant.name} ({method.label})…")
        self.sign_in(tenant, method, secret, self._cancel)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def sign_in_silently(self, tenant: TenantChoice) -> None:
        """Use the token cache when it still holds a usable sign-in."""
        self._status(f"Looking for a saved sign-in to {tenant.name}…")
        session = await self.login.try_silent(tenant)
        if session is None:
            self._status(f"Not signed in to {tenant.name}: choose a method and press Enter.")
            self.not_signed_in_silently(tenant)
            return
        self.app.post_message(SessionOpened(session))

    def not_signed_in_silently(self, tenant: TenantChoice) -> None:
        """No sign-in without a prompt: the admin chooses a method (``SignInAgainScreen`` goes on by itself)."""

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def sign_in(self, tenant: TenantChoice, method: SignInMethod, secret: str, cancel: threading.Event) -> None:
        """Run the interactive sign-in to the end."""
        session = await self.login.sign_in(tenant, method, DeviceCodeHooks(self.show_prompt, cancel), secret=secret)
        self._finish()
        self.app.post_message(SessionOpened(session))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The sign-in ended without a session: the form again, and why under it (the App shows the failure)."""
        if event.worker.group != "sign-in":
            return
        if event.state == WorkerState.ERROR:
            self._finish()
            self._status(Text("Sign-in failed:", style="bold").append(f" {describe_failure(event.worker.error).text}"))
        elif event.state == WorkerState.CANCELLED:
            self._finish()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer lists only what works now: Copy code while a code is shown, Cancel while signing in."""
        if action == "copy_code":
            return self.prompt is not None
        if action == "cancel":
            return self._cancel is not None
        return True

    def _finish(self) -> None:
        self._cancel = None
        self.prompt = None
        self.refresh_bindings()
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
        self.query_one("#device-code").display = False

    def show_prompt(self, prompt: DeviceCodePrompt) -> None:
        """Show the device code (called on the event loop by the sign-in service)."""
        self.prompt = prompt
        self.refresh_bindings()
        self.query_one("#device-code").display = True
        # Text, never markup: the URL and the code come from the identity provider.
        url = Text("Open  ").append(safe_text(prompt.verification_uri), style="bold")
        code = Text("and enter the code  ").append(f" {safe_text(prompt.user_code)} ", style="bold reverse")
        self.query_one("#dc-url", Static).update(url)
        self.query_one("#dc-code", Static).update(code)
        self._status(
            "Waiting for the code to be entered…"
            + (" (the simulated tenant approves it by itself in a few seconds)" if self.services.demo else "")
        )
        self._tick()
        if self._countdown is None and self.services.live_ticks:
            self._countdown = self.set_interval(1.0, self._tick, name="device-code-countdown")

    def _tick(self) -> None:
        if self.prompt is None:
            return
        left = self.prompt.expires_at - self.services.clock.now()
        text = f"expires in {duration_label(left)}" if left > 0 else "the code has expired"
        self.query_one("#dc-countdown", Static).update(text)

    def action_copy_code(self) -> None:
        if self.prompt is None:
            return
        self.app.copy_to_clipboard(self.prompt.user_code)
        self.notify(f"Copied {self.prompt.user_code}", title="Device code")

    def action_cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._status("Sign-in cancelled.")
            self._finish()
            self.workers.cancel_group(self, "sign-in")
