"""Simulated Microsoft identity platform: discovery, device code, client credentials, refresh tokens.

Answers the paths MSAL uses, under any host (the answer's endpoints point back at the
host the request came to, so it works in-process at ``https://login.demo.invalid`` and
served over TLS on loopback)::

    GET  /{tenant}/v2.0/.well-known/openid-configuration
    POST /{tenant}/oauth2/v2.0/devicecode
    POST /{tenant}/oauth2/v2.0/token   (device_code, client_credentials, refresh_token grants)

``{tenant}`` is the tenant id or its domain; anything else gets Entra's AADSTS90002.
Errors use Entra's envelope (``error``, ``error_description`` with the AADSTS text,
``error_codes``, ``trace_id``, ``correlation_id``) so the console's explanations are
exercised. Access tokens come from the shared ``TokenStore``: the simulated Graph
accepts them and answers 401 to anything else.

Thread-safe: MSAL calls arrive from worker threads.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

import httpx

from console.sim.identity_grants import TokenGrants
from console.sim.identity_records import (
    DEFAULT_APP_ROLES,
    DEFAULT_PUBLIC_CLIENT_ID,
    DEVICE_CODE_GRANT,
    GLOBAL_READER_ROLE,
    JWT_BEARER_ASSERTION,
    DeviceCodeGrant,
    IdentityCall,
    RefreshGrant,
    RegisteredApp,
    SimulatedUser,
    app_not_found,
    entra_error,
    entra_json,
)
from console.sim.tokens import TokenStore

__all__ = [
    "DEFAULT_APP_ROLES",
    "DEFAULT_PUBLIC_CLIENT_ID",
    "DEVICE_CODE_GRANT",
    "GLOBAL_READER_ROLE",
    "JWT_BEARER_ASSERTION",
    "DeviceCodeGrant",
    "IdentityCall",
    "RefreshGrant",
    "RegisteredApp",
    "SimulatedIdentity",
    "SimulatedUser",
]


class SimulatedIdentity:
    """Answers the identity endpoints of the simulated tenant.

    Knobs (plain attributes, change them any time):
        auto_approve_after: seconds after which a pending device code is approved by itself
            (``--demo`` uses ~2.5 s); None waits for ``approve()``.
        poll_interval: the device-code ``interval`` in seconds (Entra says 5; tests say 1).
        device_code_lifetime, access_token_lifetime, refresh_token_lifetime: seconds.
        consent_granted: False makes a delegated sign-in fail with AADSTS65001.
        require_mfa_on_refresh: True makes refresh tokens fail with AADSTS50076.
        slow_down_polls: the next N device-code polls answer ``slow_down``.
    """

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
        self.auto_approve_after: float | None = None
        """Seconds until a pending device code approves itself; None: wait for ``approve()``."""
        self.poll_interval: int = 5
        """Device-code polling interval handed to the client (whole seconds, as MSAL wants)."""
        self.device_code_lifetime: float = 900.0
        """Seconds a device code stays valid (Entra: 15 minutes)."""
        self.access_token_lifetime: float = 3600.0
        """Lifetime of issued access tokens."""
        self.refresh_token_lifetime: float = 90 * 86400.0
        """Lifetime of issued refresh tokens."""
        self.consent_granted: bool = True
        """False: delegated sign-in fails with AADSTS65001 (no admin consent)."""
        self.require_mfa_on_refresh: bool = False
        """True: refresh-token redemption fails with AADSTS50076 (MFA now required)."""
        self.slow_down_polls: int = 0
        """The next N device-code polls answer ``slow_down``."""
        self.user = SimulatedUser(username=f"admin@{tenant_domain}")
        """Who approves device codes unless ``approve(username=...)`` says otherwise."""
        self.apps: dict[str, RegisteredApp] = {}
        """App registrations by client id."""
        self.calls: list[IdentityCall] = []
        """Every request answered, in order."""
        self._grants: dict[str, DeviceCodeGrant] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self.lock = threading.RLock()
        """Guards every record: MSAL calls arrive from worker threads."""
        self._grant_api = TokenGrants(self, self._grants, self._refresh)
        self.register_app(DEFAULT_PUBLIC_CLIENT_ID)

    def __repr__(self) -> str:
        return f"SimulatedIdentity(tenant_id={self.tenant_id!r}, apps={sorted(self.apps)})"

    # ------------------------------------------------------------------ knobs for tests and demo

    def register_app(
        self,
        client_id: str,
        *,
        public_client_flows: bool = True,
        secret: str | None = None,
        certificate_pem: str | bytes | None = None,
        thumbprint: str | None = None,
        roles: Iterable[str] = DEFAULT_APP_ROLES,
    ) -> RegisteredApp:
        """Register (or extend) an app: a client secret, a certificate (PEM) or a bare thumbprint."""
        with self.lock:
            app = self.apps.get(client_id)
            if app is None:
                app = self.apps[client_id] = RegisteredApp(
                    client_id=client_id, public_client_flows=public_client_flows, roles=tuple(roles)
                )
            if secret is not None:
                app.secrets.add(secret)
            if certificate_pem is not None:
                from cryptography import x509
                from cryptography.hazmat.primitives import hashes

                pem = certificate_pem.encode() if isinstance(certificate_pem, str) else certificate_pem
                cert = x509.load_pem_x509_certificate(pem)
                key = cert.public_key()
                app.certificates[cert.fingerprint(hashes.SHA1()).hex()] = key  # x5t is SHA-1 by spec
                app.certificates[cert.fingerprint(hashes.SHA256()).hex()] = key
            if thumbprint is not None:
                app.certificates[thumbprint.replace(":", "").lower()] = None
            return app

    def expire_secret(self, client_id: str, secret: str) -> None:
        """Make a registered secret expired (AADSTS7000222 from then on)."""
        with self.lock:
            app = self.apps[client_id]
            app.secrets.discard(secret)
            app.expired_secrets.add(secret)

    def _pick(self, user_code: str | None) -> DeviceCodeGrant:
        pending = [g for g in self._grants.values() if g.status == "pending"]
        if user_code is not None:
            pending = [g for g in pending if g.user_code == user_code]
        if not pending:
            raise LookupError(f"no pending device code{' ' + user_code if user_code else ''}")
        return pending[-1]

    def approve(self, user_code: str | None = None, *, username: str | None = None) -> None:
        """The user enters the code and signs in (the latest pending code when none is named)."""
        with self.lock:
            grant = self._pick(user_code)
            grant.status = "approved"
            grant.username = username or self.user.username

    def decline(self, user_code: str | None = None) -> None:
        """The user declines the sign-in on the verification page."""
        with self.lock:
            self._pick(user_code).status = "declined"

    def expire(self, user_code: str | None = None) -> None:
        """The device code runs out before anyone enters it."""
        with self.lock:
            self._pick(user_code).status = "expired"

    def expire_refresh_tokens(self) -> None:
        """Every refresh token issued so far expires (AADSTS700082 on use)."""
        now = self.clock()
        with self.lock:
            for grant in self._refresh.values():
                grant.expires_at = min(grant.expires_at, now)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is revoked (AADSTS50173 on use)."""
        with self.lock:
            for grant in self._refresh.values():
                grant.revoked = True

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: httpx.Request) -> httpx.Response | None:
        """The answer to an identity request, or None when the path is not an identity path."""
        segments = [s for s in request.url.path.split("/") if s]
        if len(segments) < 2:
            return None
        tenant, rest = segments[0], segments[1:]
        base = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        if rest == ["v2.0", ".well-known", "openid-configuration"] and request.method == "GET":
            return self._discovery(tenant, base)
        if rest == ["oauth2", "v2.0", "devicecode"] and request.method == "POST":
            return self._devicecode(tenant, base, self._form(request))
        if rest == ["oauth2", "v2.0", "token"] and request.method == "POST":
            return self._token(tenant, base, self._form(request))
        return None

    @staticmethod
    def _form(request: httpx.Request) -> dict[str, str]:
        body = request.read().decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def _known_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant_id.lower(), self.tenant_domain.lower())

    def _record(self, endpoint: str, response: httpx.Response, form: dict[str, str] | None = None) -> httpx.Response:
        error = ""
        if response.status_code >= 400:
            try:
                error = str(json.loads(response.content).get("error", ""))
            except ValueError:
                error = ""
        form = form or {}
        with self.lock:
            self.calls.append(
                IdentityCall(
                    endpoint, form.get("grant_type", ""), form.get("client_id", ""), response.status_code, error
                )
            )
        return response

    def _tenant_not_found(self, tenant: str) -> httpx.Response:
        return entra_error(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have "
            "the correct tenant ID and are signing into the correct cloud.",
        )

    def _discovery(self, tenant: str, base: str) -> httpx.Response:
        if not self._known_tenant(tenant):
            return self._record("discovery", self._tenant_not_found(tenant))
        root = f"{base}/{self.tenant_id}"
        return self._record(
            "discovery",
            entra_json(
                200,
                {
                    "issuer": f"{root}/v2.0",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                    "jwks_uri": f"{base}/{self.tenant_id}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                        "client_secret_basic",
                    ],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "tenant_region_scope": "NA",
                    "cloud_instance_name": "demo.invalid",
                },
            ),
        )

    def _devicecode(self, tenant: str, base: str, form: dict[str, str]) -> httpx.Response:
        if not self._known_tenant(tenant):
            return self._record("devicecode", self._tenant_not_found(tenant), form)
        client_id = form.get("client_id", "")
        with self.lock:
            if client_id not in self.apps:
                return self._record("devicecode", app_not_found(client_id, self.tenant_domain), form)
            now = self.clock()
            user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
            grant = DeviceCodeGrant(
                device_code=secrets.token_urlsafe(32),
                user_code=user_code,
                client_id=client_id,
                scopes=form.get("scope", "").split(),
                created_at=now,
                expires_at=now + self.device_code_lifetime,
            )
            self._grants[grant.device_code] = grant
            lifetime, interval = int(self.device_code_lifetime), int(self.poll_interval)
        uri = f"{base}/devicelogin"
        return self._record(
            "devicecode",
            entra_json(
                200,
                {
                    "user_code": user_code,
                    "device_code": grant.device_code,
                    "verification_uri": uri,
                    "expires_in": lifetime,
                    "interval": interval,
                    "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                    "to authenticate.",
                },
            ),
            form,
        )

    def _token(self, tenant: str, base: str, form: dict[str, str]) -> httpx.Response:
        if not self._known_tenant(tenant):
            return self._record("token", self._tenant_not_found(tenant), form)
        response = self._grant_api.redeem(form.get("grant_type", ""), base, form)
        return self._record("token", response, form)
