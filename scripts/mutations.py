"""The promises and the line that keeps each one: break the line, the named tests must fail.

Used by ``scripts/mutation_check.py``. Each entry: (promise, file, exact snippet, its broken form,
tests), optionally with a second (snippet, broken form) pair applied in the same file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

OPS: list[tuple[Any, ...]] = [
    (
        "watch idle while others poll",
        "console/ops/engine_core.py",
        "        others = self._others_open if self._resume else 0",
        "        others = 0",
        ("tests/ops/test_multiprocess.py::test_watch_waits_for_the_operations_another_process_polls",),
    ),
    (
        "opening gives up on a locked new journal",
        "console/ops/journal_db.py",
        "                if not is_busy(exc) or time.monotonic() > deadline:",
        "                if True:",
        ("tests/ops/test_journal.py::test_opening_waits_for_another_process_holding_a_new_journal",),
    ),
    (
        "no heartbeat while an unstarted engine POSTs",
        "console/ops/engine_submit.py",
        '        beat = None if self.running else asyncio.create_task(self._heartbeat_loop(), name="ops-heartbeat")',
        "        beat = None",
        ("tests/ops/test_promises.py::test_a_live_processs_intents_are_left_alone",),
    ),
    (
        "delivery never checked",
        "console/ops/engine_polling.py",
        "        if delivered and full_location is not None and self.delivery_check is not None:",
        "        if False:",
        (
            "tests/ops/test_promises.py::test_a_completed_export_of_this_process_gets_its_delivery_checked_and_journalled",
        ),
    ),
    (
        "takeover honours next_poll_at only",
        "console/ops/journal_processes.py",
        "    return takeover_due(now, row.next_poll_at, lease if lease is not None else now, row.retry_after)",
        "    return row.next_poll_at or now",
        ("tests/ops/test_multiprocess.py::test_a_dead_processs_operations_are_taken_over_without_an_early_poll",),
    ),
    (
        "restart ignores saved next_poll_at",
        "console/ops/journal_processes.py",
        "        return row.next_poll_at or now\n",
        "        return now\n",
        ("tests/ops/test_promises.py::test_a_restart_keeps_each_operations_saved_next_poll",),
    ),
    (
        "intent written only after the POST",
        "console/ops/engine_submit.py",
        "        try:\n            row = await self.record_intent_for(",
        "        self._early = asyncio.ensure_future(self.client.export_personal_data(user_id, location))  # type: ignore[attr-defined]\n        await asyncio.sleep(0)\n        try:\n            row = await self.record_intent_for(",
        ("tests/ops/test_promises.py::test_the_intent_is_committed_before_the_post_and_the_outcome_after_the_202",),
        (
            "            return await self.client.export_personal_data(user_id, location)",
            "            return await self._early  # type: ignore[attr-defined, no-any-return]",
        ),
    ),
    (
        "outcome after 202 not written",
        "console/ops/engine_submit.py",
        "        journal.queue(row, record)\n        try:\n            journal.flush(now)\n",
        "        try:\n            pass\n",
        ("tests/ops/test_promises.py::test_the_intent_is_committed_before_the_post_and_the_outcome_after_the_202",),
    ),
    (
        "throttled poll rescheduled without Retry-After",
        "console/ops/answers.py",
        "return Step(replace(streaks, errors=streak), retry_after=_error_retry_after(exc), floor=wait)",
        "return Step(replace(streaks, errors=streak), retry_after=0.0, floor=wait)",
        ("tests/ops/test_promises.py::test_a_throttled_poll_waits_its_retry_after",),
    ),
    (
        "failed poll rescheduled without backoff",
        "console/ops/answers.py",
        "return Step(replace(streaks, errors=streak), retry_after=_error_retry_after(exc), floor=wait)",
        "return Step(replace(streaks, errors=streak), retry_after=_error_retry_after(exc))",
        ("tests/ops/test_promises.py::test_failing_polls_back_off",),
    ),
    (
        "no back-off after 401/403 while polling",
        "console/ops/answers.py",
        "floor=AUTH_RETRY_INTERVAL, fatal=True)",
        "floor=0.0, fatal=True)",
        ("tests/ops/test_promises.py::test_a_403_while_polling_backs_off_and_is_reported",),
    ),
    (
        "budget pacing 10x too fast",
        "console/ops/budget.py",
        "        self.rate = (per_hour - self.burst) / HOUR if",
        "        self.rate = 10 * (per_hour - self.burst) / HOUR if",
        (
            "tests/ops/test_budget.py::test_pacing_is_the_budget_rate_after_a_small_burst",
            "tests/ops/test_promises.py::test_the_engine_paces_polls_at_the_budget",
        ),
    ),
    (
        "sliding-hour guard removed",
        "console/ops/budget.py",
        "    if room <= 0:",
        "    if False:",
        (
            "tests/ops/test_budget.py::test_the_sliding_hour_guard_waits_for_the_oldest_requests_to_leave",
            "tests/ops/test_budget.py::test_no_sliding_hour_holds_more_than_the_budget",
        ),
        ("    count = max(1, min(want, room))", "    count = max(1, want)"),
    ),
    (
        "per-user quota off by one",
        "console/ops/engine_submit.py",
        "            if report.per_user_used.get(user_id, 0) + count > report.per_user_limit:",
        "            if report.per_user_used.get(user_id, 0) + count >= report.per_user_limit:",
        ("tests/ops/test_promises.py::test_the_per_user_quota_allows_the_hundredth_and_refuses_the_next",),
    ),
    (
        "unconfirmed not counted in the quota",
        "console/ops/journal_model.py",
        "QUOTA_STATES = (INTENT, UNCONFIRMED, TRACKING,",
        "QUOTA_STATES = (INTENT, TRACKING,",
        ("tests/ops/test_promises.py::test_unconfirmed_exports_count_against_the_quota",),
    ),
    (
        "transaction committed when its body raised",
        "console/ops/journal_db.py",
        '            elif self._db.in_transaction:\n                self._db.execute("ROLLBACK")',
        '            elif self._db.in_transaction:\n                self._db.execute("COMMIT")',
        ("tests/ops/test_journal.py::test_a_transaction_whose_body_raised_is_rolled_back",),
    ),
    (
        "two engines: each its own budget",
        "console/ops/engine_core.py",
        "        self.budget.bind(JournalLedger(self._link, tenant_key, self.budget.pace))",
        "        pass",
        ("tests/ops/test_multiprocess.py::test_two_engines_stay_inside_one_budget_and_never_poll_early",),
    ),
    (
        "takeover ignores the dead owner's Retry-After",
        "console/ops/journal_processes.py",
        "    return takeover_due(now, row.next_poll_at, lease if lease is not None else now, row.retry_after)",
        "    return now",
        ("tests/ops/test_multiprocess.py::test_a_dead_processs_operations_are_taken_over_without_an_early_poll",),
    ),
    (
        "takeover never happens",
        "console/ops/journal_processes.py",
        "    if (lease is None or lease > now) and process_alive(processes.get(row.owner), now, heartbeat_timeout):",
        "    if True:",
        ("tests/ops/test_multiprocess.py::test_a_dead_processs_operations_are_taken_over_without_an_early_poll",),
    ),
    (
        "live leases stolen",
        "console/ops/journal_processes.py",
        "    if (lease is None or lease > now) and process_alive(processes.get(row.owner), now, heartbeat_timeout):",
        "    if False:",
        (
            "tests/ops/test_multiprocess.py::test_a_dead_processs_operations_are_taken_over_without_an_early_poll",
            "tests/ops/test_multiprocess.py::test_two_engines_stay_inside_one_budget_and_never_poll_early",
        ),
    ),
    (
        "migration skips the new columns",
        "console/ops/journal_schema.py",
        "    _add_columns(db, _V2_COLUMNS)\n",
        "    pass\n",
        ("tests/ops/test_journal.py::test_schema_1_fixture_is_upgraded_in_place_and_keeps_every_row",),
    ),
    (
        "migration keeps schema-1 secrets",
        "console/ops/journal_schema.py",
        "        if cleaned != (storage, location, error):",
        "        if False:",
        ("tests/ops/test_journal.py::test_schema_1_fixture_is_upgraded_in_place_and_keeps_every_row",),
    ),
    (
        "newer schema not refused",
        "console/ops/journal_schema.py",
        "    if version > SCHEMA_VERSION:",
        "    if False:",
        ("tests/ops/test_journal.py::test_a_newer_schema_is_refused_plainly",),
    ),
    (
        "failed flush drops its batch",
        "console/ops/journal_writebehind.py",
        "            rows = dict(self._rows)\n            polls = list(self._polls)",
        "            rows = dict(self._rows)\n            polls = list(self._polls)\n            self._rows.clear()\n            self._polls.clear()",
        (
            "tests/ops/test_journal.py::test_a_failed_flush_keeps_its_batch_and_the_next_one_writes_it",
            "tests/ops/test_promises.py::test_a_failed_write_after_the_202_is_kept_and_written_later",
        ),
    ),
    (
        "journal on the event loop",
        "console/ops/writer.py",
        "            return await loop.run_in_executor(self._executor, call)",
        "            del loop\n            return call()",
        ("tests/ops/test_promises.py::test_a_locked_journal_does_not_block_the_event_loop",),
    ),
    (
        "live process's intents recovered",
        "console/ops/journal_processes.py",
        "                    row.owner == owner or process_alive(processes.get(row.owner), now, heartbeat_timeout)",
        "                    row.owner == owner",
        (
            "tests/ops/test_journal.py::test_intents_of_a_live_process_are_left_alone_and_a_dead_ones_recovered",
            "tests/ops/test_promises.py::test_a_live_processs_intents_are_left_alone",
        ),
    ),
    (
        "permanent 4xx polled forever",
        "console/ops/answers.py",
        "        if streak >= PERMANENT_ERROR_LIMIT:",
        "        if False:",
        ("tests/ops/test_promises.py::test_a_permanent_poll_error_stops_after_bounded_tries_with_the_error_kept",),
    ),
    (
        "last_error not redacted on write",
        "console/ops/journal_writebehind.py",
        "*(r.next_poll_at, redact(r.last_error), r.polls,",
        "*(r.next_poll_at, r.last_error, r.polls,",
        ("tests/ops/test_journal.py::test_secrets_are_redacted_on_write_whatever_the_caller_passed",),
    ),
    (
        "journal files not private",
        "console/ops/journal_db.py",
        "        create_private_file(self.path)\n",
        "",
        ("tests/ops/test_journal.py::test_journal_files_are_private",),
        ("                if candidate.stat().st_mode & 0o077:", "                if False:"),
    ),
    (
        "conflicts not refused",
        "console/ops/engine_submit.py",
        "        if not force:\n            found",
        "        if False:\n            found",
        ("tests/ops/test_promises.py::test_users_with_an_unfinished_or_unconfirmed_export_are_refused_unless_forced",),
    ),
    (
        "second row for an operation id accepted",
        "console/ops/engine_submit.py",
        "        if existing is not None:\n            self._finish(row)",
        "        if False:\n            self._finish(row)",
        ("tests/ops/test_promises.py::test_a_second_row_for_an_operation_id_is_refused_and_reported",),
    ),
    (
        "exit code not from the exception",
        "console/ops/events.py",
        "        return max(1, declared) if isinstance(declared, int) else 1",
        "        return 1",
        ("tests/ops/test_promises.py::test_outcomes_carry_typed_exit_codes",),
    ),
    (
        "stale change reopens a closed row",
        "console/ops/journal_writebehind.py",
        "    \"AND (state IN ('intent', 'tracking') OR state = ?)\"",
        '    "AND (1 OR state = ?)"',
        (
            "tests/ops/test_journal.py::test_a_stale_change_never_reopens_a_row_closed_elsewhere",
            "tests/ops/test_multiprocess.py::test_stop_watching_in_one_process_stops_the_poller_in_another",
        ),
    ),
    (
        "other processes' rows not synced",
        "console/ops/engine_sync.py",
        '            self._emit("added" if known is None else "changed", row)',
        "            pass",
        ("tests/ops/test_multiprocess.py::test_every_engine_sees_what_another_adds_and_changes",),
    ),
    (
        "bad Location tracked anyway",
        "console/ops/engine_submit.py",
        "            return await self._accepted_but_untrackable(row, record, redact(str(exc)), exc, unconfirmed=unknown)",
        "            pass",
        ("tests/ops/test_promises.py::test_an_unusable_location_is_an_error_for_that_operation",),
    ),
]

CONSOLE: list[tuple[Any, ...]] = [
    (
        "slash not priority",
        "console/tui/widgets/ops_table.py",
        '        _key("slash", "filter_text", "Filter", "filter-text"),',
        '        _key("slash", "filter_text", "Filter", "filter-text", priority=False),',
        ("tests/tui/test_ops_console.py::test_slash_and_a_name_in_one_burst_filter_the_operations_not_the_profiles",),
    ),
    (
        "burst focus",
        "console/tui/widgets/ops_table.py",
        "        self.screen.set_focus(box)\n",
        "        box.focus()\n",
        ("tests/tui/test_ops_pane.py::test_a_real_burst_of_slash_and_text_lands_in_the_filter",),
    ),
    (
        "marks dropped with rows",
        "console/tui/ops_marks.py",
        "        for key in [k for k in self.keys if k not in shown]:\n            del self.keys[key]\n",
        "        for key in [k for k in self.keys if k not in shown]:\n            pass\n",
        ("tests/tui/test_ops_model.py::test_marks_survive_refreshes_and_go_with_their_rows",),
    ),
    (
        "marks kept on refresh",
        "console/tui/ops_model.py",
        "            texts = self.texts(view, now)\n            if not shown:",
        "            texts = self.texts(view, now)\n            self.marks.pop(key, None)\n            if not shown:",
        ("tests/tui/test_ops_model.py::test_marks_survive_refreshes_and_go_with_their_rows",),
    ),
    (
        "history cursor jumps",
        "console/tui/screens/details.py",
        "        if first and records:",
        "        if records:",
        ("tests/tui/test_ops_details.py::test_the_cursor_stays_on_its_poll_while_new_polls_arrive",),
    ),
    (
        "c copies last",
        "console/tui/screens/details.py",
        "        record = self.highlighted_poll()\n        if record is None or not record.request_id:",
        "        record = self.history[-1] if self.history else None\n        if record is None or not record.request_id:",
        ("tests/tui/test_ops_details.py::test_request_ids_in_full_and_c_copies_the_highlighted_one",),
    ),
    (
        "no storage explanation",
        "console/tui/ops_model.py",
        "        if fix and fix not in text:",
        "        if False:",
        (
            "tests/tui/test_ops_model.py::test_storage_location_already_used_is_explained_with_the_fix_and_the_full_request_id",
        ),
    ),
    (
        "pause ignored",
        "console/tui/ops_model.py",
        "        if self.paused:\n            for view in incoming:",
        "        if False:\n            for view in incoming:",
        ("tests/tui/test_ops_pane.py::test_p_pauses_with_a_visible_marker_and_polling_results_wait",),
    ),
    (
        "no bell",
        "console/tui/widgets/ops_lines.py",
        "            if self.bell_on_alerts:\n                self.app.bell()",
        "            if False:\n                self.app.bell()",
        ("tests/tui/test_ops_pane.py::test_a_failure_toasts_and_rings_the_bell_and_a_finished_batch_too",),
    ),
    (
        "no escaping",
        "console/text.py",
        '    return "".join(escape_char(ch) if is_unsafe(ch) else ch for ch in text)',
        "    return text",
        ("tests/tui/test_ops_model.py::test_tenant_text_is_escaped_in_cells",),
    ),
    (
        "export all marked",
        "console/tui/widgets/ops_table.py",
        '            "Export again", is_reexportable,',
        '            "Export again", lambda v: True,',
        ("tests/tui/test_ops_pane.py::test_e_posts_export_requested_with_only_the_reexportable_marked_ones",),
    ),
    (
        "report ignores marks",
        "console/tui/widgets/ops_table.py",
        "        keys = marked or list(self.model.order)",
        "        keys = list(self.model.order)",
        ("tests/tui/test_ops_report.py::test_w_saves_the_report_of_the_marked_operations_where_it_says",),
    ),
    (
        "esc in box clears",
        "console/tui/widgets/ops_pane.py",
        "    def action_leave(self) -> None:\n        hold_keys(self.app)",
        '    def action_leave(self) -> None:\n        self.value = ""\n        hold_keys(self.app)',
        ("tests/tui/test_ops_pane.py::test_esc_in_the_box_keeps_the_filter_and_esc_on_the_table_clears_it",),
    ),
    (
        "case filter prefix",
        "console/tui/ops_filter.py",
        "        if query.case is not None and fold(view.case) != query.case:",
        "        if query.case is not None and not fold(view.case).startswith(query.case):",
        ("tests/tui/test_ops_model.py::test_case_filter_is_exact",),
    ),
    (
        "snapshot alerts",
        "console/tui/ops_alerts.py",
        "            if not primed:\n                continue",
        "            pass",
        ("tests/tui/test_ops_pane.py::test_a_failure_toasts_and_rings_the_bell_and_a_finished_batch_too",),
    ),
    (
        "note not saved",
        "console/tui/screens/details.py",
        "        note = await _answer(self.engine.add_note(self.key, text))",
        "        note = None",
        ("tests/tui/test_ops_details.py::test_n_adds_a_note_typed_in_the_same_burst",),
    ),
    (
        "resolve without note",
        "console/tui/widgets/ops_pane.py",
        "            if note:\n                self.resolve(keys, note, where)",
        "            self.resolve(keys, note or '', where)",
        ("tests/tui/test_ops_pane.py::test_an_empty_resolve_note_is_refused",),
    ),
    (
        "report file mode",
        "console/tui/report_file.py",
        '    with open_private_file(path, encoding="utf-8", newline="") as handle:',
        '    with open(path, "w", encoding="utf-8", newline="") as handle:',
        ("tests/tui/test_ops_report.py::test_w_saves_the_report_of_the_marked_operations_where_it_says",),
    ),
    (
        "shown status",
        "console/ops/vocabulary.py",
        "    if view.state in STATE_WORDS:\n        return view.state\n",
        "",
        ("tests/tui/test_ops_model.py::test_a_row_whose_watching_stopped_says_error_not_graphs_last_word",),
    ),
    (
        "stash kept on change",
        "console/tui/ops_model.py",
        "            self._stash.pop(key, None)\n",
        "",
        ("tests/tui/test_ops_model.py::test_a_row_that_changes_while_filtered_out_comes_back_up_to_date_and_in_order",),
    ),
    (
        "ranking not invalidated",
        "console/tui/ops_model.py",
        "                if sort_key(self.sort_column, old_view, label) != sort_key(self.sort_column, view, label):\n                    self._ranked = None",
        "                pass",
        ("tests/tui/test_ops_model.py::test_a_row_that_changes_while_filtered_out_comes_back_up_to_date_and_in_order",),
    ),
    (
        "no time refresh",
        "console/tui/ops_model.py",
        "                elif not view.is_done:  # a finished row's times no longer move",
        "                elif False:",
        ("tests/tui/test_ops_model.py::test_a_row_that_changes_while_filtered_out_comes_back_up_to_date_and_in_order",),
    ),
    (
        "always narrower",
        "console/tui/ops_filter.py",
        "        narrower = _narrows(self.query, query)",
        "        narrower = True",
        ("tests/tui/test_ops_model.py::test_typing_on_narrows_and_deleting_widens_again",),
    ),
    (
        "space not priority",
        "console/tui/widgets/ops_table.py",
        '        _key("space", "toggle_mark", "Mark", "mark"),',
        '        _key("space", "toggle_mark", "Mark", "mark", priority=False),',
        ("tests/tui/test_ops_console.py::test_one_burst_filters_marks_and_reports_on_what_was_marked",),
    ),
    (
        "leave without hold",
        "console/tui/widgets/ops_pane.py",
        "    def action_leave(self) -> None:\n        hold_keys(self.app)\n",
        "    def action_leave(self) -> None:\n",
        ("tests/tui/test_ops_console.py::test_one_burst_filters_marks_and_reports_on_what_was_marked",),
    ),
]

CLIENT_AND_CLI: list[tuple[Any, ...]] = [
    (
        "redirects followed (a 307 would re-POST the export)",
        "console/graph/client.py",
        "follow_redirects=False,",
        "follow_redirects=True,",
        ("tests/graph",),
    ),
    (
        "a foreign nextLink or Location followed with the token",
        "console/graph/policy.py",
        "        if origin != self._origin:",
        "        if False:",
        ("tests/graph",),
    ),
    (
        "a 401/403 on the export POST not reported as fatal",
        "console/ops/engine_submit.py",
        "            if isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):\n                self.fatal_error = exc\n            record = _failure_record(",
        "            if isinstance(exc, (errors.AuthenticationError, errors.PermissionDenied)):\n                pass\n            record = _failure_record(",
        ("tests/ops/test_promises.py::test_a_403_on_the_export_post_is_fatal_and_exits_3",),
    ),
    (
        "export --wait exits 0 while operations still run",
        "console/cli/exitcodes.py",
        '        if waited and view.state == "tracking":\n            return EXIT_FAILED',
        "        if False:\n            return EXIT_FAILED",
        ("tests/cli/test_contract.py::test_export_wait_never_exits_0_while_an_operation_still_runs",),
    ),
]


def _more_lists() -> list[tuple[Any, ...]]:
    """Entries kept in ``scripts/mutations_*.py`` (one file per area, each with a ``MUTATIONS`` list)."""
    entries: list[tuple[Any, ...]] = []
    for path in sorted(Path(__file__).parent.glob("mutations_*.py")):
        module = importlib.import_module(path.stem)
        entries.extend(module.MUTATIONS)
    return entries


def register(add: Callable[..., None]) -> None:
    """Hand every mutation to ``add(name, path, old, new, tests, *more_pairs)``."""
    for entry in (*OPS, *CONSOLE, *CLIENT_AND_CLI, *_more_lists()):
        name, path, old, new, tests, *more = entry
        add(name, path, old, new, tests, *more)
