"""Mutations guarding the gaps the issue 14 audit closed (``--case ""``, Ctrl+C while the entry is imported).
Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

EXITS = "tests/cli/test_exit_codes.py"
OLD_RULE = '"".join(c if c.isprintable() else f"\\\\x{ord(c):02x}" for c in '
"""The storage slice's own copy of "terminal-safe" before it was folded into console.text.terminal_safe."""

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "issue 14.6: export --case '' exports without the case",
        "console/cli/parser.py",
        'export.add_argument("--case", metavar="REF", type=_CASE_REF, help=',
        'export.add_argument("--case", metavar="REF", type=str, help=',
        (f"{EXITS}::test_an_empty_option_value_is_a_usage_error_and_nothing_is_sent[export---case]",),
    ),
    (
        "issue 14.6: ops --case '' lists every case",
        "console/cli/parser.py",
        'ops.add_argument("--case", metavar="REF", type=_CASE_REF,',
        'ops.add_argument("--case", metavar="REF", type=str,',
        (f"{EXITS}::test_an_empty_option_value_is_a_usage_error_and_nothing_is_sent[ops---case]",),
    ),
    (
        "issue 14.6: Ctrl+C while python -m console imports its entry is a traceback",
        "console/__main__.py",
        "except KeyboardInterrupt:  # Ctrl+C before the entry's own guard",
        "except ImportError:  # Ctrl+C before the entry's own guard",
        (f"{EXITS}::test_ctrl_c_while_importing_the_entry_is_one_line_and_130",),
    ),
    (
        "issue 14.2: the template messages name a profile with their own escaping rule",
        "console/storage/templates.py",
        "    return terminal_safe(text)[:200]",
        "    return " + OLD_RULE + "text)[:200]",
        (
            "tests/storage/test_templates.py::test_a_profile_named_in_a_message_is_written_by_the_one_terminal_safe_rule",
        ),
    ),
    (
        "issue 14.2: blob names are shown with the storage slice's own escaping rule",
        "console/storage/blob.py",
        "            self.names.append(terminal_safe(blob_name))",
        "            self.names.append(" + OLD_RULE + "blob_name))",
        ("tests/storage/test_blob.py::test_blob_names_are_written_by_the_one_terminal_safe_rule",),
    ),
    (
        "issue 14.2: a SAS value in a refusal is quoted with the SAS module's own escaping rule",
        "console/storage/sas.py",
        "    return terminal_safe(value[:40])",
        "    return " + OLD_RULE + "value[:40])",
        ("tests/storage/test_rules.py::test_a_sas_value_quoted_in_a_refusal_is_written_by_the_one_terminal_safe_rule",),
    ),
]
