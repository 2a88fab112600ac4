"""What the commands print: escaped text for people, valid JSON Lines for scripts.

Text that comes from the tenant or from Graph (names, UPNs, statuses, error messages) is data:
``clean`` is ``console.text.terminal_safe`` (the one rule: every control character, C0, C1 and DEL,
so ANSI escapes too, bidirectional control and line separator shown as a visible escape such as
``\\x1b`` or ``\\u202e``) before it reaches a terminal.
JSON is produced with non-finite numbers turned into ``null`` (``NaN`` is not JSON).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from console.text import finite, terminal_safe

clean = terminal_safe
"""Tenant or Graph text made safe for a terminal: the one rule of ``console.text`` under its CLI name."""


def json_text(value: Any, *, indent: int | None = None) -> str:
    """Valid JSON always: non-finite numbers become null, non-ASCII and control characters escaped."""
    try:  # the common case, in C: nothing to replace (``finite`` walks every value, once per event)
        return json.dumps(value, allow_nan=False, indent=indent, default=_plain, ensure_ascii=True)
    except (ValueError, TypeError):  # a NaN or an infinity, a mapping json does not know, an odd key
        return json.dumps(finite(value), allow_nan=False, indent=indent, default=str, ensure_ascii=True)


def _plain(value: Any) -> str:
    """``json.dumps``' default on the fast path: a mapping goes the slow way (an object, as ``finite`` makes it)."""
    if isinstance(value, Mapping):
        raise TypeError("a mapping")
    return str(value)


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def say(message: str) -> None:
    """One line on stderr (already-escaped text only: pass tenant data through ``clean``)."""
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    say(f"export-console: warning: {message}")


def fail(message: str, code: int) -> int:
    """Print ``export-console: message`` on stderr (escaped) and return ``code``."""
    say(f"export-console: {clean(message)}")
    return code


CELL_WIDTH = 60


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], stream: TextIO | None = None) -> None:
    """A plain aligned table (scripts should use --json); every cell escaped and cut to 60 columns."""
    out = stream if stream is not None else sys.stdout
    cells = [[_cut(clean(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers).rstrip(), file=out)
    for row in cells:
        print(line.format(*row).rstrip(), file=out)


def _cut(text: str) -> str:
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"
