"""The console reconciles unconfirmed exports when it starts watching, and says so in a notification."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from console.ops.journal import OperationJournal
from console.ops.reconcile import NOT_OFFERED_MESSAGE
from console.tui.app import ConsoleApp
from console.tui.entry import build_console_services
from console.tui.services import ConsoleServices
from console.wiring import ConnectionOptions
from tests.tui.test_real_engine import settle, wait_for

LOCATION = "https://demoacct.blob.core.windows.net/dsr-left?sv=2022-11-02&sr=c&sp=rwlc&sig=DEMOSECRET"


def with_leftover(tmp_path: Path, *, exported: bool) -> tuple[ConsoleServices, str, str]:
    """The demo's services with a dead process's unconfirmed export in its journal (and Graph's copy of it)."""
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(tmp_path)))
    sim = services.extra["simulated_tenant"]
    assert services.session is not None
    user = sim.graph.profiles[-1].user_id
    journal = OperationJournal(services.session.engine.journal_path)  # type: ignore[attr-defined]
    journal.record_intent(sim.tenant_id, user, LOCATION, time.time() - 65, owner="dead-process-id")
    journal.close()
    op_id = str(uuid.uuid4())
    if exported:
        sim.adopt_operation(op_id, user, LOCATION, time.time() - 64)
    return services, user, op_id


def messages(app: ConsoleApp) -> list[str]:
    """Every notification's full text (toasts are cut short; the event log keeps it whole)."""
    return [entry.text for entry in app.event_log]


async def test_the_console_confirms_an_unconfirmed_export_it_finds_and_says_so(tmp_path: Path) -> None:
    services, user, op_id = with_leftover(tmp_path, exported=True)
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: any("confirmed:" in m and op_id in m for m in messages(app)))
        assert services.session is not None
        [view] = [v for v in services.session.engine.operations() if v.user_id == user]
        assert view.operation_id == op_id and view.state in ("tracking", "final")
        await app.action_quit()


async def test_the_console_says_once_that_the_tenant_does_not_list_operations(tmp_path: Path) -> None:
    services, user, _op_id = with_leftover(tmp_path, exported=True)
    services.extra["simulated_tenant"].set_knobs({"operations_list_status": 404})
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: any(NOT_OFFERED_MESSAGE in m for m in messages(app)))
        assert sum(m.count(NOT_OFFERED_MESSAGE) for m in messages(app)) == 1
        assert services.session is not None
        [view] = [v for v in services.session.engine.operations() if v.user_id == user]
        assert view.state == "unconfirmed" and view.operation_id is None
        await app.action_quit()
