"""Issue 16, duplicates in console/tui: keys declared once (KeyArea), the pane table, the login pane's handlers
that are its actions: break the line, the tests fail."""

from __future__ import annotations

from typing import Any

LOGIN = "tests/tui/test_login_asks.py"
CONSOLE = "tests/tui/test_console.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "dup3: an area's keys take its priority",
        "console/tui/bindings.py",
        "priority=self.priority if priority is None else priority,",
        "priority=bool(priority),",
        ("tests/tui/test_ops_console.py::test_slash_and_a_name_in_one_burst_filter_the_operations_not_the_profiles",),
    ),
    (
        "dup3: a key's tooltip comes from its area's table",
        "console/tui/bindings.py",
        'tooltip=self.tooltips.get(name, ""),',
        'tooltip="",',
        ("tests/test_readme.py", f"{CONSOLE}::test_help_lists_every_binding"),
    ),
    (
        "dup3: the pane table names the tabs",
        "console/tui/screens/main.py",
        'PANES = ((1, "profiles", "Profiles"), (2, "operations", "Operations"), (3, "cases", "Cases"))',
        'PANES = ((1, "profiles", "Profile"), (2, "operations", "Operations"), (3, "cases", "Cases"))',
        ("tests/tui/test_snapshots.py::test_main_screen",),
    ),
    (
        "dup3: Enter on a tenant signs in",  # Enter in the secret's field, the Sign in button: mutations_dups.py
        "console/tui/screens/login.py",
        '    @on(OptionList.OptionSelected, "#tenant-list")\n',
        "",
        (f"{CONSOLE}::test_login_pane_runs_the_device_code_flow",),
    ),
    (
        "dup3: choosing an app-only method shows the secret's field",
        "console/tui/screens/login.py",
        '    @on(RadioSet.Changed, "#methods")\n',
        "",
        (f"{CONSOLE}::test_a_failed_client_secret_sign_in_says_why",),
    ),
    (
        "dup3: the Add tenant button opens the form",
        "console/tui/screens/login.py",
        '    @on(Button.Pressed, "#add-tenant")\n',
        "",
        (f"{LOGIN}::test_the_add_tenant_button_opens_the_form",),
    ),
]
