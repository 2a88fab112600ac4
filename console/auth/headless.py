"""Sign-in for headless commands (``profiles``, ``export``, ``watch``).

A cached account signs in silently and prints nothing about sign-in. Otherwise the
tenant's method runs; for a device code the message goes to ``interactive_prompt``
(the CLI sends it to stderr) and the command waits for the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.auth.signin import DeviceCodePrompt, SignIn
from console.clock import Clock
from console.config import SavedTenant, SignInMethod
from console.paths import Paths


async def sign_in_saved_tenant(
    tenant: SavedTenant,
    paths: Paths,
    *,
    interactive_prompt: Callable[[str], None],
    allow_interactive: bool = True,
    http_client: Any = None,
    clock: Clock | None = None,
) -> SignIn:
    """Sign in to a saved tenant the way a headless command does, and return the ``SignIn``.

    Args:
        tenant: the saved tenant (``--tenant NAME``).
        paths: state paths (token cache).
        interactive_prompt: receives text for the admin: why a saved sign-in was not usable, then
            Entra's device-code message. Never called when the cached account works.
        allow_interactive: False raises instead of starting a device-code sign-in.
        http_client: for tests and ``--demo`` (``TransportHttpClient``).
        clock: waits between device-code polls.

    Raises:
        console.auth.errors.SignInError: with a sentence the admin can act on (exit code 3).
    """
    signin = SignIn(tenant, paths, http_client=http_client, clock=clock)
    if tenant.method is SignInMethod.TOKEN_ENV:
        signin.token_from_env()  # the variable's token: no prompt, no request
        return signin
    if tenant.method is SignInMethod.CLIENT_SECRET:
        await signin.client_secret()
        return signin
    if tenant.method is SignInMethod.CERTIFICATE:
        await signin.certificate()
        return signin
    if await signin.try_silent() is not None:
        return signin
    reason = signin.last_silent_failure
    if not allow_interactive:
        if reason is not None:
            raise reason
        from console.auth.errors import InteractionRequired

        raise InteractionRequired(
            f"No saved sign-in for {tenant.name}: run a command interactively to sign in.", error="interaction_required"
        )
    if reason is not None:
        interactive_prompt(f"The saved sign-in for {tenant.name} cannot be used: {reason}")

    def show(prompt: DeviceCodePrompt) -> None:
        interactive_prompt(prompt.message or f"Open {prompt.verification_uri} and enter the code {prompt.user_code}.")

    await signin.device_code(show)
    return signin
