"""Sign-in failures as values with a sentence an admin can act on (and the AADSTS code).

Entra answers a failed token request with ``{"error": ..., "error_description":
"AADSTS65001: ...", "error_codes": [65001], "trace_id": ..., "correlation_id": ...}``;
MSAL hands that dict back. ``explain`` turns it into one of the classes below.
They derive from the Graph client's ``AuthenticationError``/``PermissionDenied``
so that the CLI maps them to the same exit code (3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from console.graph.errors import AuthenticationError, PermissionDenied


class SignInError(AuthenticationError, title="Sign-in failed"):
    """Sign-in failed; ``code`` holds the AADSTS code (``AADSTS65001``) or OAuth error when there is one.

    ``str()`` gives the sentence, the code and Entra's trace id (support asks for it).

    Args:
        message: the sentence an admin can act on.
        error: the OAuth error, or the console's own word (``cancelled``); by default the answer's.
        answer: Entra's error answer as MSAL hands it back, when there is one: the AADSTS code, the
            trace and correlation ids and the description's first line are read from it.
    """

    request_id_label: ClassVar[str] = "trace id"

    def __init__(self, message: str, *, error: str = "", answer: Mapping[str, Any] | None = None) -> None:
        entra: Mapping[str, Any] = answer or {}
        number = aadsts_code(entra)
        self.aadsts = f"AADSTS{number}" if number is not None else ""
        """``AADSTS`` + number, or empty."""
        self.error = error or str(entra.get("error") or "")
        """The OAuth ``error`` (``invalid_grant``, ``expired_token`` ...), or empty."""
        self.detail = _first_line(entra)
        """Entra's own description (first line), for logs and a "details" view."""
        super().__init__(
            message,
            code=self.aadsts or self.error,
            request_id=str(entra.get("trace_id") or ""),
            client_request_id=str(entra.get("correlation_id") or ""),
        )


class ConsentRequired(SignInError):
    """AADSTS65001: nobody granted admin consent to the app for these permissions."""


class WrongTenant(SignInError):
    """The tenant or the app registration does not exist where we looked (AADSTS90002, 700016, 50020)."""


class InvalidClientCredential(SignInError):
    """Wrong or expired client secret, or a certificate the app does not know (AADSTS7000215, 7000222, 700027)."""


class MissingClientCredential(SignInError):
    """No secret in the environment variable, or the certificate file is missing/unreadable."""


class PublicClientFlowsDisabled(SignInError):
    """AADSTS7000218: device code needs "Allow public client flows" on the app registration."""


class DeviceCodeExpired(SignInError):
    """``expired_token``: the code was not entered in time."""


class DeviceCodeDeclined(SignInError):
    """``authorization_declined``: the user chose not to sign in."""


class SignInCancelled(SignInError):
    """The admin cancelled the device-code sign-in in the console."""


class InteractionRequired(SignInError):
    """The saved sign-in cannot be renewed silently (refresh token expired/revoked, MFA, Conditional Access)."""


class SignInBlocked(SignInError):
    """Conditional Access or account state blocks this sign-in (AADSTS53003, 50053, 50057)."""


class MissingRoleOrPermission(PermissionDenied):
    """Signed in, but the token lacks a permission or the Entra role the console needs."""


_AADSTS = re.compile(r"AADSTS(\d+)")

# code -> (class, sentence). Sentences say what to do, not what went wrong inside Entra.
_BY_CODE: dict[int, tuple[type[SignInError], str]] = {
    65001: (
        ConsentRequired,
        (
            "The app {client_id} has no admin consent for {permissions} in tenant {tenant}: a Global or "
            "Privileged Role Administrator must grant admin consent (Entra admin center > Enterprise "
            "applications > the app > Permissions), then sign in again."
        ),
    ),
    65004: (
        DeviceCodeDeclined,
        "The consent prompt was declined; sign in again and accept it, or have an admin grant consent.",
    ),
    90002: (
        WrongTenant,
        (
            "Tenant {tenant} was not found in the {cloud} cloud: check 'tenant' (id or verified domain) and "
            "'cloud' in config.toml."
        ),
    ),
    90072: (
        WrongTenant,
        (
            "The account you signed in with is not a member or guest of tenant {tenant}: sign in with an "
            "account of that tenant, or fix 'tenant' in config.toml."
        ),
    ),
    50020: (
        WrongTenant,
        (
            "The account you signed in with does not exist in tenant {tenant}: sign in with an account of that "
            "tenant, or fix 'tenant' in config.toml."
        ),
    ),
    700016: (
        WrongTenant,
        (
            "No app with client id {client_id} exists in tenant {tenant}: check 'client_id' and 'tenant' in "
            "config.toml (an app-only sign-in needs an app registered in that tenant)."
        ),
    ),
    7000215: (
        InvalidClientCredential,
        (
            "The client secret for app {client_id} is wrong: put the secret's Value (not its Secret ID) in "
            "the environment variable, or create a new secret under Certificates & secrets."
        ),
    ),
    7000222: (
        InvalidClientCredential,
        (
            "The client secret for app {client_id} has expired: create a new one under Certificates & secrets "
            "and update the environment variable."
        ),
    ),
    700027: (
        InvalidClientCredential,
        (
            "The certificate is not accepted for app {client_id}: upload its public certificate under "
            "Certificates & secrets and check 'thumbprint' and 'certificate_path' in config.toml."
        ),
    ),
    700024: (
        InvalidClientCredential,
        "The client assertion was outside its valid time range: check this machine's clock.",
    ),
    7000218: (
        PublicClientFlowsDisabled,
        (
            "The app {client_id} does not allow device-code sign-in: enable 'Allow public client flows' "
            "(Authentication blade) or use an app that does, such as the default Graph Command Line Tools."
        ),
    ),
    70019: (
        DeviceCodeExpired,
        "The device code expired before it was entered: start the sign-in again and enter the new code within the time shown.",
    ),
    70020: (
        DeviceCodeExpired,
        "The device code expired before it was entered: start the sign-in again and enter the new code within the time shown.",
    ),
    50076: (
        InteractionRequired,
        "Tenant {tenant} now requires multi-factor authentication: sign in again with the device code.",
    ),
    50079: (
        InteractionRequired,
        "Your account must register for multi-factor authentication: sign in again with the device code.",
    ),
    50158: (
        InteractionRequired,
        "An external security challenge must be completed: sign in again with the device code.",
    ),
    700082: (
        InteractionRequired,
        "The saved sign-in for {name} expired after a period of inactivity: sign in again with the device code.",
    ),
    70008: (InteractionRequired, "The saved sign-in for {name} has expired: sign in again with the device code."),
    50173: (
        InteractionRequired,
        "The saved sign-in for {name} was revoked (password change or admin action): sign in again with the device code.",
    ),
    50132: (
        InteractionRequired,
        "The saved sign-in for {name} is no longer valid (password expired or session revoked): sign in again.",
    ),
    53003: (
        SignInBlocked,
        "Conditional Access blocked this sign-in: ask your Entra admin which policy applies to this device or location.",
    ),
    50053: (SignInBlocked, "The account is locked after too many attempts: wait, or have an admin unlock it."),
    50057: (SignInBlocked, "The account is disabled: ask an Entra admin to enable it."),
    50105: (
        SignInBlocked,
        "Your account is not assigned to app {client_id} and the app requires assignment: ask an admin to assign you.",
    ),
    7000112: (SignInBlocked, "The app {client_id} is disabled in tenant {tenant}: an admin must re-enable it."),
    500011: (WrongTenant, "The Graph resource is not available in tenant {tenant}: check 'cloud' in config.toml."),
    70011: (
        SignInError,
        "Entra refused the requested scopes {permissions}: check the cloud and the app's API permissions.",
    ),
}

_BY_ERROR: dict[str, tuple[type[SignInError], str]] = {
    "expired_token": _BY_CODE[70020],
    "authorization_declined": (
        DeviceCodeDeclined,
        "The sign-in was declined on the verification page: start it again and approve it with an account of {tenant}.",
    ),
    "bad_verification_code": (DeviceCodeExpired, "The device code was not recognised: start the sign-in again."),
    "interaction_required": (
        InteractionRequired,
        "The saved sign-in for {name} needs you to sign in again with the device code.",
    ),
    "consent_required": _BY_CODE[65001],
    "invalid_client": (
        InvalidClientCredential,
        "Entra refused the app's credentials for {client_id}: check the secret or certificate.",
    ),
    "unauthorized_client": _BY_CODE[700016],
    "invalid_grant": (InteractionRequired, "The saved sign-in for {name} is no longer valid: sign in again."),
}


def aadsts_code(result: Mapping[str, Any]) -> int | None:
    """The first AADSTS number in an Entra error answer (``error_codes`` or the description)."""
    codes = result.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        return codes[0]
    match = _AADSTS.search(str(result.get("error_description") or ""))
    return int(match.group(1)) if match else None


def _first_line(result: Mapping[str, Any]) -> str:
    """The first line of Entra's ``error_description`` (it goes on with the trace id and a timestamp)."""
    description = str(result.get("error_description") or "")
    return description.splitlines()[0].strip() if description else ""


def explain(
    result: Mapping[str, Any],
    *,
    name: str = "",
    tenant: str = "",
    client_id: str = "",
    cloud: str = "",
    permissions: str = "",
) -> SignInError:
    """Turn an MSAL/Entra error dict into a ``SignInError`` with a sentence an admin can act on.

    Args:
        result: MSAL's answer (``error``, ``error_description``, ``error_codes``, ``trace_id``...).
        name: saved tenant name; tenant, client_id, cloud, permissions: filled into the sentence.
    """
    error = str(result.get("error") or "")
    number = aadsts_code(result)
    known = _BY_CODE.get(number) if number is not None else None
    if known is None:
        known = _BY_ERROR.get(error)
    fields = {
        "name": name or tenant or "this tenant",
        "tenant": tenant or "(unknown)",
        "client_id": client_id or "(unknown)",
        "cloud": cloud or "configured",
        "permissions": permissions or "the console's permissions",
    }
    if known is None:
        cls: type[SignInError] = SignInError
        message = f"Sign-in failed: {_first_line(result) or error or 'no reason given by Entra'}"
    else:
        cls, template = known
        message = template.format(**fields)
    return cls(message, answer=result)
