"""Mutations of the duplicates fold (issue 16): the login pane's one sign-in handler keeps each way in."""

from __future__ import annotations

from typing import Any

_LOGIN = "tests/tui/test_login_asks.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "dups: Enter in the secret's field no longer signs in",
        "console/tui/screens/login.py",
        '    @on(Input.Submitted, "#secret")\n',
        "",
        (_LOGIN + "test_enter_in_the_secret_field_signs_in",),
    ),
    (
        "dups: the Sign in button no longer signs in",
        "console/tui/screens/login.py",
        '    @on(Button.Pressed, "#sign-in")\n',
        "",
        (_LOGIN + "test_the_sign_in_button_signs_in",),
    ),
]
