"""Entra errors become sentences an admin can act on, with the AADSTS code."""

from __future__ import annotations

import pytest

from console.auth.errors import (
    ConsentRequired,
    DeviceCodeDeclined,
    DeviceCodeExpired,
    InteractionRequired,
    InvalidClientCredential,
    SignInBlocked,
    SignInError,
    WrongTenant,
    explain,
)
from console.graph.errors import AuthenticationError


@pytest.mark.parametrize(
    "result,cls,code,words",
    [
        ({"error": "invalid_grant", "error_codes": [65001]}, ConsentRequired, "AADSTS65001", "admin consent"),
        (
            {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant 'x' not found."},
            WrongTenant,
            "AADSTS90002",
            "check 'tenant'",
        ),
        ({"error": "unauthorized_client", "error_codes": [700016]}, WrongTenant, "AADSTS700016", "client_id"),
        ({"error": "invalid_client", "error_codes": [7000215]}, InvalidClientCredential, "AADSTS7000215", "Secret ID"),
        ({"error": "expired_token"}, DeviceCodeExpired, "expired_token", "start the sign-in again"),
        ({"error": "authorization_declined"}, DeviceCodeDeclined, "authorization_declined", "declined"),
        ({"error": "invalid_grant", "error_codes": [50076]}, InteractionRequired, "AADSTS50076", "multi-factor"),
        ({"error": "invalid_grant", "error_codes": [53003]}, SignInBlocked, "AADSTS53003", "Conditional Access"),
        ({"error": "invalid_grant", "error_codes": [700082]}, InteractionRequired, "AADSTS700082", "sign in again"),
    ],
)
def test_known_errors(result: dict[str, object], cls: type[SignInError], code: str, words: str) -> None:
    error = explain({**result, "trace_id": "trace-1"}, name="contoso", tenant="contoso.example", client_id="cid")
    assert type(error) is cls
    assert isinstance(error, AuthenticationError) and error.exit_code == 3
    assert error.code == code
    assert words in str(error) and f"[{code}]" in str(error) and "trace-1" in str(error)


def test_unknown_error_keeps_entra_first_line() -> None:
    error = explain({"error": "weird", "error_description": "AADSTS99999: Something odd.\r\nTrace ID: t"})
    assert type(error) is SignInError
    assert "Something odd." in str(error) and "Trace ID" not in error.message and error.aadsts == "AADSTS99999"


def test_a_sign_in_failure_is_a_console_error_with_its_title_exit_3_and_escaped_text() -> None:
    """Sign-in errors are in the one family: the CLI ends with 3, the console's toast reads "Sign-in failed"."""
    from console.cli.exitcodes import exit_code_for_exception
    from console.errors import ConsoleError
    from console.tui.messages import describe_failure

    error = explain({"error": "odd", "error_description": "AADSTS1: no [b]way[/b] \x1b[2J", "trace_id": "t-1"})
    assert isinstance(error, ConsoleError) and error.exit_code == 3 == exit_code_for_exception(error)
    assert error.message == "Sign-in failed: AADSTS1: no [b]way[/b] \\x1b[2J"
    shown = describe_failure(error)
    assert (shown.title, shown.text) == ("Sign-in failed", f"{error.message} [AADSTS1] (trace id t-1)")
