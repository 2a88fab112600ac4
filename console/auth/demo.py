"""``--demo``: the real MSAL device-code flow against the in-process simulated tenant.

The simulated identity approves the code by itself after a few seconds, so the demo
shows the same login pane a real tenant would, without a browser or a network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx

from console.auth.signin import DeviceCodePrompt, SignIn
from console.auth.transport import TransportHttpClient
from console.config import SavedTenant, SignInMethod
from console.paths import Paths
from console.sim.identity import SimulatedIdentity

DEMO_TENANT_NAME = "demo"
"""Saved-tenant name used for the demo (its token cache stays in memory)."""
DEMO_APPROVE_AFTER = 2.5
"""Seconds after which the demo's device code approves itself."""


class DemoTenant(Protocol):
    """What the demo needs of ``console.sim.tenant.SimulatedTenant``."""

    identity: SimulatedIdentity
    tenant_id: str
    tenant_domain: str

    def sync_transport(self) -> httpx.BaseTransport: ...


def demo_saved_tenant(tenant_sim: DemoTenant) -> SavedTenant:
    """A saved tenant pointing at the simulator's in-process login and Graph hosts."""
    from console.sim.tenant import DEMO_GRAPH_URL, DEMO_LOGIN_URL

    return SavedTenant(
        name=DEMO_TENANT_NAME,
        tenant=tenant_sim.tenant_domain,
        method=SignInMethod.DEVICE_CODE,
        authority=f"{DEMO_LOGIN_URL}/{tenant_sim.tenant_id}",
        graph_url=DEMO_GRAPH_URL,
    )


def demo_signin(
    tenant_sim: DemoTenant, paths: Paths, *, approve_after: float | None = DEMO_APPROVE_AFTER, **kwargs: Any
) -> SignIn:
    """A ``SignIn`` for the demo, not yet signed in (hand it to the login pane).

    Args:
        tenant_sim: the simulated tenant.
        paths: state paths (unused for the cache: demo tokens never touch disk).
        approve_after: seconds until the device code approves itself; None waits for ``identity.approve()``.
        kwargs: passed to ``SignIn`` (``clock``).
    """
    identity = tenant_sim.identity
    identity.auto_approve_after = approve_after
    identity.poll_interval = 1
    return SignIn(
        demo_saved_tenant(tenant_sim),
        paths,
        http_client=TransportHttpClient(tenant_sim.sync_transport()),
        persist=False,
        **kwargs,
    )


async def demo_sign_in(
    tenant_sim: DemoTenant,
    paths: Paths,
    *,
    on_prompt: Callable[[DeviceCodePrompt], None] | None = None,
    approve_after: float | None = DEMO_APPROVE_AFTER,
    **kwargs: Any,
) -> SignIn:
    """Run the demo's device-code sign-in to the end and return the signed-in ``SignIn``."""
    signin = demo_signin(tenant_sim, paths, approve_after=approve_after, **kwargs)
    await signin.device_code(on_prompt or (lambda _prompt: None))
    return signin
