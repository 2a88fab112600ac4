"""Issue 19 (erasure): the lines that keep each removal promise; break one, the named tests must fail."""

from __future__ import annotations

from typing import Any

_CLI = "tests/cli/test_remove.py"
_CLIENT = "tests/graph/test_removal_client.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "erasure: --confirm must equal the number of people",
        "console/ops/removal.py",
        "    if confirm != people:",
        "    if False:",
        (f"{_CLI}::test_every_refusal_sends_nothing",),
    ),
    (
        "erasure: removal off unless allowed",
        "console/ops/removal.py",
        "    if not allowed:",
        "    if False:",
        (f"{_CLI}::test_every_refusal_sends_nothing", f"{_CLI}::test_saved_tenant_needs_allow_removal"),
    ),
    (
        "erasure: --read-only refuses removal",
        "console/ops/removal.py",
        "    if read_only:",
        "    if False:",
        (f"{_CLI}::test_every_refusal_sends_nothing",),
    ),
    (
        "erasure: a person already asked is not asked again without --force",
        "console/ops/removal.py",
        "        if previous:\n            raise AlreadyRemoved(previous)",
        "        if False:\n            raise AlreadyRemoved(previous)",
        (
            f"{_CLI}::test_a_person_already_removed_is_not_asked_again_without_force",
            f"{_CLI}::test_a_crash_between_intent_and_204_is_never_resent_silently",
        ),
    ),
    (
        "erasure: an unconfirmed removal counts as asked",
        "console/ops/journal_reads.py",
        '            "AND state != ? ORDER BY id",',
        "            \"AND state = 'final' AND state != ? ORDER BY id\",",
        (f"{_CLI}::test_a_crash_between_intent_and_204_is_never_resent_silently",),
    ),
    (
        "erasure: JSON rows carry kind",
        "console/ops/events.py",
        '            "kind": self.kind,\n',
        "",
        (f"{_CLI}::test_removal_is_sent_and_journalled_with_its_request_id",),
    ),
    (
        "erasure: a removal POST is never retried on 5xx",
        "console/graph/policy.py",
        "        if removal and status >= 500:",
        "        if False:",
        (f"{_CLIENT}::test_removal_post_is_never_retried",),
    ),
    (
        "erasure: no answer after sending leaves the removal unconfirmed",
        "console/graph/policy.py",
        "        if removal and not isinstance(exc, httpx.ConnectError):",
        "        if False:",
        (f"{_CLIENT}::test_no_answer_after_sending_leaves_the_removal_unconfirmed",),
    ),
    (
        "erasure: a removed profile stays listed unless the knob says otherwise",
        "console/sim/graph_removals.py",
        "        if profile is not None and state.config.removal_hides_profile:",
        "        if profile is not None:",
        (f"{_CLIENT}::test_inbound_removal_answers_204_with_request_id_and_profile_stays",),
    ),
    (
        "erasure: the removal 403 knob",
        "console/sim/faults.py",
        '        if faults.forbid_removal and kind in ("remove", "outbound_remove"):',
        '        if False and kind in ("remove", "outbound_remove"):',
        (f"{_CLIENT}::test_forbidden_removal_names_the_readwrite_permission",),
    ),
    (
        "erasure: watch skips unconfirmed removals",
        "console/cli/commands.py",
        '    unconfirmed = [v for v in views if v.state == UNCONFIRMED and v.kind == "export"]',
        "    unconfirmed = [v for v in views if v.state == UNCONFIRMED]",
        (f"{_CLI}::test_a_crash_between_intent_and_204_is_never_resent_silently",),
    ),
    (
        "erasure: the kind columns are added to an older journal on open",
        "console/ops/journal_schema.py",
        "    _add_columns(db, _KIND_COLUMNS)\n",
        "    if version < SCHEMA_VERSION:\n        _add_columns(db, _KIND_COLUMNS)\n",
        ("tests/ops/test_journal_removals.py::test_an_older_journal_gets_kind_on_open_and_its_rows_stay_exports",),
    ),
    (
        "erasure: the console's question is answered only by the typed number",
        "console/tui/dialogs/remove.py",
        "        if event.value.strip() != str(self.count):",
        "        if False:",
        (
            "tests/tui/test_remove_dialog.py::test_a_burst_of_enter_or_y_never_answers_the_question",
            "tests/tui/test_remove_dialog.py::test_typing_the_number_sends_the_removal_and_journals_it",
        ),
    ),
    (
        "erasure: the console refuses removal when not allowed",
        "console/tui/removal.py",
        "    if refusal is not None:",
        "    if False:",
        ("tests/tui/test_remove_dialog.py::test_removal_is_refused_naming_allow_removal_when_not_allowed",),
    ),
    (
        "erasure: --read-only refuses the console's export",
        "console/tui/screens/tenant_view.py",
        "        if reason:  # the export key, the palette's command and a re-export from Operations alike",
        "        if False:",
        ("tests/tui/test_remove_dialog.py::test_read_only_refuses_removal_and_export",),
    ),
    (
        "erasure: --read-only refuses the console's removal",
        "console/tui/removal.py",
        "    reason = read_only_reason(flag=read_only, saved=session.read_only",
        "    reason = read_only_reason(flag=False, saved=session.read_only",
        ("tests/tui/test_remove_dialog.py::test_read_only_refuses_removal_and_export",),
    ),
    (
        "erasure: --read-only refuses a CLI export",
        "console/cli/remove_commands.py",
        '    flag = bool(getattr(args, "read_only", False))',
        "    flag = False",
        ("tests/cli/test_remove.py::test_read_only_refuses_an_export_too",),
    ),
]
