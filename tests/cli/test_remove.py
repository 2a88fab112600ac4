"""``remove`` and ``outbound`` (issue 19): every refusal sends nothing, removals are journalled with ``kind``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli.run import main
from console.ops.journal import REMOVAL_KIND, OperationJournal
from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant
from console.wiring import ConnectionOptions, journal_for, resolve_paths

Served = tuple[SimulatedTenant, LoopbackServer]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    tenant = SimulatedTenant(profiles=10, page_size=4)
    with LoopbackServer(tenant) as server:
        monkeypatch.setenv("SIM_TOKEN", tenant.issue_token(lifetime=3600))
        yield tenant, server


def graph(server: LoopbackServer) -> list[str]:
    return ["--graph-url", server.graph_url, "--token-env", "SIM_TOKEN"]


def removal_posts(tenant: SimulatedTenant) -> int:
    return sum(1 for r in tenant.requests if r.method == "POST")


def users(tenant: SimulatedTenant, n: int) -> list[str]:
    return [p.user_id for p in tenant.graph.profiles[:n]]


def test_removal_is_sent_and_journalled_with_its_request_id(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    tenant, server = served
    two = users(tenant, 2)
    code = main([*graph(server), "remove", *two, "--case", "DSR-9", "--confirm", "2", "--allow-removal", "--json"])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["kind"] for r in rows] == ["removal", "removal"]
    assert [r["status"] for r in rows] == ["requested", "requested"]
    assert {r["requestId"] for r in rows} == {rid for _u, _t, rid in tenant.graph.removals}
    assert main([*graph(server), "ops", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["kind"] for r in listed} == {"removal"} and {r["case"] for r in listed} == {"DSR-9"}
    assert main([*graph(server), "report", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in report] == ["removal", "removal"]
    assert {r["exportRequestId"] for r in report} == {rid for _u, _t, rid in tenant.graph.removals}


def test_read_only_refuses_an_export_too(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    tenant, server = served
    location = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rwlc&se=2099-01-01T00:00:00Z&sig=X"
    code = main([*graph(server), "--read-only", "export", *users(tenant, 1), "--storage-location", location])
    assert code == 2 and "read-only" in capsys.readouterr().err
    assert tenant.requests == []


@pytest.mark.parametrize(
    ("extra", "confirm", "words"),
    [
        (["--allow-removal"], "1", "--confirm must equal the number of people"),
        (["--allow-removal"], "3", "--confirm must equal the number of people"),
        ([], "2", "allow_removal"),
        (["--allow-removal", "--read-only"], "2", "read-only"),
    ],
)
def test_every_refusal_sends_nothing(
    served: Served, capsys: pytest.CaptureFixture[str], extra: list[str], confirm: str, words: str
) -> None:
    tenant, server = served
    code = main([*graph(server), "remove", *users(tenant, 2), "--case", "DSR-9", "--confirm", confirm, *extra])
    assert code == 2
    assert words in capsys.readouterr().err
    assert removal_posts(tenant) == 0 and tenant.requests == []  # not even signed in


def test_saved_tenant_needs_allow_removal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "state" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[tenants.contoso]\ntenant = "contoso.onmicrosoft.com"\n')
    code = main(["--tenant", "contoso", "remove", "u1", "--case", "DSR-1", "--confirm", "1", "--allow-removal"])
    assert code == 2 and "allow_removal = true" in capsys.readouterr().err


def test_a_person_already_removed_is_not_asked_again_without_force(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant, server = served
    one = users(tenant, 1)
    args = [*graph(server), "remove", *one, "--case", "DSR-9", "--confirm", "1", "--allow-removal"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already requested" in err and "--force" in err and "UTC" in err
    assert removal_posts(tenant) == 1
    assert main([*args, "--force"]) == 0
    assert removal_posts(tenant) == 2


def test_a_crash_between_intent_and_204_is_never_resent_silently(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant, server = served
    one = users(tenant, 1)
    options = ConnectionOptions(demo=False, graph_url=server.graph_url, token_env="SIM_TOKEN", tenant=None)
    journal: OperationJournal = journal_for(resolve_paths(options), False)
    # The intent of a process that died before the POST's answer (owner None: nobody alive holds it).
    tenant_key = tenant.tenant_id
    journal.record_intent(tenant_key, one[0], "", 1000.0, owner=None, case="DSR-9", kind=REMOVAL_KIND)
    journal.close()
    args = [*graph(server), "remove", *one, "--case", "DSR-9", "--confirm", "1", "--allow-removal"]
    assert main(args) == 2
    assert "already requested" in capsys.readouterr().err
    assert removal_posts(tenant) == 0
    assert main([*graph(server), "watch", "--json"]) == 0  # removals are never watched nor reconciled
    assert removal_posts(tenant) == 0
    capsys.readouterr()
    assert main([*graph(server), "ops", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["kind"] == "removal" and row["state"] == "unconfirmed" and "removal" in row["error"]


def test_forbidden_removal_is_failed_with_the_permission(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    tenant, server = served
    tenant.faults.forbid_removal = True
    code = main([*graph(server), "remove", *users(tenant, 2), "--case", "D", "--confirm", "2", "--allow-removal"])
    assert code == 3
    assert "CrossTenantUserProfileSharing.ReadWrite.All" in capsys.readouterr().err
    assert removal_posts(tenant) == 1  # the second is not tried after a permission refusal


def test_outbound_lists_users_with_tenants_and_removes_one(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    tenant, server = served
    assert main([*graph(server), "outbound", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["userId"]: r["tenants"] for r in listed} == tenant.graph.outbound
    user, held_by = listed[0]["userId"], listed[0]["tenants"][0]
    args = [*graph(server), "remove", "--outbound", user, "--from-tenant", held_by, "--case", "D", "--confirm", "1"]
    assert main(args) == 2 and removal_posts(tenant) == 0  # not allowed
    assert main([*args, "--allow-removal", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["kind"] == "removal" and row["fromTenant"] == held_by
    assert tenant.graph.removals[0][:2] == (user, held_by)


def test_a_refused_removal_is_failed_with_graphs_error_and_may_be_asked_again(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant, server = served
    unknown = "00000000-0000-4000-8000-000000000000"
    args = [*graph(server), "remove", unknown, "--case", "D", "--confirm", "1", "--allow-removal", "--json"]
    assert main(args) == 1
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["status"] == "failed" and row["state"] == "rejected" and "not found" in row["error"]
    assert main(args) == 1  # nothing was removed: asking again is not refused
    assert removal_posts(tenant) == 2
