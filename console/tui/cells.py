"""How values look in the console's tables: status glyphs, durations, progress, short ids.

Status is always glyph + Graph's word + colour, so colour is never the only signal
(an SSH terminal may have no colour, and some admins can't tell red from green).
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from console.text import one_line as one_line
from console.text import terminal_safe

safe_text = terminal_safe
"""Tenant or Graph text made safe for the screen: the one rule of ``console.text`` (markup: see ``literal``)."""

STATUS_GLYPHS: dict[str, str] = {
    "notStarted": "…",
    "running": "▶",
    "complete": "✓",
    "failed": "✗",
    "submitting": "↑",
    "accepted": "•",
    "unconfirmed": "?",
    "rejected": "✗",
    "error": "!",
    "resolved": "☑",
    "stopped": "■",
}
"""Glyph before each status word; an unknown status (a new Graph enum member) gets ``◆``."""

STATUS_CLASSES: dict[str, str] = {
    "notStarted": "pending",
    "running": "running",
    "complete": "ok",
    "failed": "bad",
    "submitting": "pending",
    "accepted": "pending",
    "unconfirmed": "warn",
    "rejected": "bad",
    "error": "bad",
    "resolved": "ok",
    "stopped": "pending",
}
"""Which theme colour role each status takes (mapped to styles by ``StatusStyles``)."""

STATUS_ORDER: dict[str, int] = {
    "failed": 0,
    "rejected": 1,
    "error": 2,
    "unconfirmed": 3,
    "running": 4,
    "notStarted": 5,
    "accepted": 6,
    "submitting": 7,
    "complete": 8,
    "resolved": 9,
    "stopped": 10,
}
"""Sort order of statuses: what needs attention first."""


def status_role(status: str) -> str:
    """The colour role of a status: ok, bad, warn, running, pending, unknown."""
    return STATUS_CLASSES.get(status, "unknown")


def status_label(status: str) -> str:
    """``✓ complete``: glyph and Graph's word (unknown words shown as they are)."""
    return f"{STATUS_GLYPHS.get(status, '◆')} {status}"


def status_text(status: str, styles: dict[str, str]) -> Text:
    """A status cell: glyph, word, and the colour of its role."""
    return Text(status_label(status), style=styles.get(status_role(status), ""), no_wrap=True)


def progress_label(progress: float | None) -> str:
    """``42%`` or ``—`` when Graph has not said."""
    if progress is None:
        return "—"
    return f"{progress:.0f}%"


def duration_label(seconds: float | None) -> str:
    """Compact duration: ``45s``, ``12m05s``, ``3h07m``, ``2d04h``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def running_label(seconds: float | None) -> str:
    """How long a running export has run: ``45s`` in its first minute, then ``12m``, ``3h07m``, ``2d04h``.

    Whole minutes once past the first: a column of these changes once a minute per row, not every
    second, so an idle console writes next to nothing to the terminal (issue 15).
    """
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if 60 <= seconds < 3600:
        return f"{seconds // 60}m"
    return duration_label(seconds)


def clock_label(moment: float | None) -> str:
    """``08:30:12`` in UTC: when something is due (fixed until it is rescheduled, unlike a countdown)."""
    if moment is None:
        return "—"
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S")


def time_label(moment: datetime | float | None) -> str:
    """``2027-01-15 08:30:12`` in UTC (admins compare with Graph's UTC timestamps)."""
    if moment is None:
        return "—"
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def epoch(moment: datetime | None) -> float | None:
    """Epoch seconds of an aware datetime."""
    return moment.timestamp() if moment is not None else None


def short_id(value: str, length: int = 8) -> str:
    """The first characters of a GUID (home tenants are GUIDs: the full one is in the details)."""
    return value[:length] if value else "—"


def fit(text: str, width: int) -> str:
    """``text`` in ``width`` cells: padded, or cut with an ellipsis (never a silent cut)."""
    from rich.cells import cell_len, set_cell_size

    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def literal(value: object, style: str = "") -> Text:
    """Tenant or Graph text as a Rich ``Text``: terminal-safe and never parsed as markup.

    A ``str`` given to a Textual ``Static``, a ``DataTable`` cell, a Rich ``Table`` cell, a border
    title or a notification is read as markup: ``[link=...]`` in a display name would become a
    link, ``[@click=...]`` an action. A ``Text`` is shown as it is.
    """
    return Text(safe_text(value), style=style)
