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
    (
        "next poll shows a time already past",
        "console/tui/ops_model.py",
        '        next_at = clock_label(when) if when > now else "due"',
        "        next_at = clock_label(when)",
        (
            "tests/tui/test_console_ui3.py::test_next_poll_is_never_a_time_already_past_and_waits_for_the_tenants_throttle_gate",
        ),
    ),
    (
        "next poll ignores the tenant's throttle gate",
        "console/tui/ops_model.py",
        "        when = max(view.next_poll_at, gate or 0.0)",
        "        when = view.next_poll_at",
        (
            "tests/tui/test_console_ui3.py::test_next_poll_is_never_a_time_already_past_and_waits_for_the_tenants_throttle_gate",
        ),
    ),
    (
        "the table never hears of a tenant's throttle gate",
        "console/tui/screens/tenant_view.py",
        "                gates[tenant_key_of(session)] = float(until)",
        "                pass",
        ("tests/tui/test_console_ui3.py::test_a_throttled_tenants_rows_show_when_they_will_really_be_polled",),
    ),
]
