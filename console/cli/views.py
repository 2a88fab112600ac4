"""Operations as the CLI shows them: the table of ``export``/``watch``/``ops`` and their JSON objects."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from console.cli.output import clean, json_text, print_table, silence_stdout
from console.ops.events import EventKind, OperationEvent, OperationView

if TYPE_CHECKING:  # imported where a task runs: `ops` and `report` (which print through here) need no event loop
    import asyncio

PRINTED_EVENTS: frozenset[EventKind] = frozenset(
    {"submitted", "status", "progress", "error", "unconfirmed", "rejected", "delivered"}
)
"""Events worth a JSON line (a poll that changed nothing is not)."""


def explain_error(text: str) -> str:
    """Graph's error text, with StorageLocationAlreadyUsed explained (Graph's words and the fix)."""
    if not text or "StorageLocationAlreadyUsed" not in text:
        return text
    # Imported here: the storage package brings httpx, which `ops` and `report` never need otherwise.
    from console.storage import STORAGE_LOCATION_ALREADY_USED, explain_storage_error

    if STORAGE_LOCATION_ALREADY_USED not in text:
        return text
    if "RequestInfo.json" in text and "{userId}" in text:  # already explained (by the engine)
        return text
    return explain_storage_error(STORAGE_LOCATION_ALREADY_USED, text)


class TenantNames:
    """Tenant key -> the saved tenant's name: the ``"tenant"`` of every JSON row (the key itself when unknown).

    The command sets it once it knows its tenants (``use``); every printer of JSON rows reads it.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def use(self, names: Mapping[str, str]) -> None:
        """Name the tenants of this run (replacing what an earlier run in this process named)."""
        self._names = dict(names)

    def add(self, tenant_key: str, name: str) -> None:
        """Name one more tenant."""
        self._names[tenant_key] = name

    def __call__(self, tenant_key: str) -> str:
        return self._names.get(tenant_key, tenant_key)


TENANT_NAMES = TenantNames()
"""The one naming of tenants for this process's JSON rows."""


def view_json(view: OperationView, *, event: str | None = None) -> dict[str, Any]:
    """The JSON Lines object of one operation (the contract's fields, always present, and ``tenant``)."""
    record: dict[str, Any] = {}
    if event is not None:
        record["event"] = event
    record.update(view.to_json())
    if record.get("error"):
        record["error"] = explain_error(str(record["error"]))
    record["case"] = view.case
    record["delivered"] = view.delivered.to_json() if view.delivered is not None else None
    record["tenant"] = TENANT_NAMES(view.tenant_key)
    return record


def _progress(value: float | None) -> str:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return "-"
    return f"{value:.0f}%"


def _when(value: object) -> str:
    return str(value)[:19].replace("T", " ") if value else "-"


def person_name(view: OperationView) -> str:
    """The person's name as the journal knows it (display name, else UPN), or ``-``."""
    return view.display_name or view.user_principal_name or "-"


def print_operations(views: Sequence[OperationView], *, stream: TextIO | None = None) -> None:
    """The final table of ``export``/``watch`` and the listing of ``ops`` (every cell escaped).

    STATUS is the vocabulary's one word per operation (``console.ops.vocabulary.shown_status``):
    the word ``ops --status`` and the console's filter match. TENANT (the saved tenant's name) is shown
    only when the rows are of more than one tenant.
    """
    from console.ops.vocabulary import shown_status

    rows = []
    with_case = any(v.case for v in views)
    with_tenant = len({v.tenant_key for v in views}) > 1
    for v in views:
        record = view_json(v)
        row = [
            person_name(v),
            v.user_id,
            shown_status(v),
            _progress(v.progress),
            _when(record["submittedDateTime"]),
            _when(record["completedDateTime"]),
            v.operation_id or f"(row {v.key})",
            record.get("error") or "",
        ]
        if with_case:
            row.insert(0, record.get("case") or "-")
        if with_tenant:
            row.insert(0, record["tenant"])
        rows.append(row)
    headers = ["NAME", "USER ID", "STATUS", "PROGRESS", "SUBMITTED (UTC)", "COMPLETED (UTC)", "OPERATION", "ERROR"]
    if with_case:
        headers.insert(0, "CASE")
    if with_tenant:
        headers.insert(0, "TENANT")
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


PROGRESS_INTERVAL = 0.25
"""Seconds between two redraws of the progress line at most (it is rewritten only when it changed)."""
LINE_DELAY = 0.05
"""Seconds a JSON event line may wait to be written with the next ones (one write for a spell of events)."""


class EventPrinter:
    """Prints operation events as JSON Lines, or keeps a one-line live progress line on a terminal.

    The progress line goes to stderr, only when stderr is a terminal and ``--json`` was not given:
    ``sending 340/1,000 · accepted 338 · refused 2`` while the POSTs go out, then
    ``watching 1,000 · complete 200 · failed 3 · running 797 · polls 4,120``. It is one line
    rewritten with ``\\r``, at most ``1 / PROGRESS_INTERVAL`` times a second and only when its text
    changed; ``clear`` wipes it before the final table.
    """

    def __init__(
        self,
        *,
        as_json: bool,
        polls: Callable[[], int] | None = None,
        stream: TextIO | None = None,
        progress: TextIO | None = None,
    ) -> None:
        self.as_json = as_json
        self.stream = stream if stream is not None else sys.stdout
        self.progress = progress if progress is not None else sys.stderr
        self.live = (not as_json) and _is_terminal(self.progress)
        self.polls = polls
        self.watched: dict[int, OperationView] = {}
        self.closed = False
        self.sending: int | None = None
        """While POSTs go out: how many are being sent (None once they are all answered)."""
        self.refused_before = 0
        """Users the pre-flight kept back (counted as refused)."""
        self._shown = ""
        self._task: asyncio.Task[None] | None = None
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
        from asyncio import get_running_loop

        try:
            loop = get_running_loop()
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

    def progress_text(self) -> str:
        """What the progress line says now."""
        from console.ops.events import INTENT, REJECTED, UNCONFIRMED
        from console.ops.vocabulary import PROBLEM_WORDS, shown_status

        views = list(self.watched.values())
        if self.sending is not None:
            refused = self.refused_before + sum(1 for v in views if v.state == REJECTED)
            accepted = sum(1 for v in views if v.state not in (INTENT, REJECTED, UNCONFIRMED))
            unanswered = sum(1 for v in views if v.state == UNCONFIRMED)
            answered = accepted + unanswered + refused - self.refused_before
            text = f"sending {answered:,}/{self.sending:,} · accepted {accepted:,} · refused {refused:,}"
            return text + (f" · unconfirmed {unanswered:,}" if unanswered else "")
        words = [shown_status(v) for v in views]
        complete = sum(1 for w in words if w == "complete")
        failed = sum(1 for w in words if w in PROBLEM_WORDS)
        running = len(words) - complete - failed
        polls = f" · polls {self.polls():,}" if self.polls else ""
        return f"watching {len(words):,} · complete {complete:,} · failed {failed:,} · running {running:,}{polls}"

    def redraw(self) -> None:
        """Rewrite the progress line when its text changed (terminal only)."""
        if not self.live:
            return
        text = clean(self.progress_text())
        if text == self._shown:
            return
        self._shown = text
        try:
            print(f"\r\033[K{text}", end="", file=self.progress, flush=True)
        except (OSError, ValueError):
            self.live = False

    def start_progress(self) -> None:
        """Redraw the progress line until ``clear`` (a task on the running loop; terminal only)."""
        if self.live and self._task is None:
            import asyncio

            self._task = asyncio.get_running_loop().create_task(self._redraw_loop())

    async def _redraw_loop(self) -> None:
        import asyncio

        while True:
            self.redraw()
            await asyncio.sleep(PROGRESS_INTERVAL)

    async def summarise(self) -> None:
        """Redraw the progress line while watching (terminal only)."""
        if not self.live:
            return
        import asyncio

        while True:
            self.redraw()
            await asyncio.sleep(PROGRESS_INTERVAL)

    def wipe(self) -> None:
        """Wipe the progress line for a line printed meanwhile (the next redraw brings it back)."""
        if self.live and self._shown:
            print("\r\033[K", end="", file=self.progress, flush=True)
            self._shown = ""

    def clear(self) -> None:
        """Wipe the progress line (before anything else is printed)."""
        self.flush()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.live and self._shown:
            print("\r\033[K", end="", file=self.progress, flush=True)
            self._shown = ""

    def final_table(self, views: Sequence[OperationView] | None = None) -> None:
        self.clear()
        if self.as_json:
            return
        chosen = views if views is not None else sorted(self.watched.values(), key=lambda v: v.key)
        print_operations(chosen)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
