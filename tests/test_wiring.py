"""console/wiring.py, the one composition root: every way in gives working services, under one set of rules.

The demo runs in-process; ``--token-env`` and saved tenants talk to the simulated tenant served on
loopback (``export-console simulate``'s server), with MSAL going to the simulated identity.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.auth.transport import TransportHttpClient
from console.clock import SystemClock
from console.config import SavedTenant, SignInMethod, save_tenant
from console.demo import DEMO_IDENTITY, DEMO_RUNNING, DEMO_STORAGE
from console.paths import Paths
from console.sim.server import TenantHTTPServer, serve
from console.sim.tenant import DEMO_TENANT_ID, SimulatedTenant
from console.tui.entry import build_console_services
from console.wiring import (
    ConnectionOptions,
    Services,
    UsageError,
    check_options,
    open_demo,
    open_journal_only,
    open_services,
)

LOGIN_URL = "https://login.wiring.invalid"
"""The simulated identity's host for MSAL (in-process, never resolvable)."""
APP_ID = "3c2b1a09-8f7e-4d6c-b5a4-938271605f4e"
"""A confidential app registered in the simulated tenant."""
SECRET = "wiring~Secret.Never-To_Leak"
"""Its client secret."""


class FastClock(SystemClock):
    """Real time, but device-code waits are 100 times shorter."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / 100)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any connection to a non-loopback address fails the test; every connection is recorded."""
    real_connect = socket.socket.connect
    seen: list[Any] = []

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        seen.append(address)
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    for variable in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return seen


@pytest.fixture
def sim() -> SimulatedTenant:
    tenant = SimulatedTenant(profiles=7)
    tenant.identity.poll_interval = 1
    tenant.identity.register_app(APP_ID, public_client_flows=False, secret=SECRET)
    return tenant


@pytest.fixture
async def server(sim: SimulatedTenant) -> AsyncIterator[TenantHTTPServer]:
    running = await serve(sim)
    task = asyncio.create_task(running.serve_forever())
    try:
        yield running
    finally:
        await running.aclose()
        task.cancel()


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state")


async def profile_count(services: Services) -> int:
    return sum([len(page) async for page in services.client.list_profiles()])


def save(state: str, sim: SimulatedTenant, **values: Any) -> SavedTenant:
    paths = Paths.resolve(state)
    paths.ensure()
    fields: dict[str, Any] = {
        "name": "contoso",
        "tenant": sim.tenant_id,
        "authority": f"{LOGIN_URL}/{sim.tenant_id}",
    }
    fields.update(values)
    tenant = SavedTenant(**fields)
    save_tenant(paths, tenant, make_default=True)
    return tenant


# ------------------------------------------------------------------------------------------ ways in


async def test_the_demo_gives_working_services_with_its_own_journal_and_template(state: str) -> None:
    services = await open_services(ConnectionOptions(demo=True, state_dir=state))
    try:
        assert services.identity == DEMO_IDENTITY == services.engine.identity
        assert services.tenant_key == DEMO_TENANT_ID == services.demo.tenant_id
        assert services.journal_path.name == "journal-demo.sqlite3"
        assert "{userId}" in DEMO_STORAGE
        assert await profile_count(services) == 300
        await services.engine.start()
        assert services.warm_up is not None
        await services.warm_up()
        views = services.engine.operations()
        assert len(views) == DEMO_RUNNING
        # one export per storage location: the template gives each profile its own container
        assert len({view.storage_location for view in views}) == DEMO_RUNNING
        assert all("demo-not-a-secret" not in view.storage_location for view in views)
        assert {view.submitted_by for view in views} == {DEMO_IDENTITY}
    finally:
        await services.aclose()


async def test_the_demo_storage_stand_in_is_wired_to_services_and_the_engine(state: str) -> None:
    services = open_demo(ConnectionOptions(demo=True, state_dir=state))
    try:
        assert services.storage_transport is not None
        from console.demo import demo_location
        from console.storage.blob import preflight

        await services.engine.start()
        assert services.warm_up is not None
        await services.warm_up()
        user_id = services.engine.operations()[0].user_id
        result = await preflight(demo_location(user_id), transport=services.storage_transport)
        assert result.ok, result
        # a profile the warm-up did not export: its container is there for the export form too
        others = {p.user_id for p in services.demo.graph.profiles} - {v.user_id for v in services.engine.operations()}
        result = await preflight(demo_location(sorted(others)[0]), transport=services.storage_transport)
        assert result.ok, result
        # the engine checks deliveries through the same stand-in
        assert services.engine.delivery_check is not None
        delivery = await services.engine.delivery_check(demo_location(user_id))
        assert not delivery.error, delivery
        # and a container nobody made is refused, so the check is real
        missing = DEMO_STORAGE.replace("dsr-{userId}", "nobody-made-this")
        assert not (await preflight(missing, transport=services.storage_transport)).ok
    finally:
        await services.aclose()


async def test_the_console_and_the_cli_build_the_demo_the_same_way(state: str) -> None:
    console = build_console_services(ConnectionOptions(demo=True, state_dir=state))
    assert console.session is not None
    behind = console.session.services
    assert isinstance(behind, Services)
    assert behind.demo is console.extra["simulated_tenant"]
    assert console.session.engine is behind.engine
    assert console.session.warm_up is behind.warm_up is not None
    assert console.session.header.identity == console.session.identity == DEMO_IDENTITY
    assert console.session.storage_transport is behind.storage_transport is not None
    assert console.session.journal_path == behind.journal_path
    await behind.aclose()


async def test_a_token_from_the_environment_against_simulate_on_loopback(
    state: str, sim: SimulatedTenant, server: TenantHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRING_TOKEN", sim.issue_token())
    options = ConnectionOptions(graph_url=f"{server.base_url}/beta", token_env="WIRING_TOKEN", state_dir=state)
    services = await open_services(options)
    try:
        assert services.identity == "token from $WIRING_TOKEN" == services.engine.identity
        assert services.tenant_key == sim.tenant_id
        assert services.journal_path.name != "journal-demo.sqlite3"
        assert await profile_count(services) == 7
        assert server.requests_served >= 1
    finally:
        await services.aclose()


async def test_a_saved_tenant_on_loopback_graph_signs_in_app_only(
    state: str, sim: SimulatedTenant, server: TenantHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved tenant's graph_url may be http://127.0.0.1:PORT (as --graph-url may): it can use `simulate`."""
    monkeypatch.setenv("WIRING_SECRET", SECRET)
    save(
        state,
        sim,
        client_id=APP_ID,
        method=SignInMethod.CLIENT_SECRET,
        client_secret_env="WIRING_SECRET",
        graph_url=f"{server.base_url}/beta",
    )
    services = await open_services(
        ConnectionOptions(tenant="contoso", state_dir=state),
        sign_in_http_client=TransportHttpClient(sim.sync_transport()),
    )
    try:
        assert services.identity == APP_ID == services.engine.identity  # app-only: the app id submits
        assert services.tenant_key == sim.tenant_id
        assert services.signin is not None and services.saved_tenant is not None
        assert SECRET not in repr(services.signin) and SECRET not in repr(services.saved_tenant)
        assert await profile_count(services) == 7
    finally:
        await services.aclose()


async def test_a_saved_tenant_with_a_device_code_submits_as_the_signed_in_user(
    state: str, sim: SimulatedTenant, server: TenantHTTPServer
) -> None:
    sim.identity.auto_approve_after = 0.0
    save(state, sim, graph_url=f"{server.base_url}/beta")
    prompts: list[str] = []
    services = await open_services(
        ConnectionOptions(tenant="contoso", state_dir=state),
        on_device_code=prompts.append,
        clock=FastClock(),
        sign_in_http_client=TransportHttpClient(sim.sync_transport()),
    )
    try:
        assert prompts and "code" in prompts[0]
        assert services.identity == f"admin@{sim.tenant_domain}" == services.engine.identity
        assert await profile_count(services) == 7
    finally:
        await services.aclose()


# -------------------------------------------------------------------------------------- option rules


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ConnectionOptions(demo=True, graph_url="http://127.0.0.1:9/beta"), "--demo .* --graph-url"),
        (ConnectionOptions(demo=True, tenant="contoso"), "--demo .* --tenant"),
        (ConnectionOptions(demo=True, token_env="T"), "--demo .* --token-env"),
        (ConnectionOptions(graph_url="http://127.0.0.1:9/beta"), r"^--graph-url needs --token-env"),
        (ConnectionOptions(tenant="a", token_env="T"), "choose one of --tenant, --token-env"),
        (ConnectionOptions(graph_url="", token_env="T"), "--graph-url"),
        (ConnectionOptions(graph_url="https://graph.microsoft.com", token_env="T"), "version"),
        (ConnectionOptions(graph_url="http://graph.example.com/beta", token_env="T"), "plain http"),
        (ConnectionOptions(demo=True, poll_budget=0), "--poll-budget"),
    ],
)
def test_one_set_of_option_rules(options: ConnectionOptions, message: str, state: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_options(options)
    with pytest.raises(UsageError, match=message):  # the console applies the same rules
        build_console_services(ConnectionOptions(**{**options.__dict__, "state_dir": state}))


async def test_the_cli_entry_applies_the_rules_too(state: str) -> None:
    with pytest.raises(UsageError, match="--demo uses its own simulated tenant"):
        await open_services(ConnectionOptions(demo=True, graph_url="https://graph.microsoft.com/beta", state_dir=state))
    with pytest.raises(UsageError, match="--graph-url needs --token-env"):
        await open_services(ConnectionOptions(graph_url="http://127.0.0.1:9/beta", state_dir=state))
    with pytest.raises(UsageError, match="no tenant chosen"):
        await open_services(ConnectionOptions(state_dir=state))


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("http://127.0.0.1:8765/beta", True),
        ("http://[::1]:8765/v1.0", True),
        ("https://graph.example.test/beta", True),
        ("http://graph.example.test/beta", False),
        ("https://graph.example.test", False),
        ("https://user:pw@graph.example.test/beta", False),
    ],
)
def test_a_saved_graph_url_follows_the_graph_url_rules(url: str, accepted: bool) -> None:
    from console.config import ConfigError

    if accepted:
        assert SavedTenant(name="t", tenant="contoso.com", graph_url=url).graph_url == url
    else:
        with pytest.raises(ConfigError, match="graph_url"):
            SavedTenant(name="t", tenant="contoso.com", graph_url=url)


# -------------------------------------------------------------------------------------- journal only


@pytest.fixture
def no_http(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every httpx transport fails on any request, and any socket connect fails: the network is off."""
    attempts: list[str] = []

    async def refuse_async(self: Any, request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise AssertionError(f"open_journal_only sent {request.method} {request.url}")

    def refuse_sync(self: Any, request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise AssertionError(f"open_journal_only sent {request.method} {request.url}")

    def refuse_connect(self: socket.socket, address: Any) -> None:
        attempts.append(repr(address))
        raise AssertionError(f"open_journal_only connected to {address!r}")

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", refuse_async)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse_sync)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    return attempts


async def test_journal_only_for_the_demo_reads_what_the_demo_wrote(state: str, no_http: list[str]) -> None:
    services = open_demo(ConnectionOptions(demo=True, state_dir=state))  # in-process: no socket, no httpx
    await services.engine.start()
    assert services.warm_up is not None
    await services.warm_up()
    await services.aclose()

    only = open_journal_only(ConnectionOptions(demo=True, state_dir=state))
    try:
        assert only.tenant_key == DEMO_TENANT_ID and only.name_of(DEMO_TENANT_ID) == "contoso"
        assert only.tenant_keys is not None and len(only.tenant_keys) == 3  # ops and report: every demo tenant
        assert len(only.journal.rows(DEMO_TENANT_ID)) == DEMO_RUNNING
    finally:
        only.close()
    assert no_http == []


def test_journal_only_with_a_token_reads_its_tenant_and_never_the_network(
    state: str, sim: SimulatedTenant, no_http: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRING_TOKEN", "Bearer " + sim.issue_token())
    only = open_journal_only(ConnectionOptions(token_env="WIRING_TOKEN", state_dir=state))
    assert only.tenant_key == sim.tenant_id
    only.close()
    monkeypatch.setenv("WIRING_TOKEN", "opaque-token")
    only = open_journal_only(
        ConnectionOptions(token_env="WIRING_TOKEN", graph_url="http://127.0.0.1:9/beta", state_dir=state)
    )
    assert only.tenant_key == "http://127.0.0.1:9/beta"
    only.close()
    monkeypatch.delenv("WIRING_TOKEN")
    only = open_journal_only(ConnectionOptions(token_env="WIRING_TOKEN", state_dir=state))
    assert only.tenant_key is None  # all tenants
    only.close()
    assert no_http == []


def test_journal_only_for_a_saved_tenant_never_signs_in(
    state: str, sim: SimulatedTenant, no_http: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRING_SECRET", SECRET)
    save(state, sim, client_id=APP_ID, method=SignInMethod.CLIENT_SECRET, client_secret_env="WIRING_SECRET")
    only = open_journal_only(ConnectionOptions(tenant="contoso", state_dir=state))
    assert only.tenant_key == sim.tenant_id
    only.close()
    save(state, sim, name="bydomain", tenant=sim.tenant_domain)
    only = open_journal_only(ConnectionOptions(tenant="bydomain", state_dir=state))
    assert only.tenant_key is None  # a domain: its id is known only after sign-in
    only.close()
    only = open_journal_only(ConnectionOptions(state_dir=state))
    assert only.tenant_key is None
    only.close()
    assert no_http == [] and sim.identity.calls == []


def test_the_no_http_guard_really_refuses(no_http: list[str]) -> None:
    with pytest.raises(AssertionError, match="sent GET"), httpx.Client() as client:
        client.get("https://graph.microsoft.com/beta")
    assert no_http


async def test_the_console_login_honours_graph_url_with_tenant(
    state: str, sim: SimulatedTenant, server: TenantHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--tenant NAME --graph-url URL in the console: the login's sessions use URL, not the saved one."""
    import threading

    from console.auth.signin import SignIn
    from console.tui.services import CLIENT_SECRET, DeviceCodeHooks, TenantChoice
    from console.tui.sessions import SavedTenantLogin

    monkeypatch.setenv("WIRING_SECRET", SECRET)
    tenant = save(
        state,
        sim,
        client_id=APP_ID,
        method=SignInMethod.CLIENT_SECRET,
        client_secret_env="WIRING_SECRET",
        graph_url="https://graph.unreachable.invalid/beta",
    )
    url = f"{server.base_url}/beta"
    console = build_console_services(ConnectionOptions(tenant="contoso", graph_url=url, state_dir=state))
    assert isinstance(console.login, SavedTenantLogin) and console.login.graph_url == url
    paths = Paths.resolve(state)
    login = SavedTenantLogin(
        paths,
        graph_url=url,
        make_signin=lambda saved: SignIn(saved, paths, http_client=TransportHttpClient(sim.sync_transport())),
    )
    session = await login.sign_in(
        TenantChoice(tenant.name, tenant.tenant), CLIENT_SECRET, DeviceCodeHooks(lambda _p: None, threading.Event())
    )
    services = session.services
    assert isinstance(services, Services) and services.graph_url == url
    assert await profile_count(services) == 7
    await services.aclose()
