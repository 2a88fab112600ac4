"""The polling status line: why the next poll is when it is (issue 17, item 8).

``THROTTLED until 10:42:13 · requests 412/9,000 an hour · next poll in 12s · exports left 983/1,000 · PAUSED``

The data comes from the engine's read-only ``polling_status()`` (``console.ops.status``) and its
``quota()``; this widget renders it and writes to the terminal only when the text changed, so an
idle console writes nothing (no per-second repaint of an unchanged line). Throttling episodes go
to the event log as they start and end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.widgets import Static

from console.ops.events import QuotaReport
from console.ops.status import PollingStatus
from console.tui.cells import duration_label

Log = Callable[..., Any]


def clock_label(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")


def status_line_text(
    status: PollingStatus | None, quota: QuotaReport | None, *, now: float, paused: bool = False, width: int = 80
) -> Text:
    """The line for ``width`` columns: the words shorten (three levels) before anything is cut."""
    for level in range(3):
        text = _line(status, quota, now=now, paused=paused, level=level)
        if text.cell_len <= width:
            break
    return text


def _line(status: PollingStatus | None, quota: QuotaReport | None, *, now: float, paused: bool, level: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    parts: list[Text] = []
    if paused:
        parts.append(Text(" PAUSED ", style="reverse bold"))
    if status is not None:
        if status.blocked:
            parts.append(Text("POLLING STOPPED: sign in again or fix the permission", style="bold red"))
        elif status.throttled_until is not None:
            until = clock_label(status.throttled_until)
            parts.append(Text(f"THROTTLED until {until}" if level < 2 else f"THROTTLED→{until}", style="bold yellow"))
        elif status.paced:
            parts.append(Text("slowed by Graph" if level < 2 else "slowed", style="yellow"))
        used = f"{status.requests_this_hour:,}/{status.per_hour:,}"
        parts.append(Text((f"requests {used} an hour", f"req {used}/h", f"{used}/h")[level]))
        if status.next_poll_at is None:
            parts.append(Text("nothing to poll" if level == 0 else "idle"))
        else:
            wait = status.next_poll_at - now
            when = "due" if wait < 1 else f"in {duration_label(wait)}"
            watched = f" ({status.watching:,} watched)" if level == 0 else ""
            parts.append(Text((f"next poll {when}{watched}", f"next poll {when}", f"poll {when}")[level]))
    if quota is not None:
        left = f"{quota.tenant_left:,}/{quota.tenant_limit:,}"
        parts.append(Text((f"exports left today {left}", f"exports left {left}", f"{quota.tenant_left:,} left")[level]))
    text.append(" ")
    return text.append_text(Text(" · ").join(parts))


class PollingStatusLine(Static):
    """One line under the panes; ``refresh_status`` re-reads the engine and repaints only on change."""

    DEFAULT_CSS = """
    PollingStatusLine { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, engine: object, now: Callable[[], float], *, log: Log | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.engine = engine
        self.now = now
        self.event_log = log
        """Where throttling episodes are written (``EventLog.add``)."""
        self.quota: QuotaReport | None = None
        self.paused = False
        self.writes = 0
        """Times the line was repainted (an idle console repaints it never)."""
        self._shown: Text | None = None
        self._throttled: float | None = None

    def snapshot(self) -> PollingStatus | None:
        read = getattr(self.engine, "polling_status", None)
        if read is None:
            return None
        status: PollingStatus = read()
        return status

    def refresh_status(self) -> None:
        status = self.snapshot()
        self._note_throttling(status)
        width = self.content_region.width or self.app.size.width
        text = status_line_text(status, self.quota, now=self.now(), paused=self.paused, width=width)
        if text != self._shown:
            self._shown = text
            self.writes += 1
            self.update(text, layout=False)

    def _note_throttling(self, status: PollingStatus | None) -> None:
        until = status.throttled_until if status is not None else None
        if until is not None and self._throttled is None and self.event_log is not None:
            self.event_log(
                f"Graph throttled this console: no request before {clock_label(until)} UTC; polling resumes then.",
                title="Throttled",
                severity="warning",
            )
        elif until is None and self._throttled is not None and self.event_log is not None:
            self.event_log("Graph's throttling ended: polling goes on.", title="Throttled")
        self._throttled = until
