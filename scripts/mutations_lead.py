"""Mutations the lead added while merging (same tuple format as ``scripts/mutations.py``)."""

from __future__ import annotations

from typing import Any

REMOVE = "tests/tui/test_remove_dialog.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "lead: Delete on the list waits its turn (a burst's Enter opens the export form instead)",
        "console/tui/screens/main.py",
        '        _key("delete", "remove", "Remove", "remove"),',
        '        _key("delete", "remove", "Remove", "remove", priority=False),',
        (f"{REMOVE}::test_delete_then_enter_in_one_burst_opens_the_removal_question_not_the_export_form",),
    ),
    (
        "lead: Delete in the search box removes people instead of a character",
        "console/tui/screens/main.py",
        "not self._on_operations() and not isinstance(self.focused, Input)",
        "not self._on_operations()",
        (f"{REMOVE}::test_delete_in_the_search_box_deletes_a_character",),
    ),
]
MUTATIONS.append(
    (
        "lead: the console's login signs a token_env tenant in with a certificate",
        "console/tui/sessions.py",
        "        elif method.id == TOKEN_ENV.id:\n            signin.token_from_env()\n",
        "",
        ("tests/auth/test_login_secret.py::test_a_token_env_tenant_signs_in_from_its_variable_in_the_console",),
    )
)
MUTATIONS.extend(
    [
        (
            "lead: the console on several saved tenants opens only the login pane",
            "console/tui/entry.py",
            "    if len(names) > 1:\n        return fleet_services(options, names, clock)",
            "    if False:\n        return fleet_services(options, names, clock)",
            ("tests/tui/test_tenants_saved.py::test_all_tenants_opens_one_console_over_each_saved_tenant",),
        ),
        (
            "lead: a tenant set aside when the console opens is not named",
            "console/tui/app.py",
            '            self.notify(f"{name}: set aside, not polled: {why}"',
            '            self.log(f"{name}: set aside, not polled: {why}"',
            ("tests/tui/test_tenants_saved.py::test_a_tenant_that_cannot_sign_in_is_set_aside_and_named",),
        ),
        (
            "lead: the journal commands import the Graph commands (and so httpx) at start-up",
            "console/cli/run.py",
            "if TYPE_CHECKING:  # a journal command needs neither the engine nor httpx: imported by the commands that do\n    from console.cli.commands import ExportRequest",
            "from console.cli.commands import ExportRequest\nif TYPE_CHECKING:\n    pass",
            ("tests/ops/test_journal_reads.py::test_the_journal_commands_import_neither_the_engine_httpx_nor_asyncio",),
        ),
        (
            "lead: the CLI imports asyncio at start-up",
            "console/cli/run.py",
            "import argparse\nimport logging\n",
            "import argparse\nimport asyncio\nimport logging\n",
            ("tests/ops/test_journal_reads.py::test_the_journal_commands_import_neither_the_engine_httpx_nor_asyncio",),
        ),
    ]
)
