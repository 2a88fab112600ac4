"""What an access token lets the console do, read from its claims (graph-api.md, Permissions).

Graph decides with a 403 in the end; reading the token right after sign-in lets the
console say *before* the first export what is missing and who can fix it.
"""

from __future__ import annotations

from typing import Final

from console.config import DELEGATED_PERMISSIONS
from console.jwt import token_claims

ROLES_THAT_MAY_EXPORT: Final = {
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
}
"""Entra role template ids (``wids``) that may list, get and export shared profiles (delegated)."""

SHARING_PERMISSIONS: Final = ("CrossTenantUserProfileSharing.Read.All", "CrossTenantUserProfileSharing.ReadWrite.All")
"""Either one lets the caller list, get and export."""

POLLING_PERMISSIONS: Final = ("User.Export.All", "User.Read.All")
"""Needed to poll ``dataPolicyOperations`` (a different permission than the export's)."""


def access_problems(token: str, *, app_only: bool) -> tuple[str, ...]:
    """Sentences naming what the token lacks; empty when it looks fine or the token is opaque.

    Only claims that are present are judged: a token without ``wids`` is not called roleless.
    """
    claims = token_claims(token)
    if not claims:
        return ()
    problems: list[str] = []
    if app_only:
        roles = claims.get("roles")
        granted = set(roles) if isinstance(roles, list) else set()
        if not granted & set(SHARING_PERMISSIONS):
            problems.append(
                "The app has no CrossTenantUserProfileSharing.Read.All application permission with admin "
                "consent: Graph will refuse to list or export shared profiles (API permissions > add it > "
                "Grant admin consent)."
            )
        missing = [p for p in POLLING_PERMISSIONS if p not in granted]
        if missing:
            problems.append(
                f"The app lacks the application permission(s) {', '.join(missing)}: exports can be "
                "submitted but their status cannot be polled (grant them with admin consent)."
            )
        return tuple(problems)
    scp = claims.get("scp")
    if isinstance(scp, str):
        granted = set(scp.split())
        sharing_ok = bool(granted & set(SHARING_PERMISSIONS))
        missing = [
            p for p in DELEGATED_PERMISSIONS if p not in granted and not (p in SHARING_PERMISSIONS and sharing_ok)
        ]
        if missing:
            problems.append(
                f"The sign-in was not granted {', '.join(missing)}: an admin must grant admin consent "
                "for them to the app, then sign in again."
            )
    wids = claims.get("wids")
    if isinstance(wids, list) and not set(wids) & set(ROLES_THAT_MAY_EXPORT):
        problems.append(
            "Your account holds neither the Global Reader nor the Global Administrator role: Graph will "
            "refuse to list or export shared profiles. Ask for Global Reader (Entra admin center > Roles)."
        )
    return tuple(problems)
