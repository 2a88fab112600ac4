"""The event log screen (``ctrl+l`` or the palette's "Event log"): every event with its time and full text.

Scrollable (arrows, PageUp/PageDown, Home/End) and filterable (``/`` then words; ``!word``
leaves out; ``error`` or ``warning`` pick a severity). Esc leaves the filter, then the log.
Every line is a Rich ``Text``, never markup: the texts hold Graph's words and people's names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import RichLog, Static

from console.tui.bindings import KeyArea
from console.tui.event_log import EventLog, LogEntry, filtered, matches
from console.tui.footer import ConsoleFooter
from console.tui.widgets.filter_line import FilterLine

SEVERITY_STYLES = {"error": "bold red", "warning": "bold yellow", "information": "dim"}
SEVERITY_LABELS = {"error": "error", "warning": "warn", "information": "info"}
"""Whole words of at most five letters (a cut ``warni`` reads as a glitch)."""


def entry_text(entry: LogEntry) -> Text:
    """One entry: time, severity, title and the full text (wrapped by the log, never cut)."""
    text = Text()
    text.append(entry.time_label + " ", style="dim")
    label = SEVERITY_LABELS.get(entry.severity, entry.severity[:5])
    text.append(f"{label:<5} ", style=SEVERITY_STYLES.get(entry.severity, ""))
    if entry.title:
        text.append(entry.title + ": ", style="bold")
    text.append(entry.text)
    return text


def _nothing() -> None:
    return None


class EventLogInput(FilterLine):
    """The log's filter: Enter, Down or Esc go back to the log (the filter stays)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,enter,down", "leave", "Keep filter", id="event-log-filter.leave", priority=True, key_display="esc"
        ),
    ]

    BACK_TO = "#event-log-lines"


_key = KeyArea(
    "event-log",
    tooltips={
        "filter": "Filter the events (!word leaves out)",
    },
)


class EventLogScreen(Screen[None]):
    """The event log, newest at the bottom, following new events while at the bottom."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _key("escape", "close", "Close log", "close"),
        _key("slash", "filter", "Filter", "filter", priority=True),
    ]

    DEFAULT_CSS = """
    EventLogScreen #event-log-title { height: 1; background: $panel; padding: 0 1; }
    EventLogScreen #event-log-filter { height: 1; border: none; padding: 0 1; background: $boost; }
    EventLogScreen #event-log-filter:focus { background: $accent 20%; }
    EventLogScreen RichLog { height: 1fr; padding: 0 1; scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, log: EventLog) -> None:
        super().__init__()
        self.log_model = log
        self.query_text = ""
        self._stop_listening: Callable[[], None] = _nothing

    def compose(self) -> ComposeResult:
        yield Static(id="event-log-title")
        yield EventLogInput(placeholder="/ filter: words, !word leaves out, error, warning", id="event-log-filter")
        # Wrapped at the width it has (RichLog's default min_width, 78, cut 80 columns' lines short), with
        # the scroll bar's column kept from the start, so lines written before it appeared are not cut.
        yield RichLog(id="event-log-lines", wrap=True, markup=False, highlight=False, auto_scroll=True, min_width=20)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self._fill()
        self._stop_listening = self.log_model.listen(self._on_entry)
        self.set_focus(self.query_one(RichLog))

    def on_resize(self) -> None:
        self._fill()  # wrapped again at the new width

    def on_unmount(self) -> None:
        self._stop_listening()

    @property
    def shown(self) -> list[LogEntry]:
        """The entries the filter lets through, oldest first."""
        return filtered(self.log_model, self.query_text)

    def _title(self, shown: int) -> Text:
        total = len(self.log_model)
        text = Text("Event log", style="bold")
        text.append(f"  {shown:,} of {total:,}" if self.query_text.strip() else f"  {total:,} events")
        if self.query_text.strip():
            text.append("  /" + self.query_text.strip())
        text.append("  · Esc closes", style="dim")
        return text

    def _fill(self) -> None:
        lines = self.query_one(RichLog)
        lines.clear()
        shown = self.shown
        for entry in shown:
            lines.write(entry_text(entry))
        if not shown:
            lines.write(Text("No events yet." if not len(self.log_model) else "No event matches the filter."))
        self.query_one("#event-log-title", Static).update(self._title(len(shown)))

    def _on_entry(self, entry: LogEntry) -> None:
        if matches(entry, self.query_text):
            if len(self.shown) == 1:
                self._fill()  # replaces "No events yet."
                return
            self.query_one(RichLog).write(entry_text(entry))
        self.query_one("#event-log-title", Static).update(self._title(len(self.shown)))

    def action_filter(self) -> None:
        self.query_one(EventLogInput).open()

    @on(EventLogInput.Query)
    def _filter(self, event: EventLogInput.Query) -> None:
        self.query_text = event.text
        self._fill()

    def action_close(self) -> None:
        self.dismiss(None)
