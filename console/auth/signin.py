"""Sign-in with MSAL for one saved tenant: device code, client secret, certificate, silent, sign out.

The TUI login pane and the CLI both drive ``SignIn``; the Graph client gets
``SignIn.provider``. MSAL is synchronous: every MSAL call runs in a thread
(``asyncio.to_thread``) so the event loop never blocks, and the token cache is
persisted (0600, atomically, only when changed) right after each call.

The device-code flow polls one request at a time (MSAL's documented non-blocking
use, ``exit_condition=lambda flow: True``) and waits between polls on the event
loop, so cancelling is immediate: ``cancel_device_code()``, the ``cancel`` event,
or cancelling the task. As MSAL documents, cancelling sets the flow's
``expires_at`` to 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal  # msal ships no type hints

from console.auth.access import access_problems
from console.auth.cache import PrivateTokenCache
from console.auth.errors import (
    InteractionRequired,
    MissingClientCredential,
    SignInCancelled,
    SignInError,
)
from console.auth.msal_apps import MsalApps
from console.auth.provider import MsalTokenProvider
from console.clock import Clock, SystemClock
from console.config import SavedTenant, SignInMethod
from console.errors import UsageError
from console.jwt import token_claims
from console.paths import Paths

log = logging.getLogger(__name__)


class TokenEnvProblem(UsageError):
    """A saved tenant's ``token_env`` variable is unset, empty or holds no usable token (nothing is sent)."""


def env_token(tenant: SavedTenant) -> str:
    """The token in ``tenant.token_env`` ('' when unset or empty), without a ``Bearer `` prefix.

    Raises:
        TokenEnvProblem: the value holds a line break, a space or another character no token has.
    """
    from console.graph.client import is_token_text

    value = os.environ.get(tenant.token_env or "", "").strip() if tenant.token_env else ""
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    if value and not is_token_text(value):
        raise TokenEnvProblem(
            f"{tenant.name}: the token in ${tenant.token_env} holds a line break, a space or another character "
            "no access token has: nothing was sent (copy the token into the variable again)"
        )
    return value


_DEVICE_FLOW_RETRY = frozenset({"authorization_pending", "slow_down"})
_CERT_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class Account:
    """Who is signed in."""

    username: str
    """The user's UPN, or ``app <client id>`` for an app-only sign-in."""
    tenant_id: str
    """The tenant id (``tid``) the tokens are for."""
    method: SignInMethod
    """How the sign-in was made."""
    warnings: tuple[str, ...] = ()
    """What the token lacks (permission, consent, role), each a sentence; empty when it looks fine."""


@dataclass(frozen=True)
class DeviceCodePrompt:
    """What the admin must see to finish a device-code sign-in on another device."""

    verification_uri: str
    """The page to open (``https://microsoft.com/devicelogin``)."""
    user_code: str
    """The code to enter there."""
    expires_at: float
    """When the code stops working, epoch seconds (for a countdown)."""
    message: str
    """Entra's own sentence with both of the above (what a headless command prints)."""


class SignIn:
    """Sign-in service for one saved tenant (no UI).

    Args:
        tenant: the saved tenant (authority, client id, scopes, method).
        paths: where the token cache lives (``paths.token_cache_file(tenant.name)``).
        http_client: a requests-like client for MSAL (``TransportHttpClient`` in tests and ``--demo``);
            None uses MSAL's own ``requests`` session, honouring ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``.
        persist: False keeps the token cache in memory only (``--demo``).
        clock: waits between device-code polls (tests pass a fast one).
    """

    def __init__(
        self,
        tenant: SavedTenant,
        paths: Paths,
        *,
        http_client: Any = None,
        persist: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.tenant = tenant
        """The saved tenant signed in to."""
        self._cache = PrivateTokenCache(paths.token_cache_file(tenant.name) if persist else None)
        self._clock = clock or SystemClock()
        self._msal = MsalApps(tenant, self._cache, http_client)
        self._msal_account: dict[str, Any] | None = None
        self._flow: dict[str, Any] | None = None
        self._cancelled = False
        self._env_token = ""
        self.account: Account | None = None
        """The signed-in account, or None."""
        self.last_silent_failure: SignInError | None = None
        """Why ``try_silent`` could not sign in with the saved account (shown before asking again)."""
        self.provider = MsalTokenProvider(self)
        """The TokenProvider for the Graph client (usable once signed in)."""

    def __repr__(self) -> str:
        who = self.account.username if self.account else "not signed in"
        return f"SignIn(tenant={self.tenant.name!r}, method={self.tenant.method.value}, {who})"

    def _signed_in(self, result: dict[str, Any], username: str | None = None) -> Account:
        token = str(result.get("access_token", ""))
        claims = token_claims(token) or {}
        id_claims = result.get("id_token_claims") or {}
        app_only = self.tenant.method.app_only
        tenant_id = str(id_claims.get("tid") or claims.get("tid") or self.tenant.tenant)
        name = username or (
            f"app {self.tenant.client_id}"
            if app_only
            else str(id_claims.get("preferred_username") or claims.get("upn") or "unknown user")
        )
        account = Account(
            username=name,
            tenant_id=tenant_id,
            method=self.tenant.method,
            warnings=access_problems(token, app_only=app_only),
        )
        self.account = account
        self.last_silent_failure = None
        self.provider.remember(token)
        return account

    # ------------------------------------------------------------------ silent

    async def try_silent(self) -> Account | None:
        """Sign in from the token cache (delegated) or the configured credential (app-only), asking nothing.

        Returns:
            The account, or None; then ``last_silent_failure`` says why when there was a saved sign-in.

        Raises:
            SignInError: the sign-in service cannot be reached, or the tenant does not exist.
        """
        self.last_silent_failure = None
        if self.tenant.method is SignInMethod.TOKEN_ENV:
            return self.token_from_env() if env_token(self.tenant) else None
        if self.tenant.method is SignInMethod.CLIENT_SECRET:
            if not self._secret_from_env():
                return None
            try:
                return await self.client_secret()
            except SignInError as exc:
                self.last_silent_failure = exc
                return None
        if self.tenant.method is SignInMethod.CERTIFICATE:
            try:
                return await self.certificate()
            except SignInError as exc:
                self.last_silent_failure = exc
                return None
        saved = await asyncio.to_thread(lambda: list(self._cache.cache.search(msal.TokenCache.CredentialType.ACCOUNT)))
        if not saved:
            return None  # nothing saved: no network at all
        app = await self._msal.public_app()
        accounts = await self._msal.run(app.get_accounts)
        if not accounts:
            return None
        account = accounts[0]
        result = await self._msal.run(app.acquire_token_silent_with_error, self.tenant.delegated_scopes, account)
        if not result or "access_token" not in result:
            self.last_silent_failure = (
                self._msal.explain(result)
                if result
                else InteractionRequired(
                    f"The saved sign-in for {self.tenant.name} holds no usable token: sign in again with the device code."
                )
            )
            return None
        self._msal_account = account
        return self._signed_in(result, username=account.get("username") or None)

    # ------------------------------------------------------------------ device code

    def cancel_device_code(self) -> None:
        """Stop a running device-code sign-in (thread-safe); ``device_code`` raises ``SignInCancelled``."""
        self._cancelled = True
        flow = self._flow
        if flow is not None:
            flow["expires_at"] = 0  # MSAL's documented way to end the polling loop

    async def device_code(
        self, on_prompt: Callable[[DeviceCodePrompt], None], cancel: threading.Event | None = None
    ) -> Account:
        """Delegated sign-in with a device code: ``on_prompt`` gets the URL, the code and its expiry.

        Args:
            on_prompt: called once on the event loop with what the admin must see.
            cancel: set it (from any thread) to abandon the sign-in.

        Raises:
            SignInCancelled, DeviceCodeExpired, DeviceCodeDeclined, ConsentRequired, PublicClientFlowsDisabled,
            WrongTenant, SignInError: each with a sentence the admin can act on.
        """
        app = await self._msal.public_app()
        self._cancelled = False
        flow: dict[str, Any] = await self._msal.run(app.initiate_device_flow, scopes=self.tenant.delegated_scopes)
        if "user_code" not in flow:
            raise self._msal.explain(flow)
        self._flow = flow

        def cancelled() -> bool:
            return self._cancelled or (cancel is not None and cancel.is_set())

        try:
            if cancelled():
                raise SignInCancelled("Sign-in cancelled.", error="cancelled")
            on_prompt(
                DeviceCodePrompt(
                    verification_uri=str(flow.get("verification_uri") or flow.get("verification_url") or ""),
                    user_code=str(flow["user_code"]),
                    expires_at=float(flow["expires_at"]),
                    message=str(flow.get("message") or ""),
                )
            )
            while True:
                if cancelled():
                    flow["expires_at"] = 0
                    raise SignInCancelled("Sign-in cancelled.", error="cancelled")
                if float(flow["expires_at"]) <= time.time():  # MSAL's own time base for the flow
                    raise self._msal.explain({"error": "expired_token"})
                result: dict[str, Any] = await self._msal.run(
                    app.acquire_token_by_device_flow, flow, exit_condition=lambda _flow: True
                )
                if "access_token" in result:
                    break
                if result.get("error") not in _DEVICE_FLOW_RETRY:
                    raise self._msal.explain(result)
                await self._wait_interval(flow, cancelled)
        finally:
            self._flow = None
        return await self._after_interactive(app, result)

    async def _wait_interval(self, flow: dict[str, Any], cancelled: Callable[[], bool]) -> None:
        """Wait ``flow['interval']`` seconds (MSAL adds 5 after ``slow_down``), waking early on cancel."""
        remaining = float(flow.get("interval", 5))
        while remaining > 0 and not cancelled() and float(flow["expires_at"]) > time.time():
            step = min(0.2, remaining)
            await self._clock.sleep(step)
            remaining -= step

    async def _after_interactive(self, app: msal.PublicClientApplication, result: dict[str, Any]) -> Account:
        """Keep only the account that just signed in: one saved tenant, one account."""
        username = str((result.get("id_token_claims") or {}).get("preferred_username") or "")

        def prune() -> dict[str, Any] | None:
            chosen = None
            for candidate in app.get_accounts():
                if chosen is None and (not username or candidate.get("username") == username):
                    chosen = candidate
                else:
                    app.remove_account(candidate)
            return chosen

        self._msal_account = await self._msal.run(prune)
        return self._signed_in(result, username=username or None)

    # ------------------------------------------------------------------ app-only

    def _secret_from_env(self) -> str | None:
        variable = self.tenant.client_secret_env
        value = os.environ.get(variable, "").strip() if variable else ""
        return value or None

    async def client_secret(self, secret: str | None = None) -> Account:
        """App-only sign-in with a client secret (typed into a masked field, or from ``client_secret_env``).

        The secret is handed to MSAL and kept nowhere else: not in config, cache, logs or errors.

        Raises:
            MissingClientCredential: no secret given and the environment variable is unset.
            InvalidClientCredential, WrongTenant, SignInError: Entra refused it.
        """
        secret = (secret or "").strip() or self._secret_from_env()
        if not secret:
            where = (
                f"set the environment variable {self.tenant.client_secret_env}"
                if self.tenant.client_secret_env
                else "type it, or name its variable in 'client_secret_env'"
            )
            raise MissingClientCredential(f"No client secret for {self.tenant.name}: {where}.")
        app = await self._msal.confidential_app(secret)
        del secret
        return await self._acquire_for_client(app)

    async def certificate(self) -> Account:
        """App-only sign-in with the PEM private key at ``certificate_path`` and its thumbprint.

        Raises:
            MissingClientCredential: the file is missing or holds no usable key/certificate.
            InvalidClientCredential, WrongTenant, SignInError: Entra refused it.
        """
        path = Path(self.tenant.certificate_path or "").expanduser()
        try:
            pem = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise MissingClientCredential(
                f"Cannot read the certificate file {path} for {self.tenant.name} ({exc.strerror}): check "
                "'certificate_path' in config.toml."
            ) from None
        if b"PRIVATE KEY-----" not in pem:
            raise MissingClientCredential(f"{path} holds no PEM private key: 'certificate_path' must point at one.")
        credential: dict[str, Any] = {"private_key": pem.decode("ascii", "replace")}
        certificate = _CERT_BLOCK.search(pem)
        if self.tenant.thumbprint:
            credential["thumbprint"] = self.tenant.thumbprint.replace(":", "").replace(" ", "")
        elif certificate:
            credential["public_certificate"] = certificate.group(0).decode("ascii")
        else:
            raise MissingClientCredential(
                f"{path} holds no certificate and config.toml gives no 'thumbprint' for {self.tenant.name}: add one."
            )
        app = await self._msal.confidential_app(credential)
        return await self._acquire_for_client(app)

    def token_from_env(self) -> Account:
        """``method = "token_env"``: the access token in the saved tenant's variable (read, never shown).

        Raises:
            TokenEnvProblem: the variable is unset or empty, or holds what no access token holds.
        """
        token = env_token(self.tenant)
        if not token:
            raise TokenEnvProblem(
                f"{self.tenant.name}: the environment variable {self.tenant.token_env} is not set or empty: "
                "export a Graph access token in it"
            )
        claims = token_claims(token) or {}
        tid = claims.get("tid")
        self._env_token = token
        account = Account(
            username=f"token from ${self.tenant.token_env}",
            tenant_id=tid if isinstance(tid, str) else "",
            method=self.tenant.method,
        )
        self.account = account
        self.last_silent_failure = None
        self.provider.remember(token)
        return account

    async def _acquire_for_client(self, app: msal.ConfidentialClientApplication) -> Account:
        result: dict[str, Any] = await self._msal.run(app.acquire_token_for_client, self.tenant.app_scopes)
        if "access_token" not in result:
            raise self._msal.explain(result)
        return self._signed_in(result)

    # ------------------------------------------------------------------ sign out

    async def sign_out(self) -> None:
        """Remove the account and every token of this tenant from the cache (and the file); works offline."""

        def purge() -> None:
            cache = self._cache.cache
            if self._msal.public is not None:
                for account in self._msal.public.get_accounts():
                    self._msal.public.remove_account(account)
            kinds = msal.TokenCache.CredentialType
            for kind, remove in (
                (kinds.ACCESS_TOKEN, cache.remove_at),
                (kinds.REFRESH_TOKEN, cache.remove_rt),
                (kinds.ID_TOKEN, cache.remove_idt),
                (kinds.ACCOUNT, cache.remove_account),
            ):
                for entry in list(cache.search(kind)):
                    remove(entry)
            self._cache.save()

        await asyncio.to_thread(purge)
        self.account = None
        self._env_token = ""
        self._msal_account = None
        self._msal.confidential = None
        self.provider.forget()

    # ------------------------------------------------------------------ the provider's source

    @property
    def name(self) -> str:
        """The saved tenant's name."""
        return self.tenant.name

    async def acquire_silent(self, *, force_refresh: bool) -> str:
        """An access token for the signed-in identity without interaction (``SilentTokenSource``).

        Raises:
            InteractionRequired: not signed in, or the sign-in can no longer be renewed silently.
            SignInError: Entra refused the renewal for another reason.
        """
        if self.account is None:
            raise InteractionRequired(
                f"Not signed in to {self.tenant.name}: sign in first ({self.tenant.method.value.replace('_', ' ')}).",
                error="not_signed_in",
            )
        result = await self._token(force_refresh=force_refresh)
        if not result:
            raise InteractionRequired(
                f"The sign-in for {self.tenant.name} can no longer be renewed silently: sign in again.",
                error="interaction_required",
            )
        if "access_token" not in result:
            error = self._msal.explain(result)
            if not isinstance(error, InteractionRequired) and error.error in ("invalid_grant", "interaction_required"):
                error = InteractionRequired(error.message, answer=result)
            raise error
        return str(result["access_token"])

    async def _token(self, *, force_refresh: bool) -> dict[str, Any] | None:
        """Acquire a token for the signed-in identity without interaction (the provider's core)."""
        if self.tenant.method is SignInMethod.TOKEN_ENV:
            return {"access_token": self._env_token} if self._env_token else None
        if self.tenant.method.app_only:
            app = self._msal.confidential
            if app is None:
                return None
            if force_refresh:
                await self._msal.run(self._drop_app_tokens)
            return await self._msal.run(app.acquire_token_for_client, self.tenant.app_scopes)
        if self._msal.public is None or self._msal_account is None:
            return None
        return await self._msal.run(
            self._msal.public.acquire_token_silent_with_error,
            self.tenant.delegated_scopes,
            self._msal_account,
            force_refresh=force_refresh,
        )

    def _drop_app_tokens(self) -> None:
        """acquire_token_for_client has no force_refresh: forget its cached token so it asks Entra again."""
        cache = self._cache.cache
        for entry in list(
            cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={"client_id": self.tenant.client_id})
        ):
            cache.remove_at(entry)
