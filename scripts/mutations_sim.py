"""Mutations of issue 14 item 7: the simulator's real 202, the operations collection and reconcile."""

from __future__ import annotations

from typing import Any

_RECONCILE = "tests/ops/test_reconcile.py"
_OPERATIONS = "tests/sim/test_operations.py"
_CLI = "tests/cli/test_reconcile_cli.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "sim 202 puts the documented body back by default",
        "console/sim/graph_exports.py",
        '        in_body = mode in ("header_and_body", "body_only", "none")',
        "        in_body = True",
        (f"{_OPERATIONS}::test_the_202_sends_location_and_retry_after_as_headers_with_an_empty_body",),
    ),
    (
        "sim body_only form sends headers too",
        "console/sim/graph_exports.py",
        '        in_headers = mode in ("header", "header_and_body", "none")',
        "        in_headers = True",
        (f"{_OPERATIONS}::test_the_documented_body_form_is_a_knob",),
    ),
    (
        "sim refuses the namespace-qualified action",
        "console/sim/graph.py",
        '        if len(s) == 4 and _action(s[3]) == "exportpersonaldata" and method == "POST":',
        '        if len(s) == 4 and s[3] == "exportpersonaldata" and method == "POST":',
        (f"{_OPERATIONS}::test_the_namespace_qualified_action_path_is_accepted",),
    ),
    (
        "sim collection ignores $filter",
        "console/sim/graph_operations.py",
        "            operations = [op for op in operations if all(p(op) for p in predicates)]",
        "            pass",
        (f"{_OPERATIONS}::test_the_collection_filters_on_user_and_pages_with_next_link",),
    ),
    (
        "sim collection has no nextLink",
        "console/sim/graph_operations.py",
        "        if offset + size < len(operations):",
        "        if False:",
        (f"{_OPERATIONS}::test_the_collection_filters_on_user_and_pages_with_next_link",),
    ),
    (
        "sim collection always offered",
        "console/sim/graph_operations.py",
        "        status = self._state.faults.operations_list_status\n        if status is not None:",
        "        status = self._state.faults.operations_list_status\n        if False:",
        (f"{_OPERATIONS}::test_a_tenant_that_does_not_offer_the_collection",),
    ),
    (
        "client trusts the server's user filter",
        "console/graph/client.py",
        "                if not operation.id or operation.user_id.strip().lower() != wanted:",
        "                if not operation.id:",
        (
            f"{_OPERATIONS}::test_the_client_lists_a_users_operations_since_a_time_whatever_the_server_filters",
            f"{_RECONCILE}::test_the_client_filters_user_and_time_itself",
        ),
    ),
    (
        "client trusts the server's time filter",
        "console/graph/client.py",
        "                if operation.submitted is None or operation.submitted < since:",
        "                if operation.submitted is None:",
        (
            f"{_OPERATIONS}::test_the_client_lists_a_users_operations_since_a_time_whatever_the_server_filters",
            f"{_RECONCILE}::test_the_client_filters_user_and_time_itself",
        ),
    ),
    (
        "client reads only the first page of operations",
        "console/graph/client.py",
        '            link = data.get("@odata.nextLink")\n            url = link if isinstance(link, str) and link else None\n        if url:',
        "            url = None\n        if url:",
        (
            f"{_OPERATIONS}::test_the_client_lists_a_users_operations_since_a_time_whatever_the_server_filters",
            f"{_RECONCILE}::test_the_client_filters_user_and_time_itself",
        ),
    ),
    (
        "client does not say the list is not offered",
        "console/graph/client.py",
        "                if exc.status in NOT_OFFERED_STATUSES:",
        "                if False:",
        (f"{_OPERATIONS}::test_the_client_says_when_the_tenant_does_not_offer_the_list",),
    ),
    (
        "reconcile asks again after not offered",
        "console/ops/reconcile.py",
        "                return ReconcileReport(",
        "                continue\n                return ReconcileReport(",
        (
            f"{_RECONCILE}::test_not_offered_is_said_once_and_nothing_changes",
            f"{_CLI}::test_not_offered_is_said_once_by_ops_reconcile_and_by_watch",
        ),
    ),
    (
        "reconcile picks one of several",
        "console/ops/reconcile.py",
        "    if len(fits) > 1:",
        "    if False:",
        (
            f"{_RECONCILE}::test_two_matches_are_ambiguous_and_stay_unconfirmed",
            f"{_CLI}::test_ambiguous_stays_unconfirmed",
        ),
    ),
    (
        "reconcile attaches an id already tracked",
        "console/ops/reconcile.py",
        "        if operation.id.lower() in taken or operation.submitted is None or operation.submitted < since:",
        "        if operation.submitted is None or operation.submitted < since:",
        (
            f"{_RECONCILE}::test_an_operation_already_tracked_is_never_attached_twice",
            f"{_RECONCILE}::test_of_two_unconfirmed_exports_of_one_user_only_one_gets_the_operation",
        ),
        (
            "    taken.add(operation.id.lower())\n",
            "",
        ),
    ),
    (
        "journal confirms an id another row tracks",
        "console/ops/journal_operations.py",
        "            if other is not None:\n                raise DuplicateOperation(operation_id, int(other[0]))",
        "            if False:\n                raise DuplicateOperation(operation_id, int(other[0]))",
        (f"{_RECONCILE}::test_an_operation_already_tracked_is_never_attached_twice",),
    ),
    (
        "confirmed export never polled",
        "console/ops/engine_reads.py",
        "        if mine and row.state == TRACKING:\n            tracked = self._track(row)",
        "        if False:\n            tracked = self._track(row)",
        (f"{_RECONCILE}::test_one_match_confirms_the_export_which_is_then_polled_to_its_end",),
    ),
    (
        "confirmed export polled before the lost 202's Retry-After",
        "console/ops/engine_reads.py",
        "            due = max(now, operation.submitted.timestamp() + DEFAULT_POLL_INTERVAL)",
        "            due = now",
        (f"{_RECONCILE}::test_one_match_confirms_the_export_which_is_then_polled_to_its_end",),
    ),
    (
        "watch does not reconcile",
        "console/cli/commands.py",
        "    print_reconcile(await engine.reconcile(), as_json=False)",
        "    pass",
        (f"{_CLI}::test_watch_reconciles_then_watches_the_confirmed_export",),
    ),
    (
        "ops --reconcile exits 0 with unconfirmed left",
        "console/cli/journal_commands.py",
        "    return EXIT_FAILED if report.remaining else EXIT_OK",
        "    return EXIT_OK",
        (f"{_CLI}::test_ops_reconcile_without_a_match_exits_1_and_keeps_it_unconfirmed",),
    ),
    (
        "console does not reconcile",
        "console/tui/screens/live_operations.py",
        "        await self._reconcile()\n",
        "",
        ("tests/tui/test_reconcile_console.py::test_the_console_confirms_an_unconfirmed_export_it_finds_and_says_so",),
    ),
]
