"""Issue 18's leftovers (worktree t18): the ops table's TENANT column, tenants on their own, per-tenant budgets."""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "ops table never names the tenants",
        "console/cli/journal_commands.py",
        "    tenants = not args.json and chosen_all and several_tenants(journal)",
        "    tenants = False",
        (
            "tests/ops/test_read_fast_paths.py::test_ops_prints_the_views_table_byte_for_byte",
            "tests/cli/test_tenants_cli.py::test_watch_two_tenants_each_on_its_own_budget_and_the_json_names_them",
        ),
    ),
    (
        "ops table's TENANT column never shown for a second tenant",
        "console/cli/journal_listing.py",
        "            self.with_tenant = self.with_tenant or bool(self._names)",
        "            self.with_tenant = self.with_tenant",
        ("tests/ops/test_read_fast_paths.py::test_ops_prints_the_views_table_byte_for_byte",),
    ),
    (
        "views table's TENANT column shown for one tenant",
        "console/cli/views.py",
        "    with_tenant = len({v.tenant_key for v in views}) > 1",
        "    with_tenant = len({v.tenant_key for v in views}) > 0",
        ("tests/ops/test_read_fast_paths.py::test_ops_of_printable_rows_cuts_a_long_cell_as_the_views_table_does",),
    ),
    (
        "one pacer shared by every tenant's client",
        "console/graph/client.py",
        "        self.pacer = pacer or Pacer(self._clock)",
        '        self.pacer = pacer or self._clock.__dict__.setdefault("shared_pacer", Pacer(self._clock))',
        ("tests/ops/test_tenants.py::test_a_throttling_storm_on_one_tenant_never_delays_another",),
    ),
    (
        "one budget ledger shared by every tenant",
        "console/ops/engine_link.py",
        "        self._tenant_key = tenant_key\n        self._pace = pace",
        '        self._tenant_key = "shared"\n        self._pace = pace',
        ("tests/ops/test_tenants.py::test_a_throttling_storm_on_one_tenant_never_delays_another",),
    ),
    (
        "a token Graph refuses never stops the engine",
        "console/ops/engine_polling.py",
        "        if step.fatal:\n            self.fatal_error = exc",
        "        if False:\n            self.fatal_error = exc",
        ("tests/ops/test_tenants.py::test_a_token_refused_on_one_tenant_leaves_the_other_polling",),
    ),
    (
        "a saved tenant's poll_budget beats --poll-budget",
        "console/config.py",
        "    if given is not None:\n        return given",
        "    if given is not None and saved is None:\n        return given",
        (
            "tests/cli/test_tenants_cli.py::test_a_saved_tenants_poll_budget_is_its_own_unless_the_command_line_gives_one",
        ),
    ),
    (
        "a saved tenant's poll_budget never used by its engine",
        "console/wiring.py",
        "            poll_budget=options.poll_budget if options.poll_budget_given else None,",
        "            poll_budget=options.poll_budget,",
        (
            "tests/cli/test_tenants_cli.py::test_a_saved_tenants_poll_budget_is_its_own_unless_the_command_line_gives_one",
        ),
    ),
    (
        "--poll-budget never noted as given",
        "console/cli/parser.py",
        "        namespace.poll_budget_given = True",
        "        namespace.poll_budget_given = False",
        (
            "tests/cli/test_tenants_cli.py::test_a_saved_tenants_poll_budget_is_its_own_unless_the_command_line_gives_one",
        ),
    ),
    (
        "a saved poll_budget of 0 accepted",
        "console/config.py",
        "not 1 <= value <= POLL_BUDGET_MAX:",
        "not 0 <= value <= POLL_BUDGET_MAX:",
        (
            "tests/cli/test_tenants_cli.py::test_a_saved_tenants_poll_budget_is_its_own_unless_the_command_line_gives_one",
        ),
    ),
    (
        "ops --summary ignores a saved tenant's poll_budget",
        "console/cli/fleet_commands.py",
        "        budget = own.get(name) or poll_budget_for(saved.get(name), given, options.poll_budget)",
        "        budget = own.get(name) or options.poll_budget",
        (
            "tests/cli/test_tenants_cli.py::test_a_saved_tenants_poll_budget_is_its_own_unless_the_command_line_gives_one",
        ),
    ),
    (
        "the strip's polls this hour are this process's, not the ledger's",
        "console/ops/engine_submit.py",
        "        if not self.budget.shared:\n            return self.budget.spent_last_hour(self.clock.now())",
        "        if True:\n            return self.budget.spent_last_hour(self.clock.now())",
        ("tests/ops/test_tenants.py::test_the_console_strip_and_ops_summary_give_the_same_figures_on_one_journal",),
    ),
    (
        "the strip's exports left ignore the journal's quota",
        "console/tui/pulse.py",
        "    used = quota.tenant_used if quota is not None else None",
        "    used = None",
        ("tests/ops/test_tenants.py::test_the_console_strip_and_ops_summary_give_the_same_figures_on_one_journal",),
    ),
    (
        "the pulse counts problems as failed",
        "console/ops/fleet.py",
        '        elif matches_status(view, "failed"):',
        '        elif matches_status(view, "problem"):',
        ("tests/ops/test_tenants.py::test_the_console_strip_and_ops_summary_give_the_same_figures_on_one_journal",),
    ),
]
