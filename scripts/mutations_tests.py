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
        "console/ops/engine.py",
        "            if head is not None and head[0] <= now:",
        "            if head is not None and head[0] <= now + 1.0:",
        (OPS22 + "test_a_poll_never_leaves_before_its_due_time_even_when_another_queue_head_is_due",),
    ),
    (
        "retry-after: #22.3 a 5xx on a GET retried without its Retry-After",
        "console/graph/client.py",
        "                            info.retry_after\n                            if info.retry_after is not None\n",
        "                            info.retry_after\n                            if False\n",
        (GRAPH22 + "test_a_5xx_on_a_get_is_retried_only_after_the_retry_after_it_carries",),
    ),
    (
        "trusted urls: #22.8 only the host of a URL from Graph compared",
        "console/graph/client.py",
        '        return scheme, (host or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)',
        '        return "", (host or "").lower(), None',
        (GRAPH22 + "test_a_url_from_graph_on_the_same_host_with_another_scheme_or_port_is_not_followed",),
    ),
]
MUTATIONS += [
    (
        "backoff: #22.2 a failed poll waits the 60 s default instead of the error backoff",
        "console/ops/engine.py",
        "    return exc.retry_after if exc.retry_after is not None else 0.0",
        "    return exc.retry_after if exc.retry_after is not None else 60.0",
        (OPS22 + "test_after_a_failed_poll_the_next_poll_comes_after_the_error_backoff_not_the_60_s_default",),
    ),
]
MUTATIONS += [
    (
        "budget ledger: #22.4 reserved slots never recorded",
        "console/ops/journal.py",
        '                    "INSERT INTO ledger (tenant_key, at, count, owner) VALUES (?, ?, ?, ?)",',
        '                    "SELECT ?, ?, ?, ?",',
        (OPS22 + "test_the_ledger_keeps_every_reserved_slot_of_the_last_hour_for_the_next_process",),
    ),
    (
        "budget ledger: #22.5 the ledger's window is 30 minutes",
        "console/ops/journal.py",
        '                "SELECT at, count FROM ledger WHERE tenant_key=? AND at > ? ORDER BY at", (tenant_key, now - HOUR)',
        '                "SELECT at, count FROM ledger WHERE tenant_key=? AND at > ? ORDER BY at", (tenant_key, now - HOUR / 2)',
        (OPS22 + "test_the_ledger_keeps_every_reserved_slot_of_the_last_hour_for_the_next_process",),
    ),
]
MUTATIONS += [
    (
        "quotas: #22.6 the tenant's daily quota ignores the batch's size",
        "console/ops/engine.py",
        "        if report.tenant_used + len(user_ids) > report.tenant_limit:",
        "        if report.tenant_used + 1 > report.tenant_limit:",
        (OPS22 + "test_the_tenants_daily_quota_counts_the_whole_batch_being_checked",),
    ),
    (
        "quotas: #22.7 the quota counts the last 12 hours",
        "console/ops/engine.py",
        "self.writer.journal.exports_since, self.tenant_key, self.clock.now() - DAY)",
        "self.writer.journal.exports_since, self.tenant_key, self.clock.now() - DAY / 2)",
        (OPS22 + "test_the_daily_quotas_count_the_last_24_hours_not_12",),
    ),
]
MUTATIONS += [
    (
        "leases: #22.14 a process that lost its lease keeps polling",
        "console/ops/engine.py",
        "            if key not in held and self._rows[key].state == TRACKING:",
        "            if False:",
        (OPS22 + "test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner",),
    ),
    (
        "leases: #22.15 it polls while its lease has lapsed",
        "console/ops/engine.py",
        "        if self._lease_until <= now:",
        "        if False:",
        (OPS22 + "test_a_process_whose_lease_lapsed_stops_polling_and_leaves_the_operation_to_its_new_owner",),
    ),
    (
        "leases: #22.16 a claim skips the liveness check when the lease is NULL",
        "console/ops/journal.py",
        "                    if (lease is None or lease > now) and _alive(processes.get(row.owner), now, heartbeat_timeout):",
        "                    if (lease is not None and lease > now) and _alive(processes.get(row.owner), now, heartbeat_timeout):",
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
        "console/report.py",
        "    for record in reversed(history):\n        if record.status in FINAL_STATUSES:",
        "    for record in history:\n        if record.status in FINAL_STATUSES:",
        (CLI22 + "test_the_reports_final_request_id_is_the_last_final_polls",),
    ),
]
MUTATIONS += [
    (
        "bulk confirmation: #22.17 a bulk export without warnings sent without asking",
        "console/tui/screens/export.py",
        "        if len(self.people) == 1 and not warnings:",
        "        if not warnings:",
        (TUI22 + "test_a_bulk_export_without_any_warning_is_still_confirmed_before_anything_is_sent",),
    ),
    (
        "targets: #22.18 marks the filter hides stay marked (and counted)",
        "console/tui/ops_model.py",
        "        for key in [k for k in self.marks if k not in shown]:",
        "        for key in []:",
        (TUI22 + "test_marked_operations_the_filter_hides_are_not_targets_of_an_action",),
    ),
    (
        "targets: #22.18 hidden marked operations are targets of an action",
        "console/tui/ops_model.py",
        "        for key in [k for k in self.marks if k not in shown]:",
        "        for key in []:",
        (
            TUI22 + "test_marked_operations_the_filter_hides_are_not_targets_of_an_action",
            TUI22 + "test_marks_the_typed_filter_hides_are_dropped_and_never_acted_on",
        ),
        (
            "        return [key for key in self.order if key in self.marks]",
            "        return list(self.marks)",
        ),
    ),
]
MUTATIONS += [
    (
        "retry-after: the journal keeps the 202's Retry-After, not the last one",
        "console/ops/engine.py",
        "        if retry_after is not None:\n            row.retry_after = retry_after\n        due = now + plan.delay",
        "        due = now + plan.delay",
        (OPS22 + "test_a_takeover_waits_the_last_retry_after_graph_gave_not_the_first",),
    ),
    (
        "backoff: a success keeps the error streak",
        "console/ops/engine.py",
        '        row.last_error = ""\n        self._error_streak.pop(key, None)',
        '        row.last_error = ""',
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
