"""Several tenants in the console (issue 18): the Tenant column, ``tenant:NAME``, the picker, the tenant named
in the export question, read-only per tenant, the pulse figures.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_T = "tests/tui/test_tenants_console.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "tenants_tui: tenant:NAME keeps that tenant's operations only",
        "console/tui/ops_filter.py",
        "if self.query.tenants and name not in self.query.tenants:",
        "if False:",
        (f"{_T}test_one_table_across_tenants_with_a_tenant_column_and_the_tenant_filter",),
    ),
    (
        "tenants_tui: the table shows a Tenant column when several tenants are open",
        "console/tui/widgets/ops_lines.py",
        "if self.model.has_tenants:  # several tenants in one table (issue 18)",
        "if False:",
        (f"{_T}test_one_table_across_tenants_with_a_tenant_column_and_the_tenant_filter",),
    ),
    (
        "tenants_tui: the export question names the tenant",
        "console/tui/export_model.py",
        'in_tenant = f" in {safe_text(tenant)}" if tenant else ""',
        'in_tenant = ""',
        (f"{_T}test_the_export_question_and_form_name_the_picked_tenant",),
    ),
    (
        "tenants_tui: the export form is for the picked tenant's engine",
        "console/tui/screens/tenant_view.py",
        "        session = session or self.profile_session\n",
        "        session = session or self.tenants.sessions[0]\n",
        (
            f"{_T}test_the_export_question_and_form_name_the_picked_tenant",
            f"{_T}test_a_read_only_tenant_refuses_and_the_others_export",
        ),
    ),
    (
        "tenants_tui: the picker shows the next tenant's profiles",
        "console/tui/screens/main.py",
        "async for page in self.profile_session.profiles():",
        "async for page in self.tenants.sessions[0].profiles():",
        (f"{_T}test_the_picker_switches_the_profile_list",),
    ),
    (
        "tenants_tui: the pulse reads each tenant's own budget",
        "console/tui/pulse.py",
        "poll_budget=status.per_hour if status is not None else 0,",
        "poll_budget=9000,",
        (f"{_T}test_the_pulse_figures_come_from_each_engine",),
    ),
    (
        "tenants_tui: the pulse counts each tenant's failed operations",
        "console/tui/pulse.py",
        "        journal_figures(views, polls_this_hour=polls, exports_used_today=used),",
        "        journal_figures((), polls_this_hour=polls, exports_used_today=used),",
        (f"{_T}test_the_pulse_figures_come_from_each_engine",),
    ),
    (
        "tenants_tui: the strip is hidden with one tenant",
        "console/tui/screens/tenant_view.py",
        "self.query_one(PulseStrip).display = several",
        "self.query_one(PulseStrip).display = True",
        (f"{_T}test_one_tenant_shows_no_tenant_column_and_no_pulse_strip",),
    ),
    (
        "tenants_tui: read-only is the tenant's own (the picked tenant's setting refuses)",
        "console/tui/screens/tenant_view.py",
        "reason = console_read_only(self.services, session)",
        "reason = console_read_only(self.services, self.tenants.sessions[0])",
        (f"{_T}test_a_read_only_tenant_refuses_and_the_others_export",),
    ),
    (
        "tenants_tui: the counts line gives the operations per tenant",
        "console/tui/widgets/ops_pane.py",
        "per_tenant = tuple(model.tenant_counts().items()) if model.has_tenants else ()",
        "per_tenant = ()",
        (f"{_T}test_one_table_across_tenants_with_a_tenant_column_and_the_tenant_filter",),
    ),
    (
        "tenants_tui: each demo tenant has its own poll budget",
        "console/demo.py",
        "    return {spec.name: spec.poll_budget or default for spec in DEMO_TENANTS}",
        "    return {spec.name: default for spec in DEMO_TENANTS}",
        (f"{_T}test_the_demo_opens_three_tenants_each_with_its_own_engine_and_budget",),
    ),
]
