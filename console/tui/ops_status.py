"""The Operations pane's counts line and tab label, from the table's counts (no widget).

``status_line`` writes ``3/7 shown · ● 2 marked · ✗ failed 1 · ? unconfirmed 1 · ▶ running 3``
at three levels of width; the pane tries them widest first (``OperationsPane.status_text``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from console.tui.cells import STATUS_GLYPHS, safe_text, status_label
from console.tui.ops_alerts import ATTENTION

STATUS_ORDER = ("failed", "rejected", "error", "unconfirmed", "running", "notStarted", "submitting", "complete")
"""The order of the per-status counts (attention first)."""


@dataclass(frozen=True)
class TableCounts:
    """What the counts line says of the table."""

    counts: Counter[str]
    """Operations per shown status, all of them (whatever the filter)."""
    shown: int
    marked: int
    paused: bool
    held: int
    """Views held back while paused."""
    tenants: tuple[tuple[str, int], ...] = ()
    """Operations per tenant, when several tenants are open (issue 18)."""


def tab_label(counts: Counter[str]) -> str:
    """``Operations 7 · 2 problems`` for the one-pane layout's tab: the ``problem`` filter's count (f, ops --status)."""
    total = sum(counts.values())
    attention = sum(counts.get(status, 0) for status in ATTENTION)
    return f"Operations {total:,}" + (f" · {attention:,} problem{'s' if attention != 1 else ''}" if attention else "")


def _paused(text: Text, state: TableCounts, style: Callable[[str], Style]) -> None:
    if state.paused:
        held = state.held
        text.append(f" PAUSED{f' ({held:,} held)' if held else ''} ", style("ops-pane--paused"))
        text.append(" ")


def status_line(state: TableCounts, level: int, style: Callable[[str], Style]) -> Text:
    """The counts line at ``level`` 0 (every word), 1 (glyphs for the statuses that need nobody) or 2 (tight).

    ``style`` gives the style of a component class (``ops-pane--bad``, ``--warn``, ``--paused``, ``--marked``).
    """
    if level == 2:
        return _tight_status_line(state, style)
    counts = state.counts
    total = sum(counts.values())
    text = Text(no_wrap=True, overflow="ellipsis")
    _paused(text, state, style)
    shown = state.shown
    text.append(f"{shown:,}/{total:,} shown" if shown != total else f"{total:,} operations")
    if state.tenants and level == 0:
        text.append(" (" + " · ".join(f"{safe_text(name)} {count:,}" for name, count in state.tenants) + ")")
    marked = state.marked
    if marked:
        text.append(" · ")
        text.append(f"● {marked:,} marked", style("ops-pane--marked"))
    listed = [status for status in STATUS_ORDER if counts.get(status)]
    listed += sorted(status for status in counts if status not in STATUS_ORDER)
    for status in listed:
        text.append(" · ")
        role = "ops-pane--bad" if status in ("failed", "rejected", "error") else None
        role = "ops-pane--warn" if status == "unconfirmed" else role
        short = level >= 2 or (level == 1 and status not in ATTENTION)
        label = STATUS_GLYPHS.get(status, "◆") if short else status_label(safe_text(status))
        text.append(f"{label} {counts[status]:,}", style(role) if role else "")
    return text


def _tight_status_line(state: TableCounts, style: Callable[[str], Style]) -> Text:
    """``4/7 shown ●2 marked │ failed 1 rejected 1 unconfirmed 1 │ ▶2 ✓1`` (80 columns and less)."""
    counts = state.counts
    text = Text(no_wrap=True, overflow="ellipsis")
    _paused(text, state, style)
    text.append(f"{state.shown:,}/{sum(counts.values()):,} shown")
    if state.marked:
        text.append(f" ●{state.marked:,} marked", style("ops-pane--marked"))
    attention = [s for s in STATUS_ORDER if s in ATTENTION and counts.get(s)]
    if attention:
        text.append(" │")
        for status in attention:
            role = "ops-pane--warn" if status == "unconfirmed" else "ops-pane--bad"
            text.append(f" {status} {counts[status]:,}", style(role))
    others = [s for s in STATUS_ORDER if s not in ATTENTION and counts.get(s)]
    others += sorted(s for s in counts if s not in STATUS_ORDER)
    if others:
        text.append(" │")
        for status in others:
            text.append(f" {STATUS_GLYPHS.get(status, '◆')}{counts[status]:,}")
    return text
