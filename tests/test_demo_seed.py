"""The demo seeds its running exports once per journal: a restart resumes them, it never adds more (issue 17, item 16)."""

from __future__ import annotations

from pathlib import Path

from console.demo import DEMO_CASE, DEMO_RUNNING
from console.wiring import ConnectionOptions, open_demo


async def _run_demo_once(state: str) -> int:
    services = open_demo(ConnectionOptions(demo=True, state_dir=state))
    try:
        await services.engine.start()
        assert services.warm_up is not None
        await services.warm_up()
        views = services.engine.operations()
        for view in views:  # as if they had all finished: nothing runs any more
            if not view.is_done:
                await services.engine.stop_watching(view.key)
        return len(views)
    finally:
        await services.aclose()


async def test_restarting_the_demo_three_times_keeps_the_twelve_exports_it_seeded(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    counts = [await _run_demo_once(state) for _ in range(3)]
    assert counts == [DEMO_RUNNING] * 3


async def test_the_seed_is_marked_by_its_case(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    services = open_demo(ConnectionOptions(demo=True, state_dir=state))
    try:
        await services.engine.start()
        assert services.warm_up is not None
        await services.warm_up()
        assert {view.case for view in services.engine.operations()} == {DEMO_CASE}
    finally:
        await services.aclose()


async def _run_three_tenant_demo_once(state: str) -> dict[str, int]:
    """The console's demo (contoso, fabrikam, northwind on one journal): each tenant's operations after warm-up."""
    from console.tui.entry import demo_services

    consoles = demo_services(ConnectionOptions(demo=True, state_dir=state), profiles=40)
    assert consoles.tenants is not None
    sessions = list(consoles.tenants)
    counts: dict[str, int] = {}
    try:
        for session in sessions:
            await session.engine.start()
            assert session.warm_up is not None
            await session.warm_up()
        for session in sessions:
            views = session.engine.operations()
            counts[session.name] = len({view.key for view in views if view.case == DEMO_CASE})
            for view in views:
                if not view.is_done:
                    await session.engine.stop_watching(view.key)
    finally:
        for session in reversed(sessions):
            await session.close()
    return counts


async def test_restarting_the_three_tenant_demo_keeps_each_tenants_seed(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    first = await _run_three_tenant_demo_once(state)
    assert len(first) == 3 and all(count > 0 for count in first.values())
    assert await _run_three_tenant_demo_once(state) == first
