"""Issue 19, the rest (worktree case19): the Outbound view, read_only per saved tenant, ``--part all``, the
alert's day boundary and a removal killed before its 204; break one line, the named tests must fail."""

from __future__ import annotations

from typing import Any

_OUT = "tests/tui/test_outbound_view.py"
_RO_CLI = "tests/cli/test_read_only_tenant.py"
_RO_TUI = "tests/tui/test_read_only_tenant.py"
_REPORT = "tests/cli/test_case_report.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "case19: the Outbound view's removal ignores --read-only",
        "console/tui/screens/outbound.py",
        "        engine = refused_or_engine(self, self.session, 1, read_only=self.read_only, title=title)",
        "        engine = refused_or_engine(self, self.session, 1, read_only=False, title=title)",
        (f"{_OUT}::test_refusals_say_why_and_open_no_question",),
    ),
    (
        "case19: the outbound question is answered without the typed number",
        "console/tui/dialogs/remove.py",
        "        if event.value.strip() != str(self.count):",
        "        if False:",
        (f"{_OUT}::test_typing_1_sends_the_outbound_removal_and_a_second_is_refused",),
    ),
    (
        "case19: the outbound question does not name the case",
        "console/tui/dialogs/remove.py",
        '        for_case = f"for case {case}" if case else "(give the case first)"',
        '        for_case = ""',
        (f"{_OUT}::test_typing_1_sends_the_outbound_removal_and_a_second_is_refused",),
    ),
    (
        "case19: Enter in the case box moves on only after the keys behind it (bursts)",
        "console/tui/dialogs/remove.py",
        '        Binding("enter", "case_given", "", show=False, priority=True, id="remove.case-enter"),',
        "",
        (f"{_OUT}::test_typing_1_sends_the_outbound_removal_and_a_second_is_refused",),
    ),
    (
        "case19: the Outbound view's del waits for the key queue (bursts lost)",
        "console/tui/screens/outbound.py",
        "            priority=True,  # as the key is read: the keys after it in a burst wait for the question",
        "            priority=False,",
        (f"{_OUT}::test_typing_1_sends_the_outbound_removal_and_a_second_is_refused",),
    ),
    (
        "case19: read_only is not read from config.toml",
        "console/config.py",
        '            read_only=flags["read_only"],',
        "            read_only=False,",
        (f"{_RO_CLI}::test_read_only_is_read_and_written_back",),
    ),
    (
        "case19: a read-only saved tenant's export is sent",
        "console/cli/remove_commands.py",
        "        flag=flag, saved=bool(saved and saved.read_only), tenant_label=",
        "        flag=flag, saved=False, tenant_label=",
        (f"{_RO_CLI}::test_a_read_only_tenant_refuses_changes_naming_the_setting",),
    ),
    (
        "case19: a read-only saved tenant's removal is sent",
        "console/cli/remove_commands.py",
        "    read_only = read_only_reason(flag=bool(args.read_only), saved=bool(saved and saved.read_only)",
        "    read_only = read_only_reason(flag=bool(args.read_only), saved=False",
        (f"{_RO_CLI}::test_a_read_only_tenant_refuses_changes_naming_the_setting",),
    ),
    (
        "case19: the console session forgets the saved tenant's read_only",
        "console/tui/sessions.py",
        "        read_only=bool(services.saved_tenant is not None and services.saved_tenant.read_only),\n",
        "",
        (f"{_RO_TUI}::test_the_session_of_a_read_only_saved_tenant_is_read_only",),
    ),
    (
        "case19: the console's export ignores the tenant's read_only",
        "console/tui/read_only.py",
        '        saved=bool(getattr(session, "read_only", False)),',
        "        saved=False,",
        (f"{_RO_TUI}::test_a_read_only_tenant_refuses_every_change_and_names_the_setting",),
    ),
    (
        "case19: --part all is only the audit trail",
        "console/cli/case_commands.py",
        '"all": [_subject_part, _internal_part]',
        '"all": [_internal_part]',
        (
            f"{_REPORT}::test_part_all_is_both_parts_in_one_report",
            f"{_REPORT}::test_part_all_in_markdown_has_the_persons_part_then_the_audit_trail",
        ),
    ),
    (
        "case19: the audit trail calls a removal an export",
        "console/report.py",
        '        what = "removal" if row.get("kind") == "removal" else "export"',
        '        what = "export"',
        (f"{_REPORT}::test_a_removal_is_named_a_removal_in_the_audit_trail",),
    ),
    (
        "case19: the deadline alert starts a day late",
        "console/tui/widgets/cases_pane.py",
        "c.state != CLOSED and c.days_left(today) <= ALERT_DAYS",
        "c.state != CLOSED and c.days_left(today) < ALERT_DAYS",
        ("tests/tui/test_cases_pane_alert.py::test_the_alert_starts_at_five_days_left_and_rings_once",),
    ),
    (
        "case19: a removal killed before its 204 is asked again",
        "console/ops/journal_reads.py",
        '            "AND state != ? ORDER BY id",',
        "            \"AND state = 'final' AND state != ? ORDER BY id\",",
        ("tests/e2e/test_removal_crash.py::test_a_removal_killed_before_its_204_is_unconfirmed_and_never_sent_again",),
    ),
]
