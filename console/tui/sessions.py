"""The console's side of the composition root: ``console.wiring`` builds every session, this turns it
into the ``Session`` the console shows, and offers the saved tenants to the login pane.

No Textual here, and no Graph client, journal or engine built here: ``services_for_signin`` and
``open_demo`` in ``console.wiring`` do that for the CLI and the console alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from console.clock import Clock, SystemClock
from console.config import DEFAULT_CLIENT_ID, SavedTenant, load_config, save_tenant
from console.config import SignInMethod as ConfigMethod
from console.graph.models import InboundSharedUserProfile
from console.paths import Paths
from console.tui.services import (
    CERTIFICATE,
    CLIENT_SECRET,
    DEVICE_CODE,
    TOKEN_ENV,
    DeviceCodeHooks,
    HeaderInfo,
    Session,
    SignInMethod,
    TenantChoice,
)
from console.wiring import Services, services_for_signin

_METHODS = {m.id: m for m in (DEVICE_CODE, CLIENT_SECRET, CERTIFICATE, TOKEN_ENV)}


def session_from_services(services: Services) -> Session:
    """The console's session over ``console.wiring``'s services (any way in: demo, token, saved tenant)."""
    client = services.client
    profiles = client.list_profiles if services.shared_profiles_available else _unavailable_profiles(services.cloud)
    return Session(
        engine=services.engine,
        profiles=profiles,
        header=HeaderInfo(services.tenant_label, services.identity, services.cloud),
        close=services.aclose,
        warm_up=services.warm_up,
        storage_transport=services.storage_transport,
        journal_path=services.journal_path,
        identity=services.identity,
        services=services,
        allow_removal=bool(services.saved_tenant is not None and services.saved_tenant.allow_removal),
        read_only=bool(services.saved_tenant is not None and services.saved_tenant.read_only),
        name=services.saved_tenant.name if services.saved_tenant is not None else "",
    )


def _unavailable_profiles(cloud: str) -> Callable[[], AsyncIterator[list[InboundSharedUserProfile]]]:
    async def pages() -> AsyncIterator[list[InboundSharedUserProfile]]:
        listed: list[list[InboundSharedUserProfile]] = []
        for page in listed:  # no page: the first one asked for raises (an async generator all the same)
            yield page
        raise RuntimeError(
            f"inbound shared user profiles exist only in Microsoft's global cloud, not in {cloud}: "
            "Graph offers no list, get or export for them there"
        )

    return pages


class SavedTenantLogin:
    """``LoginService`` over ``config.toml`` and ``console.auth.signin.SignIn``.

    Args:
        paths: state paths (config, journal, token caches).
        clock: the engine's and the device code's clock.
        poll_budget: polls an hour for each session's engine (None: each saved tenant's, else the default).
        make_signin: builds the ``SignIn`` of a saved tenant (the demo passes one over the simulator).
        demo_tenant: the demo's SimulatedTenant (its Graph, identity and storage), None for a real tenant.
        tenants: the saved tenants to offer instead of ``config.toml`` (the demo's one).
        on_session: called with each new session and its ``Services``.
        graph_url: ``--graph-url`` given with ``--tenant``: replaces the saved tenant's Graph URL.
    """

    def __init__(
        self,
        paths: Paths,
        *,
        clock: Clock | None = None,
        poll_budget: int | None = None,
        make_signin: Callable[[SavedTenant], Any] | None = None,
        demo_tenant: Any = None,
        tenants: list[SavedTenant] | None = None,
        on_session: Callable[[Session, Services], None] | None = None,
        graph_url: str | None = None,
    ) -> None:
        self.paths = paths
        self.clock: Clock = clock or SystemClock()
        self.poll_budget = poll_budget
        self._make_signin = make_signin
        self._demo_tenant = demo_tenant
        self._demo = demo_tenant is not None
        self._fixed_tenants = tenants
        self._on_session = on_session
        self.graph_url = graph_url
        """``--graph-url`` with ``--tenant``: every session of this login uses it instead of the saved one."""
        self._signins: dict[str, Any] = {}
        self.current: str | None = None
        """Name of the tenant of the open session."""

    # -- tenants ----------------------------------------------------------------------

    def _saved(self) -> dict[str, SavedTenant]:
        if self._fixed_tenants is not None:
            return {t.name: t for t in self._fixed_tenants}
        return dict(load_config(self.paths).tenants)

    def tenants(self) -> list[TenantChoice]:
        saved = self._saved()
        default = None
        if self._fixed_tenants is None:
            default = load_config(self.paths).default_tenant
        names = sorted(saved, key=lambda name: (name != default, name))
        return [
            TenantChoice(
                name,
                saved[name].tenant,
                saved[name].cloud,
                ("simulated · " if self._demo else "") + saved[name].method.value.replace("_", " "),
            )
            for name in names
        ]

    def methods(self, tenant: TenantChoice) -> list[SignInMethod]:
        saved = self._saved()[tenant.name]
        first = _METHODS[saved.method.value]
        if self._demo:
            return [first]
        # A token from the environment is offered only where the tenant names its variable.
        others = (m for m in _METHODS.values() if m is not first and m is not TOKEN_ENV)
        return [first, *others]

    def add_tenant(self, name: str, tenant: str, client_id: str, cloud: str) -> TenantChoice:
        if self._fixed_tenants is not None:
            raise ValueError("the demo has one simulated tenant; start without --demo to save real ones")
        saved = SavedTenant(name=name, tenant=tenant, client_id=client_id or DEFAULT_CLIENT_ID, cloud=cloud)
        save_tenant(self.paths, saved, make_default=not self._saved())
        return TenantChoice(saved.name, saved.tenant, saved.cloud, saved.method.value.replace("_", " "))

    # -- signing in -------------------------------------------------------------------

    def _signin(self, tenant: TenantChoice, method: SignInMethod | None = None) -> Any:
        saved = self._saved()[tenant.name]
        if method is not None and method.id != saved.method.value:
            saved = replace(saved, method=ConfigMethod(method.id))
        key = f"{saved.name}:{saved.method.value}"
        signin = self._signins.get(key)
        if signin is None:
            if self._make_signin is not None:
                signin = self._make_signin(saved)
            else:
                from console.auth.signin import SignIn

                signin = SignIn(saved, self.paths, clock=self.clock)
            self._signins[key] = signin
        return signin

    async def try_silent(self, tenant: TenantChoice) -> Session | None:
        signin = self._signin(tenant)
        account = await signin.try_silent()
        if account is None:
            return None
        return self._open(tenant, signin)

    async def sign_in(
        self, tenant: TenantChoice, method: SignInMethod, hooks: DeviceCodeHooks, secret: str = ""
    ) -> Session:
        signin = self._signin(tenant, method)
        if method.id == DEVICE_CODE.id:
            await signin.device_code(hooks.on_prompt, hooks.cancel)
        elif method.id == CLIENT_SECRET.id:
            # Handed to MSAL (which needs it to renew app-only tokens) and kept nowhere else: not in
            # SignIn, SavedTenant, config or this object. The form clears its field once this returns.
            await signin.client_secret(secret or None)
            del secret
        elif method.id == TOKEN_ENV.id:
            signin.token_from_env()
        else:
            await signin.certificate()
        return self._open(tenant, signin)

    async def sign_out(self, tenant: TenantChoice | None) -> None:
        name = tenant.name if tenant is not None else self.current
        for key, signin in list(self._signins.items()):
            if name is None or key.startswith(f"{name}:"):
                await signin.sign_out()
                del self._signins[key]
        self.current = None

    def _open(self, tenant: TenantChoice, signin: Any) -> Session:
        sim = self._demo_tenant
        services = services_for_signin(
            signin,
            self.paths,
            poll_budget=self.poll_budget,
            clock=self.clock,
            graph_url=self.graph_url,
            graph_transport=sim.transport() if sim is not None else None,
            demo_tenant=sim,
        )
        self.current = tenant.name
        session = session_from_services(services)
        saved: SavedTenant = signin.tenant
        session.header = HeaderInfo(f"{saved.name} ({saved.tenant})", services.identity, saved.cloud)
        if self._on_session is not None:
            self._on_session(session, services)
        return session
