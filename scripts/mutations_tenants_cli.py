"""Issue 18, several tenants on the command line: choosing tenants, the fleet's health and pulse, token_env."""

from __future__ import annotations

from typing import Any

CLI = "tests/cli/test_tenants_cli.py"
FLEET = "tests/ops/test_fleet.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "tenants: a one-tenant command runs with several tenants",
        "console/cli/fleet_commands.py",
        "    if command in ONE_TENANT_COMMANDS and several(options):",
        "    if False:",
        (f"{CLI}::test_one_tenant_commands_refuse_several_and_send_nothing",),
    ),
    (
        "tenants: --all-tenants is not several",
        "console/cli/fleet_commands.py",
        "    return options.all_tenants or len(options.tenants) > 1",
        "    return len(options.tenants) > 1",
        (f"{CLI}::test_one_tenant_commands_refuse_several_and_send_nothing",),
    ),
    (
        "tenants: a tenant whose token fails is not set aside",
        "console/cli/fleet_commands.py",
        "    if fatal is not None or code == EXIT_AUTH:",
        "    if False:",
        (f"{CLI}::test_a_failing_token_sets_one_tenant_aside_and_the_other_keeps_polling",),
    ),
    (
        "tenants: watch without a tenant says nothing of those it cannot resume",
        "console/cli/fleet_commands.py",
        '        say(f"export-console: tenant {clean(name)}: cannot resume without a prompt: {clean(why)}")',
        "        pass",
        (f"{CLI}::test_watch_without_a_tenant_resumes_those_that_sign_in_without_a_prompt",),
    ),
    (
        "tenants: JSON rows lack the tenant's name",
        "console/cli/views.py",
        '    record["tenant"] = TENANT_NAMES(view.tenant_key)',
        '    record["tenant"] = view.tenant_key',
        (f"{CLI}::test_watch_two_tenants_each_on_its_own_budget_and_the_json_names_them",),
    ),
    (
        "tenants: report --tenant with several does not filter",
        "console/report.py",
        "            if only is not None and key not in only:",
        "            if False:",
        (f"{CLI}::test_watch_two_tenants_each_on_its_own_budget_and_the_json_names_them",),
    ),
    (
        "tenants: ops with several tenants lists every tenant",
        "console/cli/journal_commands.py",
        "    if journal_only.tenant_keys is not None:  # several tenants",
        "    if False:",
        (f"{CLI}::test_watch_two_tenants_each_on_its_own_budget_and_the_json_names_them",),
    ),
    (
        "tenants: the summary counts every tenant's operations",
        "console/ops/fleet.py",
        "        views = [row.view() for row in journal.rows(tenant_key)]",
        "        views = [row.view() for row in journal.rows()]",
        (
            f"{FLEET}::test_the_pulse_counts_one_tenant_only",
            f"{CLI}::test_ops_summary_has_one_row_per_tenant_with_the_pulse",
        ),
    ),
    (
        "fleet: repeated failures never set a tenant aside",
        "console/ops/fleet.py",
        "        if sign_in or self.errors >= SET_ASIDE_AFTER:",
        "        if sign_in:",
        (f"{FLEET}::test_repeated_failures_set_a_tenant_aside_with_a_growing_back_off",),
    ),
    (
        "fleet: the back-off does not grow",
        "console/ops/fleet.py",
        "        return float(min(SET_ASIDE_CAP, SET_ASIDE_START * (2 ** min(steps, 16))))",
        "        return SET_ASIDE_START",
        (f"{FLEET}::test_repeated_failures_set_a_tenant_aside_with_a_growing_back_off",),
    ),
    (
        "config: token_env without its variable's name is accepted",
        "console/config.py",
        "            if not self.token_env:",
        "            if False:",
        (f"{CLI}::test_token_env_in_config_is_checked_with_clear_errors",),
    ),
    (
        "config: token_env is not written back",
        "console/config.py",
        '            "token_env": self.token_env,',
        '            "token_env": None,',
        (f"{CLI}::test_token_env_in_config_is_checked_with_clear_errors",),
    ),
    (
        "fleet: Graph's throttling never shows in the pulse",
        "console/ops/fleet.py",
        "            throttled = gate if gate > self.clock.now() else None",
        "            throttled = None",
        (f"{CLI}::test_open_fleet_gives_each_tenant_its_engine_and_a_live_pulse",),
    ),
    (
        "fleet: a tenant whose sign-in failed is left out of the fleet",
        "console/wiring.py",
        "            fleet.sign_in_failed(name, str(exc), poll_budget=options.poll_budget)",
        "            pass",
        (f"{CLI}::test_open_fleet_gives_each_tenant_its_engine_and_a_live_pulse",),
    ),
]
