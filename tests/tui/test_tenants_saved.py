"""The console on several saved tenants (issue 18): ``--tenant`` repeated or ``--all-tenants`` opens one table
across them, each tenant signed in on its own; one that cannot sign in is set aside and named, the others open."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.config import SavedTenant, SignInMethod, save_tenant
from console.paths import Paths
from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant
from console.tui.app import ConsoleApp
from console.tui.entry import build_console_services
from console.tui.tenants import Sessions
from console.wiring import ConnectionOptions, UsageError
from tests.tui.test_console import settle


@pytest.fixture
def saved_two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path / "state"
    paths = Paths.resolve(state)
    sims = [SimulatedTenant(profiles=5, tenant_id=str(uuid.uuid4())) for _ in range(2)]
    with LoopbackServer(sims[0]) as server_a, LoopbackServer(sims[1]) as server_b:
        for name, server, sim in (("alpha", server_a, sims[0]), ("beta", server_b, sims[1])):
            save_tenant(
                paths,
                SavedTenant(
                    name=name,
                    tenant=f"{name}.example",
                    method=SignInMethod.TOKEN_ENV,
                    token_env=f"{name.upper()}_TOKEN",
                    graph_url=server.graph_url,
                ),
            )
            monkeypatch.setenv(f"{name.upper()}_TOKEN", sim.issue_token(lifetime=3600))
        yield state


def _sessions(services: object) -> Sessions:
    tenants = getattr(services, "tenants", None)
    assert isinstance(tenants, Sessions)
    return tenants


def test_all_tenants_opens_one_console_over_each_saved_tenant(saved_two: Path) -> None:
    services = build_console_services(ConnectionOptions(state_dir=str(saved_two), all_tenants=True))
    assert [session.name for session in _sessions(services).sessions] == ["alpha", "beta"]
    assert services.extra["set_aside"] == []


async def test_a_tenant_that_cannot_sign_in_is_set_aside_and_named(
    saved_two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BETA_TOKEN")
    options = ConnectionOptions(state_dir=str(saved_two), tenants=("alpha", "beta"))
    services = await asyncio.to_thread(build_console_services, options)  # as run_console does, before the app
    assert services.tenants is None and services.session is not None and services.session.name == "alpha"
    [(name, why)] = services.extra["set_aside"]
    assert name == "beta" and "BETA_TOKEN" in why
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("beta: set aside" in entry.text for entry in app.event_log)


def test_no_tenant_signing_in_is_a_usage_error_naming_each(saved_two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALPHA_TOKEN")
    monkeypatch.delenv("BETA_TOKEN")
    with pytest.raises(UsageError, match="alpha: .*beta: "):
        build_console_services(ConnectionOptions(state_dir=str(saved_two), all_tenants=True))
