"""``MsalTokenProvider``: the Graph client's TokenProvider over a ``SignIn``.

Silent first (``acquire_token_silent``, which renews with the refresh token when the
access token is near expiry). After a 401 the client asks with ``force_refresh=True``:
delegated → ``acquire_token_silent(..., force_refresh=True)``; app-only → a new
client-credentials request. When that needs a person, it raises
``InteractionRequired`` (an ``AuthenticationError``) with a sentence: a headless
command cannot show a device code halfway through a run.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from console.auth.errors import InteractionRequired

if TYPE_CHECKING:
    from console.auth.signin import SignIn


class MsalTokenProvider:
    """Implements ``console.auth.base.TokenProvider`` for a signed-in ``SignIn``.

    Concurrent 401s (many workers at once) cause one refresh, not one each.
    """

    def __init__(self, signin: SignIn) -> None:
        self._signin = signin
        self._lock = asyncio.Lock()
        self._generation = 0
        self._token: str | None = None
        self.refreshes = 0
        """How many forced refreshes reached MSAL (tests, diagnostics)."""

    def __repr__(self) -> str:  # never show the token
        return f"MsalTokenProvider(tenant={self._signin.tenant.name!r}, token=<redacted>)"

    def _remember(self, token: str, *, renewed: bool = True) -> None:
        """Keep the latest token; ``renewed`` marks a new sign-in or forced refresh (ends waiting 401s)."""
        self._token = token or None
        if renewed:
            self._generation += 1

    def _forget(self) -> None:
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
            signin = self._signin
            if signin.account is None:
                raise InteractionRequired(
                    f"Not signed in to {signin.tenant.name}: sign in first "
                    f"({signin.tenant.method.value.replace('_', ' ')}).",
                    error="not_signed_in",
                )
            if force_refresh:
                self.refreshes += 1
            result = await signin._token(force_refresh=force_refresh)
            if not result:
                raise InteractionRequired(
                    f"The sign-in for {signin.tenant.name} can no longer be renewed silently: sign in again.",
                    error="interaction_required",
                )
            if "access_token" not in result:
                error = signin._explain(result)
                if not isinstance(error, InteractionRequired) and error.error in (
                    "invalid_grant",
                    "interaction_required",
                ):
                    error = InteractionRequired(
                        error.message,
                        aadsts=error.aadsts,
                        error=error.error,
                        trace_id=error.request_id,
                        correlation_id=error.client_request_id,
                        detail=error.detail,
                    )
                raise error
            self._remember(str(result["access_token"]), renewed=force_refresh)
            assert self._token is not None
            return self._token
