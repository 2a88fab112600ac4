"""The export's storage pre-flight and delivery, against the blob stand-in served on loopback (Azurite-style)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import SAS_QUERY, SECRET, BlobServer, Served, graph_args, lines, posts, run_cli


def test_preflight_keeps_back_a_user_whose_container_is_missing(served: Served, blob: BlobServer) -> None:
    tenant, server, env = served
    ready, missing = tenant.graph.profiles[0], tenant.graph.profiles[1]
    blob.create(f"dsr-{ready.user_id}")
    done = run_cli(
        *graph_args(server),
        "export",
        ready.user_id,
        missing.user_id,
        "--storage-location-env",
        "LOC",
        "--json",
        env={**env, "LOC": blob.template()},
    )
    assert done.returncode == 1, done.stderr
    events = lines(done.stdout)
    refused = [e for e in events if e["event"] == "refused"]
    assert [e["userId"] for e in refused] == [missing.user_id] and refused[0]["state"] == "refused"
    assert "not exported" in done.stderr and missing.user_id in done.stderr
    assert {e["userId"] for e in events if e["event"] == "submitted"} == {ready.user_id}
    assert len(posts(tenant)) == 1
    assert SECRET not in done.stdout + done.stderr


def test_nothing_sent_when_every_container_is_refused_exits_2(served: Served, blob: BlobServer) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[2]
    blob.create(f"dsr-{user.user_id}")
    blob.store.put_blob(BlobServer.ACCOUNT, f"dsr-{user.user_id}", "RequestInfo.json", b"{}")
    done = run_cli(
        *graph_args(server),
        "export",
        user.user_id,
        "--storage-location-env",
        "LOC",
        env={**env, "LOC": blob.template()},
    )
    assert done.returncode == 2, done.stderr
    assert "RequestInfo.json" in done.stderr and "nothing was sent" in done.stderr
    assert not posts(tenant)
    skipped = run_cli(
        *graph_args(server),
        "export",
        user.user_id,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        env={**env, "LOC": blob.template()},
    )
    assert len(posts(tenant)) == 1, skipped.stderr


def test_storage_out_of_reach_is_a_warning_not_a_refusal(served: Served) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[3]
    unreachable = f"http://127.0.0.1:9/devacct/dsr-{{userId}}?{SAS_QUERY}"
    done = run_cli(
        *graph_args(server), "export", user.user_id, "--storage-location-env", "LOC", env={**env, "LOC": unreachable}
    )
    assert done.returncode == 0, done.stderr
    assert "warning" in done.stderr and "pre-flight" in done.stderr
    assert len(posts(tenant)) == 1


def test_delivery_is_recorded_after_completion(served: Served, blob: BlobServer) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[4]
    blob.create(f"dsr-{user.user_id}")
    done = run_cli(
        *graph_args(server),
        "export",
        user.user_id,
        "--storage-location-env",
        "LOC",
        "--wait",
        "--json",
        env={**env, "LOC": blob.template()},
    )
    assert done.returncode == 0, done.stderr
    delivered = [e for e in lines(done.stdout) if e["event"] == "delivered"]
    assert len(delivered) == 1 and delivered[0]["delivered"]["files"] >= 1
    listed = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert listed[0]["delivered"] == delivered[0]["delivered"]
    assert SECRET not in done.stdout + done.stderr


def test_sign_in_failure_after_the_checks_exits_3(served: Served, blob: BlobServer) -> None:
    """The token dies between the pre-flight and the POST: the outcome carries the 401 and the exit is 3."""
    tenant, server, env = served
    user = tenant.graph.profiles[5]
    blob.create(f"dsr-{user.user_id}")
    blob.on_request = tenant.tokens.expire_all
    done = run_cli(
        *graph_args(server),
        "export",
        user.user_id,
        "--storage-location-env",
        "LOC",
        "--json",
        env={**env, "LOC": blob.template()},
    )
    assert done.returncode == 3, done.stderr
    assert [e["state"] for e in lines(done.stdout)] == ["rejected"]
    assert len(posts(tenant)) >= 1 and "Traceback" not in done.stderr


def test_secrets_audit_of_a_whole_cli_session(
    served: Served, blob: BlobServer, isolated_state: Path, tmp_path: Path
) -> None:
    """A known SAS signature and bearer token, through every command: in no output, log, journal or report."""
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[30:33]]
    for user in users:
        blob.create(f"dsr-{user}")
    token = env["SIM_TOKEN"]
    session = [
        ["--debug", *graph_args(server), "profiles", "--json"],
        [
            "--debug",
            *graph_args(server),
            "export",
            users[0],
            "--storage-location",
            blob.template(),
            "--wait",
            "--json",
            "--case",
            "DSR-5",
        ],
        ["--debug", *graph_args(server), "export", users[1], "--storage-location-env", "LOC", "--case", "DSR-5"],
        ["--debug", *graph_args(server), "export", users[2], "--storage-location-file", "-", "--case", "DSR-5"],
        ["--debug", "-v", "-v", *graph_args(server), "watch", "--json"],
        ["--debug", *graph_args(server), "ops", "--json"],
        ["--debug", *graph_args(server), "ops"],
        ["--debug", *graph_args(server), "note", "1", f"pasted {blob.template()} by mistake"],
        ["--debug", *graph_args(server), "report", "--format", "md", "--output", str(tmp_path / "r.md")],
        ["--debug", *graph_args(server), "report", "--format", "csv"],
        ["--debug", *graph_args(server), "report", "--format", "json"],
    ]
    printed = []
    for args in session:
        done = run_cli(*args, env={**env, "LOC": blob.template()}, stdin=blob.template() + "\n")
        assert done.returncode == 0, (args, done.stderr)
        printed.append(done.stdout + done.stderr)
    files = [p for p in [*isolated_state.rglob("*"), tmp_path / "r.md"] if p.is_file()]
    assert any(p.name.startswith("journal") for p in files) and any(p.suffix == ".log" for p in files)
    secrets = [SECRET, token, token.split(".")[-1]]
    for text in printed:
        assert not any(s in text for s in secrets)
    for path in files:
        data = path.read_bytes()
        assert not any(s.encode() in data for s in secrets), path
    assert "sig=" in (tmp_path / "r.md").read_text()  # the location is in the report, masked


RULE_CASES = {
    "no sp": (
        "https://acct.blob.core.windows.net/exports?sv=2022-11-02&se=2099-01-01&sig=CLISECRETSIGNATURE99",
        "(sp)",
    ),
    "st in the future": (f"https://acct.blob.core.windows.net/exports?{SAS_QUERY}&st=2098-01-01T00:00:00Z", "(st)"),
    "another host": (f"https://acct.blob.core.windows.net.evil.invalid/exports?{SAS_QUERY}", "Azure Blob endpoint"),
    "a nested path": (f"https://acct.blob.core.windows.net/exports/sub?{SAS_QUERY}", "exactly one container"),
    "100,000 characters": (f"https://acct.blob.core.windows.net/exports?{SAS_QUERY}&x={'a' * 100_000}", "2,048"),
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_no_storage_check_never_skips_the_storage_rules(served: Served, case: str) -> None:
    tenant, server, env = served
    location, rule = RULE_CASES[case]
    user = tenant.graph.profiles[5]
    done = run_cli(
        *graph_args(server),
        "export",
        user.user_id,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        env={**env, "LOC": location},
    )
    assert done.returncode == 2, done.stderr
    assert rule in done.stderr and "nothing was sent" in done.stderr
    assert len(done.stderr.splitlines()) <= 3 and "Traceback" not in done.stderr
    assert SECRET not in done.stderr
    assert not posts(tenant)


def test_the_storage_rules_refuse_before_sign_in(served: Served) -> None:
    tenant, server, _env = served
    location, rule = RULE_CASES["no sp"]
    done = run_cli(
        "--graph-url",
        server.graph_url,
        "--token-env",
        "NO_SUCH_TOKEN",
        "export",
        tenant.graph.profiles[5].user_id,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        env={"LOC": location},
    )
    assert done.returncode == 2, done.stderr
    assert rule in done.stderr
    assert not tenant.requests


@pytest.mark.parametrize("flag", [[], ["--no-storage-check"]])
def test_a_template_resolving_two_users_to_one_container_is_refused(
    served: Served, blob: BlobServer, flag: list[str]
) -> None:
    tenant, server, env = served
    first, second = tenant.graph.profiles[6], tenant.graph.profiles[7]
    done = run_cli(
        *graph_args(server),
        "export",
        first.user_id,
        second.user_id,
        "--storage-location-env",
        "LOC",
        *flag,
        env={**env, "LOC": f"{blob.base}/dsr-{{date}}?{SAS_QUERY}"},
    )
    assert done.returncode == 2, done.stderr
    assert "same container" in done.stderr and "nothing was sent" in done.stderr
    assert not posts(tenant)


def test_no_storage_check_skips_delivery_checks_too(served: Served, blob: BlobServer) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[8]
    blob.create(f"dsr-{user.user_id}")

    def reads() -> list[str]:  # the console lists; Graph itself only reads RequestInfo.json and PUTs files
        return [r.url for r in blob.store.requests if "comp=list" in r.url]

    done = run_cli(
        *graph_args(server),
        "export",
        user.user_id,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        "--wait",
        "--json",
        env={**env, "LOC": blob.template()},
    )
    assert done.returncode == 0, done.stderr
    assert any(e.get("status") == "complete" for e in lines(done.stdout))
    assert not reads()  # neither a pre-flight nor a delivery listing reached storage
    checked = run_cli(
        *graph_args(server),
        "export",
        tenant.graph.profiles[9].user_id,
        "--storage-location-env",
        "LOC",
        "--wait",
        env={**env, "LOC": blob.template("dsr-")},
    )
    assert reads(), checked.stderr  # without the flag, storage is checked (the test can fail)


def test_the_first_post_leaves_before_every_container_is_checked(served: Served, blob: BlobServer) -> None:
    """Pre-flight and submission are a pipeline: checks run a bounded window ahead of the POSTs (issue 15),
    a refused container is still kept back and reported, and every other user is exported."""
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[20:60]]
    for user in users[:-1]:
        blob.create(f"pipe-{user}")
    posts_seen: list[int] = []  # POSTs Graph had received when each pre-flight listing came in
    blob.on_each = lambda r: posts_seen.append(len(posts(tenant))) if "prefix=RequestInfo" in str(r.url) else None
    done = run_cli(
        *graph_args(server),
        "export",
        "--from-file",
        "-",
        "--storage-location-env",
        "LOC",
        "--json",
        stdin="\n".join(users) + "\n",
        env={**env, "LOC": blob.template("pipe-")},
    )
    assert done.returncode == 1, done.stderr
    assert len(posts_seen) == len(users) and posts_seen[-1] > 0, posts_seen  # the last checked after a POST
    assert [e["userId"] for e in lines(done.stdout) if e["event"] == "refused"] == [users[-1]]
    assert "not exported" in done.stderr and users[-1] in done.stderr
    assert len(posts(tenant)) == len(users) - 1
    assert {r.operation_id is not None for r in posts(tenant)} == {True}
