"""Mutations guarding the ui3 fixes (issues 17 and 18): break the line, the named tests must fail."""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "export form's exports left today not read again after a send",
        "console/tui/screens/export.py",
        "        self.load_quota()  # the batch spent some of today's exports: read them again, as the status line does",
        "        pass",
        ("tests/tui/test_console_ui3.py::test_the_forms_exports_left_today_is_read_again_after_a_batch_is_sent",),
    ),
    (
        "three-tenant demo seeds again on a restart",
        "console/demo.py",
        "        if any(view.case == DEMO_CASE for view in engine.operations()):",
        "        if False:",
        ("tests/test_demo_seed.py::test_restarting_the_three_tenant_demo_keeps_each_tenants_seed",),
    ),
]
