"""Simulated Microsoft identity platform (placeholder; the login work replaces it)."""

from __future__ import annotations

from typing import Callable

import httpx

from console.sim.tokens import TokenStore


class SimulatedIdentity:
    """Answers the identity endpoints of the simulated tenant."""

    def __init__(
        self,
        *,
        tokens: TokenStore,
        tenant_id: str,
        tenant_domain: str,
        clock: Callable[[], float],
    ) -> None:
        self.tokens = tokens
        self.tenant_id = tenant_id
        self.tenant_domain = tenant_domain
        self.clock = clock

    def handle(self, request: httpx.Request) -> httpx.Response | None:
        """The answer to an identity request, or None when the path is not an identity path."""
        return None
