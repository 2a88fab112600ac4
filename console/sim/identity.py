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

import base64
import binascii
import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs

import httpx

from console.sim.tokens import TokenStore

DEFAULT_PUBLIC_CLIENT_ID: Final = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
"""Microsoft Graph Command Line Tools: registered as a public client in every simulated tenant."""
DEFAULT_APP_ROLES: Final = ("CrossTenantUserProfileSharing.Read.All", "User.Export.All", "User.Read.All")
"""Application permissions a registered confidential app gets unless told otherwise."""
GLOBAL_READER_ROLE: Final = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
"""Entra role template id of Global Reader (the ``wids`` claim)."""
DEVICE_CODE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER_ASSERTION: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_OIDC_SCOPES: Final = frozenset({"openid", "profile", "offline_access", "email"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(data: dict[str, Any]) -> str:
    return _b64url(json.dumps(data, separators=(",", ":")).encode())


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class SimulatedUser:
    """The admin who approves device codes."""

    username: str
    """UPN (``preferred_username``)."""
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """``oid``."""
    display_name: str = "Simulated Admin"
    roles: tuple[str, ...] = (GLOBAL_READER_ROLE,)
    """Entra role template ids (``wids``): Global Reader by default."""


@dataclass
class RegisteredApp:
    """An app registration the simulated tenant knows."""

    client_id: str
    public_client_flows: bool = True
    """"Allow public client flows" (device code)."""
    secrets: set[str] = field(default_factory=set)
    """Valid client secret values (never shown in ``repr``)."""
    expired_secrets: set[str] = field(default_factory=set)
    """Secrets that exist but have expired (AADSTS7000222)."""
    certificates: dict[str, Any] = field(default_factory=dict)
    """Thumbprint (hex sha1 and sha256, lower case) -> public key (or None: accept without checking)."""
    roles: tuple[str, ...] = DEFAULT_APP_ROLES
    """Application permissions in app-only tokens (``roles``)."""
    service_principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __repr__(self) -> str:
        return (
            f"RegisteredApp(client_id={self.client_id!r}, public_client_flows={self.public_client_flows}, "
            f"secrets=<{len(self.secrets)} redacted>, certificates={len(self.certificates)})"
        )


@dataclass
class DeviceCodeGrant:
    """One device-code sign-in in progress."""

    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    created_at: float
    expires_at: float
    status: str = "pending"
    """``pending``, ``approved``, ``declined``, ``expired``, ``redeemed``."""
    username: str | None = None
    polls: int = 0


@dataclass
class RefreshGrant:
    """What a refresh token stands for."""

    username: str
    client_id: str
    scopes: list[str]
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class IdentityCall:
    """One request the identity answered (no secrets, no tokens), for tests."""

    endpoint: str
    """``discovery``, ``devicecode``, ``token``."""
    grant_type: str = ""
    client_id: str = ""
    status: int = 200
    error: str = ""


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
        self._lock = threading.RLock()
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
        with self._lock:
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
        with self._lock:
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
        with self._lock:
            grant = self._pick(user_code)
            grant.status = "approved"
            grant.username = username or self.user.username

    def decline(self, user_code: str | None = None) -> None:
        """The user declines the sign-in on the verification page."""
        with self._lock:
            self._pick(user_code).status = "declined"

    def expire(self, user_code: str | None = None) -> None:
        """The device code runs out before anyone enters it."""
        with self._lock:
            self._pick(user_code).status = "expired"

    def expire_refresh_tokens(self) -> None:
        """Every refresh token issued so far expires (AADSTS700082 on use)."""
        now = self.clock()
        with self._lock:
            for grant in self._refresh.values():
                grant.expires_at = min(grant.expires_at, now)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is revoked (AADSTS50173 on use)."""
        with self._lock:
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
        with self._lock:
            self.calls.append(
                IdentityCall(
                    endpoint, form.get("grant_type", ""), form.get("client_id", ""), response.status_code, error
                )
            )
        return response

    def _json(self, status: int, data: dict[str, Any]) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
        return httpx.Response(status, headers=headers, content=json.dumps(data).encode())

    def _error(self, status: int, error: str, code: int | None, text: str) -> httpx.Response:
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        prefix = f"AADSTS{code}: " if code is not None else ""
        description = f"{prefix}{text}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}"
        body: dict[str, Any] = {
            "error": error,
            "error_description": description,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_codes": [code] if code is not None else [],
        }
        return self._json(status, body)

    def _tenant_not_found(self, tenant: str) -> httpx.Response:
        return self._error(
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
            self._json(
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

    def _app_not_found(self, client_id: str) -> httpx.Response:
        return self._error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{self.tenant_domain}'. This can happen if the application has not been installed "
            "by the administrator of the tenant or consented to by any user in the tenant.",
        )

    def _devicecode(self, tenant: str, base: str, form: dict[str, str]) -> httpx.Response:
        if not self._known_tenant(tenant):
            return self._record("devicecode", self._tenant_not_found(tenant), form)
        client_id = form.get("client_id", "")
        with self._lock:
            if client_id not in self.apps:
                return self._record("devicecode", self._app_not_found(client_id), form)
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
            self._json(
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
        grant_type = form.get("grant_type", "")
        if grant_type == DEVICE_CODE_GRANT:
            response = self._redeem_device_code(base, form)
        elif grant_type == "client_credentials":
            response = self._client_credentials(base, form)
        elif grant_type == "refresh_token":
            response = self._redeem_refresh_token(base, form)
        else:
            response = self._error(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
            )
        return self._record("token", response, form)

    # ------------------------------------------------------------------ grants

    def _redeem_device_code(self, base: str, form: dict[str, str]) -> httpx.Response:
        client_id = form.get("client_id", "")
        with self._lock:
            app = self.apps.get(client_id)
            if app is None:
                return self._app_not_found(client_id)
            if not app.public_client_flows:
                return self._error(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                )
            grant = self._grants.get(form.get("device_code", ""))
            if grant is None or grant.client_id != client_id or grant.status == "redeemed":
                return self._error(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the input parameter 'device_code' is not valid.",
                )
            now = self.clock()
            grant.polls += 1
            if grant.status == "pending" and now >= grant.expires_at:
                grant.status = "expired"
            if (
                grant.status == "pending"
                and self.auto_approve_after is not None
                and now - grant.created_at >= self.auto_approve_after
            ):
                grant.status, grant.username = "approved", self.user.username
            if grant.status == "expired":
                return self._error(
                    400,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter "
                    "'device_code' is not valid. This device code has expired.",
                )
            if grant.status == "declined":
                return self._error(
                    400, "authorization_declined", None, "The end user denied the authorization request."
                )
            if grant.status == "pending":
                if self.slow_down_polls > 0:
                    self.slow_down_polls -= 1
                    return self._error(400, "slow_down", None, "The client is polling too quickly.")
                return self._error(
                    400,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            if not self.consent_granted:
                return self._error(
                    400,
                    "invalid_grant",
                    65001,
                    f"The user or administrator has not consented "
                    f"to use the application with ID '{client_id}'. Send an interactive "
                    "authorization request for this user and resource.",
                )
            grant.status = "redeemed"
            return self._user_tokens(base, client_id, grant.username or self.user.username, grant.scopes)

    def _client_credentials(self, base: str, form: dict[str, str]) -> httpx.Response:
        client_id = form.get("client_id", "")
        with self._lock:
            app = self.apps.get(client_id)
            if app is None:
                return self._app_not_found(client_id)
            secret = form.get("client_secret")
            assertion = form.get("client_assertion")
            if secret is not None:
                if secret in app.expired_secrets:
                    return self._error(
                        401,
                        "invalid_client",
                        7000222,
                        f"The provided client secret keys for app '{client_id}' are expired.",
                    )
                if secret not in app.secrets:
                    return self._error(
                        401,
                        "invalid_client",
                        7000215,
                        "Invalid client secret provided. Ensure "
                        "the secret being sent in the request is the client secret value, not the "
                        f"client secret ID, for a secret added to app '{client_id}'.",
                    )
            elif assertion is not None and form.get("client_assertion_type") == JWT_BEARER_ASSERTION:
                problem = self._check_assertion(app, assertion, f"{base}/{self.tenant_id}/oauth2/v2.0/token")
                if problem:
                    return self._error(401, "invalid_client", 700027, problem)
            else:
                return self._error(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                )
            scopes = form.get("scope", "").split()
            if not scopes or not all(s.endswith("/.default") for s in scopes):
                return self._error(
                    400,
                    "invalid_scope",
                    1002012,
                    "The provided value for scope is not valid. "
                    "Client credential flows must have a scope value with /.default suffixed to "
                    "the resource identifier (application ID URI).",
                )
            lifetime = self.access_token_lifetime
            token = self.tokens.issue(
                tenant_id=self.tenant_id,
                subject=app.service_principal_id,
                lifetime=lifetime,
                roles=app.roles,
                extra={"appid": client_id, "idtyp": "app"},
            )
        return self._json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": int(lifetime),
                "ext_expires_in": int(lifetime),
                "access_token": token,
            },
        )

    def _check_assertion(self, app: RegisteredApp, assertion: str, audience: str) -> str | None:
        """Why a client assertion is refused, or None. Verifies the signature when the certificate is known."""
        parts = assertion.split(".")
        if len(parts) != 3:
            return "The client assertion is not a well-formed JWT."
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error):
            return "The client assertion is not a well-formed JWT."
        thumbs = []
        if isinstance(header.get("x5t#S256"), str):
            thumbs.append(_unb64(header["x5t#S256"]).hex())
        if isinstance(header.get("x5t"), str):
            thumbs.append(_unb64(header["x5t"]).hex())
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
        if not isinstance(exp, (int, float)) or exp < self.clock():
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

    def _redeem_refresh_token(self, base: str, form: dict[str, str]) -> httpx.Response:
        client_id = form.get("client_id", "")
        with self._lock:
            grant = self._refresh.get(form.get("refresh_token", ""))
            if grant is None or grant.revoked or grant.client_id != client_id:
                return self._error(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being "
                    "revoked, a fresh auth token is needed. The user might have changed or reset "
                    "their password.",
                )
            if grant.expires_at <= self.clock():
                return self._error(
                    400,
                    "invalid_grant",
                    700082,
                    "The refresh token has expired due to inactivity. "
                    "The token was issued on a date and was inactive for 90 days.",
                )
            if self.require_mfa_on_refresh:
                return self._error(
                    400,
                    "invalid_grant",
                    50076,
                    "Due to a configuration change made by your "
                    "administrator, or because you moved to a new location, you must use multi-"
                    "factor authentication to access the resource.",
                )
            requested = form.get("scope", "").split()
            return self._user_tokens(base, client_id, grant.username, requested or grant.scopes)

    def _user_tokens(self, base: str, client_id: str, username: str, scopes: list[str]) -> httpx.Response:
        """Access + refresh + id token for ``username`` (caller holds the lock)."""
        user = self.user if username == self.user.username else SimulatedUser(username=username, roles=())
        resource_scopes = [s for s in scopes if s not in _OIDC_SCOPES]
        short = " ".join(s.rsplit("/", 1)[-1] for s in resource_scopes)
        now = self.clock()
        lifetime = self.access_token_lifetime
        access = self.tokens.issue(
            tenant_id=self.tenant_id,
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
            username=user.username, client_id=client_id, scopes=scopes, expires_at=now + self.refresh_token_lifetime
        )
        id_claims = {
            "aud": client_id,
            "iss": f"{base}/{self.tenant_id}/v2.0",
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + 3600),
            "name": user.display_name,
            "oid": user.object_id,
            "preferred_username": user.username,
            "sub": hashlib.sha256(user.object_id.encode()).hexdigest()[:43],
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        id_token = ".".join([_b64json({"alg": "none", "typ": "JWT"}), _b64json(id_claims), ""])
        return self._json(
            200,
            {
                "token_type": "Bearer",
                "scope": " ".join(resource_scopes),
                "expires_in": int(lifetime),
                "ext_expires_in": int(lifetime),
                "access_token": access,
                "refresh_token": refresh,
                "id_token": id_token,
                "client_info": _b64json({"uid": user.object_id, "utid": self.tenant_id}),
            },
        )
