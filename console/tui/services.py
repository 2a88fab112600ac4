"""What the console is handed: the engine, a profile source, sign-in, and what to show in the header.

The app never builds a URL, a Graph client or a journal: the CLI (or the demo, or a
test) builds these and injects them (STYLE.md, habit 1). Everything here is a small
protocol so tests can pass in-memory fakes and the real ``OperationsEngine`` fits as is.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from console.clock import Clock, SystemClock
from console.graph.models import InboundSharedUserProfile
from console.ops.events import OperationEvent, OperationView, PollRecord
from console.ops.submission import SubmitEngine


class OperationsService(SubmitEngine, Protocol):
    """The part of ``console.ops.engine.OperationsEngine`` the console uses (docs/interfaces.md, "console/ops"):
    what a submission needs (``submit``, ``quota``, ``check_quota``, ``conflicts``: ``console.ops.submission``),
    and the rest below.

    Calls that read the journal are async (the engine keeps SQLite off the event loop); ``operations``
    and ``operation`` answer from memory.
    """

    posts_in_flight: int
    """Export POSTs sent and not yet answered (quitting now would leave them unconfirmed)."""

    def subscribe(self, callback: Callable[[OperationEvent], None]) -> Callable[[], None]:
        """Call ``callback`` (on the app's event loop) with every event; returns the unsubscribe."""
        ...

    async def start(self, *, resume: bool = True) -> None:
        """Load the tenant's journal and resume polling every unfinished operation."""
        ...

    async def stop(self) -> None:
        """Stop polling and flush the journal."""
        ...

    def operations(self) -> list[OperationView]:
        """Every operation of the tenant, oldest first."""
        ...

    def operation(self, key: int) -> OperationView | None:
        """One operation by journal key."""
        ...

    async def history(self, key: int) -> list[PollRecord]:
        """Every poll of one operation, oldest first."""
        ...


ProfileSource = Callable[[], AsyncIterator[list[InboundSharedUserProfile]]]
"""Returns a fresh async iterator of profile pages (``GraphClient.list_profiles``)."""


@dataclass(frozen=True)
class HeaderInfo:
    """What the header shows about where the console is signed in."""

    tenant: str
    """Saved tenant name or tenant id/domain (``--tenant``), or the Graph URL host."""
    identity: str
    """Signed-in user or application (UPN, app id), or ``token from $VAR``."""
    cloud: str = "global"
    """National cloud name: global, usgov, usgovdod, china."""


@dataclass
class Session:
    """Everything that exists once signed in to one tenant."""

    engine: OperationsService
    profiles: ProfileSource
    header: HeaderInfo
    close: Callable[[], Awaitable[None]] | None = None
    """Releases the session's resources (HTTP client, journal); the app awaits it on sign-out and exit."""
    warm_up: Callable[[], Awaitable[None]] | None = None
    """Run once the engine has started (the demo submits a few exports so the first screen is alive)."""
    storage_transport: Any = None
    """The demo's blob stand-in (an httpx transport) for pre-flight and delivery checks; None: the network."""
    journal_path: Path | None = None
    """The journal file (the report opens its own reader on it); None for in-memory fakes."""
    identity: str = ""
    """Who submits (UPN, app id, ``token from $VAR``, ``demo admin``): the default author of notes."""
    services: Any = None
    """The ``console.wiring.Services`` behind this session, if any."""
    allow_removal: bool = False
    """Removal (removePersonalData) may be sent: the saved tenant's ``allow_removal = true`` (issue 19)."""
    read_only: bool = False
    """Nothing that changes anything may be sent (removals are refused)."""
    name: str = ""
    """The saved tenant's name (``--tenant NAME``; the demo's tenants have names too): what the console
    calls the tenant in its Tenant column, forms, confirmations and toasts ("" : the header's tenant)."""


@dataclass(frozen=True)
class TenantChoice:
    """A saved tenant the login pane offers."""

    name: str
    """The saved name (``--tenant NAME``)."""
    tenant: str
    """Tenant id or domain."""
    cloud: str = "global"
    detail: str = ""
    """One line shown under the name (client id, method, 'simulated')."""


@dataclass(frozen=True)
class SignInMethod:
    """One way to sign in, as the login pane lists it."""

    id: str
    """``device_code``, ``client_secret``, ``certificate`` or ``token_env``."""
    label: str
    needs_secret: bool = False
    """The method asks for a secret or certificate path the pane collects (not device code)."""


DEVICE_CODE = SignInMethod("device_code", "Device code (works over SSH)")
CLIENT_SECRET = SignInMethod("client_secret", "Client secret (app-only)", needs_secret=True)
CERTIFICATE = SignInMethod("certificate", "Certificate (app-only)", needs_secret=True)
TOKEN_ENV = SignInMethod("token_env", "Token from the tenant's environment variable")


class DeviceCodePrompt(Protocol):
    """What the identity platform asks the user to do (``console.auth``'s prompt fits)."""

    verification_uri: str
    user_code: str
    expires_at: float
    """Epoch seconds when the code stops working."""
    message: str


@dataclass(frozen=True)
class DeviceCodeHooks:
    """How a device-code sign-in reaches the login pane while it waits for the admin (other methods
    ignore it)."""

    on_prompt: Callable[[DeviceCodePrompt], None]
    """Called with the device code to show."""
    cancel: threading.Event
    """Set (from any thread) to abandon the flow (Esc)."""


class LoginService(Protocol):
    """Sign-in for the login pane: saved tenants, methods, and a way to open a session."""

    def tenants(self) -> list[TenantChoice]:
        """Saved tenants, the default first."""
        ...

    def methods(self, tenant: TenantChoice) -> list[SignInMethod]:
        """Sign-in methods available for ``tenant``."""
        ...

    def add_tenant(self, name: str, tenant: str, client_id: str, cloud: str) -> TenantChoice:
        """Save a tenant and return it.

        Raises:
            ValueError: with a sentence when a field is unusable.
        """
        ...

    async def try_silent(self, tenant: TenantChoice) -> Session | None:
        """Open a session from the token cache, or None when the user must sign in."""
        ...

    async def sign_in(
        self, tenant: TenantChoice, method: SignInMethod, hooks: DeviceCodeHooks, secret: str = ""
    ) -> Session:
        """Sign in interactively and open a session.

        Args:
            tenant: the tenant to sign in to.
            method: how.
            hooks: the device code to show, and the Esc that abandons the flow (device-code flow only).
            secret: the client secret or certificate path for app-only methods.

        Raises:
            Exception: any sign-in failure or the cancellation; its ``str`` is shown to the admin.
        """
        ...

    async def sign_out(self, tenant: TenantChoice | None) -> None:
        """Forget the cached tokens of ``tenant`` (the current one when None)."""
        ...


@dataclass
class ConsoleServices:
    """What ``ConsoleApp`` is given.

    Either ``session`` (already signed in: ``--graph-url/--token-env``, a silent sign-in,
    or the demo) or ``login`` (show the login pane), or both (sign out and in again).
    """

    session: Session | None = None
    login: LoginService | None = None
    demo: bool = False
    """Started with ``--demo`` (simulated tenant): the header says so."""
    clock: Clock = field(default_factory=SystemClock)
    """Where 'elapsed' and 'next poll in' and countdowns take the time from (fixed in snapshots)."""
    initial_tenant: str | None = None
    """The saved tenant to preselect on the login pane (``--tenant NAME``)."""
    live_ticks: bool = True
    """Refresh time-based cells every second; snapshot tests turn it off."""
    read_only: bool = False
    """``--read-only``: nothing that changes anything is sent (export and removal are refused)."""
    tenants: Any = None
    """``console.tui.tenants.Sessions`` when several tenants are open at once (issue 18), else None."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything a wiring wants to keep alive with the app (e.g. the simulated tenant)."""
