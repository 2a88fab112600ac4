"""A client secret typed into the login form is used once and kept nowhere (issue 7, item 3)."""

from __future__ import annotations

import threading
from typing import Any

from console.auth.transport import TransportHttpClient
from console.config import SignInMethod
from console.paths import Paths
from console.sim.tenant import SimulatedTenant
from console.tui.services import CLIENT_SECRET, DeviceCodeHooks, TenantChoice
from console.tui.sessions import SavedTenantLogin

from .conftest import APP_ID, SECRET, FastClock, saved


def strings_in(value: Any, seen: set[int] | None = None, depth: int = 0) -> list[str]:
    """Every string reachable from ``value``'s attributes, lists and dicts (MSAL's own objects excluded)."""
    seen = seen if seen is not None else set()
    if id(value) in seen or depth > 6:
        return []
    seen.add(id(value))
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if type(value).__module__.startswith(("msal", "requests", "httpx", "asyncio", "threading")):
        return []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += strings_in(key, seen, depth + 1) + strings_in(item, seen, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            found += strings_in(item, seen, depth + 1)
    elif hasattr(value, "__dict__"):
        found += strings_in(vars(value), seen, depth + 1)
    elif hasattr(value, "__slots__"):
        for name in value.__slots__:
            found += strings_in(getattr(value, name, None), seen, depth + 1)
    return found


async def test_the_typed_secret_signs_in_and_is_kept_by_nobody(
    tenant_sim: SimulatedTenant, paths: Paths, clock: FastClock, http_client: TransportHttpClient
) -> None:
    from console.auth.signin import SignIn

    tenant = saved(tenant_sim, client_id=APP_ID, method=SignInMethod.CLIENT_SECRET)
    made: list[SignIn] = []

    def make_signin(saved_tenant: Any) -> SignIn:
        made.append(SignIn(saved_tenant, paths, http_client=http_client, clock=clock))
        return made[-1]

    opened: list[Any] = []
    login = SavedTenantLogin(
        paths,
        clock=clock,
        make_signin=make_signin,
        tenants=[tenant],
        on_session=lambda session, services: opened.append(services),
    )
    choice = TenantChoice(tenant.name, tenant.tenant)
    typed = "".join(SECRET)  # a distinct string object, as the form's Input would hold
    session = await login.sign_in(choice, CLIENT_SECRET, DeviceCodeHooks(lambda _p: None, threading.Event()), typed)
    assert session.header.identity == APP_ID
    holders = {"login": login, "signin": made[0], "saved": made[0].tenant, "session": session}
    for name, holder in holders.items():
        assert not any(SECRET in text for text in strings_in(holder)), name
    assert SECRET not in repr(made[0]) and SECRET not in repr(made[0].tenant)
    await opened[0].aclose()


async def test_a_token_env_tenant_signs_in_from_its_variable_in_the_console(
    tenant_sim: SimulatedTenant, paths: Paths, clock: FastClock, http_client: TransportHttpClient, monkeypatch: Any
) -> None:
    """A saved tenant with ``method = "token_env"`` is offered that method first in the login pane and signs
    in from its variable (issue 18), never asking for a secret."""
    from console.auth.signin import SignIn
    from console.tui.services import TOKEN_ENV

    monkeypatch.setenv("CONTOSO_TOKEN", tenant_sim.issue_token())
    tenant = saved(tenant_sim, method=SignInMethod.TOKEN_ENV, token_env="CONTOSO_TOKEN")
    opened: list[Any] = []
    login = SavedTenantLogin(
        paths,
        clock=clock,
        make_signin=lambda saved_tenant: SignIn(saved_tenant, paths, http_client=http_client, clock=clock),
        tenants=[tenant],
        on_session=lambda session, services: opened.append(services),
    )
    choice = TenantChoice(tenant.name, tenant.tenant)
    assert login.methods(choice)[0] is TOKEN_ENV
    session = await login.sign_in(choice, TOKEN_ENV, DeviceCodeHooks(lambda _p: None, threading.Event()))
    assert session.header.identity == "token from $CONTOSO_TOKEN"
    await opened[0].aclose()
