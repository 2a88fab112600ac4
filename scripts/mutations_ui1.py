"""Issue 17 (profile list, export form, modals, demo location, re-exports): break the line, the tests fail."""

from __future__ import annotations

from typing import Any

K = "tests/tui/test_console_keys.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "typing a name on the list never selects (type-to-search)",
        "console/tui/widgets/profile_list.py",
        "        if self._on_type is not None:\n            self._on_type(character, False)",
        "        if False:\n            self._on_type(character, False)",
        (f"{K}::test_typing_a_name_on_the_list_searches_and_never_selects_or_opens_a_form",),
    ),
    (
        "type-to-search starts as the first key is read (burst)",
        "console/tui/widgets/profile_list.py",
        '    _key(key, f"type_to_search({key!r})", "", f"type-{key}", show=False) for key in SEARCH_STARTERS',
        '    _key(key, f"type_to_search({key!r})", "", f"type-{key}", show=False, priority=False) for key in SEARCH_STARTERS',
        (f"{K}::test_typing_a_name_on_the_list_searches_and_never_selects_or_opens_a_form",),
    ),
    (
        "e on the list is a letter, not the export form",
        "console/tui/screens/main.py",
        "            return self.is_mounted and self._on_operations()",
        "            return True",
        (f"{K}::test_a_name_typed_after_a_search_starts_a_new_search",),
    ),
    (
        "select all is undone by ctrl+z",
        "console/tui/profile_selection.py",
        "        self._undo.append(dict(self.ids))",
        "        pass",
        (f"{K}::test_star_selects_everything_shown_aloud_and_ctrl_z_undoes_it",),
    ),
    (
        "a Tab in a burst keeps its place (export form)",
        "console/tui/screens/export.py",
        '        Binding("tab", "move_focus(1)", "", show=False, priority=True, id="export.next"),',
        '        Binding("tab", "move_focus(1)", "", show=False, priority=False, id="export.next"),',
        (f"{K}::test_case_tab_storage_typed_at_once_fill_both_fields",),
    ),
    (
        "the export form starts in its first field",
        "console/tui/screens/export.py",
        '        self.set_focus(self.query_one("#case", Input))\n        self.load_quota()',
        '        self.set_focus(self.query_one("#storage", StorageLocationInput))\n        self.load_quota()',
        (f"{K}::test_enter_on_case_moves_to_storage_at_once",),
    ),
    (
        "a selection hidden by the search shows on the list",
        "console/tui/widgets/profiles_pane.py",
        "        hidden = profile_list.hidden_selected\n        if hidden:",
        "        hidden = profile_list.hidden_selected\n        if False:",
        (f"{K}::test_a_selection_hidden_by_the_search_shows_on_the_list_the_form_and_the_question",),
    ),
    (
        "a selection hidden by the search shows in the form and the question",
        "console/tui/screens/export.py",
        '        if not self.hidden:\n            return ""',
        '        if True:\n            return ""',
        (f"{K}::test_a_selection_hidden_by_the_search_shows_on_the_list_the_form_and_the_question",),
    ),
    (
        "typing into the hidden signature shows",
        "console/tui/widgets/storage_input.py",
        "            self.post_message(self.Changed(self, self.value))",
        "            pass",
        (f"{K}::test_keys_typed_into_the_hidden_signature_change_its_shown_length",),
    ),
    (
        "the question names the case",
        "console/tui/export_model.py",
        '    lines.append(f"Case: {safe_text(case)}" if case else "Case: none (the Case field is empty)")',
        "    pass",
        (f"{K}::test_the_question_names_the_case",),
    ),
    (
        "pre-flight refusals leave out only the people refused",
        "console/tui/screens/export.py",
        "        going = [p for p in self.people if p.user_id not in refused]",
        "        going = list(self.people)",
        (f"{K}::test_preflight_names_the_people_refused_and_goes_on_without_them",),
    ),
    (
        "warnings about many containers are grouped",
        "console/ops/submission.py",
        "            if code in _WARNING_GROUPS and name:",
        "            if False:",
        (f"{K}::test_a_bulk_export_to_unreachable_storage_fits_80x24_with_grouped_warnings",),
    ),
    (
        "a re-export gets a container not used before",
        "console/tui/export_model.py",
        "    if not containers(location) & used:\n        return location",
        "    if True:\n        return location",
        (
            f"{K}::test_a_re_export_keeps_its_case_and_proposes_a_container_not_used_before",
            "tests/tui/test_console_demo.py::test_the_demo_proposes_its_own_storage_and_a_fresh_container_for_a_re_export",
        ),
    ),
    (
        "a re-export keeps its case",
        "console/tui/export_launch.py",
        '    case = cases.pop() if len(cases) == 1 and "" not in cases else None',
        "    case = None",
        (f"{K}::test_a_re_export_keeps_its_case_and_proposes_a_container_not_used_before",),
    ),
    (
        "the demo proposes its own storage",
        "console/wiring.py",
        '        "storage_suggestion": DEMO_STORAGE if sim is not None else "",\n',
        "",
        (
            "tests/tui/test_console_demo.py::test_the_demo_proposes_its_own_storage_and_a_fresh_container_for_a_re_export",
        ),
    ),
]
MUTATIONS += [
    (
        "a second signature pasted after a masked one is masked too",
        "console/tui/widgets/storage_input.py",
        "        new_shown, cursor = self._mask_further(new_shown, cursor)\n",
        "",
        (f"{K}::test_a_second_signature_pasted_after_a_masked_one_is_never_shown",),
    ),
    (
        "a pasted location replaces the demo's proposal",
        "console/tui/screens/export.py",
        "            storage.select_on_focus = True\n",
        "",
        ("tests/tui/test_console_demo.py::test_a_location_pasted_in_the_demo_replaces_its_proposal",),
    ),
    (
        "the details view puts times and request-ids before the long URLs",
        "console/tui/screens/details.py",
        "        for _label, lines in sorted(self.rows, key=lambda row: rank.get(row[0], len(rank))):",
        "        for _label, lines in self.rows:",
        (f"{K}::test_the_details_view_at_80x24_shows_submitted_completed_and_request_ids",),
    ),
]
MUTATIONS += [
    (
        "an accented first letter keeps its place in a burst",
        "console/tui/widgets/profile_list.py",
        "            self._on_type(event.character, self.screen.focused is not self)",
        "            self._on_type(event.character, False)",
        (f"{K}::test_a_name_starting_with_an_accent_keeps_every_letter",),
    ),
]
