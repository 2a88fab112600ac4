"""The demo seeds its running exports once per journal: a restart resumes them, it never adds more (issue 17, item 16)."""

from __future__ import annotations

import json
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


async def test_the_demo_console_and_the_demo_cli_name_the_same_tenants_with_the_same_figures(tmp_path: Path) -> None:
    """``--demo ops`` and ``--demo ops --summary`` beside the demo console, on its state dir: the three tenants the
    console runs, under the console's names, each with its own poll budget and its own operations."""
    from console.tui.entry import demo_services
    from tests.cli.conftest import lines, run_cli

    state = str(tmp_path / "state")
    consoles = demo_services(ConnectionOptions(demo=True, state_dir=state), profiles=40)
    assert consoles.tenants is not None
    sessions = list(consoles.tenants)
    try:
        for session in sessions:
            await session.engine.start()
            assert session.warm_up is not None
            await session.warm_up()
        console_rows = {s.name: len(s.engine.operations()) for s in sessions}
        budgets = {s.name: s.engine.budget.per_hour for s in sessions}
        summary = run_cli("--demo", "--state-dir", state, "ops", "--summary", "--json")
        listed = run_cli("--demo", "--state-dir", state, "ops", "--json")
        table = run_cli("--demo", "--state-dir", state, "ops")
        report = run_cli("--demo", "--state-dir", state, "report", "--format", "json")
    finally:
        for session in reversed(sessions):
            await session.close()
    assert summary.returncode == 0 and listed.returncode == 0, summary.stderr + listed.stderr
    pulses = {p["tenant"]: p for p in lines(summary.stdout)}
    assert list(pulses) == [s.name for s in sessions] == ["contoso", "fabrikam", "northwind"]
    assert {name: p["poll_budget"] for name, p in pulses.items()} == budgets
    assert budgets["northwind"] != budgets["contoso"]
    assert {name: p["unfinished"] for name, p in pulses.items()} == console_rows
    assert table.stdout.split()[0] == "TENANT" and {"contoso", "fabrikam", "northwind"} <= set(table.stdout.split())
    assert report.returncode == 0, report.stderr
    reported: list[dict[str, object]] = json.loads(report.stdout)
    assert {name: sum(1 for r in reported if r["tenant"] == name) for name in console_rows} == console_rows
    rows = lines(listed.stdout)
    assert {name: sum(1 for r in rows if r.get("tenant") == name) for name in console_rows} == console_rows
