"""The event log: every toast, failure, throttling episode and batch end, with its time and full text.

Toasts stay short (one line, a few seconds) and out of the way; the whole text is here, as
lazydocker's logs or k9s' events (issue 17, item 6). No Textual: the screen
(``console.tui.screens.event_log``) shows it, scrollable and filterable. Tenant text is kept
terminal-safe (``console.text.terminal_safe``) and never read as markup.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.errors import MarkupError
from rich.text import Text

from console.text import terminal_safe

LIMIT = 5000
"""Entries kept (the oldest go first)."""
TOAST_WIDTH = 72
"""A toast's text is cut to one line this wide; the log has the rest."""
TOAST_SECONDS = 4.0
"""How long a toast stays (errors: ERROR_TOAST_SECONDS)."""
ERROR_TOAST_SECONDS = 6.0


@dataclass(frozen=True)
class LogEntry:
    """One event."""

    at: float
    """Epoch seconds (the console's clock)."""
    severity: str
    """information, warning or error."""
    title: str
    text: str
    """The full text, terminal-safe, on one or more lines."""

    @property
    def time_label(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).strftime("%H:%M:%S")

    def line(self) -> str:
        """``12:03:04 error  Export failed: Grace Hopper: …`` (plain text, for filtering and tests)."""
        head = f"{self.title}: " if self.title else ""
        return f"{self.time_label} {self.severity:<7} {head}{self.text}"


def plain_text(message: str, *, markup: bool) -> str:
    """What a toast says, as plain text (markup resolved only when the caller said it was markup)."""
    if markup:
        try:
            return Text.from_markup(message).plain
        except MarkupError:
            return message
    return message


def toast_text(text: str, width: int = TOAST_WIDTH) -> tuple[str, bool]:
    """One line of at most ``width`` columns, and whether something was cut."""
    first, *rest = text.strip().splitlines() or [""]
    line = " ".join(first.split())
    if len(line) <= width and not rest:
        return line, False
    return line[: max(1, width - 1)].rstrip() + "…", True


class EventLog:
    """The console's events, newest last; listeners hear each new entry."""

    def __init__(self, now: Callable[[], float], limit: int = LIMIT) -> None:
        self._now = now
        self.entries: deque[LogEntry] = deque(maxlen=limit)
        self._listeners: list[Callable[[LogEntry], None]] = []

    def add(self, text: str, *, title: str = "", severity: str = "information") -> LogEntry:
        """Record an event (``text`` and ``title`` made terminal-safe here)."""
        lines = "\n".join(terminal_safe(line) for line in text.splitlines())
        entry = LogEntry(self._now(), severity, terminal_safe(" ".join(title.split())), lines)
        self.entries.append(entry)
        for listener in list(self._listeners):
            listener(entry)
        return entry

    def listen(self, listener: Callable[[LogEntry], None]) -> Callable[[], None]:
        """Call ``listener`` with each new entry; returns the function that stops it."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries)


def matches(entry: LogEntry, query: str) -> bool:
    """Every word of ``query`` in the entry (case-insensitive); ``!word``: not in it."""
    line = entry.line().lower()
    for word in query.lower().split():
        if word.startswith("!") and len(word) > 1:
            if word[1:] in line:
                return False
        elif word not in line:
            return False
    return True


def filtered(log: EventLog, query: str) -> list[LogEntry]:
    """The entries that pass ``query``, oldest first."""
    return [entry for entry in log if matches(entry, query)]
