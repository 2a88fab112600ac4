"""Erasure: ``removePersonalData`` for inbound profiles and outbound tenants, journalled like an export.

Graph answers ``204 No Content`` with nothing to poll (graph-api.md, "Erasure, the outbound side"): the
request-id of that 204 is the only evidence that the removal was asked. So a removal is written to the
journal before the POST (the intent, ``kind='removal'``), and after it: ``final`` with status
``requested`` and the request-id, ``rejected`` with status ``failed`` and Graph's error, or
``unconfirmed`` when the outcome is unknown (a 5xx, no answer, or a crash between the two, which the
journal's intent recovery turns into ``unconfirmed``). Removals are never polled and never re-sent
silently: a person with a removal that may have reached Graph is refused without ``force``.

The rules both front ends apply before anything is sent (``removal_refusal``) live here, below the CLI
and the console. No UI here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from console.errors import UsageError
from console.graph import errors
from console.ops.events import FINAL, REJECTED, UNCONFIRMED, OperationView, PollRecord
from console.ops.journal import REMOVAL_KIND, JournalError, OperationRow
from console.redact import redact

if TYPE_CHECKING:
    from console.ops.engine import OperationsEngine

REQUESTED = "requested"
"""The status of a removal Graph answered 204: asked, with the request-id as evidence (nothing to track)."""
FAILED = "failed"
"""The status of a removal Graph refused (its error kept)."""
ALLOW_SETTING = "allow_removal = true"
"""The saved tenant's setting (config.toml) that lets removals be sent."""
READ_ONLY_SETTING = "read_only = true"
"""The saved tenant's setting (config.toml) that refuses every change (export, removal), as ``--read-only``."""


@dataclass(frozen=True, slots=True)
class RemovalTarget:
    """One removal to send: an inbound profile (``target_tenant`` empty) or our user at another tenant."""

    user_id: str
    target_tenant: str = ""

    display_name: str = ""
    user_principal_name: str = ""
    home_tenant_id: str = ""

    @property
    def label(self) -> str:
        """How messages name it."""
        return f"{self.user_id} at tenant {self.target_tenant}" if self.target_tenant else self.user_id


@dataclass(frozen=True, slots=True)
class RemovalOutcome:
    """What happened to one removal."""

    target: RemovalTarget
    view: OperationView | None
    """The journal row (None when nothing was written or sent)."""
    request_id: str
    """The 204's request-id (empty unless requested)."""
    error: str
    """Why it failed or is unconfirmed (empty when requested)."""
    exit_code: int


@dataclass(frozen=True, slots=True)
class OutboundHolding:
    """One of our users whose profile data other tenants hold (``outboundSharedUserProfile``)."""

    user_id: str
    tenants: tuple[str, ...]
    """The ``tenantId`` of every tenant holding it."""


class OutboundSource(Protocol):
    """What lists outbound profiles (``console.graph.client.GraphClient``)."""

    async def list_outbound_profiles(self) -> list[str]: ...

    async def outbound_tenants(self, user_id: str) -> list[str]: ...


async def outbound_holdings(client: OutboundSource) -> list[OutboundHolding]:
    """Our users whose data other tenants hold, each with those tenants (every page; one GET per user)."""
    users = await client.list_outbound_profiles()
    return [OutboundHolding(user, tuple(await client.outbound_tenants(user))) for user in users]


class AlreadyRemoved(UsageError):
    """A removal of these people may already have reached Graph (sent, in flight or unconfirmed): not sent again
    without ``force``."""

    title = "Already removed"

    def __init__(self, previous: Sequence[OperationView]) -> None:
        self.previous = list(previous)
        parts = []
        for view in self.previous:
            when = datetime.fromtimestamp(view.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            where = f" at tenant {view.target_tenant}" if view.target_tenant else ""
            parts.append(f"{view.user_id}{where} ({view.display_status}, requested {when})")
        super().__init__(
            f"a removal was already requested for {', '.join(parts)}: not sent again (nothing was sent); "
            "use --force to ask again"
        )


def read_only_reason(*, flag: bool, saved: bool, tenant_label: str = "") -> str:
    """Why a session may change nothing, naming what to change ("" when it may).

    Args:
        flag: ``--read-only`` was given.
        saved: the saved tenant has ``read_only = true``.
        tenant_label: how to name the saved tenant (``tenant contoso``).
    """
    if flag:
        return "--read-only"
    if saved:
        return f"{READ_ONLY_SETTING} for {tenant_label or 'the saved tenant'} in config.toml"
    return ""


def removal_refusal(
    *, people: int, confirm: int | None, allowed: bool, read_only: bool | str, tenant_label: str = ""
) -> str | None:
    """Why a removal must not be sent (then nothing is), or None. The same rules for the CLI and the console.

    Args:
        people: how many removals were asked for.
        confirm: the number the admin typed (``--confirm N``); it must equal ``people``.
        allowed: the tenant has ``allow_removal = true`` (or ``--allow-removal`` was given).
        read_only: the session may change nothing: True, or why (``read_only_reason``).
    """
    where = f" for {tenant_label}" if tenant_label else ""
    if read_only:
        why = f" ({read_only})" if isinstance(read_only, str) else ""
        return f"removal refused: read-only{why}: nothing that changes anything is sent"
    if not allowed:
        return (
            f"removal is off{where}: set {ALLOW_SETTING} on the saved tenant in config.toml, "
            "or pass --allow-removal (nothing was sent)"
        )
    if people < 1:
        return "nothing to remove: give at least one USER_ID"
    if confirm != people:
        typed = "nothing" if confirm is None else str(confirm)
        return (
            f"removal not confirmed: {people} {'person' if people == 1 else 'people'} to remove but the confirmation "
            f"says {typed}; --confirm must equal the number of people (nothing was sent)"
        )
    return None


async def previous_removals(engine: OperationsEngine, targets: Sequence[RemovalTarget]) -> list[OperationView]:
    """Removals of these targets that may have reached Graph (requested, in flight, unconfirmed), oldest first."""
    journal = engine.writer.journal
    found: list[OperationView] = []
    by_tenant: dict[str, list[str]] = {}
    for target in targets:
        by_tenant.setdefault(target.target_tenant.lower(), []).append(target.user_id)
    for tenant, users in by_tenant.items():
        rows = await engine.writer.call(journal.removals_of, engine.tenant_key, users, tenant)
        found += [row.view() for row in rows]
    return sorted(found, key=lambda v: v.key)


async def submit_removals(
    engine: OperationsEngine,
    targets: Sequence[RemovalTarget],
    *,
    case: str,
    who: str,
    force: bool = False,
) -> list[RemovalOutcome]:
    """Send each removal, one at a time, each journalled before and after its POST.

    Raises:
        AlreadyRemoved: without ``force``, when any target was already asked (nothing is sent then).
    """
    if not force:
        previous = await previous_removals(engine, targets)
        if previous:
            raise AlreadyRemoved(previous)
    outcomes: list[RemovalOutcome] = []
    for target in targets:
        outcome = await _submit_one(engine, target, case=case, who=who)
        outcomes.append(outcome)
        if outcome.exit_code == 3:  # sign-in or permission: every further one would fail the same way
            break
    return outcomes


async def _submit_one(engine: OperationsEngine, target: RemovalTarget, *, case: str, who: str) -> RemovalOutcome:
    now = engine.clock.now()
    try:
        row = await engine.record_intent_for(
            target, "", now, case=case, who=who, kind=REMOVAL_KIND, target_tenant=target.target_tenant.lower()
        )
    except (sqlite3.Error, JournalError) as exc:
        # No intent on disk, no POST: a crash now must not leave a removal nobody knows of.
        text = f"the journal could not record the removal, so it was not sent: {redact(str(exc))}"
        return RemovalOutcome(target, None, "", text, 1)
    try:
        if target.target_tenant:
            request_id = await engine.client.remove_outbound(target.user_id, target.target_tenant)
        else:
            request_id = await engine.client.remove_personal_data(target.user_id)
    except errors.GraphError as exc:
        unconfirmed = isinstance(exc, errors.RemovalUnconfirmed)
        row.state = UNCONFIRMED if unconfirmed else REJECTED
        row.status = None if unconfirmed else FAILED
        row.last_error = redact(str(exc))
        row.post_request_id = exc.request_id
        record = PollRecord(
            engine.clock.now(),
            exc.status,
            None,
            exc.request_id,
            exc.client_request_id,
            row.status,
            None,
            row.last_error,
        )
        await _save(engine, row, record)
        return RemovalOutcome(target, row.view(), "", row.last_error, max(1, exc.exit_code))
    except Exception as exc:  # unknown outcome: never lose the intent, never re-send blindly
        row.state = UNCONFIRMED
        row.last_error = f"the removal request failed unexpectedly ({type(exc).__name__}); check before asking again"
        await _save(engine, row, None)
        return RemovalOutcome(target, row.view(), "", row.last_error, 1)
    done = engine.clock.now()
    row.state = FINAL
    row.status = REQUESTED
    row.post_request_id = request_id
    row.submitted_at = row.completed_at = datetime.fromtimestamp(done, UTC).isoformat().replace("+00:00", "Z")
    record = PollRecord(done, 204, None, request_id, "", REQUESTED, None, "")
    await _save(engine, row, record)
    return RemovalOutcome(target, row.view(), request_id, "", 0)


async def _save(engine: OperationsEngine, row: OperationRow, record: PollRecord | None) -> None:
    journal = engine.writer.journal
    engine.writer.queue(row, record)
    await engine.writer.call(journal.flush, engine.clock.now())
    engine.show_row(row)  # the console's operations pane shows it (its own writes are not synced back)
