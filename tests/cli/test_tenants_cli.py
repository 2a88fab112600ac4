"""Several tenants on the command line (issue 18): two simulated tenants on loopback, each a saved tenant
with ``method = "token_env"`` and a ``graph_url``, in one ``config.toml`` and one journal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from console.config import ConfigError, SavedTenant, SignInMethod, load_config, save_tenant
from console.ops.fleet import PULSE_FIELDS
from console.ops.journal import OperationJournal
from console.paths import Paths
from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant
from tests.cli.conftest import TEMPLATE, lines, posts, run_cli


@dataclass
class Two:
    """Two simulated tenants, saved as ``alpha`` and ``beta`` in one state dir."""

    alpha: SimulatedTenant
    beta: SimulatedTenant
    state: Path
    env: dict[str, str]

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 90):  # type: ignore[no-untyped-def]
        return run_cli("--state-dir", str(self.state), *args, env={**self.env, **(env or {})}, timeout=timeout)

    def export(self, name: str, tenant: SimulatedTenant, count: int, start: int = 0) -> None:
        users = [p.user_id for p in tenant.graph.profiles[start : start + count]]
        done = self.cli("--tenant", name, "export", *users, "--storage-location-env", "LOC", "--no-storage-check")
        assert done.returncode == 0, done.stderr


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Two]:
    alpha = SimulatedTenant(
        profiles=20, page_size=10, retry_after=0.3, export_duration=1.2, tenant_id=str(uuid.uuid4())
    )
    beta = SimulatedTenant(profiles=20, page_size=10, retry_after=0.3, export_duration=1.2, tenant_id=str(uuid.uuid4()))
    state = tmp_path / "state"
    paths = Paths.resolve(state)
    with LoopbackServer(alpha) as server_a, LoopbackServer(beta) as server_b:
        for name, server in (("alpha", server_a), ("beta", server_b)):
            save_tenant(
                paths,
                SavedTenant(
                    name=name,
                    tenant=f"{name}.example",
                    method=SignInMethod.TOKEN_ENV,
                    token_env=f"{name.upper()}_TOKEN",
                    graph_url=server.graph_url,
                ),
            )
        env = {
            "ALPHA_TOKEN": alpha.issue_token(lifetime=3600),
            "BETA_TOKEN": beta.issue_token(lifetime=3600),
            "LOC": TEMPLATE,
        }
        yield Two(alpha, beta, state, env)


def test_one_tenant_commands_refuse_several_and_send_nothing(two: Two) -> None:
    users = [two.alpha.graph.profiles[0].user_id]
    done = two.cli("--tenant", "alpha", "--tenant", "beta", "export", *users, "--storage-location-env", "LOC")
    assert done.returncode == 2
    assert "export acts on one tenant: name it with --tenant" in done.stderr
    profiles = two.cli("--all-tenants", "profiles", "--json")
    assert profiles.returncode == 2
    assert "profiles acts on one tenant: name it with --tenant" in profiles.stderr
    assert two.alpha.requests == [] and two.beta.requests == []


def test_watch_two_tenants_each_on_its_own_budget_and_the_json_names_them(two: Two) -> None:
    two.export("alpha", two.alpha, 2)
    two.export("beta", two.beta, 3)
    watched = two.cli("--tenant", "alpha", "--tenant", "beta", "--poll-budget", "400", "watch", "--json")
    assert watched.returncode == 0, watched.stderr
    events = lines(watched.stdout)
    assert {e["tenant"] for e in events} == {"alpha", "beta"}
    finals = {(e["tenant"], e["userId"]) for e in events if e.get("status") == "complete"}
    assert len(finals) == 5
    # Both simulators were polled, and each tenant spent from its own ledger (keyed by its tenant id).
    assert [r for r in two.alpha.requests if r.method == "GET"] and [r for r in two.beta.requests if r.method == "GET"]
    journal = OperationJournal(Paths.resolve(two.state).journal_file)
    try:
        import time

        spent = {t.tenant_id: journal.requests_in_last_hour(t.tenant_id, time.time()) for t in (two.alpha, two.beta)}
        journal.record_intent("another-tenant", "user-x", "https://acct.example/c", time.time())  # not chosen
    finally:
        journal.close()
    assert all(0 < n <= 400 for n in spent.values()), spent
    # ops --json across the tenants: every row names its saved tenant; --tenant filters.
    listed = lines(two.cli("--all-tenants", "ops", "--json").stdout)
    assert sorted(e["tenant"] for e in listed) == ["alpha"] * 2 + ["beta"] * 3
    only_beta = lines(two.cli("--tenant", "beta", "ops", "--json").stdout)
    assert [e["tenant"] for e in only_beta] == ["beta"] * 3
    # The table names each row's tenant when it lists several, and keeps its one-tenant form otherwise.
    table = two.cli("--all-tenants", "ops").stdout.splitlines()
    assert table[0].split()[:2] == ["TENANT", "NAME"]
    assert sorted(line.split()[0] for line in table[1:]) == ["alpha"] * 2 + ["beta"] * 3
    assert two.cli("--tenant", "beta", "ops").stdout.splitlines()[0].split()[0] == "NAME"
    assert two.cli("--tenant", "beta", "--tenant", "alpha", "ops", "--status", "complete").stdout.count("alpha") == 2
    report = two.cli("--tenant", "beta", "report", "--format", "json")
    assert report.returncode == 0, report.stderr
    rows = __import__("json").loads(report.stdout)
    rows = rows["operations"] if isinstance(rows, dict) else rows
    assert len(rows) == 3 and {r["tenant"] for r in rows} == {"beta"}
    both = __import__("json").loads(
        two.cli("--tenant", "alpha", "--tenant", "beta", "report", "--format", "json").stdout
    )
    both = both["operations"] if isinstance(both, dict) else both
    assert sorted(r["tenant"] for r in both) == ["alpha"] * 2 + ["beta"] * 3


def test_ops_summary_has_one_row_per_tenant_with_the_pulse(two: Two) -> None:
    two.export("alpha", two.alpha, 2)
    two.export("beta", two.beta, 1)
    summary = two.cli("--all-tenants", "--poll-budget", "123", "ops", "--summary", "--json")
    assert summary.returncode == 0, summary.stderr
    rows = lines(summary.stdout)
    assert [r["tenant"] for r in rows] == ["alpha", "beta"]
    assert all(tuple(r) == PULSE_FIELDS for r in rows)
    by_name = {r["tenant"]: r for r in rows}
    assert by_name["alpha"]["unfinished"] == 2 and by_name["beta"]["unfinished"] == 1
    assert by_name["alpha"]["exports_left_today"] == 998 and by_name["beta"]["exports_left_today"] == 999
    assert all(r["poll_budget"] == 123 and r["polls_this_hour"] >= 1 for r in rows)
    text = two.cli("--all-tenants", "ops", "--summary")
    assert text.returncode == 0 and "alpha" in text.stdout and "beta" in text.stdout and "EXPORTS LEFT" in text.stdout


def test_a_failing_token_sets_one_tenant_aside_and_the_other_keeps_polling(two: Two) -> None:
    two.export("alpha", two.alpha, 2)
    two.export("beta", two.beta, 2)
    two.beta.tokens.expire_all()  # beta's token is refused from now on (401)
    watched = two.cli("--tenant", "alpha", "--tenant", "beta", "watch", "--json")
    assert watched.returncode == 1, watched.stderr
    assert "tenant beta: set aside" in watched.stderr
    events = lines(watched.stdout)
    done = {e["userId"] for e in events if e["tenant"] == "alpha" and e.get("status") == "complete"}
    assert len(done) == 2
    assert not [e for e in events if e["tenant"] == "beta" and e.get("status") == "complete"]
    assert len(posts(two.beta)) == 2  # nothing re-posted for the one set aside


def test_watch_without_a_tenant_resumes_those_that_sign_in_without_a_prompt(two: Two) -> None:
    two.export("alpha", two.alpha, 1)
    two.export("beta", two.beta, 1)
    watched = two.cli("watch", "--json", env={"BETA_TOKEN": ""})
    assert watched.returncode == 1, watched.stderr
    assert "tenant beta: cannot resume without a prompt: $BETA_TOKEN is not set" in watched.stderr
    events = lines(watched.stdout)
    assert {e["tenant"] for e in events} == {"alpha"}
    assert any(e.get("status") == "complete" for e in events)
    text = two.cli("--tenant", "alpha", "--tenant", "beta", "watch")  # alpha final; beta still unfinished
    assert text.returncode == 0, text.stderr
    assert "tenant alpha: nothing to watch" in text.stderr and "tenant beta: watching 1 unfinished" in text.stderr
    assert "tenant beta:\n" in text.stdout


def test_token_env_in_config_is_checked_with_clear_errors(two: Two) -> None:
    with pytest.raises(ConfigError, match=r"\[tenants\.x\]: method 'token_env' needs 'token_env'"):
        SavedTenant.from_table("x", {"tenant": "t", "method": "token_env"})
    with pytest.raises(ConfigError, match=r"\[tenants\.x\]: 'token_env' must be the name of an environment variable"):
        SavedTenant.from_table("x", {"tenant": "t", "method": "token_env", "token_env": "eyJ0eXAi.abc.def"})
    with pytest.raises(ConfigError, match=r"\[tenants\.x\]: 'token_env' is used only with method 'token_env'"):
        SavedTenant.from_table("x", {"tenant": "t", "token_env": "VAR"})
    saved = load_config(Paths.resolve(two.state)).tenant("alpha")
    assert saved.method is SignInMethod.TOKEN_ENV and saved.token_env == "ALPHA_TOKEN"
    unset = two.cli("--tenant", "alpha", "profiles", env={"ALPHA_TOKEN": ""})
    assert unset.returncode == 2 and "ALPHA_TOKEN is not set" in unset.stderr
    assert two.alpha.requests == []
    secret = two.env["ALPHA_TOKEN"]
    shown = two.cli("--tenant", "alpha", "profiles", "--json")
    assert shown.returncode == 0, shown.stderr
    assert secret not in shown.stdout + shown.stderr
    config = Paths.resolve(two.state).config_file
    config.write_text(config.read_text() + '\n[tenants.broken]\ntenant = "t"\nmethod = "token_env"\n')
    done = two.cli("--tenant", "broken", "watch")
    assert done.returncode == 2
    assert "[tenants.broken]" in done.stderr and "token_env" in done.stderr and "Traceback" not in done.stderr


def test_open_fleet_gives_each_tenant_its_engine_and_a_live_pulse(two: Two, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the console builds on: ``wiring.open_fleet`` over saved tenants, one engine each, and the pulse."""
    import asyncio

    from console.wiring import ConnectionOptions, open_fleet

    for name, value in two.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GAMMA_TOKEN", "")
    save_tenant(
        Paths.resolve(two.state),
        SavedTenant(name="gamma", tenant="gamma.example", method=SignInMethod.TOKEN_ENV, token_env="GAMMA_TOKEN"),
    )
    options = ConnectionOptions(state_dir=str(two.state), poll_budget=77)

    async def scenario() -> None:
        fleet, opened = await open_fleet(options, ["alpha", "beta", "gamma"], allow_interactive=False)
        try:
            assert [s.tenant_name for s in opened] == ["alpha", "beta"]
            assert {s.tenant_key for s in opened} == {two.alpha.tenant_id, two.beta.tenant_id}
            assert [m.name for m in fleet.active()] == ["alpha", "beta"]
            assert [m.name for m in fleet.set_aside()] == ["gamma"]
            for services in opened:
                await services.engine.start(resume=True)
            alpha_engine = opened[0].engine
            alpha_engine.client.pacer.gate_until = fleet.clock.now() + 60  # Graph throttles alpha only
            pulses = {p.tenant: p for p in fleet.pulses(opened[0].journal)}
            assert pulses["alpha"].state == "throttled" and pulses["alpha"].throttled_until is not None
            assert pulses["beta"].state == "ok" and pulses["beta"].signed_in and pulses["beta"].poll_budget == 77
            assert pulses["gamma"].state == "sign-in failed" and not pulses["gamma"].signed_in
            assert "GAMMA_TOKEN is not set" in pulses["gamma"].last_error
        finally:
            for services in opened:
                await services.aclose()

    asyncio.run(scenario())


def test_a_saved_tenants_poll_budget_is_its_own_unless_the_command_line_gives_one(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from dataclasses import replace

    from console.wiring import ConnectionOptions, open_fleet

    bad: list[tuple[object, str]] = [(0, "0"), ("300", "'300'"), (True, "True")]
    for value, error in bad:
        with pytest.raises(ConfigError, match=rf"\[tenants\.x\]: 'poll_budget' must be a whole number .* not {error}"):
            SavedTenant.from_table("x", {"tenant": "t", "poll_budget": value})
    with pytest.raises(ConfigError, match=r"\[tenants\.x\]: 'poll_budget' .* from 1 to 10,000, not 10001"):
        SavedTenant.from_table("x", {"tenant": "t", "poll_budget": 10_001})
    paths = Paths.resolve(two.state)
    save_tenant(paths, replace(load_config(paths).tenant("alpha"), poll_budget=300))
    assert load_config(paths).tenant("alpha").poll_budget == 300
    assert "poll_budget = 300" in paths.config_file.read_text()
    two.export("alpha", two.alpha, 1)
    two.export("beta", two.beta, 1)
    # ops --summary: alpha's own budget, beta the default; an explicit --poll-budget wins for both.
    rows = {r["tenant"]: r["poll_budget"] for r in lines(two.cli("--all-tenants", "ops", "--summary", "--json").stdout)}
    assert rows == {"alpha": 300, "beta": 9000}
    given = lines(two.cli("--all-tenants", "ops", "--summary", "--json", "--poll-budget", "55").stdout)
    assert {r["tenant"]: r["poll_budget"] for r in given} == {"alpha": 55, "beta": 55}
    # The engines (the fleet watch's and the console's): each tenant's budget, or the one given.
    for name, value in two.env.items():
        monkeypatch.setenv(name, value)

    async def budgets(options: ConnectionOptions) -> dict[str, int]:
        fleet, opened = await open_fleet(options, ["alpha", "beta"], allow_interactive=False)
        try:
            return {m.name: m.engine.budget.per_hour for m in fleet.active() if m.engine is not None}
        finally:
            for services in opened:
                await services.aclose()

    default = ConnectionOptions(state_dir=str(two.state), poll_budget_given=False)
    assert asyncio.run(budgets(default)) == {"alpha": 300, "beta": 9000}
    explicit = ConnectionOptions(state_dir=str(two.state), poll_budget=77)
    assert asyncio.run(budgets(explicit)) == {"alpha": 77, "beta": 77}
    # The command line's own parse: --poll-budget before or after the command counts as given.
    from console.cli.parser import build_parser
    from console.cli.run import options_from

    assert not options_from(build_parser().parse_args(["--all-tenants", "watch"])).poll_budget_given
    assert options_from(build_parser().parse_args(["watch", "--poll-budget", "9"])).poll_budget_given
    assert options_from(build_parser().parse_args(["--poll-budget", "9", "watch"])).poll_budget == 9
