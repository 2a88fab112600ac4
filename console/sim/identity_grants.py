"""The simulated token endpoint's grants: device code, client credentials (secret or certificate), refresh.

Each redemption answers as Entra does, AADSTS codes included; the knobs it reads (auto-approval,
consent, MFA on refresh, slow-down polls, lifetimes) are ``SimulatedIdentity``'s attributes.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from typing import Protocol

import httpx

from console.sim.identity_records import (
    DEVICE_CODE_GRANT,
    JWT_BEARER_ASSERTION,
    OIDC_SCOPES,
    DeviceCodeGrant,
    RefreshGrant,
    RegisteredApp,
    SimulatedUser,
    app_not_found,
    b64json,
    entra_error,
    entra_json,
    no_client_credential,
    unb64,
)
from console.sim.tokens import TokenStore


class IdentityKnobs(Protocol):
    """What the grants read of ``SimulatedIdentity``: its records, its knobs and its lock."""

    lock: threading.RLock
    tokens: TokenStore
    tenant_id: str
    tenant_domain: str
    clock: Callable[[], float]
    apps: dict[str, RegisteredApp]
    user: SimulatedUser
    auto_approve_after: float | None
    slow_down_polls: int
    consent_granted: bool
    require_mfa_on_refresh: bool
    access_token_lifetime: float
    refresh_token_lifetime: float


class TokenGrants:
    """Redeems the grants of ``POST /{tenant}/oauth2/v2.0/token`` (the caller records the call).

    Args:
        identity: the identity whose apps, user, knobs and lock are used.
        device_codes: device-code grants by device code (shared with ``identity``).
        refresh: refresh grants by refresh token (shared with ``identity``).
    """

    def __init__(
        self,
        identity: IdentityKnobs,
        device_codes: dict[str, DeviceCodeGrant],
        refresh: dict[str, RefreshGrant],
    ) -> None:
        self._identity = identity
        self._device_codes = device_codes
        self._refresh = refresh

    def redeem(self, grant_type: str, base: str, form: dict[str, str]) -> httpx.Response:
        """The token endpoint's answer to a grant: tokens, or Entra's refusal."""
        if grant_type == "refresh_token":
            return self.redeem_refresh_token(base, form)
        if grant_type not in (DEVICE_CODE_GRANT, "client_credentials"):
            return entra_error(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
            )
        idp = self._identity
        client_id = form.get("client_id", "")
        with idp.lock:
            app = idp.apps.get(client_id)
            if app is None:
                return app_not_found(client_id, idp.tenant_domain)
            if grant_type == DEVICE_CODE_GRANT:
                return self.redeem_device_code(app, base, form)
            return self.client_credentials(app, base, form)

    def redeem_device_code(self, app: RegisteredApp, base: str, form: dict[str, str]) -> httpx.Response:
        """Tokens for an approved device code, or why not yet (pending, slow down, expired, declined...)."""
        idp = self._identity
        client_id = app.client_id
        if not app.public_client_flows:
            return no_client_credential()
        grant = self._device_codes.get(form.get("device_code", ""))
        if grant is None or grant.client_id != client_id or grant.status == "redeemed":
            return entra_error(
                400,
                "invalid_grant",
                70000,
                "The provided value for the input parameter 'device_code' is not valid.",
            )
        waiting = self._not_approved(grant)
        if waiting is not None:
            return waiting
        if not idp.consent_granted:
            return entra_error(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented "
                f"to use the application with ID '{client_id}'. Send an interactive "
                "authorization request for this user and resource.",
            )
        grant.status = "redeemed"
        return self.user_tokens(base, client_id, grant.username or idp.user.username, grant.scopes)

    def _not_approved(self, grant: DeviceCodeGrant) -> httpx.Response | None:
        """Count a poll of ``grant``; the answer while it is not approved (expired, declined, pending), or None."""
        idp = self._identity
        now = idp.clock()
        grant.polls += 1
        if grant.status == "pending" and now >= grant.expires_at:
            grant.status = "expired"
        if (
            grant.status == "pending"
            and idp.auto_approve_after is not None
            and now - grant.created_at >= idp.auto_approve_after
        ):
            grant.status, grant.username = "approved", idp.user.username
        if grant.status == "expired":
            return entra_error(
                400,
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            )
        if grant.status == "declined":
            return entra_error(400, "authorization_declined", None, "The end user denied the authorization request.")
        if grant.status == "pending":
            if idp.slow_down_polls > 0:
                idp.slow_down_polls -= 1
                return entra_error(400, "slow_down", None, "The client is polling too quickly.")
            return entra_error(
                400,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        return None

    def client_credentials(self, app: RegisteredApp, base: str, form: dict[str, str]) -> httpx.Response:
        """An app-only token for a client that proves itself with a secret or a signed assertion."""
        idp = self._identity
        refused = self._check_client(app, base, form)
        if refused is not None:
            return refused
        scopes = form.get("scope", "").split()
        if not scopes or not all(s.endswith("/.default") for s in scopes):
            return entra_error(
                400,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. "
                "Client credential flows must have a scope value with /.default suffixed to "
                "the resource identifier (application ID URI).",
            )
        lifetime = idp.access_token_lifetime
        token = idp.tokens.issue(
            tenant_id=idp.tenant_id,
            subject=app.service_principal_id,
            lifetime=lifetime,
            roles=app.roles,
            extra={"appid": app.client_id, "idtyp": "app"},
        )
        return entra_json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": int(lifetime),
                "ext_expires_in": int(lifetime),
                "access_token": token,
            },
        )

    def _check_client(self, app: RegisteredApp, base: str, form: dict[str, str]) -> httpx.Response | None:
        """Why the client's secret or assertion is refused, or None when it proves the app."""
        client_id = app.client_id
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if secret is not None:
            if secret in app.expired_secrets:
                return entra_error(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{client_id}' are expired.",
                )
            if secret not in app.secrets:
                return entra_error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure "
                    "the secret being sent in the request is the client secret value, not the "
                    f"client secret ID, for a secret added to app '{client_id}'.",
                )
            return None
        if assertion is not None and form.get("client_assertion_type") == JWT_BEARER_ASSERTION:
            problem = self._check_assertion(app, assertion, f"{base}/{self._identity.tenant_id}/oauth2/v2.0/token")
            return entra_error(401, "invalid_client", 700027, problem) if problem else None
        return no_client_credential()

    def _check_assertion(self, app: RegisteredApp, assertion: str, audience: str) -> str | None:
        """Why a client assertion is refused, or None. Verifies the signature when the certificate is known."""
        parts = assertion.split(".")
        if len(parts) != 3:
            return "The client assertion is not a well-formed JWT."
        try:
            header = json.loads(unb64(parts[0]))
            claims = json.loads(unb64(parts[1]))
        except (ValueError, binascii.Error):
            return "The client assertion is not a well-formed JWT."
        thumbs = []
        if isinstance(header.get("x5t#S256"), str):
            thumbs.append(unb64(header["x5t#S256"]).hex())
        if isinstance(header.get("x5t"), str):
            thumbs.append(unb64(header["x5t"]).hex())
        found = [t for t in thumbs if t in app.certificates]
        if not found:
            return (
                f"The certificate with identifier used to sign the client assertion is not registered on "
                f"application. [Reason - The key was not found., Thumbprint of key used by client: "
                f"'{(thumbs or ['none'])[0].upper()}']."
            )
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            return "The client assertion's iss and sub must be the client id."
        if claims.get("aud") != audience:
            return f"The client assertion's audience must be '{audience}'."
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp < self._identity.clock():
            return "The client assertion has expired."
        key = app.certificates[found[0]]
        if key is not None:
            import jwt

            try:
                jwt.decode(
                    assertion, key=key, algorithms=["RS256", "PS256"], audience=audience, options={"verify_exp": False}
                )
            except jwt.InvalidTokenError:
                return "Client assertion contains an invalid signature."
        return None

    def redeem_refresh_token(self, base: str, form: dict[str, str]) -> httpx.Response:
        """New tokens for a refresh token that is neither revoked nor expired (nor stopped by an MFA demand)."""
        idp = self._identity
        client_id = form.get("client_id", "")
        with idp.lock:
            grant = self._refresh.get(form.get("refresh_token", ""))
            if grant is None or grant.revoked or grant.client_id != client_id:
                return entra_error(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being "
                    "revoked, a fresh auth token is needed. The user might have changed or reset "
                    "their password.",
                )
            if grant.expires_at <= idp.clock():
                return entra_error(
                    400,
                    "invalid_grant",
                    700082,
                    "The refresh token has expired due to inactivity. "
                    "The token was issued on a date and was inactive for 90 days.",
                )
            if idp.require_mfa_on_refresh:
                return entra_error(
                    400,
                    "invalid_grant",
                    50076,
                    "Due to a configuration change made by your "
                    "administrator, or because you moved to a new location, you must use multi-"
                    "factor authentication to access the resource.",
                )
            requested = form.get("scope", "").split()
            return self.user_tokens(base, client_id, grant.username, requested or grant.scopes)

    def user_tokens(self, base: str, client_id: str, username: str, scopes: list[str]) -> httpx.Response:
        """Access + refresh + id token for ``username`` (caller holds the lock)."""
        idp = self._identity
        user = idp.user if username == idp.user.username else SimulatedUser(username=username, roles=())
        resource_scopes = [s for s in scopes if s not in OIDC_SCOPES]
        short = " ".join(s.rsplit("/", 1)[-1] for s in resource_scopes)
        now = idp.clock()
        lifetime = idp.access_token_lifetime
        access = idp.tokens.issue(
            tenant_id=idp.tenant_id,
            subject=user.object_id,
            lifetime=lifetime,
            scopes=short,
            extra={
                "appid": client_id,
                "upn": user.username,
                "name": user.display_name,
                "idtyp": "user",
                "wids": list(user.roles),
            },
        )
        refresh = secrets.token_urlsafe(48)
        self._refresh[refresh] = RefreshGrant(
            username=user.username, client_id=client_id, scopes=scopes, expires_at=now + idp.refresh_token_lifetime
        )
        id_claims = {
            "aud": client_id,
            "iss": f"{base}/{idp.tenant_id}/v2.0",
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + 3600),
            "name": user.display_name,
            "oid": user.object_id,
            "preferred_username": user.username,
            "sub": hashlib.sha256(user.object_id.encode()).hexdigest()[:43],
            "tid": idp.tenant_id,
            "ver": "2.0",
        }
        id_token = ".".join([b64json({"alg": "none", "typ": "JWT"}), b64json(id_claims), ""])
        return entra_json(
            200,
            {
                "token_type": "Bearer",
                "scope": " ".join(resource_scopes),
                "expires_in": int(lifetime),
                "ext_expires_in": int(lifetime),
                "access_token": access,
                "refresh_token": refresh,
                "id_token": id_token,
                "client_info": b64json({"uid": user.object_id, "utid": idp.tenant_id}),
            },
        )
