"""An engine's link to the shared journal, and the tenant's request ledger kept there.

``JournalLink``: the engine's writer thread (``writer.JournalWriter``) and its row in the journal's
processes table (registered once, on the first call). ``JournalLedger``: the budget's ``Reserve``
port over that link, so a request's ``acquire`` goes from the budget to the journal directly, never
through the engine.
"""

from __future__ import annotations

import logging
import os

from console.clock import Clock
from console.ops.budget import Pace, Reservation
from console.ops.writer import JournalWriter
from console.redact import redact

log = logging.getLogger(__name__)


class JournalLink:
    """One engine's connection to the journal file (every call runs on its writer thread).

    Args:
        path: the journal file (shared by every process of this user).
        process_id: this engine's row in the processes table (owner of its intents and leases).
        identity: who submits, kept with the process row.
        clock: where time comes from.
        lease_ttl: how long a lease lasts without renewal.
    """

    def __init__(
        self, path: str | os.PathLike[str], process_id: str, *, identity: str, clock: Clock, lease_ttl: float
    ) -> None:
        self.path = path
        self.process_id = process_id
        self.identity = identity
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.writer = JournalWriter(path)
        self.registered = False
        """Whether this process's row is in the journal (cleared when the writer closes)."""
        self.lease_until = 0.0
        """Until when this process's leases hold (renewed by the heartbeat and each sync)."""

    async def ensure_open(self) -> None:
        """Open the writer's connection and register this process (once)."""
        if self.writer.closed:
            self.writer = JournalWriter(self.path)
            self.registered = False
        await self.writer.open()
        if not self.registered:
            now = self.clock.now()
            await self.writer.call(
                self.writer.journal.register_process, self.process_id, now, identity=redact(self.identity)
            )
            self.lease_until = now + self.lease_ttl
            self.registered = True

    async def renew(self, now: float) -> set[int]:
        """Heartbeat: renew this process's leases from ``now``; the keys it still holds."""
        held = await self.writer.call(self.writer.journal.renew, self.process_id, now + self.lease_ttl, now)
        self.lease_until = now + self.lease_ttl
        return held


class JournalLedger:
    """The tenant's request ledger in the journal (a ``budget.Reserve``): every process spends from it.

    Args:
        link: the engine's link to the journal.
        tenant_key: whose budget.
        pace: the budget's shape (``PollBudget.pace``).
    """

    def __init__(self, link: JournalLink, tenant_key: str, pace: Pace) -> None:
        self._link = link
        self._tenant_key = tenant_key
        self._pace = pace

    async def __call__(self, now: float, want: int) -> Reservation:
        link, pace = self._link, self._pace
        await link.ensure_open()
        plan = await link.writer.call(
            link.writer.journal.reserve_requests,
            self._tenant_key,
            link.process_id,
            now,
            want,
            per_hour=pace.per_hour,
            burst=pace.burst,
            rate=pace.rate,
            grace=pace.grace,
        )
        if plan.slots:
            log.debug("budget: %d slots reserved from the tenant's ledger (%.0f/h)", len(plan.slots), pace.per_hour)
        else:
            log.debug("budget: the tenant's budget is spent for now; waiting %.1f s", plan.wait)
        return plan
