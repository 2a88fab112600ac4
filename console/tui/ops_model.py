"""The operations table without Textual: rows, sort, filters, marks, cursor, alerts.

The widget (``console.tui.widgets.ops_table``) draws what this model says and turns keys
into calls on it; everything that decides *which* operations are shown, in which order,
which are marked and what an update changed lives here, so it is unit-tested without an
app (STYLE.md habit 2; issue 11 item 5).

Which rows pass the filters is ``console.tui.ops_filter``'s (``RowFilter``), which are marked
``console.tui.ops_marks``'s (``Marks``), when to alert ``console.tui.ops_alerts``'s (``AlertWatch``).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from console.ops.events import ERROR, FINAL, INTENT, REJECTED, TRACKING, UNCONFIRMED, OperationView
from console.ops.vocabulary import shown_status as shown_status
from console.storage import STORAGE_LOCATION_ALREADY_USED, explain_storage_error
from console.tui.cells import (
    STATUS_ORDER,
    clock_label,
    duration_label,
    epoch,
    one_line,
    progress_label,
    running_label,
    safe_text,
    time_label,
)
from console.tui.cursor import RowCursor
from console.tui.ops_alerts import ATTENTION as ATTENTION
from console.tui.ops_alerts import AlertWatch
from console.tui.ops_filter import Query as Query
from console.tui.ops_filter import RowFilter
from console.tui.ops_filter import fold as fold
from console.tui.ops_marks import Marks

COLUMNS: tuple[tuple[str, str], ...] = (
    ("user", "User"),
    ("status", "Status"),
    ("progress", "Done"),
    ("submitted", "Submitted UTC"),
    ("elapsed", "Elapsed"),
    ("next", "Next poll"),
    ("error", "Last error"),
    ("case", "Case"),
    ("tenant", "Tenant"),
)
"""Column keys and labels, in the order ``s`` cycles the sort through them (``row_texts`` order)."""

COLUMN_KEYS: tuple[str, ...] = tuple(key for key, _ in COLUMNS)
TIME_COLUMNS = ("elapsed", "next")
"""Columns that change with the clock alone."""

FILTERS: tuple[str, ...] = ("all", "unfinished", "problem", "running", "failed", "complete")
"""Status words ``f`` cycles through (any word of ``console.ops.vocabulary`` is accepted by ``set_filter``)."""

HIGHLIGHT_SECONDS = 3.0
"""How long a row that just changed stays highlighted."""
FLASH_COLUMNS = frozenset({"status", "error"})
"""A change in these highlights the row (progress creeping up every poll would light up every row)."""


def is_reexportable(view: OperationView) -> bool:
    """Failed, unconfirmed, rejected or errored: an export worth sending again."""
    return view.state in (UNCONFIRMED, REJECTED, ERROR) or (view.state == FINAL and view.status == "failed")


def is_resolvable(view: OperationView) -> bool:
    """An unconfirmed export the admin can mark checked (with a note)."""
    return view.state == UNCONFIRMED


def is_watched(view: OperationView) -> bool:
    """Still polled (or about to be): the admin can stop watching it."""
    return view.state in (INTENT, TRACKING)


NO_REASON = (
    "Graph reported the export failed and gives no reason (a dataPolicyOperation has no error field): "
    "check the storage location (it must be writable, unused and its SAS valid long enough), then export again (e)."
)
"""What a failed export says when Graph said nothing more."""


def readable_error(view: OperationView) -> str:
    """The operation's last error in full, escaped, with the fix when Graph refused a reused location.

    ``StorageLocationAlreadyUsed`` is explained in Graph's words and with what to do about it
    (``console.storage.explain_storage_error``: a template per profile, or remove RequestInfo.json).
    """
    text = " ".join(view.last_error.split())
    if not text:
        if view.state == FINAL and view.status == "failed":
            return NO_REASON
        return ""
    if STORAGE_LOCATION_ALREADY_USED.lower() in text.lower() or "already been used for an export" in text:
        explained = explain_storage_error(STORAGE_LOCATION_ALREADY_USED, "")
        fix = explained.split("Graph accepts", 1)[-1]
        if fix and fix not in text:
            text = explain_storage_error(STORAGE_LOCATION_ALREADY_USED, _graph_words(text))
    return safe_text(text)


def _graph_words(text: str) -> str:
    """Graph's message out of an engine error line (``... StorageLocationAlreadyUsed: <words> (request-id ...)``)."""
    head, marker, rest = text.partition(STORAGE_LOCATION_ALREADY_USED)
    return (rest.lstrip(" :]-") if marker else text) or text


def submitted_epoch(view: OperationView) -> float:
    """When the export was submitted (Graph's time, else when the console recorded it)."""
    return epoch(view.submitted_at) or view.created_at


def sort_key(column: str, view: OperationView, label: str) -> Any:
    """What ``column`` sorts ``view`` by (ties broken by journal order)."""
    if column == "user":
        return (label.lower(), view.key)
    if column == "status":
        return (STATUS_ORDER.get(shown_status(view), 9), view.key)
    if column == "progress":
        return (view.progress if view.progress is not None else -1.0, view.key)
    if column == "elapsed":
        return (-submitted_epoch(view), view.key)  # the longest-running have the earliest start
    if column == "next":
        return (view.next_poll_at if view.next_poll_at is not None else float("inf"), view.key)
    if column == "error":
        return (view.last_error == "", view.last_error, view.key)
    if column == "submitted":
        return (submitted_epoch(view), view.key)
    if column == "case":
        case = view.case
        return (case == "", case.lower(), view.key)
    if column == "tenant":
        return (view.tenant_key, view.key)
    return (view.key,)


def _times(view: OperationView, now: float, gate: float | None = None) -> tuple[str, str]:
    """The elapsed and next-poll cells.

    Neither changes every second (issue 15: an idle console writes next to nothing): a running
    export's elapsed time counts whole minutes after its first, and the next poll is a UTC time
    of day, which changes only when the poll is rescheduled.
    """
    submitted = submitted_epoch(view)
    end = epoch(view.completed_at) if view.completed_at is not None else None
    if end is None and view.is_done:
        end = submitted  # finished without Graph's timestamp: no clock keeps running
    next_at = "—"
    if view.next_poll_at is not None and not view.is_done:
        # When it will really be polled: not before its tenant's throttle gate, never a time already past.
        when = max(view.next_poll_at, gate or 0.0)
        next_at = clock_label(when) if when > now else "due"
    if end is not None:
        return duration_label(end - submitted), next_at
    return running_label(now - submitted), next_at


@dataclass
class ApplyResult:
    """What one batch of views changed (the widget repaints, the pane alerts)."""

    structure: bool = False
    """Rows were added, removed or reordered: the whole table repaints."""
    dirty: list[int] = field(default_factory=list)
    """Keys of shown rows whose cells changed (repaint those lines only)."""
    failures: list[OperationView] = field(default_factory=list)
    """Operations that just turned failed, rejected, error or unconfirmed."""
    batch_done: list[OperationView] = field(default_factory=list)
    """Every operation watched since the last batch, when the last of them just finished."""
    held: int = 0
    """Views kept back because updates are paused."""


class OpsModel:
    """Every operation of the tenant and what the table shows of them.

    Args:
        user_label: how a user id is shown (the profile's name once the profiles are listed).
        now: the console's clock (elapsed, next poll in, how long a change stays highlighted).
    """

    def __init__(self, user_label: Callable[[str], str] | None = None, now: Callable[[], float] | None = None) -> None:
        self.now: Callable[[], float] = now or (lambda: 0.0)
        """Epoch seconds now (the console's clock)."""
        self.user_label: Callable[[str], str] = user_label or (lambda user_id: user_id)
        """How a user id is shown."""
        self.views: dict[int, OperationView] = {}
        """Latest view of every operation known, shown or not."""
        self.order: list[int] = []
        """Keys of the shown operations, in display order."""
        self.cells: dict[int, dict[str, str]] = {}
        """Texts of the shown rows, by column key."""
        self.cursor: RowCursor[int] = RowCursor()
        """The highlighted row."""
        self.sort_column: str | None = None
        """Column sorted by; None keeps journal order (oldest first)."""
        self.sort_reverse = False
        """Descending instead of ascending."""
        self.tenant_names: dict[str, str] = {}
        self.gates: dict[str, float] = {}
        """Tenant key -> until when Graph throttles it (the Next poll column waits for it)."""
        """Tenant key -> the tenant's saved name, when several tenants are open (the Tenant column)."""
        self.filter = RowFilter(self.label, self.tenant_of)
        """The status filter and the text query."""
        self._marks = Marks()
        self.marks = self._marks.keys
        """Marked keys, in the order they were marked."""
        self.changed_at: dict[int, float] = {}
        """When each row last changed (highlighted for HIGHLIGHT_SECONDS)."""
        self.paused = False
        """Live updates held back (polling goes on; counts and alerts still follow)."""
        self.held: dict[int, OperationView] = {}
        """Views that arrived while paused (latest per key)."""
        self.updates = 0
        """Cells changed since start (the benchmark reads it)."""
        self.expired: list[int] = []
        """Rows whose highlight ended at the last ``tick``."""
        self.has_cases = False
        """Some operation carries a case reference (the table then shows a Case column)."""
        self._sort_keys: list[Any] | None = []
        self._ranked: list[int] | None = None
        """Every key, shown or not, in sort order (a filter change then needs no sort); None when stale."""
        self._stash: dict[int, dict[str, str]] = {}
        """Cells of rows a filter hides, kept while their view does not change (clearing a filter is cheap)."""
        self._alert_watch = AlertWatch()
        self._counts: Counter[str] | None = None

    # -- reading ------------------------------------------------------------------------

    @property
    def highlighted_key(self) -> int | None:
        """The operation under the cursor."""
        return self.cursor.key(self.order)

    @property
    def highlighted(self) -> OperationView | None:
        """The view under the cursor."""
        key = self.highlighted_key
        return self.views.get(key) if key is not None else None

    def counts(self) -> Counter[str]:
        """Operations per shown status, all of them (whatever the filter); cached between updates."""
        if self._counts is None:
            self._counts = Counter(shown_status(view) for view in self.views.values())
        return self._counts

    def tenant_counts(self) -> dict[str, int]:
        """Operations per tenant name (all of them, whatever the filter), in the order the names are known."""
        counts = Counter(view.tenant_key for view in self.views.values())
        return {name: counts[key] for key, name in self.tenant_names.items()}

    def marked_keys(self) -> list[int]:
        """Marked keys in display order."""
        return self._marks.in_order(self.order)

    def targets(self) -> list[OperationView]:
        """What a bulk action acts on: the marked operations, else the highlighted one."""
        keys = self.marked_keys()
        if not keys:
            key = self.highlighted_key
            keys = [key] if key is not None else []
        return [self.views[key] for key in keys]

    def is_recent(self, key: int, now: float) -> bool:
        """True while a row that changed is still highlighted."""
        at = self.changed_at.get(key)
        return at is not None and now - at < HIGHLIGHT_SECONDS

    # -- cells --------------------------------------------------------------------------

    @property
    def has_tenants(self) -> bool:
        """Several tenants are open: the table shows a Tenant column."""
        return len(self.tenant_names) > 1

    def tenant_of(self, view: OperationView) -> str:
        """The saved name of the operation's tenant (its tenant key when none is known)."""
        return self.tenant_names.get(view.tenant_key, view.tenant_key)

    def label(self, view: OperationView) -> str:
        """Who the operation is for: the listed profile's name, else the name the journal kept, else the id.

        Right after a headless export the profiles are still loading: the journal knows the names then.
        """
        label = self.user_label(view.user_id)
        if label == view.user_id:
            return view.display_name or view.user_principal_name or label
        return label

    def texts(self, view: OperationView, now: float) -> dict[str, str]:
        """What a row shows, column by column (tenant text escaped, errors on one line)."""
        elapsed, next_in = _times(view, now, self.gates.get(view.tenant_key))
        return {
            "user": safe_text(self.label(view)),
            "status": safe_text(shown_status(view)),
            "progress": progress_label(view.progress),
            "submitted": time_label(view.submitted_at or view.created_at)[5:],
            "elapsed": elapsed,
            "next": next_in,
            "error": one_line(view.last_error) if view.last_error else "",
            "case": safe_text(view.case),
            "tenant": safe_text(self.tenant_of(view)),
        }

    def _time_texts(self, view: OperationView, now: float) -> dict[str, str]:
        elapsed, next_in = _times(view, now, self.gates.get(view.tenant_key))
        return {"elapsed": elapsed, "next": next_in}

    # -- the keyed diff -----------------------------------------------------------------

    def _key_of(self, key: int) -> Any:
        return sort_key(self.sort_column or "", self.views[key], self.cells[key]["user"])

    def apply(self, views: Iterable[OperationView]) -> ApplyResult:
        """Take the latest views: add, update changed cells, drop rows that no longer pass.

        The first call is the journal's snapshot: it raises no alerts. While paused, the rows
        stay as they are (the views are held for ``resume``); alerts still follow.
        """
        result = ApplyResult()
        incoming = list(views)
        live = self._alert_watch.primed
        result.failures, result.batch_done = self._alert_watch.check(
            incoming, lambda key: self.held.get(key) or self.views.get(key)
        )
        if self.paused:
            for view in incoming:
                self.held[view.key] = view
            result.held = len(self.held)
            return result
        self._merge(incoming, result, live=live)
        return result

    def _merge(self, views: list[OperationView], result: ApplyResult, *, live: bool) -> None:
        now = self.now()
        if views:
            self._counts = None
        resort = False
        added: list[int] = []
        removed: set[int] = set()
        for view in views:
            key = view.key
            self._take_view(view)
            shown = key in self.cells
            if not self.filter.passes(view):
                if shown:
                    removed.add(key)
                    del self.cells[key]
                continue
            texts = self.texts(view, now)
            if not shown:
                self.cells[key] = texts
                added.append(key)
                if live:
                    self.changed_at[key] = now
                continue
            if self._update_cells(key, texts, now, result):
                resort = True
        if not (added or removed or resort):
            return
        result.structure = True
        self._place(added, removed, resort=resort)

    def _take_view(self, view: OperationView) -> None:
        """Keep ``view`` as its row's latest; forget what was worked out from the row's former view."""
        key = view.key
        old_view = self.views.get(key)
        self.views[key] = view
        if view.case:
            self.has_cases = True
        if old_view is None:
            self._ranked = None
        elif old_view != view:
            self.filter.haystacks.pop(key, None)
            self._stash.pop(key, None)
            if self.sort_column is not None and self._ranked is not None:
                label = self.cells[key]["user"] if key in self.cells else ""
                if sort_key(self.sort_column, old_view, label) != sort_key(self.sort_column, view, label):
                    self._ranked = None

    def _update_cells(self, key: int, texts: dict[str, str], now: float, result: ApplyResult) -> bool:
        """Put a shown row's new ``texts`` in place; whether the sort column's text changed."""
        old = self.cells[key]
        changed = [column for column in COLUMN_KEYS if old[column] != texts[column]]
        if not changed:
            return False
        self.cells[key] = texts
        self.updates += len(changed)
        result.dirty.append(key)
        if any(column in FLASH_COLUMNS for column in changed):
            self.changed_at[key] = now
        return self.sort_column in changed

    def _place(self, added: list[int], removed: set[int], *, resort: bool) -> None:
        """Take the ``removed`` rows out and put the ``added`` ones in sort order; the cursor stays on its row."""
        cursor_key = self.highlighted_key
        if removed:
            self.order = [k for k in self.order if k not in removed]
            self._drop_marks()
        if resort or self.sort_reverse or (removed and self.sort_column is not None):
            self.order.extend(added)
            self._sort()
        else:
            if removed or self._sort_keys is None:
                self._sort_keys = [self._key_of(k) for k in self.order]
            for new in added:
                new_key = self._key_of(new)
                at = bisect.bisect_right(self._sort_keys, new_key)
                self._sort_keys.insert(at, new_key)
                self.order.insert(at, new)
        self.cursor.follow(cursor_key, self.order)

    def resume(self) -> ApplyResult:
        """Live updates again: apply everything held while paused."""
        self.paused = False
        held, self.held = list(self.held.values()), {}
        result = ApplyResult()
        self._merge(held, result, live=True)
        return result

    def refresh_labels(self) -> None:
        """Profile names arrived: re-derive the user column and the search haystacks."""
        self.filter.haystacks.clear()
        self._stash.clear()
        self._ranked = None
        for key, texts in self.cells.items():
            texts["user"] = safe_text(self.label(self.views[key]))
            texts["tenant"] = safe_text(self.tenant_of(self.views[key]))
        if self.filter.query.words:
            self._rebuild()
        elif self.sort_column == "user":
            cursor_key = self.highlighted_key
            self._sort()
            self.cursor.follow(cursor_key, self.order)

    def tick(self, keys: Iterable[int]) -> list[int]:
        """Refresh the time cells of ``keys`` (the rows on screen); returns those that changed.

        The keys whose highlight just ended are also in ``expired`` (their whole line repaints).
        """
        now = self.now()
        changed: list[int] = []
        self.expired = []
        for key in keys:
            view = self.views[key]
            if key in self.changed_at and not self.is_recent(key, now):
                del self.changed_at[key]
                self.expired.append(key)
            if view.is_done and view.completed_at is not None:
                continue
            old = self.cells[key]
            elapsed, next_in = _times(view, now, self.gates.get(view.tenant_key))
            if old["elapsed"] != elapsed or old["next"] != next_in:
                old["elapsed"], old["next"] = elapsed, next_in
                changed.append(key)
        return changed + [key for key in self.expired if key not in changed]

    # -- sorting and filtering ------------------------------------------------------------

    def _sort(self) -> None:
        pairs = sorted(((self._key_of(key), key) for key in self.order), reverse=self.sort_reverse)
        self.order = [key for _, key in pairs]
        self._sort_keys = [k for k, _ in pairs] if not self.sort_reverse else []
        self._ranked = None

    def _rank_key(self, key: int) -> Any:
        view = self.views[key]
        label = ""
        if self.sort_column == "user":
            cells = self.cells.get(key) or self._stash.get(key)
            label = cells["user"] if cells is not None else safe_text(self.label(view))
        return sort_key(self.sort_column or "", view, label)

    def _ranking(self) -> list[int]:
        if self._ranked is None:
            pairs = sorted(((self._rank_key(key), key) for key in self.views), reverse=self.sort_reverse)
            self._ranked = [key for _, key in pairs]
        return self._ranked

    def sort_by(self, column: str | None, reverse: bool | None = None) -> None:
        """Sort by ``column`` (None: journal order); the cursor stays on its operation."""
        if column is not None and column not in COLUMN_KEYS:
            raise ValueError(f"unknown column {column!r}")
        self.sort_column = column
        if reverse is not None:
            self.sort_reverse = reverse
        key = self.highlighted_key
        self._sort()
        self.cursor.follow(key, self.order)

    def set_filter(self, word: str) -> None:
        """Show only operations in status, state or group ``word`` (``ops --status`` words).

        Raises:
            UnknownStatusWord: with the list of valid words.
        """
        self.filter.set_status(word)
        self._rebuild()

    def cycle_filter(self) -> None:
        """The next of FILTERS."""
        position = FILTERS.index(self.filter.status_filter) if self.filter.status_filter in FILTERS else -1
        self.set_filter(FILTERS[(position + 1) % len(FILTERS)])

    def set_query(self, text: str) -> str:
        """Filter by text; returns "" or why the text cannot be used (an unknown ``status:`` word).

        An unusable query keeps the previous filter, so a half-typed word never empties the table.
        """
        problem, narrower = self.filter.set_query(text)
        if narrower is not None:
            self._rebuild(narrower=narrower)
        return problem

    def _rebuild(self, *, narrower: bool = False) -> None:
        """Show the rows that pass the filters, in sort order; ``narrower``: only the shown can pass."""
        now = self.now()
        key = self.highlighted_key
        candidates = self.order if narrower else self._ranking()
        views = self.views
        order = self.filter.select(candidates, views)
        cells: dict[int, dict[str, str]] = {}
        old_cells, stash = self.cells, self._stash
        for k in order:
            texts = old_cells.get(k)
            if texts is None:
                texts = stash.pop(k, None)
                view = views[k]
                if texts is None:
                    texts = self.texts(view, now)
                elif not view.is_done:  # a finished row's times no longer move
                    texts.update(self._time_texts(view, now))
            cells[k] = texts
        for k, texts in old_cells.items():
            if k not in cells:
                stash[k] = texts
        self.cells = cells
        self.order = order
        self._sort_keys = None
        self._drop_marks()
        self.cursor.follow(key, self.order)

    # -- marks ---------------------------------------------------------------------------

    def _drop_marks(self) -> None:
        self._marks.drop_hidden(self.cells)

    def toggle_mark(self, key: int | None = None) -> bool:
        """Mark or unmark ``key`` (the highlighted row by default); returns whether it is marked now."""
        key = self.highlighted_key if key is None else key
        if key is None or key not in self.cells:
            return False
        return self._marks.toggle(key)

    def mark_range(self) -> int:
        """Mark every shown row from the last mark to the cursor (inclusive); returns how many are marked."""
        if not self.order:
            return 0
        return self._marks.mark_range(self.order, self.cursor.row, self.cells)

    def mark_all(self) -> int:
        """Mark every shown row; returns how many are marked."""
        return self._marks.mark_all(self.order)

    def clear_marks(self) -> int:
        """Unmark everything; returns how many were marked."""
        return self._marks.clear()


def tenants_named(model: OpsModel, views: Iterable[OperationView]) -> str:
    """`` in fabrikam`` (`` in contoso and fabrikam``) when several tenants are open: what a toast's or a
    question's title ends with, naming the tenants of the operations it is about; '' with one tenant."""
    if not model.has_tenants:
        return ""
    names = sorted({safe_text(model.tenant_of(view)) for view in views})
    if not names:
        return ""
    return " in " + (names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}")


def describe(model: OpsModel) -> str:
    """``sort: Status ↓ · filter: failed · /alice`` for the pane's subtitle."""
    column = dict(COLUMNS).get(model.sort_column or "", "journal order")
    arrow = " ↓" if model.sort_reverse else " ↑"
    text = f"sort: {column}{arrow} · filter: {model.filter.status_filter}"
    if model.filter.query_text.strip():
        text += f" · /{model.filter.query_text.strip()}"
    return text
