"""The seam between sign-in and the Graph client."""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Protocol


class TokenProvider(Protocol):
    """Hands the Graph client a bearer token."""

    async def get_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` after Graph answered 401 with the last one.

        Raises:
            console.graph.errors.AuthenticationError: when no token can be had.
        """
        ...


class StaticTokenProvider:
    """A token handed in from outside (``--token-env VAR``); it cannot be refreshed."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_token(self, *, force_refresh: bool = False) -> str:
        return self._token

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenProvider(<redacted>)"

    @classmethod
    def from_env(cls, variable: str) -> StaticTokenProvider:
        """Read the token from an environment variable.

        Raises:
            ValueError: the variable is unset or empty (a usage error).
        """
        value = os.environ.get(variable, "").strip()
        if value.lower().startswith("bearer "):
            value = value[7:].strip()
        if not value:
            raise ValueError(f"environment variable {variable} is not set or empty: export a Graph access token in it")
        return cls(value)


def token_claims(token: str) -> dict[str, Any] | None:
    """The unverified claims of a JWT access token, or None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def tenant_key_for(token: str, graph_url: str) -> str:
    """Key operations to the token's tenant (``tid``), or to the Graph URL for an opaque token."""
    claims = token_claims(token)
    tid = claims.get("tid") if claims else None
    if isinstance(tid, str) and tid:
        return tid
    return graph_url.rstrip("/")
