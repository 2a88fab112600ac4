"""Tenant text that tries to drive the terminal, and the check that none of it got through.

Every kind of escape an attacker who controls a display name, a UPN, a home tenant id or Graph's
error text can plant; ``leaks`` is this test suite's own idea of an unsafe character (independent of
``console.text``, so a break there is seen here).
"""

from __future__ import annotations

ESCAPES: dict[str, str] = {
    "osc52": "\x1b]52;c;SGVsbG8=\x07",
    "clear": "\x1b[2J",
    "osc8": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "dcs": "\x1bP+q544e\x1b\\",
    "c1csi": "\x9b31m",
    "sgr": "\x1b[31;1m",
    "bidi": "\u202eevil\u202c\u2066x\u2069\u200f\u200e\u061c",
}
"""Each kind of terminal escape planted in tenant text."""

MARKUP: dict[str, str] = {
    "bold": "[b]bold[/b]",
    "link": "[link=https://evil.example]link[/link]",
    "click": "[@click=app.quit]quit[/]",
}
"""Rich/Textual markup planted in tenant text: it must be shown as typed, never interpreted."""

UNSAFE = frozenset(
    [
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
    ]
)


def leaks(text: str, *, allow: str = "") -> list[str]:
    """The unsafe characters in ``text`` (``allow``: the ones this output may hold, such as its line breaks)."""
    return sorted({f"U+{ord(ch):04X}" for ch in text if ord(ch) in UNSAFE and ch not in allow})


def hostile_name(kind: str, text: str) -> str:
    """A display name that carries ``text`` between readable words."""
    return f"Eve {kind} {text} End"
