"""``MsalTokenProvider``: the Graph client's ``TokenProvider`` (``console.graph.ports``) over a sign-in.

The sign-in (``console.auth.signin.SignIn``) owns its provider and hands it tokens through the
provider's public API (``remember``, ``forget``); the provider asks the sign-in for a new token
through the ``SilentTokenSource`` protocol below. Neither module imports the other's internals, and
this one does not import ``signin`` at all.

Silent first (``acquire_token_silent``, which renews with the refresh token when the access token
is near expiry). After a 401 the client asks with ``force_refresh=True``: delegated →
``acquire_token_silent(..., force_refresh=True)``; app-only → a new client-credentials request.
When that needs a person, the source raises ``InteractionRequired`` (an ``AuthenticationError``)
with a sentence: a headless command cannot show a device code halfway through a run.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class SilentTokenSource(Protocol):
    """What the provider needs of a sign-in (``SignIn`` implements it)."""

    @property
    def name(self) -> str:
        """The saved tenant's name (for ``repr``)."""
        ...

    async def acquire_silent(self, *, force_refresh: bool) -> str:
        """An access token without asking anyone.

        Raises:
            console.auth.errors.InteractionRequired: not signed in, or renewal needs a person.
            console.auth.errors.SignInError: Entra refused the renewal for another reason.
        """
        ...


class MsalTokenProvider:
    """Implements ``console.graph.ports.TokenProvider`` for a signed-in ``SignIn``.

    Concurrent 401s (many workers at once) cause one refresh, not one each.
    """

    def __init__(self, source: SilentTokenSource) -> None:
        self._source = source
        self._lock = asyncio.Lock()
        self._generation = 0
        self._token: str | None = None
        self.refreshes = 0
        """How many forced refreshes reached MSAL (tests, diagnostics)."""

    def __repr__(self) -> str:  # never show the token
        return f"MsalTokenProvider(tenant={self._source.name!r}, token=<redacted>)"

    def remember(self, token: str, *, renewed: bool = True) -> None:
        """Keep the latest token; ``renewed`` marks a new sign-in or forced refresh (ends waiting 401s)."""
        self._token = token or None
        if renewed:
            self._generation += 1

    def forget(self) -> None:
        """Drop the token (sign-out)."""
        self._token = None
        self._generation += 1

    async def get_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` after Graph answered 401 with the last one.

        Raises:
            console.auth.errors.InteractionRequired: not signed in, or the sign-in cannot be renewed silently.
            console.auth.errors.SignInError: Entra refused the renewal for another reason.
        """
        seen = self._generation
        async with self._lock:
            if force_refresh and self._generation != seen and self._token:
                return self._token  # another caller refreshed while this one waited
            if force_refresh:
                self.refreshes += 1
            token = await self._source.acquire_silent(force_refresh=force_refresh)
            self.remember(token, renewed=force_refresh)
            return token
