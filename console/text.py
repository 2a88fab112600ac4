"""The one rule for text that comes from the tenant or from Graph: it is data, never terminal control.

Display names, UPNs, home tenant ids, Graph's error messages, storage locations, notes and case
references can hold anything: ``ESC]52;c;...BEL`` (a clipboard write), ``ESC[2J``, OSC 8 links, DCS
strings, the C1 CSI ``0x9b``, SGR colours, bidirectional overrides that reorder what the admin reads.
``terminal_safe`` writes every such character as a visible escape (``\\x1b``, ``\\x9b``, ``\\u202e``) and
leaves the rest of the text exactly as it was. Every output uses it: the CLI's lines and tables, the
report (Markdown and CSV cells; JSON is written ASCII-only, so the same characters are ``\\u`` escapes), Graph's
errors and the console's widgets (which also never parse tenant text as markup: see ``console.tui.cells``).

This module is the ground floor: it imports nothing from the project (``lint-imports`` keeps it so).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any

BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
"""Bidirectional marks, embeddings, overrides and isolates: they reorder what the admin reads."""

_INVISIBLE = frozenset([0x2028, 0x2029, 0xFEFF])
"""Line and paragraph separators (they break a row) and the byte-order mark / zero-width no-break space."""

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""Controls (C0, DEL, C1), lone surrogates (they cannot even be encoded), line and paragraph separators."""


def is_unsafe(ch: str) -> bool:
    """Whether ``ch`` (one character) must not reach a terminal as it is."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return False
    return code in BIDI_CONTROLS or code in _INVISIBLE or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def escape_char(ch: str) -> str:
    """The visible form of one character: ``\\x1b`` below U+0100, ``\\u202e`` up to U+FFFF, else ``\\U0001xxxx``."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_safe(value: object) -> str:
    """``value`` as text that cannot drive a terminal: unsafe characters become visible escapes.

    None is the empty text; anything else is ``str(value)``. Printable text (ASCII or not) comes back
    unchanged, so applying it twice changes nothing.
    """
    text = "" if value is None else str(value)
    if text.isprintable():  # False for every Cc, Cf (the bidirectional controls), Cs, Zl and Zp character
        return text
    return "".join(escape_char(ch) if is_unsafe(ch) else ch for ch in text)


def one_line(value: object, limit: int = 200) -> str:
    """``value`` on one line (runs of whitespace become one space), terminal-safe, cut to ``limit`` with ``…``."""
    flat = terminal_safe(" ".join(("" if value is None else str(value)).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (at any depth) replaced by None (JSON has neither)."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool:  # most values: nothing to look into
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value
