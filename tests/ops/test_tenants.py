"""One engine per tenant, several in one process: two tenants on one journal keep apart (the next issue's base)."""

from __future__ import annotations

from pathlib import Path

from console.ops.events import ExportTarget
from console.sim.tenant import SimulatedTenant
from tests.ops.rig import Rig, location_for

OTHER_TENANT = "22222222-2222-4222-8222-222222222222"


def other_tenant(rig: Rig) -> SimulatedTenant:
    """A second simulated tenant on the rig's clock."""
    tenant = SimulatedTenant(
        profiles=20,
        seed=11,
        clock=rig.clock.now,
        sleep=rig.clock.sleep,
        retry_after=5,
        export_duration=30,
        tenant_id=OTHER_TENANT,
    )
    tenant.graph.config.refuse_reused_location = False
    return tenant


async def test_two_tenants_in_one_process_each_keep_their_own_operations_and_budget(tmp_path: Path) -> None:
    rig = Rig(tmp_path, retry_after=5, duration=30)
    tenant_b = other_tenant(rig)
    # Tenant A's budget is tiny (a burst, then one poll every ~2 minutes); tenant B's is ample.
    a = rig.side(budget=36)
    b = rig.side(budget=9000, tenant=tenant_b)
    assert a.engine.budget is not b.engine.budget
    await a.engine.start()
    await b.engine.start()
    users_a = rig.users(6)
    users_b = [p.user_id for p in tenant_b.graph.profiles[:6]]
    await a.engine.submit([ExportTarget(u, location_for(n)) for n, u in enumerate(users_a)])
    await b.engine.submit([ExportTarget(u, location_for(100 + n)) for n, u in enumerate(users_b)])
    start = rig.clock.now()

    def finished(side_views: list[str]) -> bool:
        return len(side_views) == 6 and all(state == "final" for state in side_views)

    took_b = await rig.run_until(lambda: finished([v.state for v in b.engine.operations()]), limit=600)
    # B is paced by its own budget only: done about a Retry-After after its exports finish.
    assert took_b <= 30 + 5 + 5, took_b
    assert all(v.status == "complete" for v in b.engine.operations())
    # Each tenant's budget has its own ledger in the one journal: B's polls are on B's, none on A's.
    assert rig.ledger(OTHER_TENANT) >= b.engine.polls_sent > 0
    assert rig.ledger(rig.tenant.tenant_id) == a.engine.polls_sent == 0
    assert a.engine.polls_sent <= 6, "tenant A spent tenant B's budget (or B spent A's)"
    assert not finished([v.state for v in a.engine.operations()])
    await rig.run_until(lambda: finished([v.state for v in a.engine.operations()]), limit=4000)
    # Each engine sees only its tenant's rows, each simulator only its own tenant's polls.
    assert {v.tenant_key for v in a.engine.operations()} == {rig.tenant.tenant_id}
    assert {v.tenant_key for v in b.engine.operations()} == {OTHER_TENANT}
    assert sorted(v.user_id for v in a.engine.operations()) == sorted(users_a)
    polls_b = [r for r in tenant_b.requests if r.kind == "poll"]
    assert len(polls_b) == b.engine.polls_sent and len(rig.polls()) == a.engine.polls_sent
    assert rig.early_polls() == 0
    assert rig.ledger(rig.tenant.tenant_id) >= a.engine.polls_sent > 0
    assert a.engine.active == 0 and b.engine.active == 0, "a finished operation kept its record"
    assert rig.clock.now() - start > 100, "tenant A's tiny budget did not pace it"
    await rig.close()
