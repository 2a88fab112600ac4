"""``ops --reconcile`` and ``watch`` reconcile unconfirmed exports, through the CLI process against the simulator.

An unconfirmed row is made as ``test_contract`` makes a crash leftover: an intent of a dead process in
the journal. Whether Graph has the export is the simulator's business (``adopt_operation``).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from console.ops.journal import OperationJournal
from console.ops.reconcile import NOT_OFFERED_MESSAGE
from console.sim.tenant import SimulatedTenant
from tests.cli.conftest import Served, graph_args, lines, run_cli

LOCATION = "https://acct.blob.core.windows.net/dsr-left?sv=2022-11-02&sr=c&sp=rwlc&sig=CLISECRETSIGNATURE99"


def leftover(state: Path, tenant: SimulatedTenant, index: int, *, exported: int = 0) -> tuple[str, list[str]]:
    """A dead process's intent for profile ``index``; Graph holds ``exported`` exports of it since. Returns
    the user id and those operation ids."""
    user = tenant.graph.profiles[index].user_id
    journal = OperationJournal(state / "journal.sqlite3")
    # A minute ago: the first poll of a reconciled export waits the 60 s Graph's 202 asks from its submission.
    journal.record_intent(tenant.tenant_id, user, LOCATION, time.time() - 65, owner="dead-process-id")
    journal.close()
    ids = [str(uuid.uuid4()) for _ in range(exported)]
    tenant.graph.config.export_duration = 70.0  # still running when reconciled: it must then be polled
    for op_id in ids:
        tenant.adopt_operation(op_id, user, LOCATION, time.time() - 64)
    return user, ids


def listings(tenant: SimulatedTenant) -> int:
    return sum(1 for r in tenant.requests if r.kind == "operations")


def test_ops_reconcile_confirms_one_match_and_watch_then_follows_it(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    user, [op_id] = leftover(isolated_state, tenant, 3, exported=1)
    done = run_cli(*graph_args(server), "ops", "--reconcile", "--json", env=env)
    assert done.returncode == 0, done.stderr
    [line] = lines(done.stdout)
    assert (line["outcome"], line["userId"], line["operationId"], line["state"]) == (
        "confirmed",
        user,
        op_id,
        "tracking",
    )
    [row] = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert (row["operationId"], row["state"]) == (op_id, "tracking")
    watched = run_cli(*graph_args(server), "watch", "--json", env=env)
    assert watched.returncode == 0, watched.stderr
    assert any(r.kind == "poll" and r.operation_id == op_id for r in tenant.requests)
    [row] = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert (row["state"], row["status"]) == ("final", "complete")


def test_ops_reconcile_without_a_match_exits_1_and_keeps_it_unconfirmed(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    leftover(isolated_state, tenant, 4)
    done = run_cli(*graph_args(server), "ops", "--reconcile", env=env)
    assert done.returncode == 1, done.stderr
    assert "still unconfirmed" in done.stderr and "no export of this user" in done.stderr
    [row] = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert row["state"] == "unconfirmed" and row["operationId"] is None
    assert run_cli(*graph_args(server), "ops", "--reconcile", "--json", env=env).returncode == 1


def test_not_offered_is_said_once_by_ops_reconcile_and_by_watch(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    for index in (5, 6):
        leftover(isolated_state, tenant, index, exported=1)
    tenant.set_knobs({"operations_list_status": 403})
    done = run_cli(*graph_args(server), "ops", "--reconcile", env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count(NOT_OFFERED_MESSAGE) == 1
    watched = run_cli(*graph_args(server), "watch", env=env)
    assert watched.returncode == 1
    assert watched.stderr.count(NOT_OFFERED_MESSAGE) == 1
    assert listings(tenant) == 2  # once per process, not once per export
    assert {row["state"] for row in lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)} == {
        "unconfirmed"
    }


def test_ambiguous_stays_unconfirmed(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    _user, ids = leftover(isolated_state, tenant, 7, exported=2)
    done = run_cli(*graph_args(server), "ops", "--reconcile", "--json", env=env)
    assert done.returncode == 1, done.stderr
    [line] = lines(done.stdout)
    assert line["outcome"] == "ambiguous" and sorted(line["candidates"]) == sorted(ids)
    assert line["state"] == "unconfirmed" and line["operationId"] is None


def test_watch_reconciles_then_watches_the_confirmed_export(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    _user, [op_id] = leftover(isolated_state, tenant, 8, exported=1)
    watched = run_cli(*graph_args(server), "watch", env=env)
    assert watched.returncode == 0, watched.stderr
    assert "confirmed:" in watched.stderr and op_id in watched.stderr
    assert "unconfirmed export(s) remain" not in watched.stderr
    assert any(r.kind == "poll" and r.operation_id == op_id for r in tenant.requests)
    nothing = run_cli(*graph_args(server), "ops", "--reconcile", env=env)
    assert nothing.returncode == 0 and "nothing to reconcile" in nothing.stderr
