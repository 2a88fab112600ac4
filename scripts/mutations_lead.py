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
        (
            "lead: --demo ops lists only the first demo tenant",
            "console/wiring.py",
            "        only.tenant_keys = tuple(spec.tenant_id for spec in DEMO_TENANTS)",
            "        only.tenant_keys = tuple(spec.tenant_id for spec in DEMO_TENANTS[:1])",
            (
                "tests/test_demo_seed.py::test_the_demo_console_and_the_demo_cli_name_the_same_tenants_with_the_same_figures",
            ),
        ),
        (
            "lead: --demo ops --summary ignores a demo tenant's own poll budget",
            "console/cli/fleet_commands.py",
            "    own = demo_poll_budgets(options.poll_budget) if options.demo else {}",
            "    own = {}",
            (
                "tests/test_demo_seed.py::test_the_demo_console_and_the_demo_cli_name_the_same_tenants_with_the_same_figures",
            ),
        ),
        (
            "lead: the CLI's demo names its tenant apart from the console's",
            "console/demo.py",
            "DEMO_TENANT_NAME = DEMO_TENANTS[0].name",
            'DEMO_TENANT_NAME = "demo"',
            ("tests/cli/test_cli.py::test_demo_restart_resumes_its_journal",),
        ),
        (
            "lead: keys typed right after Esc are not held until it has closed its screen",
            "console/tui/app.py",
            '        if event.key == "escape" and not self._priority_ran and not self._escape_in_flight:',
            "        if False:",
            (
                "tests/tui/test_console_ui3.py::test_keys_typed_right_after_esc_reach_the_screen_it_reveals",
                "tests/tui/test_console_ui3.py::test_an_esc_handled_as_it_is_read_holds_no_keys",
            ),
        ),
        (
            "lead: an Esc a priority key handled still holds the keys after it",
            "console/tui/app.py",
            "        self._priority_ran = self._priority_ran or (ran and priority)",
            "        self._priority_ran = False",
            ("tests/tui/test_console_ui3.py::test_an_esc_that_leaves_the_event_logs_filter_holds_no_keys",),
        ),
        (
            "lead: the console reads the terminal with Textual's own parser (Esc+key becomes alt+key)",
            "console/tui/terminal_keys.py",
            '    setattr(linux_driver, "XTermParser", EscThenKeyParser)',
            "    del linux_driver",
            ("tests/tui/test_console_ui3.py::test_esc_and_the_next_key_read_in_one_go_are_two_keys",),
        ),
        (
            "lead: Esc and a key read before the sequence wait ran out stay one key",
            "console/tui/terminal_keys.py",
            '        if len(sequence) == 2 and sequence[0] == "\\x1b" and _typed(sequence[1]):',
            "        if False:",
            ("tests/tui/test_console_ui3.py::test_esc_and_the_next_key_read_in_one_go_are_two_keys",),
        ),
        (
            "lead: the start of an escape sequence is taken for a typed key",
            "console/tui/terminal_keys.py",
            "    return character.isprintable() and character not in SEQUENCE_STARTS",
            "    return character.isprintable()",
            ("tests/tui/test_console_ui3.py::test_esc_and_the_next_key_read_in_one_go_are_two_keys",),
        ),
        (
            "lead: --demo ops prints the table of the demo's tenants without naming them",
            "console/cli/journal_commands.py",
            "    chosen_all = journal_only.tenant_key is None or journal_only.tenant_keys is not None",
            "    chosen_all = journal_only.tenant_key is None",
            (
                "tests/test_demo_seed.py::test_the_demo_console_and_the_demo_cli_name_the_same_tenants_with_the_same_figures",
            ),
        ),
        (
            "lead: the Graph client keeps the cookies Graph sets and sends them back",
            "console/graph/client.py",
            "        self._http = CookielessClient(",
            "        self._http = httpx.AsyncClient(",
            ("tests/graph/test_client.py::test_a_cookie_graph_sets_is_neither_kept_nor_sent_back",),
        ),
        (
            "lead: the cookieless client keeps cookies after all",
            "console/http_client.py",
            "    @property\n    def cookies(self) -> httpx.Cookies:\n        return _NO_COOKIES\n",
            "    @property\n    def cookies(self) -> httpx.Cookies:\n        return self._cookies\n",
            ("tests/graph/test_client.py::test_a_cookie_graph_sets_is_neither_kept_nor_sent_back",),
        ),
        (
            "lead: the storage clients keep the cookies storage sets and send them back",
            "console/storage/pool.py",
            "            client = CookielessClient(",
            "            client = httpx.AsyncClient(",
            ("tests/storage/test_pool.py::test_a_cookie_storage_sets_is_neither_kept_nor_sent_back",),
        ),
        (
            "lead: --demo report covers the first demo tenant only",
            "console/cli/journal_commands.py",
            "        tenant_key=journal_only.tenant_key if journal_only.tenant_keys is None else None,",
            "        tenant_key=journal_only.tenant_key,",
            (
                "tests/test_demo_seed.py::test_the_demo_console_and_the_demo_cli_name_the_same_tenants_with_the_same_figures",
            ),
        ),
    ]
)
MUTATIONS.extend(
    [
        (
            "lead: the export path loads httpx's own command line (click, rich)",
            "console/__init__.py",
            'sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]',
            "",
            ("tests/test_layers.py::test_the_export_path_leaves_httpx_command_line_unloaded",),
        ),
        (
            "lead: a long run keeps the collector's start-up settings",
            "console/cli/run.py",
            "    import asyncio\n\n    settle_collector()\n",
            "    import asyncio\n",
            ("tests/test_layers.py::test_a_long_run_tunes_the_collector_once_started",),
        ),
        (
            "lead: a row's view keeps the journal's delivery dict",
            "console/ops/journal_model.py",
            '        fields["delivered"] = delivery_from_json(self.delivered)\n',
            "",
            ("tests/ops/test_promises.py",),
        ),
        (
            "lead: a row's view keeps the journal's submitted text",
            "console/ops/journal_model.py",
            '        fields["submitted_at"] = parse_datetime(self.submitted_at)\n',
            "",
            ("tests/ops/test_journal.py::test_a_rows_view_carries_every_field_with_times_and_delivery_as_values",),
        ),
        (
            "lead: the form's person label shows a UPN before the name",
            "console/ops/events.py",
            "return terminal_safe(self.display_name or self.user_principal_name or self.user_id)",
            "return terminal_safe(self.user_principal_name or self.display_name or self.user_id)",
            ("tests/tui/test_export_model.py",),
        ),
    ]
)
MUTATIONS.append(
    (
        "lead: the Outbound view shows its worker failures itself (unredacted), not through the App's handler",
        "console/tui/screens/outbound.py",
        "class OutboundScreen(ReportsWorkerFailures, Screen[None]):",
        "class OutboundScreen(Screen[None]):",
        ("tests/tui/test_worker_failures.py::test_a_worker_failure_shows_once_formatted_and_as_text",),
    )
)
MUTATIONS.extend(
    [
        (
            "lead: a removal already asked for is toasted with the tenant's text raw",
            "console/tui/removal.py",
            'describe_failure(exc).text.replace("use --force to ask again"',
            'str(exc).replace("use --force to ask again"',
            ("tests/tui/test_remove_dialog.py::test_a_refused_removal_toast_shows_tenant_text_as_escaped_data",),
        ),
        (
            "lead: a removal not done is toasted with Graph's text raw",
            "console/tui/removal.py",
            "not done: {safe_text(redact(outcome.error))}",
            "not done: {outcome.error}",
            ("tests/tui/test_remove_dialog.py::test_a_refused_removal_toast_shows_tenant_text_as_escaped_data",),
        ),
    ]
)
MUTATIONS.append(
    (
        "lead: a screen's own toast is shown and logged unredacted",
        "console/tui/app.py",
        "        text = redact(plain_text(message, markup=markup))\n        heading = redact(plain_text(title, markup=markup))",
        "        text = plain_text(message, markup=markup)\n        heading = plain_text(title, markup=markup)",
        ("tests/tui/test_worker_failures.py::test_every_toast_is_redacted_whoever_sends_it",),
    )
)
MUTATIONS.extend(
    [
        (
            "lead: the polling status line logs nothing into the App's event log",
            "console/tui/screens/main.py",
            "log=self.app.event_log.add if isinstance(self.app, KeepsEventLog) else None,",
            "log=None,",
            (
                "tests/tui/test_console_habits.py::test_the_status_line_shows_budget_throttling_next_poll_quota_and_pause",
            ),
        ),
        (
            "lead: the sign-in-again pane's header names no tenant still signed in",
            "console/tui/screens/sign_in_again.py",
            "session = self.app.session if isinstance(self.app, HoldsSession) else None",
            "session = None",
            ("tests/tui/test_sign_in_again.py",),
        ),
    ]
)
MUTATIONS.append(
    (
        "lead: the journal's rows ignore the states asked for",
        "console/ops/journal_reads.py",
        "        return self._rows(*select(COLUMNS, tenant_key, states, None, None))",
        "        return self._rows(*select(COLUMNS, tenant_key, None, None, None))",
        ("tests/ops/test_journal_reads.py::test_streamed_rows_are_the_listed_rows",),
    )
)
MUTATIONS.extend(
    [
        (
            "lead: the lean stream calls every idle connection alive (a closed one is reused)",
            "console/http_pool.py",
            '        if info == "is_readable":\n            return readable(self._socket)',
            '        if info == "is_readable":\n            return False',
            ("tests/test_http_client.py::test_a_connection_the_server_closed_is_dropped_not_reused",),
        ),
        (
            "lead: the console's client keeps httpx's own transport",
            "console/http_client.py",
            "            transport = LeanTransport(verify=verify, limits=limits)",
            "            pass",
            ("tests/test_http_client.py::test_the_client_reuses_a_live_connection",),
        ),
        (
            "lead: the case form reads its boxes by position, not by name",
            "console/tui/widgets/cases_pane.py",
            "        return {str(box.name): box.value.strip() for _, box in self.fields}",
            "        return {str(n): box.value.strip() for n, (_, box) in enumerate(self.fields)}",
            ("tests/tui/test_cases_pane.py",),
        ),
    ]
)
MUTATIONS.extend(
    [
        (
            "lead: a flush that failed once is said at once (a moment's lock is news again)",
            "console/ops/engine_sync.py",
            "            if failed == FLUSH_WARN_AFTER:",
            "            if failed == 1:",
            (
                "tests/ops/test_promises.py::"
                "test_a_flush_that_fails_a_moment_is_no_news_and_one_that_keeps_failing_is_said_once",
            ),
        ),
        (
            "lead: failed flushes are counted across successes",
            "console/ops/engine_sync.py",
            "                failed = 0\n                continue",
            "                continue",
            (
                "tests/ops/test_promises.py::"
                "test_a_flush_that_fails_a_moment_is_no_news_and_one_that_keeps_failing_is_said_once",
            ),
        ),
    ]
)
