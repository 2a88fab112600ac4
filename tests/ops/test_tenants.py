"""One engine per tenant, several in one process: two tenants on one journal keep apart (the next issue's base)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from console.ops.events import ExportTarget, OperationEvent
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


# -- one tenant's trouble never reaches another (issue 18) -------------------------------------------------


@dataclass
class Run:
    """What one run of ``run_tenants`` saw: B's completions, each tenant's ledger and A's requests."""

    noticed_b: list[tuple[str, float]]
    """(user id, simulated seconds from the start) when B's engine learnt each of its exports completed."""
    ledger_a: int
    ledger_b: int
    requests_a: list[tuple[float, str, int]]
    """(seconds from the start, kind, HTTP status) of every request tenant A's simulator answered."""
    gates_closed_b: int
    a_stopped: bool
    """Whether A's engine stopped on a fatal error (a token Graph refuses)."""


async def run_tenants(tmp_path: Path, *, a: bool = True, b: bool = True, trouble: str = "storm") -> Run:
    """Tenants A and B, each with its own engine, budget and simulator, on one journal and one manual clock.

    Both submit six exports; then tenant A's Graph gets ``trouble``: ``storm`` (every request answered
    429, without Retry-After, for ten minutes) or ``401`` (every token it issued expires). The run goes
    on until B's exports are all final (or, without B, for the same simulated time).
    """
    rig = Rig(tmp_path, retry_after=5, duration=30)
    tenant_b = other_tenant(rig)
    side_a = rig.side(budget=720) if a else None
    side_b = rig.side(budget=720, tenant=tenant_b) if b else None
    start = rig.clock.now()
    noticed: list[tuple[str, float]] = []

    def on_event(event: OperationEvent) -> None:
        if event.operation.status == "complete" and event.kind in ("status", "progress"):
            noticed.append((event.operation.user_id, rig.clock.now() - start))

    if side_a is not None:
        await side_a.engine.start()
        await side_a.engine.submit([ExportTarget(u, location_for(n)) for n, u in enumerate(rig.users(6))])
    if side_b is not None:
        side_b.engine.subscribe(on_event)
        await side_b.engine.start()
        users_b = [p.user_id for p in tenant_b.graph.profiles[:6]]
        await side_b.engine.submit([ExportTarget(u, location_for(100 + n)) for n, u in enumerate(users_b)])
    if trouble == "storm":
        rig.tenant.graph.start_storm(600)
    else:
        rig.tenant.set_knobs({"revoke_tokens": True})
    if side_b is not None:
        engine_b = side_b.engine
        await rig.run_until(lambda: all(v.state == "final" for v in engine_b.operations()), limit=120)
    else:
        await rig.run_for(60)
    await rig.settle()
    requests_a = [(r.at - start, r.kind, r.status) for r in rig.tenant.requests if r.kind in ("export", "poll")]
    run = Run(
        noticed_b=noticed,
        ledger_a=rig.ledger(rig.tenant.tenant_id),
        ledger_b=rig.ledger(OTHER_TENANT),
        requests_a=requests_a,
        gates_closed_b=side_b.client.pacer.gates_closed if side_b is not None else 0,
        a_stopped=side_a is not None and side_a.engine.fatal_error is not None,
    )
    await rig.close()
    return run


async def test_a_throttling_storm_on_one_tenant_never_delays_another(tmp_path: Path) -> None:
    alone_b = await run_tenants(tmp_path / "b", a=False)
    alone_a = await run_tenants(tmp_path / "a", b=False)
    both = await run_tenants(tmp_path / "both")
    # B learns of each completion at exactly the simulated second it does when it runs alone.
    assert len(alone_b.noticed_b) == 6
    assert both.noticed_b == alone_b.noticed_b
    assert both.gates_closed_b == 0, "tenant A's storm closed tenant B's gate"
    # A was throttled all along (its gate closed, every request after the storm began refused) ...
    stormed = [status for at, kind, status in both.requests_a if kind == "poll"]
    assert stormed and set(stormed) == {429}
    # ... and each tenant's ledger holds exactly what it holds when that tenant runs alone.
    assert both.ledger_b == alone_b.ledger_b > 0
    assert both.ledger_a == alone_a.ledger_a > 0
    assert alone_b.ledger_a == 0 and alone_a.ledger_b == 0


async def test_a_token_refused_on_one_tenant_leaves_the_other_polling(tmp_path: Path) -> None:
    alone_b = await run_tenants(tmp_path / "b", a=False, trouble="401")
    both = await run_tenants(tmp_path / "both", trouble="401")
    assert both.a_stopped, "tenant A's engine kept going on a token Graph refuses"
    assert [status for _, kind, status in both.requests_a if kind == "poll"][-1:] == [401]
    assert both.noticed_b == alone_b.noticed_b and len(both.noticed_b) == 6
    assert both.ledger_b == alone_b.ledger_b > 0


async def test_the_console_strip_and_ops_summary_give_the_same_figures_on_one_journal(tmp_path: Path) -> None:
    """The strip's pulse (live engines: ``console.tui.pulse.pulse_of``) and ``ops --summary``'s (the journal
    alone: ``pulse_from_journal``) come from one computation: the same figures for each tenant."""
    from console.ops.fleet import pulse_from_journal
    from console.ops.journal import OperationJournal
    from console.tui.pulse import pulse_of

    rig = Rig(tmp_path, retry_after=5, duration=30)
    tenant_b = other_tenant(rig)
    rig.tenant.graph.faults.failing_users.update(rig.users(2))
    a = rig.side(budget=720)
    b = rig.side(budget=720, tenant=tenant_b)
    for side in (a, b):
        await side.engine.start()
    await a.engine.submit([ExportTarget(u, location_for(n)) for n, u in enumerate(rig.users(5))])
    await rig.run_for(90)  # A: two failed, three complete
    await a.engine.submit([ExportTarget(u, location_for(10 + n)) for n, u in enumerate(rig.users(2, start=5))])
    await b.engine.submit([ExportTarget(p.user_id, location_for(20)) for p in tenant_b.graph.profiles[:1]])
    await b.engine.submit([ExportTarget("00000000-0000-4000-8000-00000000dead", location_for(21))])  # Graph: 404
    await rig.run_for(10)  # A: two more running; B: one running, one refused (a problem, not a failed export)
    await rig.settle()
    journal = OperationJournal(rig.path)
    now = rig.clock.now()
    pace = a.engine.budget.pace
    grant = journal.reserve_requests(  # another process spends from A's budget: its ledger counts it
        a.engine.tenant_key, "another-process", now, 4, per_hour=720, burst=pace.burst, rate=pace.rate, grace=pace.grace
    )
    assert grant.slots
    try:
        for name, side in (("alpha", a), ("beta", b)):
            engine = side.engine
            live = pulse_of(name, engine, await engine.quota(), now, await engine.requests_this_hour())
            stored = pulse_from_journal(journal, engine.tenant_key, name, now=now, poll_budget=engine.budget.per_hour)
            figures = ("polls_this_hour", "poll_budget", "exports_left_today", "unfinished", "failed")
            assert [getattr(live, f) for f in figures] == [getattr(stored, f) for f in figures], name
            assert live.oldest_running_since == stored.oldest_running_since is not None
        assert (live.unfinished, live.failed, live.exports_left_today) == (1, 0, 999)
        alpha = pulse_from_journal(journal, a.engine.tenant_key, "alpha", now=now, poll_budget=720)
        assert (alpha.unfinished, alpha.failed, alpha.exports_left_today) == (2, 2, 993)
        assert alpha.polls_this_hour > 0
    finally:
        journal.close()
        await rig.close()
