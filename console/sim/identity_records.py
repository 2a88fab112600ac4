"""The simulated identity platform's records and answers: apps, users, grants, Entra's error envelope.

Shared by ``console.sim.identity`` (discovery, device codes, the token endpoint's routing) and
``console.sim.identity_grants`` (redeeming each grant).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

DEFAULT_PUBLIC_CLIENT_ID: Final = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
"""Microsoft Graph Command Line Tools: registered as a public client in every simulated tenant."""
DEFAULT_APP_ROLES: Final = ("CrossTenantUserProfileSharing.Read.All", "User.Export.All", "User.Read.All")
"""Application permissions a registered confidential app gets unless told otherwise."""
GLOBAL_READER_ROLE: Final = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
"""Entra role template id of Global Reader (the ``wids`` claim)."""
DEVICE_CODE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER_ASSERTION: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OIDC_SCOPES: Final = frozenset({"openid", "profile", "offline_access", "email"})


def b64url(data: bytes) -> str:
    """Base64url without padding (JWT segments)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(data: dict[str, Any]) -> str:
    """A JSON object as a JWT segment."""
    return b64url(json.dumps(data, separators=(",", ":")).encode())


def unb64(part: str) -> bytes:
    """A JWT segment decoded (padding restored)."""
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


def entra_json(status: int, data: dict[str, Any]) -> httpx.Response:
    """A JSON answer of the identity platform (never cached)."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
    return httpx.Response(status, headers=headers, content=json.dumps(data).encode())


def entra_error(status: int, error: str, code: int | None, text: str) -> httpx.Response:
    """Entra's error envelope: ``error``, ``error_description`` with the AADSTS text, ids and ``error_codes``."""
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
    return entra_json(status, body)


def app_not_found(client_id: str, tenant_domain: str) -> httpx.Response:
    """AADSTS700016: no such app registration in the tenant."""
    return entra_error(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory "
        f"'{tenant_domain}'. This can happen if the application has not been installed "
        "by the administrator of the tenant or consented to by any user in the tenant.",
    )


def no_client_credential() -> httpx.Response:
    """AADSTS7000218: a confidential client sent neither a secret nor an assertion."""
    return entra_error(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )
