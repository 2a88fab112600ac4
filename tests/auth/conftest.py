"""Fixtures for sign-in tests: an isolated state dir, a simulated tenant, real MSAL, no internet."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from console.auth.signin import SignIn
from console.auth.transport import TransportHttpClient
from console.clock import SystemClock
from console.config import SavedTenant, SignInMethod
from console.paths import Paths
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

LOGIN_URL = "https://login.test.invalid"
"""Login host of the in-process simulated identity in these tests (never resolvable)."""
APP_ID = "6a1f0e3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b"
"""A confidential app registered in the simulated tenant."""
SECRET = "s3cr3t~Value.That-Must_Never.Leak"
"""Its client secret."""


class FastClock(SystemClock):
    """Real time, but waits between device-code polls are 100 times shorter."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / 100)


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    for variable in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "MSAL_FORCE_REGION",
    ):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def paths(tmp_path: Any) -> Paths:
    """An isolated state dir (config, journal and token cache side by side)."""
    resolved = Paths.resolve(tmp_path / "state")
    resolved.ensure()
    return resolved


@pytest.fixture
def tenant_sim() -> SimulatedTenant:
    """A small simulated tenant; device codes poll every second (100x faster with FastClock)."""
    sim = SimulatedTenant(profiles=5)
    sim.identity.poll_interval = 1
    sim.identity.register_app(APP_ID, public_client_flows=False, secret=SECRET)
    return sim


@pytest.fixture
def http_client(tenant_sim: SimulatedTenant) -> TransportHttpClient:
    """MSAL's HTTP, routed into the simulated tenant in-process."""
    return TransportHttpClient(tenant_sim.sync_transport())


@pytest.fixture
def clock() -> FastClock:
    return FastClock()


def saved(tenant_sim: SimulatedTenant, **overrides: Any) -> SavedTenant:
    """A saved tenant pointing at the in-process simulated identity and Graph."""
    values: dict[str, Any] = {
        "name": "contoso",
        "tenant": tenant_sim.tenant_domain,
        "authority": f"{LOGIN_URL}/{tenant_sim.tenant_id}",
        "graph_url": DEMO_GRAPH_URL,
    }
    values.update(overrides)
    return SavedTenant(**values)


@pytest.fixture
def delegated(tenant_sim: SimulatedTenant) -> SavedTenant:
    return saved(tenant_sim)


@pytest.fixture
def app_secret(tenant_sim: SimulatedTenant) -> SavedTenant:
    return saved(tenant_sim, client_id=APP_ID, method=SignInMethod.CLIENT_SECRET, client_secret_env="CONTOSO_SECRET")


@pytest.fixture
def make_signin(paths: Paths, http_client: TransportHttpClient, clock: FastClock) -> Iterator[Any]:
    """Build a ``SignIn`` as a fresh process would (new MSAL app, cache read from disk)."""

    def make(tenant: SavedTenant, **kwargs: Any) -> SignIn:
        kwargs.setdefault("http_client", http_client)
        kwargs.setdefault("clock", clock)
        return SignIn(tenant, paths, **kwargs)

    yield make
