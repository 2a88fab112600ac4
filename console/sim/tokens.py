"""Access tokens issued by the simulated identity and accepted by the simulated Graph.

They are JWT-shaped (header.payload.signature, base64url) so that the console can
read ``tid`` as it does for real tokens, but the signature is a random nonce that
only this store knows: a token this store did not issue is refused with 401.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class IssuedToken:
    """What the store remembers about one access token."""

    claims: dict[str, Any]
    expires_at: float


@dataclass
class TokenStore:
    """Issues and validates simulated access tokens (thread-safe: MSAL calls from threads)."""

    clock: Callable[[], float]
    """Returns seconds since the epoch (the simulator's clock)."""
    _tokens: dict[str, IssuedToken] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(
        self,
        *,
        tenant_id: str,
        subject: str,
        lifetime: float = 3600.0,
        scopes: str = "",
        roles: tuple[str, ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Mint a token for ``subject`` in ``tenant_id`` valid for ``lifetime`` seconds."""
        now = self.clock()
        claims: dict[str, Any] = {
            "aud": "https://graph.microsoft.com",
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "tid": tenant_id,
            "sub": subject,
            "oid": subject,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + lifetime),
        }
        if scopes:
            claims["scp"] = scopes
        if roles:
            claims["roles"] = list(roles)
        if extra:
            claims.update(extra)
        token = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims), secrets.token_urlsafe(24)])
        with self._lock:
            self._tokens[token] = IssuedToken(claims=claims, expires_at=now + lifetime)
        return token

    def accept(self, token: str, claims: dict[str, Any] | None = None, lifetime: float = 10 * 365 * 86400) -> None:
        """Accept an externally chosen (possibly opaque) token, e.g. for ``simulate --token``."""
        with self._lock:
            self._tokens[token] = IssuedToken(claims=dict(claims or {}), expires_at=self.clock() + lifetime)

    def validate(self, token: str) -> dict[str, Any] | None:
        """The token's claims when it was issued here and has not expired or been revoked."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.expires_at <= self.clock():
            return None
        return issued.claims

    def expire_all(self) -> None:
        """Make every issued token expire now (tests of the 401 refresh path)."""
        now = self.clock()
        with self._lock:
            for issued in self._tokens.values():
                issued.expires_at = min(issued.expires_at, now)
