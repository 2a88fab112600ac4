"""Fixtures for the simulated tenant's tests: a clock that only moves when told to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant


class SteppingClock:
    """A callable epoch clock for the simulator; ``advance`` moves it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self.now += seconds


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def tenant(clock: SteppingClock) -> SimulatedTenant:
    return SimulatedTenant(profiles=250, seed=7, clock=clock, page_size=100, retry_after=2.0, export_duration=20.0)


@pytest.fixture
def token(tenant: SimulatedTenant) -> str:
    return tenant.issue_token()


@pytest.fixture
async def client(tenant: SimulatedTenant, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=tenant.transport(), base_url=DEMO_GRAPH_URL + "/", headers={"Authorization": f"Bearer {token}"}
    ) as http:
        yield http
