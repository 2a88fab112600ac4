"""Reconcile unconfirmed exports with the operations Graph lists (``GET /dataPolicyOperations``).

An export is *unconfirmed* when its intent was journaled but Graph's 202 was not (a crash between
the two, a lost answer, a 5xx). Graph documents no idempotency, so the console never POSTs again
blindly. Instead ``watch``, the console and ``ops --reconcile`` ask Graph for the operations of each
unconfirmed export's user submitted since its intent (less ``CLOCK_SKEW``):

* exactly one that the journal does not already track: the export is confirmed. Its row gets the
  operation id, its status URL and Graph's status, a note saying how it was found, and is watched
  (its first poll no earlier than 60 s after the listed submission: the lost 202's Retry-After);
* none: it stays unconfirmed (and the report says so);
* more than one: it stays unconfirmed, the report says it is ambiguous and names them;
* the tenant answers 400/403/404/405: it does not offer the list. Said once; nothing changes.

An operation id already tracked by a row (or confirmed for another row in this run) is never
attached twice; the journal checks that again in the transaction that confirms (``confirm``).
An operation whose storage location plainly differs from the row's (another container) is not a
match either. Rows are examined newest first, so of two unconfirmed exports of one user the later
one takes the later operation.

No UI here: the engine (``OperationsEngine.reconcile``) runs it, the CLI and the console show its
``ReconcileReport``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol

from console.graph import errors
from console.graph.models import DataPolicyOperation
from console.ops.events import OperationView
from console.ops.journal import DuplicateOperation, JournalError
from console.redact import redact


class OperationLister(Protocol):
    """What reconciling asks Graph (``console.graph.client.GraphClient``)."""

    async def list_operations(self, user_id: str, since: datetime) -> list[DataPolicyOperation]: ...

    def operation_url(self, operation_id: str) -> str: ...


class Reconcilable(Protocol):
    """What reconciling needs of the engine (``console.ops.engine.OperationsEngine``)."""

    @property
    def client(self) -> OperationLister: ...

    async def unconfirmed_exports(self) -> tuple[list[OperationView], set[str]]: ...

    async def confirm_export(
        self, key: int, operation: DataPolicyOperation, location: str, note: str
    ) -> OperationView: ...


log = logging.getLogger(__name__)

CLOCK_SKEW: Final = 120.0
"""Seconds before the intent that a listed operation may say it was submitted (our clock against Graph's)."""
NOT_OFFERED_MESSAGE: Final = "this tenant does not list dataPolicyOperations: unconfirmed exports stay unconfirmed"
"""Said once when the tenant answers the list with 400, 403, 404 or 405."""
FOUND_BY: Final = "confirmed by reconcile: found in GET /dataPolicyOperations"
"""How the note on a confirmed row begins."""

Outcome = Literal["confirmed", "none", "ambiguous", "not_offered", "failed"]


@dataclass(frozen=True, slots=True)
class RowResult:
    """What reconciling did to one unconfirmed export."""

    key: int
    """The journal row."""
    user_id: str
    outcome: Outcome
    message: str
    """One sentence for the admin (tenant text unescaped: the output layer escapes it)."""
    operation_id: str | None = None
    """The operation it was confirmed with."""
    candidates: tuple[str, ...] = ()
    """The operation ids that made it ambiguous."""
    view: OperationView | None = None
    """The row as it is now (confirmed: with its id, status URL and status)."""

    def to_json(self) -> dict[str, Any]:
        """The ``ops --reconcile --json`` object of this row."""
        return {
            "event": "reconcile",
            "key": self.key,
            "userId": self.user_id,
            "outcome": self.outcome,
            "operationId": self.operation_id,
            "candidates": list(self.candidates),
            "state": self.view.state if self.view is not None else None,
            "status": self.view.status if self.view is not None else None,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Every unconfirmed export examined, and whether the tenant offers the list at all."""

    results: tuple[RowResult, ...] = ()
    not_offered: bool = False

    @property
    def confirmed(self) -> list[RowResult]:
        return [r for r in self.results if r.outcome == "confirmed"]

    @property
    def remaining(self) -> list[RowResult]:
        """The exports still unconfirmed."""
        return [r for r in self.results if r.outcome != "confirmed"]

    def summary(self) -> str:
        """One line: what was confirmed and what remains (or that the tenant does not list operations)."""
        if not self.results:
            return "no unconfirmed exports to reconcile"
        if self.not_offered:
            return NOT_OFFERED_MESSAGE
        found, left = len(self.confirmed), len(self.remaining)
        text = f"reconciled {len(self.results)} unconfirmed export{'s' if len(self.results) != 1 else ''}: "
        text += f"{found} confirmed and watched, {left} still unconfirmed"
        ambiguous = sum(1 for r in self.results if r.outcome == "ambiguous")
        if ambiguous:
            text += f" ({ambiguous} ambiguous)"
        return text

    def lines(self) -> list[str]:
        """The lines to show: the not-offered sentence once, or one line per row."""
        if self.not_offered:
            return [NOT_OFFERED_MESSAGE]
        return [r.message for r in self.results]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "at an unknown time"


def _place(location: str) -> str:
    """A storage location without its query (SAS) and fragment, lowercased: where the data goes."""
    return location.split("?", 1)[0].split("#", 1)[0].strip().rstrip("/").lower()


def same_place(journaled: str, listed: str) -> bool:
    """False only when both locations are known, of one form, and plainly different (another container)."""
    if not journaled.strip() or not listed.strip():
        return True
    if ("://" in journaled) != ("://" in listed):
        return True  # a URL against an account name: Graph's form is undocumented, do not judge
    return _place(journaled) == _place(listed)


def _who(view: OperationView) -> str:
    name = view.user_principal_name or view.display_name
    return f"{name} ({view.user_id})" if name else view.user_id


def _candidates(
    view: OperationView, listed: Sequence[DataPolicyOperation], taken: set[str], skew: float
) -> tuple[list[DataPolicyOperation], int]:
    """The listed operations that may be this export, and how many went to another location."""
    since = _utc(view.created_at - skew)
    fits: list[DataPolicyOperation] = []
    elsewhere = 0
    for operation in listed:
        if operation.id.lower() in taken or operation.submitted is None or operation.submitted < since:
            continue
        if not same_place(view.storage_location, operation.storage_location):
            elsewhere += 1
            continue
        fits.append(operation)
    return fits, elsewhere


async def reconcile(engine: Reconcilable, *, skew: float = CLOCK_SKEW) -> ReconcileReport:
    """Ask Graph about every unconfirmed export of the engine's tenant; confirm each one found exactly once.

    One listing per user (since that user's earliest intent, less ``skew``). Errors other than
    "not offered" leave that user's exports unconfirmed and go on with the others; a 401 stops.
    """
    views, tracked = await engine.unconfirmed_exports()
    if not views:
        return ReconcileReport()
    taken = {operation_id.lower() for operation_id in tracked}
    by_user: dict[str, list[OperationView]] = {}
    for view in sorted(views, key=lambda v: (v.created_at, v.key), reverse=True):
        by_user.setdefault(view.user_id.lower(), []).append(view)
    results: list[RowResult] = []
    stop: RowResult | None = None
    for rows in by_user.values():
        if stop is not None:
            results.extend(_like(stop, view) for view in rows)
            continue
        earliest = min(view.created_at for view in rows)
        try:
            listed = await engine.client.list_operations(rows[0].user_id, _utc(earliest - skew))
        except errors.GraphError as exc:
            if exc.status in (400, 403, 404, 405):  # OperationsListNotOffered: the tenant does not list them
                log.info("reconcile: %s (HTTP %s)", NOT_OFFERED_MESSAGE, exc.status)
                return ReconcileReport(
                    tuple(RowResult(v.key, v.user_id, "not_offered", NOT_OFFERED_MESSAGE, view=v) for v in views),
                    not_offered=True,
                )
            text = redact(str(exc))
            failed = [
                RowResult(
                    v.key, v.user_id, "failed", f"still unconfirmed: {_who(v)}: could not ask Graph ({text})", view=v
                )
                for v in rows
            ]
            results.extend(failed)
            if isinstance(exc, errors.AuthenticationError):
                stop = failed[0]
            continue
        for view in rows:
            results.append(await _one(engine, view, listed, taken, skew))
    order = {view.key: n for n, view in enumerate(sorted(views, key=lambda v: v.key))}
    return ReconcileReport(tuple(sorted(results, key=lambda r: order[r.key])))


def _like(failed: RowResult, view: OperationView) -> RowResult:
    reason = failed.message.split(": could not ask Graph ", 1)[-1]
    return RowResult(
        view.key, view.user_id, "failed", f"still unconfirmed: {_who(view)}: could not ask Graph {reason}", view=view
    )


async def _one(
    engine: Reconcilable,
    view: OperationView,
    listed: Sequence[DataPolicyOperation],
    taken: set[str],
    skew: float,
) -> RowResult:
    since = _when(_utc(view.created_at - skew))
    fits, elsewhere = _candidates(view, listed, taken, skew)
    other = (
        f"; {elsewhere} other export{'s' if elsewhere != 1 else ''} of this user went elsewhere" if elsewhere else ""
    )
    if not fits:
        return RowResult(
            view.key,
            view.user_id,
            "none",
            f"still unconfirmed: {_who(view)}: Graph lists no export of this user submitted since {since}"
            f"{other}: check it before exporting again",
            view=view,
        )
    if len(fits) > 1:
        ids = tuple(operation.id for operation in fits)
        return RowResult(
            view.key,
            view.user_id,
            "ambiguous",
            f"still unconfirmed: {_who(view)}: ambiguous, Graph lists {len(fits)} exports of this user submitted "
            f"since {since} ({', '.join(ids)}); not choosing one",
            candidates=ids,
            view=view,
        )
    [operation] = fits
    return await _confirm(engine, view, operation, taken)


async def _confirm(
    engine: Reconcilable, view: OperationView, operation: DataPolicyOperation, taken: set[str]
) -> RowResult:
    """Attach the one operation Graph listed to the unconfirmed export (the engine then watches it)."""
    note = f"{FOUND_BY} (operation {operation.id}, submitted {_when(operation.submitted)})"
    try:
        confirmed = await engine.confirm_export(view.key, operation, engine.client.operation_url(operation.id), note)
    except (ValueError, KeyError) as exc:  # resolved, stopped or confirmed meanwhile (another process)
        return RowResult(
            view.key,
            view.user_id,
            "none",
            f"not reconciled: {_who(view)}: {redact(str(exc))}",
            view=view,
        )
    except (DuplicateOperation, JournalError, sqlite3.Error) as exc:
        # Another process tracks it meanwhile, or the journal could not be written: nothing was changed.
        return RowResult(
            view.key,
            view.user_id,
            "failed",
            f"still unconfirmed: {_who(view)}: operation {operation.id} not attached: {redact(str(exc))}",
            view=view,
        )
    taken.add(operation.id.lower())
    status = confirmed.status or "unknown"
    watching = "; watching it" if confirmed.state == "tracking" else ""
    return RowResult(
        view.key,
        view.user_id,
        "confirmed",
        f"confirmed: {_who(view)}: found operation {operation.id} ({status}) in GET /dataPolicyOperations, "
        f"submitted {_when(operation.submitted)}{watching}",
        operation_id=operation.id,
        view=confirmed,
    )
