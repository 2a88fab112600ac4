"""The pulse strip (issue 18): each open tenant's health on one line, above the status line.

Shown only when several tenants are open. One line per tenant (sign-in state, polls this hour
against the budget, exports left today, throttled or not, unfinished, failed, oldest running), or
every tenant on one line in a small terminal (80x24). The figures come from
``console.tui.pulse`` (Textual-free); this widget only writes them, and only when they changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from console.ops.fleet import TenantPulse
from console.tui.cells import safe_text
from console.tui.pulse import COMPACT_SEPARATOR, compact_items, pulse_lines

_ROLES = {
    "ok": "",
    "throttled": "pulse-strip--warn",
    "sign-in failed": "pulse-strip--bad",
    "set aside": "pulse-strip--bad",
    "signed out": "pulse-strip--off",
}


class PulseStrip(Static):
    """One line per tenant, or one line for all of them (``compact``)."""

    COMPONENT_CLASSES = {"pulse-strip--warn", "pulse-strip--bad", "pulse-strip--off"}

    DEFAULT_CSS = """
    PulseStrip { height: auto; max-height: 12; padding: 0 1; background: $boost; }
    PulseStrip > .pulse-strip--warn { color: $warning; text-style: bold; }
    PulseStrip > .pulse-strip--bad { color: $error; text-style: bold; }
    PulseStrip > .pulse-strip--off { color: $text-muted; text-style: italic; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.compact = False
        self._shown: tuple[str, ...] | None = None
        self._last: tuple[Sequence[TenantPulse], float] | None = None

    def on_resize(self) -> None:
        """A new width may hold more or less detail in the one-line strip."""
        if self._last is not None:
            self.show_pulses(*self._last)

    def show_pulses(self, pulses: Sequence[TenantPulse], now: float) -> None:
        """Write ``pulses``; repaints only when the text changed."""
        self._last = (pulses, now)
        width = self.content_size.width or None
        parts = compact_items(pulses, now, width) if self.compact else pulse_lines(pulses, now, compact=False)
        key = tuple(parts) + tuple(p.state for p in pulses)
        if key == self._shown:
            return
        self._shown = key
        text = Text(no_wrap=True, overflow="ellipsis")
        self.styles.height = 1 if self.compact else len(parts)
        between, style = (COMPACT_SEPARATOR, "dim") if self.compact else ("\n", "")
        for number, (part, pulse) in enumerate(zip(parts, pulses, strict=True)):
            if number:
                text.append(between, style=style)
            text.append(safe_text(part), style=self._style(pulse.state))
        self.update(text)

    def _style(self, state: str) -> Style | str:
        role = _ROLES.get(state, "pulse-strip--bad")
        return self.get_component_rich_style(role, partial=True) if role else ""
