"""Mutations guarding the one submission path (issue 16, item 3): both front ends refuse through one rule set."""

from __future__ import annotations

from typing import Any

BOTH = "tests/cli/test_one_submission_path.py::test_a_storage_rule_refuses_in_both_front_ends_with_the_same_words"
CASE = "tests/tui/test_export_case.py::test_the_export_form_opens_a_new_case_with_the_deadline_rule_and_says_so"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "submit: a SAS without write permission accepted by both front ends",
        "console/storage/sas.py",
        '    if permissions is not None and not ({"c", "w"} & set(permissions.lower())):',
        "    if False:",
        (f"{BOTH}[a SAS without write permission]",),
    ),
    (
        "submit: the CLI words a storage refusal its own way",
        "console/cli/run.py",
        '        raise UsageProblem(f"{checked.errors[0]} (nothing was sent)")',
        '        raise UsageProblem(f"storage location refused: {checked.errors[0]} (nothing was sent)")',
        (f"{BOTH}[no signature]",),
    ),
    (
        "submit: the form words a storage refusal its own way",
        "console/tui/screens/export.py",
        '        self._error("\\n".join(f"✗ {e}" for e in plan.errors))',
        '        self._error("\\n".join(f"✗ refused: {e}" for e in plan.errors))',
        (f"{BOTH}[a blob SAS]",),
    ),
    (
        "submit: the console's export form does not open its case",
        "console/ops/submission.py",
        "        if not ref or writer is None or tenant_key is None:",
        "        if True:",
        (CASE,),
    ),
]
