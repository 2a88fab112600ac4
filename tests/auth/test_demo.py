"""--demo (wired in console.demo: auth never imports the simulator): the real MSAL device-code flow against the in-process simulator, approved by itself."""

from __future__ import annotations

from typing import Any

from console.auth.signin import DeviceCodePrompt
from console.demo import demo_signin
from console.graph.client import GraphClient
from console.paths import Paths
from console.sim.tenant import DEMO_GRAPH_URL, DEMO_LOGIN_URL, SimulatedTenant


async def test_demo_sign_in_is_approved_automatically_and_keeps_nothing_on_disk(paths: Paths, clock: Any) -> None:
    sim = SimulatedTenant(profiles=3)
    prompts: list[DeviceCodePrompt] = []
    signin = demo_signin(sim, paths, approve_after=0.05, clock=clock)
    await signin.device_code(prompts.append)
    assert prompts and prompts[0].verification_uri.startswith(DEMO_LOGIN_URL)
    assert signin.account is not None and signin.account.tenant_id == sim.tenant_id
    assert signin.tenant.graph_base_url == DEMO_GRAPH_URL
    assert not list(paths.cache_dir.glob("token-cache-*"))
    async with GraphClient(DEMO_GRAPH_URL, signin.provider, transport=sim.transport()) as client:
        assert sum([len(p) async for p in client.list_profiles()]) == 3


def test_demo_signin_sets_the_knobs(paths: Paths) -> None:
    sim = SimulatedTenant(profiles=1)
    signin = demo_signin(sim, paths)
    assert sim.identity.auto_approve_after == 2.5 and sim.identity.poll_interval == 1
    assert signin.account is None
