"""Save a new tenant from the login pane."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from console.tui.services import LoginService

CLOUD_CHOICES: tuple[tuple[str, str], ...] = (
    ("Global (graph.microsoft.com)", "global"),
    ("US Gov L4", "usgov"),
    ("US Gov L5 (DoD)", "dod"),
    ("China (21Vianet)", "china"),
)
"""The clouds a saved tenant can be in (shared-profile APIs exist only in the global one)."""


class AddTenantScreen(ModalScreen[str | None]):
    """Name, tenant id or domain, client id and cloud; dismisses with the saved name."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="add-tenant.cancel"),
    ]

    def __init__(self, login: LoginService) -> None:
        super().__init__()
        self.login = login

    def compose(self) -> ComposeResult:
        with Vertical(id="add-tenant-dialog", classes="dialog"):
            yield Input(placeholder="name (used with --tenant)", id="tenant-name")
            yield Input(placeholder="tenant id or domain, e.g. contoso.onmicrosoft.com", id="tenant-id")
            yield Input(placeholder="client id (empty: Microsoft Graph Command Line Tools)", id="client-id")
            yield Select(CLOUD_CHOICES, value="global", allow_blank=False, id="cloud")
            yield Static("", id="add-tenant-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#add-tenant-dialog").border_title = "Add a tenant"
        self.query_one("#tenant-name", Input).focus()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def save(self) -> None:
        name = self.query_one("#tenant-name", Input).value.strip()
        tenant = self.query_one("#tenant-id", Input).value.strip()
        client_id = self.query_one("#client-id", Input).value.strip()
        cloud = str(self.query_one("#cloud", Select).value)
        try:
            saved = self.login.add_tenant(name, tenant, client_id, cloud)
        except ValueError as exc:
            self.query_one("#add-tenant-error", Static).update(str(exc))
            return
        self.dismiss(saved.name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
