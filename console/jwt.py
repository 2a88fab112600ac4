"""The one reader of JWT claims (unverified): used by sign-in, the wiring and the simulator.

It lives at the top of the package so that ``graph``, ``auth`` and ``sim`` can all use it without
importing each other. The claims are read, never trusted: Graph verifies the signature; the console
only wants the tenant (``tid``), the user (``upn``/``preferred_username``) or the app (``appid``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def b64url_decode(part: str) -> bytes:
    """Decode one base64url segment, padding it as JWTs omit the ``=``.

    Raises:
        ValueError: not base64url.
    """
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def token_claims(token: str) -> dict[str, Any] | None:
    """The unverified claims of a JWT, or None for an opaque token (or anything unreadable)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        data = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def claim_str(claims: dict[str, Any] | None, *names: str) -> str:
    """The first of ``names`` that is a non-empty string in ``claims``, else ``""``."""
    if not claims:
        return ""
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return ""
