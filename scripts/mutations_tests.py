"""Issue 22: the breaks that once passed the whole suite, and the next ones per promise (helper ``tests``).

Each entry: (promise: what breaks, file, exact snippet, its broken form, tests), the format of
``scripts/mutations.py``, which loads this list.
"""

from __future__ import annotations

from typing import Any

OPS22 = "tests/ops/test_promises_22.py::"
GRAPH22 = "tests/graph/test_promises_22.py::"
CLI22 = "tests/cli/test_promises_22.py::"
TUI22 = "tests/tui/test_promises_22.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "retry-after: #22.1 a due check tolerates an early head of the queue",
        "console/ops/poll_queue.py",
        "            if head is not None and head[0] <= now:",
        "            if head is not None and head[0] <= now + 1.0:",
        (OPS22 + "test_a_poll_never_leaves_before_its_due_time_even_when_another_queue_head_is_due",),
    ),
    (
        "retry-after: #22.3 a 5xx on a GET retried without its Retry-After",
        "console/graph/policy.py",
        "                info.retry_after\n                if info.retry_after is not None\n",
        "                info.retry_after\n                if False\n",
        (GRAPH22 + "test_a_5xx_on_a_get_is_retried_only_after_the_retry_after_it_carries",),
    ),
    (
        "trusted urls: #22.8 only the host of a URL from Graph compared",
        "console/graph/policy.py",
        '    return scheme, (host or "").lower(), port if port is not None else DEFAULT_PORTS.get(scheme)',
        '    return "", (host or "").lower(), None',
        (GRAPH22 + "test_a_url_from_graph_on_the_same_host_with_another_scheme_or_port_is_not_followed",),
    ),
]
MUTATIONS += [
    (
        "backoff: #22.2 a failed poll waits the 60 s default instead of the error backoff",
        "console/ops/answers.py",
        "    return exc.retry_after if exc.retry_after is not None else 0.0",
        "    return exc.retry_after if exc.retry_after is not None else 60.0",
        (OPS22 + "test_after_a_failed_poll_the_next_poll_comes_after_the_error_backoff_not_the_60_s_default",),
    ),
]
MUTATIONS += [
    (
        "budget ledger: #22.4 reserved slots never recorded",
        "console/ops/journal_ledger.py",
        '                    "INSERT INTO ledger (tenant_key, at, count, owner) VALUES (?, ?, ?, ?)",',
        '                    "SELECT ?, ?, ?, ?",',
        (OPS22 + "test_the_ledger_keeps_every_reserved_slot_of_the_last_hour_for_the_next_process",),
    ),
    (
        "budget ledger: #22.5 the ledger's window is 30 minutes",
        "console/ops/journal_ledger.py",
        '                "SELECT at, count FROM ledger WHERE tenant_key=? AND at > ? ORDER BY at", (tenant_key, now - HOUR)',
        '                "SELECT at, count FROM ledger WHERE tenant_key=? AND at > ? ORDER BY at", (tenant_key, now - HOUR / 2)',
        (OPS22 + "test_the_ledger_keeps_every_reserved_slot_of_the_last_hour_for_the_next_process",),
    ),
]
MUTATIONS += [
    (
        "quotas: #22.6 the tenant's daily quota ignores the batch's size",
        "console/ops/engine_submit.py",
        "        if report.tenant_used + len(user_ids) > report.tenant_limit:",
        "        if report.tenant_used + 1 > report.tenant_limit:",
        (OPS22 + "test_the_tenants_daily_quota_counts_the_whole_batch_being_checked",),
    ),
    (
        "quotas: #22.7 the quota counts the last 12 hours",
        "console/ops/engine_submit.py",
        "self.writer.journal.exports_since, self.tenant_key, self.clock.now() - DAY)",
        "self.writer.journal.exports_since, self.tenant_key, self.clock.now() - DAY / 2)",
        (OPS22 + "test_the_daily_quotas_count_the_last_24_hours_not_12",),
    ),
]
MUTATIONS += [
    (
        "leases: #22.14 a process that lost its lease keeps polling",
        "console/ops/engine_sync.py",
        "            if key not in held and tracked.row.state == TRACKING:",
        "            if False:",
        (OPS22 + "test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner",),
    ),
    (
        "leases: #22.15 it polls while its lease has lapsed",
        "console/ops/engine_polling.py",
        "        if self._link.lease_until <= now:",
        "        if False:",
        (OPS22 + "test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner",),
    ),
    (
        "leases: #22.16 a claim skips the liveness check when the lease is NULL",
        "console/ops/journal_processes.py",
        "    if (lease is None or lease > now) and process_alive(processes.get(row.owner), now, heartbeat_timeout):",
        "    if (lease is not None and lease > now) and process_alive(processes.get(row.owner), now, heartbeat_timeout):",
        (OPS22 + "test_a_claim_never_takes_a_row_whose_owner_is_alive_even_without_a_lease",),
    ),
]
MUTATIONS += [
    (
        "exit codes: #22.11 export --wait picks its exit code as if it had not waited",
        "console/cli/commands.py",
        "    codes.append(exit_code_for_views(latest, waited=args.wait))",
        "    codes.append(exit_code_for_views(latest, waited=False))",
        (CLI22 + "test_export_wait_exits_1_when_the_wait_ends_with_the_export_still_running",),
    ),
]
MUTATIONS += [
    (
        "report: #22.23 finalRequestId from the first final poll",
        "console/ops/journal_reads.py",
        "    \"ORDER BY rowid DESC LIMIT 1), '') ELSE '' END\"",
        "            \"ORDER BY rowid LIMIT 1), '') ELSE '' END\"",
        (CLI22 + "test_the_reports_final_request_id_is_the_last_final_polls",),
    ),
]
MUTATIONS += [
    (
        "bulk confirmation: #22.17 a bulk export without warnings sent without asking",
        "console/tui/screens/export.py",
        "        if len(self.people) == 1 and not warnings and not skipped:",
        "        if not warnings and not skipped:",
        (TUI22 + "test_a_bulk_export_without_any_warning_is_still_confirmed_before_anything_is_sent",),
    ),
    (
        "targets: #22.18 marks the filter hides stay marked (and counted)",
        "console/tui/ops_marks.py",
        "        for key in [k for k in self.keys if k not in shown]:",
        "        for key in []:",
        (TUI22 + "test_marked_operations_the_filter_hides_are_not_targets_of_an_action",),
    ),
    (
        "targets: #22.18 hidden marked operations are targets of an action",
        "console/tui/ops_marks.py",
        "        for key in [k for k in self.keys if k not in shown]:",
        "        for key in []:",
        (
            TUI22 + "test_marked_operations_the_filter_hides_are_not_targets_of_an_action",
            TUI22 + "test_marks_the_typed_filter_hides_are_dropped_and_never_acted_on",
        ),
        (
            "        return [key for key in order if key in self.keys]",
            "        return list(self.keys)",
        ),
    ),
]
MUTATIONS += [
    (
        "retry-after: the journal keeps the 202's Retry-After, not the last one",
        "console/ops/engine_core.py",
        "        if retry_after is not None:\n            row.retry_after = retry_after\n        due = now + plan.delay",
        "        due = now + plan.delay",
        (OPS22 + "test_a_takeover_waits_the_last_retry_after_graph_gave_not_the_first",),
    ),
    (
        "backoff: a success keeps the error streak",
        "console/ops/answers.py",
        "        return Step(Streaks(), retry_after=retry_after)",
        "        return Step(replace(streaks, unknown=0), retry_after=retry_after)",
        (OPS22 + "test_a_success_ends_the_error_backoff_so_the_next_failure_starts_short_again",),
    ),
    (
        "budget ledger: a held-back poll's slot is not given back",
        "console/ops/budget.py",
        "        self._slots.appendleft(self._last if self._last is not None else self._clock.now())\n"
        "        self._last = None\n        self.spent -= 1",
        "        if self._last is not None:\n            self._slots.appendleft(self._last)\n"
        "            self._last = None\n            self.spent -= 1",
        (OPS22 + "test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner",),
    ),
]
MUTATIONS += [
    (
        "leases: a clean stop keeps its leases (the others wait for them to lapse)",
        "console/ops/journal_processes.py",
        '                "UPDATE operations SET owner=NULL, lease_until=NULL, version=? WHERE owner=? AND state=?",',
        '                "UPDATE operations SET version=? WHERE owner=? AND state=?",',
        (OPS22 + "test_a_clean_stop_hands_its_operations_over_at_their_saved_next_poll_not_a_lease_later",),
    ),
    (
        "no re-POST: the journal's conflicts compare user ids by case",
        "console/ops/journal_reads.py",
        "        return [row for row in found if row.user_id.lower() in wanted]\n\n    def removals_of",
        "        return [row for row in found if row.user_id in wanted]\n\n    def removals_of",
        (OPS22 + "test_an_unconfirmed_export_blocks_the_user_whatever_the_case_of_their_id",),
    ),
]

# -- further breaks per promise, written for issue 22 (guarded by the suite's existing tests) --------
P = "tests/ops/test_promises.py::"
SCHED = "tests/ops/test_schedule.py::"
BUDGET = "tests/ops/test_budget.py::"
SAFETY = "tests/graph/test_client_safety.py::"
CLIENT = "tests/graph/test_client.py::"
CONTRACT = "tests/cli/test_contract.py::"
REPORT = "tests/cli/test_report.py::"
MUTATIONS += [
    (
        "retry-after: a takeover ignores the last Retry-After",
        "console/ops/schedule.py",
        "        due = max(due, min(lease_until, now) + (retry_after or 0.0))",
        "        due = max(due, min(lease_until, now))",
        (SCHED + "test_a_takeover_waits_for_the_dead_owners_next_poll_and_retry_after",),
    ),
    (
        "retry-after: an absurd Retry-After obeyed (no ceiling)",
        "console/graph/retry.py",
        "    return min(MAX_RETRY_AFTER, seconds)",
        "    return seconds",
        ("tests/graph/test_retry.py",),
    ),
    (
        "retry-after: an HTTP-date read as zero",
        "console/graph/retry.py",
        "                seconds = when.timestamp() - now",
        "                seconds = 0.0",
        (SAFETY + "test_absurd_retry_after_forms_on_a_poll",),
    ),
    (
        "retry-after: the first poll ignores the 202's Retry-After",
        "console/ops/engine_submit.py",
        "        self._reschedule(tracked, accepted.retry_after, now)",
        "        self._reschedule(tracked, 0.0, now)",
        (P + "test_a_restart_keeps_each_operations_saved_next_poll",),
    ),
    (
        "retry-after: no minimum interval under a zero Retry-After",
        "console/ops/schedule.py",
        "    return max(MIN_POLL_INTERVAL, given, floor)",
        "    return max(given, floor)",
        (SCHED + "test_never_before_retry_after_or_the_floors",),
    ),
    (
        "backoff: the error streak never grows",
        "console/ops/answers.py",
        "    streak = streaks.errors + 1\n",
        "    streak = 1\n",
        (P + "test_failing_polls_back_off",),
    ),
    (
        "backoff: a 403 while polling retried without the sign-in interval",
        "console/ops/answers.py",
        "        return Step(streaks, retry_after=exc.retry_after, floor=AUTH_RETRY_INTERVAL, fatal=True)",
        "        return Step(streaks, retry_after=exc.retry_after, fatal=True)",
        (P + "test_a_403_while_polling_backs_off_and_is_reported",),
    ),
    (
        "backoff: a 429 without Retry-After retried at once by the client",
        "console/graph/policy.py",
        "                await self._clock.sleep(backoff_delay(attempt, start=self._backoff_start, cap=self._backoff_cap))",
        "                pass",
        (SAFETY + "test_a_sporadic_429_does_not_delay_other_requests",),
    ),
    (
        "backoff: the delay grows past its cap",
        "console/graph/retry.py",
        "    delay = min(cap, start * (2 ** min(max(0, attempt - 1), 64)))",
        "    delay = start * (2 ** min(max(0, attempt - 1), 64))",
        ("tests/graph/test_retry.py::test_backoff_grows_is_jittered_and_capped",),
    ),
    (
        "budget ledger: the hour's room ignores what was spent",
        "console/ops/budget.py",
        "    room = per_hour - used",
        "    room = per_hour",
        (BUDGET + "test_the_sliding_hour_guard_waits_for_the_oldest_requests_to_leave",),
    ),
    (
        "budget ledger: the pacer is not shared between processes",
        "console/ops/journal_ledger.py",
        '                    "INSERT INTO pacer (tenant_key, tat) VALUES (?, ?) "',
        '                    "SELECT ?, ? WHERE 1 OR "',
        (BUDGET + "test_two_budgets_on_one_journal_share_the_tenants_budget",),
    ),
    (
        "budget ledger: a slot used before its time",
        "console/ops/budget.py",
        "                    if self._slots[0] <= now + 1e-9:",
        "                    if True:",
        (BUDGET + "test_pacing_is_the_budget_rate_after_a_small_burst",),
    ),
    (
        "budget ledger: the client's retries not budgeted",
        "console/graph/policy.py",
        "        if not export and self._budget is not None:",
        "        if False:",
        (SAFETY + "test_listing_profile_gets_and_poll_retries_spend_from_the_budget",),
    ),
    (
        "budget ledger: the burst grows with the budget",
        "console/ops/budget.py",
        "    return max(1.0, min(20.0, max(per_hour / 200, min(5.0, per_hour / 10))))",
        "    return max(1.0, max(per_hour / 200, min(5.0, per_hour / 10)))",
        (BUDGET + "test_a_tight_budget_still_lets_a_few_pages_of_profiles_through_at_once",),
    ),
    (
        "quotas: unconfirmed exports not counted",
        "console/ops/journal_model.py",
        "QUOTA_STATES = (INTENT, UNCONFIRMED, TRACKING, FINAL, ERROR, RESOLVED, STOPPED)",
        "QUOTA_STATES = (INTENT, TRACKING, FINAL, ERROR, RESOLVED, STOPPED)",
        (P + "test_unconfirmed_exports_count_against_the_quota",),
    ),
    (
        "quotas: a batch's repeats of one user counted once",
        "console/ops/engine_submit.py",
        "            batch[user_id] = batch.get(user_id, 0) + 1",
        "            batch[user_id] = 1",
        (P + "test_the_per_user_quota_allows_the_hundredth_and_refuses_the_next",),
    ),
    (
        "quotas: the per-user limit allows one more",
        "console/ops/engine_submit.py",
        "            if report.per_user_used.get(user_id, 0) + count > report.per_user_limit:",
        "            if report.per_user_used.get(user_id, 0) + count > report.per_user_limit + 1:",
        (P + "test_the_per_user_quota_allows_the_hundredth_and_refuses_the_next",),
    ),
    (
        "redaction: the intent keeps the SAS in clear",
        "console/ops/journal_operations.py",
        "        safe_location = redact(storage_location)\n",
        "        safe_location = storage_location\n",
        (P + "test_a_completed_export_of_this_process_gets_its_delivery_checked_and_journalled",),
    ),
    (
        "redaction: bearer tokens not masked",
        "console/redact.py",
        '_BEARER = re.compile(r"(?i)\\b(bearer)(\\s+|%20|\\+)[^\\s\\"\'<>,;]+")',
        '_BEARER = re.compile(r"(?i)\\b(bearerXX)(\\s+|%20|\\+)[^\\s\\"\'<>,;]+")',
        ("tests/storage/test_redact.py",),
    ),
    (
        "trusted urls: a Graph URL with user-info followed",
        "console/graph/policy.py",
        "        if parts.username is not None or parts.password is not None:",
        "        if False:",
        (SAFETY + "test_an_odd_location_is_that_operations_error_never_a_traceback",),
    ),
    (
        "trusted urls: plain http to a remote Graph accepted",
        "console/graph/client.py",
        '    if parts.scheme == "http" and not is_loopback(host):',
        "    if False:",
        (CLIENT + "test_plain_http_only_for_loopback",),
    ),
    (
        "crash-safe submission: a timed-out POST retried as if refused",
        "console/graph/policy.py",
        "        if export and not isinstance(exc, httpx.ConnectError):",
        "        if False:",
        (CLIENT + "test_timeout_on_get_retries_and_on_post_is_unconfirmed",),
    ),
    (
        "no re-POST: a 5xx on the export POST retried",
        "console/graph/policy.py",
        "        if export and status != 429:\n            raise errors.ExportUnconfirmed(",
        "        if False:\n            raise errors.ExportUnconfirmed(",
        (CLIENT + "test_export_is_never_reposted_after_a_5xx",),
    ),
    (
        "no re-POST: the engine asks the journal about nobody",
        "console/ops/engine_submit.py",
        "        rows = await self.writer.call(self.writer.journal.conflicts, self.tenant_key, list(user_ids))",
        "        rows = await self.writer.call(self.writer.journal.conflicts, self.tenant_key, [])",
        (P + "test_users_with_an_unfinished_or_unconfirmed_export_are_refused_unless_forced",),
    ),
    (
        "submission rules: an expired SAS accepted",
        "console/storage/sas.py",
        "    elif expiry <= current:",
        "    elif False:",
        ("tests/storage/test_sas.py",),
    ),
    (
        "submission rules: a SAS without create or write accepted",
        "console/storage/sas.py",
        '    if permissions is not None and not ({"c", "w"} & set(permissions.lower())):',
        "    if False:",
        ("tests/storage/test_sas.py::test_permissions_without_create_or_write_are_an_error",),
    ),
    (
        "paging: only the first page read",
        "console/graph/client.py",
        '            empty_run = 0 if profiles else empty_run + 1\n            link = data.get("@odata.nextLink")\n'
        "            url = link if isinstance(link, str) and link else None",
        '            empty_run = 0 if profiles else empty_run + 1\n            link = data.get("@odata.nextLink")\n'
        "            url = None",
        (CLIENT + "test_lists_every_page_following_next_link",),
    ),
    (
        "leases: a renewal extends nothing",
        "console/ops/journal_processes.py",
        '            db.execute("UPDATE operations SET lease_until=? WHERE owner=? AND state=?", (lease_until, owner, TRACKING))',
        '            db.execute("UPDATE operations SET lease_until=lease_until WHERE owner=? AND state=? AND ? IS NOT NULL", (owner, TRACKING, lease_until))',
        (OPS22 + "test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner",),
    ),
    (
        "leases: a claim overwrites an owner that came meanwhile",
        "console/ops/journal_processes.py",
        '                    "WHERE id=? AND state=? AND (owner IS NULL OR owner=?)",',
        '                    "WHERE id=? AND state=? AND (? IS NOT NULL)",',
        (P + "test_a_restart_keeps_each_operations_saved_next_poll",),
    ),
    (
        "leases: a silent owner judged alive",
        "console/ops/journal_db.py",
        "    if now - float(beat) > heartbeat_timeout:\n        return False",
        "    if False:\n        return False",
        (P + "test_a_dead_processs_intents_become_unconfirmed",),
    ),
    (
        "exit codes: usage ranked over sign-in",
        "console/cli/exitcodes.py",
        "    rank = {EXIT_OK: 0, EXIT_FAILED: 1, EXIT_USAGE: 2, EXIT_AUTH: 3}",
        "    rank = {EXIT_OK: 0, EXIT_FAILED: 1, EXIT_USAGE: 3, EXIT_AUTH: 2}",
        (CONTRACT + "test_outcome_exit_codes_come_from_the_typed_failure",),
    ),
    (
        "exit codes: a failed export exits 0",
        "console/cli/exitcodes.py",
        '        if view.state == "final" and view.status != "complete":',
        "        if False:",
        ("tests/cli/test_cli.py::test_failed_export_exits_1",),
    ),
    (
        "exit codes: watch exits 0 while unconfirmed exports remain",
        "console/cli/commands.py",
        '        say(f"export-console: {len(remaining)} unconfirmed export(s) remain: check them before exporting again")\n'
        "        codes.append(EXIT_FAILED)",
        '        say(f"export-console: {len(remaining)} unconfirmed export(s) remain: check them before exporting again")',
        (CONTRACT + "test_unconfirmed_export_exits_1_and_watch_lists_it_and_exits_1",),
    ),
    (
        "exit codes: a quota refusal exits 1",
        "console/graph/errors.py",
        'class QuotaExceeded(GraphError, title="Daily export limit", exit_code=EXIT_USAGE):',
        'class QuotaExceeded(GraphError, title="Daily export limit"):',
        (CONTRACT + "test_outcome_exit_codes_come_from_the_typed_failure",),
    ),
    (
        "bulk confirmation: Yes is the default answer",
        "console/tui/dialogs/confirm.py",
        '        self.set_focus(self.query_one("#confirm-no", Button))',
        '        self.set_focus(self.query_one("#confirm-yes", Button))',
        ("tests/tui/test_console_flows.py::test_bulk_export_asks_with_the_count_the_masked_location_and_the_names",),
    ),
    (
        "targets and markup: markup in the confirmation's names interpreted",
        "console/tui/dialogs/confirm.py",
        '                yield Static(names_text(self.names), id="confirm-names", markup=False)',
        '                yield Static(names_text(self.names), id="confirm-names", markup=True)',
        (TUI22 + "test_markup_in_a_name_is_shown_as_typed_in_the_form_and_the_confirmation",),
    ),
    (
        "targets and markup: markup in the form's For: line interpreted",
        "console/tui/screens/export.py",
        '            yield Static(self._targets_text(), id="export-targets", markup=False)',
        '            yield Static(self._targets_text(), id="export-targets", markup=True)',
        (TUI22 + "test_markup_in_a_name_is_shown_as_typed_in_the_form_and_the_confirmation",),
    ),
    (
        "terminal-safe text: C1 controls printed raw",
        "console/text.py",
        "    return code in BIDI_CONTROLS or code in _INVISIBLE or unicodedata.category(ch) in _UNSAFE_CATEGORIES",
        "    return code in BIDI_CONTROLS or code in _INVISIBLE or (unicodedata.category(ch) in _UNSAFE_CATEGORIES"
        " and not 0x80 <= code < 0xA0)",
        (CONTRACT + "test_escaping_of_every_control_character",),
    ),
    (
        "terminal-safe text: bidi overrides printed raw",
        "console/text.py",
        "    return code in BIDI_CONTROLS or code in _INVISIBLE or unicodedata.category(ch) in _UNSAFE_CATEGORIES",
        "    return code in _INVISIBLE or unicodedata.category(ch) in _UNSAFE_CATEGORIES",
        (CONTRACT + "test_escaping_of_every_control_character",),
    ),
    (
        "report: exportRequestId from the last answer",
        "console/ops/journal_reads.py",
        "    \"WHERE polls.operation = operations.id ORDER BY rowid LIMIT 1), '') ELSE '' END, \"",
        "            \"WHERE polls.operation = operations.id ORDER BY rowid DESC LIMIT 1), '') ELSE '' END, \"",
        (REPORT + "test_rows_hold_every_field_for_each_kind_of_export",),
    ),
    (
        "report: a CSV cell that starts a formula left as is",
        "console/report.py",
        '    return terminal_safe("\'" + text if text.startswith(_CSV_FORMULA_START) else text)',
        "    return terminal_safe(text)",
        (REPORT + "test_csv_has_exactly_the_documented_header_and_parses",),
    ),
    (
        "journal schema: an older journal not migrated",
        "console/ops/journal_schema.py",
        "        _migrate_to_2(db)\n",
        "",
        ("tests/ops/test_journal.py::test_schema_1_fixture_is_upgraded_in_place_and_keeps_every_row",),
    ),
]
