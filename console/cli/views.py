"""Operations as the CLI shows them: the table of ``export``/``watch``/``ops`` and their JSON objects."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from console.cli.output import clean, json_text, print_table, silence_stdout
from console.ops.events import EventKind, OperationEvent, OperationView

PRINTED_EVENTS: frozenset[EventKind] = frozenset(
    {"submitted", "status", "progress", "error", "unconfirmed", "rejected", "delivered"}
)
"""Events worth a JSON line (a poll that changed nothing is not)."""


def explain_error(text: str) -> str:
    """Graph's error text, with StorageLocationAlreadyUsed explained (Graph's words and the fix)."""
    if not text:
        return text
    try:
        from console.storage import STORAGE_LOCATION_ALREADY_USED, explain_storage_error
    except ImportError:  # the storage package predates the explanation
        return text
    if STORAGE_LOCATION_ALREADY_USED not in text:
        return text
    if "RequestInfo.json" in text and "{userId}" in text:  # already explained (by the engine)
        return text
    return explain_storage_error(STORAGE_LOCATION_ALREADY_USED, text)


def view_json(view: OperationView, *, event: str | None = None) -> dict[str, Any]:
    """The JSON Lines object of one operation (the contract's fields, always present)."""
    record: dict[str, Any] = {}
    if event is not None:
        record["event"] = event
    record.update(view.to_json())
    if record.get("error"):
        record["error"] = explain_error(str(record["error"]))
    record["case"] = view.case
    record["delivered"] = view.delivered.to_json() if view.delivered is not None else None
    return record


def _progress(value: float | None) -> str:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return "-"
    return f"{value:.0f}%"


def _when(value: object) -> str:
    return str(value)[:19].replace("T", " ") if value else "-"


def print_operations(views: Sequence[OperationView], *, stream: TextIO | None = None) -> None:
    """The final table of ``export``/``watch`` and the listing of ``ops`` (every cell escaped)."""
    rows = []
    with_case = any(v.case for v in views)
    for v in views:
        record = view_json(v)
        row = [
            v.user_id,
            v.display_status,
            _progress(v.progress),
            _when(record["submittedDateTime"]),
            _when(record["completedDateTime"]),
            v.operation_id or f"(row {v.key})",
            record.get("error") or "",
        ]
        if with_case:
            row.insert(0, record.get("case") or "-")
        rows.append(row)
    headers = ["USER ID", "STATUS", "PROGRESS", "SUBMITTED (UTC)", "COMPLETED (UTC)", "OPERATION", "ERROR"]
    if with_case:
        headers.insert(0, "CASE")
    print_table(headers, rows, stream)


def unconfirmed_line(view: OperationView) -> str:
    """One line for an unconfirmed export (``watch`` lists every one)."""
    who = view.user_principal_name or view.user_id
    ident = view.operation_id or f"journal row {view.key}"
    return (
        f"unconfirmed: {clean(who)} ({clean(view.user_id)}, {clean(ident)}): Graph may or may not have accepted "
        "this export; check it, then `note ID --resolve TEXT` (or resolve it in the console), or export again "
        "with --force"
    )


LINE_DELAY = 0.05
"""Seconds a JSON event line may wait to be written with the next ones (one write for a spell of events)."""


class EventPrinter:
    """Prints operation events as JSON Lines, or keeps a one-line live summary on a TTY."""

    def __init__(self, *, as_json: bool, polls: Callable[[], int] | None = None, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stream = stream if stream is not None else sys.stdout
        self.live = (not as_json) and sys.stderr.isatty()
        self.polls = polls
        self.watched: dict[int, OperationView] = {}
        self.closed = False
        self._pending: list[str] = []

    def __call__(self, event: OperationEvent) -> None:
        self.watched[event.operation.key] = event.operation
        if self.as_json and event.kind in PRINTED_EVENTS:
            self.emit(event.operation, event.kind)

    def emit(self, view: OperationView, kind: str) -> None:
        if self.closed:
            return
        self.line(json_text(view_json(view, event=kind)))

    def line(self, text: str) -> None:
        """Print one JSON line: kept, and written with the others that come within ``LINE_DELAY`` s.

        One write and one flush for the lines of a short spell, not one each: at 600 operations a
        flush per line (every line, with PYTHONUNBUFFERED) was a system call and a turn of the event
        loop per event. No line waits more than ``LINE_DELAY`` s; ``flush`` writes them at once.
        """
        if self.closed:
            return
        self._pending.append(text)
        if len(self._pending) > 1:
            return  # a flush is already scheduled
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        loop.call_later(LINE_DELAY, self.flush)

    def flush(self) -> None:
        """Write the lines kept (``line``) now."""
        pending, self._pending = self._pending, []
        if self.closed or not pending:
            return
        try:
            self.stream.write("\n".join(pending) + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self._closed()

    def _closed(self) -> None:
        # The reader went away (`| head`): stop printing, keep watching; the journal has it all.
        self.closed = True
        silence_stdout()

    def track(self, views: Iterable[OperationView]) -> None:
        for view in views:
            self.watched[view.key] = view

    async def summarise(self) -> None:
        """Redraw the one-line summary twice a second (TTY only)."""
        if not self.live:
            return
        while True:
            counts: dict[str, int] = {}
            for view in self.watched.values():
                word = clean(view.display_status)
                counts[word] = counts.get(word, 0) + 1
            parts = " · ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            polls = f" · polls {self.polls()}" if self.polls else ""
            print(f"\r\033[K{parts or 'waiting'}{polls}", end="", file=sys.stderr, flush=True)
            await asyncio.sleep(0.5)

    def clear(self) -> None:
        self.flush()
        if self.live:
            print("\r\033[K", end="", file=sys.stderr, flush=True)

    def final_table(self, views: Sequence[OperationView] | None = None) -> None:
        self.flush()
        if self.as_json:
            return
        chosen = views if views is not None else sorted(self.watched.values(), key=lambda v: v.key)
        print_operations(chosen)
