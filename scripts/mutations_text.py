"""Terminal-safe text (issue 14 item 2, issue 22 behaviours 19-22): one rule, used by every output.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_TUI = "tests/tui/test_hostile_tenant.py::"
_CLI = "tests/cli/test_terminal_safe_cli.py::"
_TEXT = "tests/test_text.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "text: bidi isolates escaped",
        "console/text.py",
        "BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])",
        "BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F)])",
        (f"{_TEXT}test_the_escapes_are_visible_and_the_rest_is_unchanged",),
    ),
    (
        "text: C0, DEL and C1 escaped",
        "console/text.py",
        '_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})',
        '_UNSAFE_CATEGORIES = frozenset({"Cs", "Zl", "Zp"})',
        (f"{_TEXT}test_no_control_or_bidi_character_survives",),
    ),
    (
        "text: Graph's errors use the one rule",
        "console/graph/errors.py",
        "    return terminal_safe(redact(text))",
        "    return redact(text)",
        (f"{_TEXT}test_every_output_uses_the_one_rule",),
    ),
    (
        "text: CSV report cells escaped",
        "console/report.py",
        '    return terminal_safe("\'" + text if text.startswith(_CSV_FORMULA_START) else text)',
        '    return "\'" + text if text.startswith(_CSV_FORMULA_START) else text',
        (f"{_CLI}test_the_csv_report_escapes_every_control_and_keeps_the_rest_of_the_cell",),
    ),
    (
        "text: JSON report escapes C1 and bidi (issue 22.21)",
        "console/report.py",
        '        self._flat = json.JSONEncoder(separators=(",\\n    ", ": "), allow_nan=False).encode',
        '        self._flat = json.JSONEncoder(separators=(",\\n    ", ": "), allow_nan=False, ensure_ascii=False).encode',
        (f"{_CLI}test_the_json_report_writes_c1_and_bidi_controls_as_json_escapes",),
    ),
    (
        "text: the unconfirmed line escapes the UPN (issue 22.22)",
        "console/cli/views.py",
        'f"unconfirmed: {clean(who)} (',
        'f"unconfirmed: {who} (',
        (f"{_CLI}test_the_unconfirmed_line_prints_the_upn_escaped",),
    ),
    (
        "text: profile list names escaped",
        "console/tui/widgets/profile_list.py",
        'Segment(set_cell_size(safe_text(profile.display_name), name_w) + " ", style),',
        'Segment(set_cell_size(profile.display_name, name_w) + " ", style),',
        (f"{_TUI}test_hostile_profiles_and_operations_are_shown_as_text_in_the_lists",),
    ),
    (
        "text: profile list UPNs escaped",
        "console/tui/widgets/profile_list.py",
        'Segment(set_cell_size(safe_text(profile.user_principal_name), upn_w) + " ", style),',
        'Segment(set_cell_size(profile.user_principal_name, upn_w) + " ", style),',
        (f"{_TUI}test_hostile_profiles_and_operations_are_shown_as_text_in_the_lists",),
    ),
    (
        "text: bulk confirmation names never markup (issue 22.19)",
        "console/tui/dialogs/confirm.py",
        'yield Static(names_text(self.names), id="confirm-names", markup=False)',
        'yield Static(names_text(self.names), id="confirm-names", markup=True)',
        (f"{_TUI}test_markup_in_a_name_is_shown_as_typed_in_the_bulk_confirmations_names",),
    ),
    (
        "text: the export form's For: line never markup (issue 22.20)",
        "console/tui/screens/export.py",
        'yield Static(self._targets_text(), id="export-targets", markup=False)',
        'yield Static(self._targets_text(), id="export-targets", markup=True)',
        (f"{_TUI}test_markup_in_a_name_is_shown_as_typed_in_the_export_forms_for_line",),
    ),
    (
        "text: details grid cells never markup",
        "console/tui/screens/details.py",
        "        grid = _LiteralGrid.grid(padding=(0, 1))",
        "        grid = Table.grid(padding=(0, 1))",
        (f"{_TUI}test_the_details_show_every_hostile_field_as_text",),
    ),
    (
        "text: details history cells never markup",
        "console/tui/screens/details.py",
        '                literal(record.request_id or "—"),',
        '                record.request_id or "—",',
        (f"{_TUI}test_the_details_show_every_hostile_field_as_text",),
    ),
    (
        "text: details title never markup",
        "console/tui/screens/details.py",
        'border_title = literal(f"Export of {self.user_label(view.user_id)}{where}")',
        'border_title = f"Export of {self.user_label(view.user_id)}{where}"',
        (f"{_TUI}test_the_details_show_every_hostile_field_as_text",),
    ),
    (
        "text: note dialog title never markup",
        "console/tui/dialogs/note.py",
        "border_title = literal(self.title_text)",
        "border_title = self.title_text",
        (f"{_TUI}test_the_details_show_every_hostile_field_as_text",),
    ),
    (
        "text: export results never markup",
        "console/tui/screens/export.py",
        'results.add_row(literal(label), Text(word, style="bold"), literal(detail))',
        'results.add_row(label, Text(word, style="bold"), detail)',
        (f"{_TUI}test_graphs_refusal_is_shown_as_text_in_the_export_results",),
    ),
    (
        "text: failure toast never markup",
        "console/tui/widgets/ops_lines.py",
        '                severity="error",\n                timeout=10,\n                markup=False,',
        '                severity="error",\n                timeout=10,\n                markup=True,',
        (f"{_TUI}test_a_failure_toast_shows_the_name_and_graphs_error_as_text",),
    ),
    (
        "text: JSON Lines escape C1 and bidi",
        "console/cli/journal_listing.py",
        "    encode = c_make_encoder(None, str, json.encoder.encode_basestring_ascii,",
        "    encode = c_make_encoder(None, str, json.encoder.encode_basestring,",
        (f"{_CLI}test_json_lines_of_ops_and_watch_hold_no_raw_control_character",),
    ),
    (
        "text: the listing error is never markup",
        "console/tui/widgets/profiles_pane.py",
        '            status.append("listing stopped", style="bold").append(f" after {total:,}: {safe_text(self._load_error)}")',
        '            status = Text.from_markup(f"[b]listing stopped[/b] after {total:,}: {self._load_error}")',
        (f"{_TUI}test_a_listing_error_and_the_signed_in_identity_are_shown_as_text",),
    ),
    (
        "text: the listing error toast is never markup",
        "console/tui/app.py",
        'self.notify(failure.text, title=failure.title, severity="error", timeout=15, markup=False)',
        'self.notify(failure.text, title=failure.title, severity="error", timeout=15, markup=True)',
        (f"{_TUI}test_a_listing_error_and_the_signed_in_identity_are_shown_as_text",),
    ),
    (
        "text: the header's identity escaped",
        "console/tui/widgets/header.py",
        "    identity = safe_text(info.identity)",
        "    identity = info.identity",
        (f"{_TUI}test_a_listing_error_and_the_signed_in_identity_are_shown_as_text",),
    ),
    (
        "text: a sign-in error escaped",
        "console/tui/screens/login.py",
        """Text("Sign-in failed:", style="bold").append(f" {describe_failure(event.worker.error).text}")""",
        """Text("Sign-in failed:", style="bold").append(f" {event.worker.error}")""",
        (f"{_TUI}test_a_sign_in_error_is_shown_as_text",),
    ),
]
