"""Save a new tenant from the login pane: labelled fields, Enter moves on, only the methods the client supports.

The default client (Microsoft Graph Command Line Tools, a public client) signs in only with a device
code: app-only methods (client secret, certificate) need the admin's own app registration.
"""

from __future__ import annotations

import inspect
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from console.tui.cells import safe_text
from console.tui.footer import ConsoleFooter
from console.tui.services import CERTIFICATE, CLIENT_SECRET, DEVICE_CODE, LoginService, SignInMethod

CLOUD_CHOICES: tuple[tuple[str, str], ...] = (
    ("Global (graph.microsoft.com)", "global"),
    ("US Gov L4", "usgov"),
    ("US Gov L5 (DoD)", "dod"),
    ("China (21Vianet)", "china"),
)
"""The clouds a saved tenant can be in (shared-profile APIs exist only in the global one)."""

PUBLIC_CLIENT_METHODS: tuple[SignInMethod, ...] = (DEVICE_CODE,)
"""What the default public client supports (delegated only)."""
OWN_CLIENT_METHODS: tuple[SignInMethod, ...] = (DEVICE_CODE, CLIENT_SECRET, CERTIFICATE)
"""What an app registration of the admin's own may support (device code needs 'Allow public client flows')."""

_FIELDS = ("tenant-name", "tenant-id", "client-id")
"""The text fields in order: Enter on one moves to the next."""


def methods_for(client_id: str) -> tuple[SignInMethod, ...]:
    """The sign-in methods a client supports: the default public client only signs in with a device code."""
    return OWN_CLIENT_METHODS if client_id.strip() else PUBLIC_CLIENT_METHODS


class AddTenantScreen(ModalScreen[str | None]):
    """Name, tenant id or domain, client id, cloud and sign-in method; dismisses with the saved name."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="add-tenant.cancel"),
        Binding("ctrl+s", "save", "Save", id="add-tenant.save"),
    ]

    def __init__(self, login: LoginService) -> None:
        super().__init__()
        self.login = login
        self.methods: tuple[SignInMethod, ...] = PUBLIC_CLIENT_METHODS
        """The methods offered for the client id typed."""

    def compose(self) -> ComposeResult:
        with Vertical(id="add-tenant-dialog", classes="dialog"):
            with Horizontal(classes="field-row"):
                yield Label("Name", classes="field-label")
                yield Input(placeholder="used with --tenant, e.g. contoso", id="tenant-name")
            with Horizontal(classes="field-row"):
                yield Label("Tenant", classes="field-label")
                yield Input(placeholder="tenant id or domain, e.g. contoso.onmicrosoft.com", id="tenant-id")
            with Horizontal(classes="field-row"):
                yield Label("Client id", classes="field-label")
                yield Input(placeholder="empty: Microsoft Graph Command Line Tools", id="client-id")
            with Horizontal(classes="field-row -select"):
                yield Label("Cloud", classes="field-label")
                yield Select(CLOUD_CHOICES, value="global", allow_blank=False, id="cloud", compact=True)
            with Horizontal(classes="field-row -methods"):
                yield Label("Sign in", classes="field-label")
                # Every method is composed once; those the client cannot do are hidden (and never chosen).
                yield RadioSet(
                    *(
                        RadioButton(m.label, value=i == 0, id=f"method-{m.id}", disabled=m not in self.methods)
                        for i, m in enumerate(OWN_CLIENT_METHODS)
                    ),
                    id="method",
                )
            yield Static("", id="add-tenant-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#add-tenant-dialog").border_title = "Add a tenant"
        self._show_methods()
        self.set_focus(self.query_one("#tenant-name", Input))

    @on(Input.Changed, "#client-id")
    def _on_client_changed(self, event: Input.Changed) -> None:
        methods = methods_for(event.value)
        if methods != self.methods:
            self.methods = methods
            self._show_methods()

    def _show_methods(self) -> None:
        for method in OWN_CLIENT_METHODS:
            button = self.query_one(f"#method-{method.id}", RadioButton)
            offered = method in self.methods
            button.display = offered
            button.disabled = not offered
            if not offered and button.value:
                self.query_one(f"#method-{DEVICE_CODE.id}", RadioButton).value = True

    @property
    def selected_method(self) -> SignInMethod:
        for method in self.methods:
            if self.query_one(f"#method-{method.id}", RadioButton).value:
                return method
        return self.methods[0]

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last text field it saves."""
        event.stop()
        field = event.input.id or ""
        if field in _FIELDS[:-1]:
            self.set_focus(self.query_one(f"#{_FIELDS[_FIELDS.index(field) + 1]}", Input))
        else:
            self.action_save()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        name = self.query_one("#tenant-name", Input).value.strip()
        tenant = self.query_one("#tenant-id", Input).value.strip()
        client_id = self.query_one("#client-id", Input).value.strip()
        cloud = str(self.query_one("#cloud", Select).value)
        method = self.selected_method
        try:
            if "method" in inspect.signature(self.login.add_tenant).parameters:
                saved = self.login.add_tenant(name, tenant, client_id, cloud, method=method)  # type: ignore[call-arg]
            else:
                saved = self.login.add_tenant(name, tenant, client_id, cloud)
        except ValueError as exc:
            self.query_one("#add-tenant-error", Static).update(safe_text(exc))
            return
        self.dismiss(saved.name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
