"""The one terminal-safe rule (console/text.py): what it escapes, what it leaves alone, and who uses it."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.text import one_line, terminal_safe
from tests.hostile import ESCAPES, UNSAFE, leaks

PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
"""Every printable ASCII character (space to tilde)."""


@pytest.mark.parametrize(("kind", "payload"), sorted(ESCAPES.items()))
def test_every_escape_kind_is_written_visibly(kind: str, payload: str) -> None:
    shown = terminal_safe(f"Eve {payload} End")
    assert leaks(shown) == [], kind
    assert shown.startswith("Eve ") and shown.endswith(" End")


def test_the_escapes_are_visible_and_the_rest_is_unchanged() -> None:
    assert terminal_safe("a\x1b]52;c;SGVsbG8=\x07b") == "a\\x1b]52;c;SGVsbG8=\\x07b"
    assert terminal_safe("\x9b31m") == "\\x9b31m"
    assert terminal_safe("x\x7fy") == "x\\x7fy"
    assert terminal_safe("\u202eevil\u2066\u2069\u200e\u200f\u061c") == "\\u202eevil\\u2066\\u2069\\u200e\\u200f\\u061c"
    assert terminal_safe("line\u2028break\ufeff") == "line\\u2028break\\ufeff"
    assert terminal_safe("\ud800") == "\\ud800"  # a lone surrogate cannot even be encoded for the terminal
    assert terminal_safe("Zoë Ångström 李雷 [b]x[/b] \\x1b") == "Zoë Ångström 李雷 [b]x[/b] \\x1b"
    assert terminal_safe(None) == "" and terminal_safe(42) == "42"


def test_one_line_flattens_escapes_and_cuts() -> None:
    assert one_line("a\n\tb  \x1b[2J") == "a b \\x1b[2J"
    assert one_line("x" * 300, 10) == "x" * 9 + "…"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_control_or_bidi_character_survives(text: str) -> None:
    shown = terminal_safe(text)
    assert leaks(shown) == []
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in shown)
    assert terminal_safe(shown) == shown  # escaping twice changes nothing


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=PRINTABLE_ASCII))
def test_printable_ascii_is_unchanged(text: str) -> None:
    assert terminal_safe(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_printable_text_of_any_script_is_unchanged(text: str) -> None:
    assert terminal_safe(text) == text


def test_the_unsafe_set_of_the_tests_is_all_escaped() -> None:
    for code in sorted(UNSAFE):
        assert leaks(terminal_safe(chr(code))) == [], hex(code)


def test_every_output_uses_the_one_rule() -> None:
    """The CLI, the console, Graph's errors and the report escape exactly the same way."""
    from console.cli.output import clean
    from console.graph.errors import BadRequest
    from console.graph.errors import safe_text as graph_safe
    from console.report import render_report
    from console.tui.cells import safe_text

    evil = "Eve \x1b]52;c;QQ==\x07 \x9b2J \u202eevil\u202c"
    expected = terminal_safe(evil)
    assert clean(evil) == safe_text(evil) == graph_safe(evil) == expected
    assert BadRequest(evil).message == expected
    row = {"displayName": evil}
    csv_text = render_report([row], "csv", generated_at=0)
    assert expected in csv_text and leaks(csv_text, allow="\r\n") == []
