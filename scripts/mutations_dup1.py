"""Mutations guarding the shared helpers of helper dup1 (issue 16's last ``duplicates`` pairs in ``console/``).
Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

CONTRACT = "tests/cli/test_contract.py::"
RENEWAL = (
    "tests/auth/test_device_code.py::test_a_refused_renewal_asking_for_a_new_sign_in_keeps_entra_s_code_and_trace_id"
)
SIGN_IN = "tests/auth/test_errors.py::test_a_sign_in_failure_is_a_console_error_with_its_title_exit_3_and_escaped_text"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "dup1: a family's title in its class header is ignored",
        "console/errors.py",
        "        if title is not None:\n            cls.title = title\n",
        "",
        (SIGN_IN,),
    ),
    (
        "dup1: a family's exit code in its class header is ignored",
        "console/errors.py",
        "        if exit_code is not None:\n            cls.exit_code = exit_code\n",
        "",
        (CONTRACT + "test_outcome_exit_codes_come_from_the_typed_failure",),
    ),
    (
        "dup1: the subcommands' --json flag is misnamed",
        "console/cli/options.py",
        '    return ("--json", f"JSON Lines: one object per {each}")',
        '    return ("--jsonl", f"JSON Lines: one object per {each}")',
        (CONTRACT + "test_unconfirmed_export_exits_1_and_watch_lists_it_and_exits_1",),
    ),
    (
        "dup1: a subcommand's flag is on by default",
        "console/cli/options.py",
        '        parser.add_argument(name, action="store_true", help=help_text)',
        '        parser.add_argument(name, action="store_true", default=True, help=help_text)',
        (CONTRACT + "test_unconfirmed_export_exits_1_and_watch_lists_it_and_exits_1",),
    ),
    (
        "dup1: a renewal refused with invalid_grant is not recast as InteractionRequired",
        "console/auth/signin.py",
        "                error = InteractionRequired(error.message, answer=result)",
        "                pass",
        (RENEWAL,),
    ),
    (
        "dup1: the recast InteractionRequired loses Entra's answer",
        "console/auth/signin.py",
        "                error = InteractionRequired(error.message, answer=result)",
        '                error = InteractionRequired(error.message, error="invalid_grant")',
        (RENEWAL,),
    ),
    (
        "dup1: a sign-in error loses Entra's correlation id",
        "console/auth/errors.py",
        '            client_request_id=str(entra.get("correlation_id") or ""),',
        '            client_request_id="",',
        (RENEWAL,),
    ),
    (
        "dup1: a sign-in error loses Entra's description",
        "console/auth/errors.py",
        "        self.detail = _first_line(entra)",
        '        self.detail = ""',
        (RENEWAL,),
    ),
]
