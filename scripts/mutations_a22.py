"""Issue 22 (helper a22): the next breaks of the thinner promises, found by asking "where else would a one-line
change pass the suite?" Same format as ``scripts/mutations.py``, which loads this list.
"""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "paging: the outbound listing reads only the first page (a22)",
        "console/graph/erasure.py",
        '            link = data.get("@odata.nextLink")\n            url = link if isinstance(link, str) and link else None\n'
        "        return users",
        '            link = data.get("@odata.nextLink")\n            url = None\n        return users',
        ("tests/graph/test_removal_client.py", "tests/cli/test_remove.py"),
    ),
    (
        "quotas: the tenant's thousandth export of the day refused (a22)",
        "console/ops/engine_submit.py",
        "        if report.tenant_used + len(user_ids) > report.tenant_limit:",
        "        if report.tenant_used + len(user_ids) >= report.tenant_limit:",
        ("tests/ops/test_promises_22.py", "tests/ops/test_promises.py"),
    ),
    (
        "quotas: the pulse's exports left today count 12 hours (a22)",
        "console/ops/fleet.py",
        "    used = sum(journal.exports_since(tenant_key, now - DAY).values())",
        "    used = sum(journal.exports_since(tenant_key, now - DAY / 2).values())",
        ("tests/ops/test_fleet.py::test_the_pulses_exports_left_today_count_the_last_24_hours_not_12",),
    ),
    (
        "no re-POST: an unconfirmed export does not block its user (a22)",
        "console/ops/events.py",
        "UNFINISHED_STATES = frozenset({INTENT, TRACKING, UNCONFIRMED})",
        "UNFINISHED_STATES = frozenset({INTENT, TRACKING})",
        ("tests/ops/test_promises.py::test_users_with_an_unfinished_or_unconfirmed_export_are_refused_unless_forced",),
    ),
    (
        "terminal-safe text: the JSON report's notes and delivery written raw (a22)",
        "console/report.py",
        '_ASCII: Callable[[str], str] = getattr(json.encoder, "encode_basestring_ascii")  # noqa: B009',
        '_ASCII: Callable[[str], str] = getattr(json.encoder, "encode_basestring")  # noqa: B009',
        ("tests/cli/test_terminal_safe_cli.py", "tests/cli/test_report.py", "tests/ops/test_journal_reads.py"),
    ),
    (
        "terminal-safe text: a case report's JSON part written raw (a22)",
        "console/report.py",
        '            out.write(("[\\n  " if count == 0 else ",\\n  ") + json.dumps(obj, indent=2).replace("\\n", "\\n  "))',
        '            out.write(("[\\n  " if count == 0 else ",\\n  ") + json.dumps(obj, indent=2, ensure_ascii=False)'
        '.replace("\\n", "\\n  "))',
        ("tests/cli/test_case_report.py::test_a_case_reports_json_part_writes_controls_and_bidi_as_json_escapes",),
    ),
    (
        "journal schema: a new journal's schema version not written (a22)",
        "console/ops/journal_schema.py",
        "    if version < SCHEMA_VERSION:\n        db.execute(\n",
        "    if False:\n        db.execute(\n",
        ("tests/ops/test_journal.py", "tests/ops/test_journal_reads.py"),
    ),
    (
        "crash-safe submission: a POST that failed unexpectedly is taken as refused (a22)",
        "console/ops/engine_submit.py",
        '            row.state = UNCONFIRMED\n            row.last_error = f"the export request failed unexpectedly',
        '            row.state = REJECTED\n            row.last_error = f"the export request failed unexpectedly',
        (
            "tests/ops/test_promises_22.py::test_an_export_post_that_fails_unexpectedly_is_unconfirmed_and_never_sent_again",
        ),
    ),
    (
        "crash-safe submission: an accepted export without id or usable Location taken as an error (a22)",
        "console/ops/engine_submit.py",
        "            unknown = row.operation_id is None\n",
        "            unknown = False\n",
        ("tests/ops/test_promises.py::test_an_unusable_location_is_an_error_for_that_operation",),
    ),
    (
        "journal schema: a schema-1 poll's error keeps its secret (a22)",
        "console/ops/journal_schema.py",
        "        if redact(error) != error:\n",
        "        if False:\n",
        ("tests/ops/test_journal.py::test_the_migration_redacts_a_secret_schema_1_kept_in_a_polls_error",),
    ),
    (
        "trusted urls: a request's URL not checked before the token goes with it (a22)",
        "console/graph/policy.py",
        "        self.check_url(url)\n        content = json.dumps(json_body)",
        "        content = json.dumps(json_body)",
        ("tests/graph/test_client_safety.py", "tests/graph/test_promises_22.py", "tests/ops/test_promises.py"),
    ),
    (
        "trusted urls: a --graph-url with user-info accepted (a22)",
        "console/graph/client.py",
        '    if parts.username is not None or parts.password is not None or "@" in parts.netloc:',
        "    if False:",
        ("tests/cli/test_exit_codes.py::test_user_info_in_a_saved_tenants_graph_url_is_refused_before_sign_in",),
    ),
    (
        "bulk confirmation: the No button answers Yes (a22)",
        "console/tui/dialogs/confirm.py",
        '        self.dismiss(event.button.id == "confirm-yes")',
        "        self.dismiss(True)",
        ("tests/tui/test_console_flows.py", "tests/tui/test_promises_22.py", "tests/tui/test_console.py"),
    ),
    (
        "bulk confirmation: Esc does not answer No (a22)",
        "console/tui/dialogs/confirm.py",
        '        Binding("n,escape", "answer(False)", "No", id="confirm.no"),',
        '        Binding("n", "answer(False)", "No", id="confirm.no"),',
        ("tests/tui/test_promises_22.py::test_esc_on_the_bulk_question_answers_no_and_sends_nothing",),
    ),
    (
        "bulk confirmation: the question counts the people pre-flight left out (a22)",
        "console/tui/screens/export.py",
        "        count = len(going)\n",
        "        count = len(self.people)\n",
        ("tests/tui/test_console_keys.py::test_preflight_names_the_people_refused_and_goes_on_without_them",),
    ),
    (
        "redaction: the bulk question shows the location's signature (a22)",
        "console/tui/screens/export.py",
        "        where = redact(storage.location.strip())\n",
        "        where = storage.location.strip()\n",
        ("tests/tui/test_console_flows.py", "tests/tui/test_console.py"),
    ),
]
