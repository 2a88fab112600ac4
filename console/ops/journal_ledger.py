"""The shared poll budget: a per-tenant ledger of the requests reserved in the last hour, and a pacer.

Every process on one journal reserves its request slots here (``reserve_requests``), so that all of
them together stay inside one poll budget (issue 7, item 2). The plan itself is ``budget.plan_reservation``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.ops.journal_db import JournalConnection

if TYPE_CHECKING:  # the budget brings asyncio: a read of the journal never needs it
    from console.ops.budget import Reservation


class LedgerStore:
    """The ``ledger`` and ``pacer`` tables of one journal."""

    def __init__(self, connection: JournalConnection) -> None:
        self._connection = connection

    def reserve_requests(
        self,
        tenant_key: str,
        owner: str,
        now: float,
        want: int,
        *,
        per_hour: int,
        burst: float,
        rate: float,
        grace: float,
    ) -> Reservation:
        """Reserve up to ``want`` request slots from the tenant's one budget, for every process on this journal.

        One transaction (BEGIN IMMEDIATE serialises the processes) reads the tenant's ledger of the
        last hour and its pacer, plans the slots (``budget.plan_reservation``) and records them.
        """
        from console.ops.budget import HOUR, plan_reservation

        db = self._connection.db
        with self._connection.transaction():
            db.execute("DELETE FROM ledger WHERE tenant_key=? AND at <= ?", (tenant_key, now - 2 * HOUR))
            found = db.execute("SELECT tat FROM pacer WHERE tenant_key=?", (tenant_key,)).fetchone()
            tat = float(found[0]) if found else now - burst / rate
            window = db.execute(
                "SELECT at, count FROM ledger WHERE tenant_key=? AND at > ? ORDER BY at", (tenant_key, now - HOUR)
            ).fetchall()
            plan = plan_reservation(
                now=now, want=want, tat=tat, window=window, per_hour=per_hour, burst=burst, rate=rate, grace=grace
            )
            if plan.slots:
                db.execute(
                    "INSERT INTO ledger (tenant_key, at, count, owner) VALUES (?, ?, ?, ?)",
                    (tenant_key, plan.ledger_at, len(plan.slots), owner),
                )
                db.execute(
                    "INSERT INTO pacer (tenant_key, tat) VALUES (?, ?) "
                    "ON CONFLICT(tenant_key) DO UPDATE SET tat=excluded.tat",
                    (tenant_key, plan.tat),
                )
        return plan

    def requests_in_last_hour(self, tenant_key: str, now: float) -> int:
        """Requests the tenant's processes reserved in the last hour."""
        from console.ops.budget import HOUR

        (count,) = self._connection.fetch_one(
            "SELECT COALESCE(SUM(count), 0) FROM ledger WHERE tenant_key=? AND at > ?", (tenant_key, now - HOUR)
        )
        return int(count)
