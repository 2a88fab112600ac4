"""Signing in again to one tenant signed out of, over the others (issue 18): the login pane for that tenant only.

With several tenants open, "Sign out of NAME" leaves NAME's operations in the journal; the palette's
"Sign in to NAME" opens this screen. It signs in the way the console did at start-up: the tenant's ways
in that need no prompt (a token variable, a secret, a certificate, a cached sign-in) silently first, then,
for a tenant that signs in with a device code, the code at once, shown as the login pane shows it (c copies
it, Esc cancels). The session it opens joins the others (``ConsoleApp`` hands it to ``MainScreen``).
"""

from __future__ import annotations

from console.tui.messages import HoldsSession
from console.tui.screens.login import LoginScreen
from console.tui.services import DEVICE_CODE, ConsoleServices, LoginService, TenantChoice
from console.tui.widgets.header import ConsoleHeader


class SignInAgainScreen(LoginScreen):
    """Sign in again to tenant ``name`` (``login`` offers it alone); Esc cancels, or closes when idle.

    Args:
        login: the tenant's own sign-in (``Sessions.logins[name]``).
        services: the console's services.
        name: the tenant's name.
    """

    def __init__(self, login: LoginService, services: ConsoleServices, name: str) -> None:
        super().__init__(login, services, try_silent=False, notice=f"Signing in to {name} again…")
        self.tenant_name = name

    def on_mount(self) -> None:
        self.call_later(self._begin)  # after the login pane's own on_mount (Textual runs the subclass's first)

    def _begin(self) -> None:
        session = self.app.session if isinstance(self.app, HoldsSession) else None
        if session is not None:  # the tenants still signed in, as the main screen's header says
            self.query_one(ConsoleHeader).show(session.header, demo=self.services.demo)
        self.query_one("#login-tenants").border_title = "Sign in again"
        self.query_one("#login-method").border_title = f"Sign in to {self.tenant_name}"
        self.query_one("#add-tenant").display = False
        self.reload_tenants(self.tenant_name)
        if self.selected_tenant is not None:
            self.sign_in_silently(self.selected_tenant)

    def not_signed_in_silently(self, tenant: TenantChoice) -> None:
        """A device-code tenant shows its code at once (the admin asked to sign in to it); others wait for a method."""
        if self.methods and self.methods[0].id == DEVICE_CODE.id:
            self.call_later(self.action_sign_in)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc always works here (it closes when nothing is running); no tenant is added from here."""
        if action == "cancel":
            return True
        if action == "add_tenant":
            return False
        return super().check_action(action, parameters)

    def action_cancel(self) -> None:
        """Cancel any sign-in under way and go back: the tenant stays signed out of, nothing else changes."""
        if self._cancel is not None:
            super().action_cancel()  # the device-code flow stops asking
        self.workers.cancel_group(self, "sign-in")
        self.dismiss(None)
        name = self.tenant_name
        self.app.notify(
            f"Not signed in to {name}: it stays signed out (its operations stay in the journal).",
            title="Sign in",
            severity="warning",
            markup=False,
        )
