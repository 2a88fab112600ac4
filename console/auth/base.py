"""The seam between sign-in and the Graph client."""

from __future__ import annotations

import os

from console.graph.ports import TokenProvider as TokenProvider  # the port lives beside its consumer
from console.jwt import token_claims as token_claims  # the one JWT-claims reader


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


def tenant_key_for(token: str, graph_url: str) -> str:
    """Key operations to the token's tenant (``tid``), or to the Graph URL for an opaque token."""
    claims = token_claims(token)
    tid = claims.get("tid") if claims else None
    if isinstance(tid, str) and tid:
        return tid
    return graph_url.rstrip("/")
