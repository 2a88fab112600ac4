"""The CLI contract, one promise per test, through a subprocess against the simulated tenant on loopback.

Exit codes, valid JSON, escaping of tenant data, the Graph URL rules, bounded input, the poll-budget
warning, the stop signals, never-double (--force, unconfirmed in watch and ops), the three storage
options, templates, the SAS rules, StorageLocationAlreadyUsed, ops --status/--case, note, report, --debug.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from console.ops.journal import OperationJournal
from console.sim.profiles import SimulatedProfile
from console.sim.tenant import SimulatedTenant
from tests.cli.conftest import (
    SAS,
    SAS_QUERY,
    SECRET,
    TEMPLATE,
    Served,
    child_env,
    graph_args,
    lines,
    polls,
    posts,
    run_cli,
    wait_for_polls,
)

EVIL = "Mallory \x1b[2J\x1b]0;owned\x07\u202eevil\x9b31m"


def put_profile(tenant: SimulatedTenant, index: int, **changes: str) -> SimulatedProfile:
    """Change one simulated profile in place (its name, its UPN) and return it."""
    graph = tenant.graph
    old = graph._profiles[index]
    new = replace(old, **changes)
    graph._profiles[index] = new
    graph._by_id[new.user_id] = new
    return new


def export(
    server_args: list[str], *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_cli(*server_args, "export", *args, env=env, timeout=timeout)


def with_loc(env: dict[str, str], location: str = TEMPLATE) -> dict[str, str]:
    return {**env, "LOC": location}


def no_raw_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in text)


# -- exit codes ---------------------------------------------------------------------------------------


def test_permission_error_inside_export_exits_3(served: Served) -> None:
    tenant, server, env = served
    tenant.graph.faults.forbid_all = True
    done = export(graph_args(server), tenant.graph.profiles[0].user_id, "--storage-location", "acctone", env=env)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and not posts(tenant)


def test_poll_permission_lost_during_wait_exits_3(served: Served) -> None:
    tenant, server, env = served
    tenant.graph.faults.forbid_polls = True
    done = export(
        graph_args(server), tenant.graph.profiles[0].user_id, "--storage-location", "acctone", "--wait", env=env
    )
    assert done.returncode == 3, done.stderr
    assert "User.Export.All" in done.stderr


def test_unconfirmed_export_exits_1_and_watch_lists_it_and_exits_1(served: Served) -> None:
    from console.sim.knobs import RequestMatch

    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[:2]]
    tenant.graph.faults.fail(50, 503, only=RequestMatch("POST", "exportPersonalData"))
    done = export(graph_args(server), users[0], "--storage-location", "acctone", "--json", env=env)
    assert done.returncode == 1, done.stderr
    assert [e["state"] for e in lines(done.stdout)] == ["unconfirmed"]
    tenant.graph.faults.reset()
    fine = export(graph_args(server), users[1], "--storage-location", "accttwo", env=env)
    assert fine.returncode == 0, fine.stderr
    watched = run_cli(*graph_args(server), "watch", "--json", env=env)
    assert watched.returncode == 1, watched.stderr
    events = lines(watched.stdout)
    assert [(e["userId"], e["state"]) for e in events if e["state"] == "unconfirmed"] == [(users[0], "unconfirmed")]
    text = run_cli(*graph_args(server), "watch", env=env)
    assert text.returncode == 1
    assert sum(1 for line in text.stderr.splitlines() if line.startswith("unconfirmed:")) == 1
    assert users[0] in text.stderr


# -- JSON and escaping ------------------------------------------------------------------------------


def test_tenant_text_is_escaped_in_tables_and_messages(served: Served) -> None:
    tenant, server, env = served
    evil = put_profile(tenant, 0, display_name=EVIL, user_principal_name="m\x1b[31m@fabrikam.com")
    table = run_cli(*graph_args(server), "profiles", "--search", "mallory", env=env)
    assert table.returncode == 0, table.stderr
    assert no_raw_controls(table.stdout) and no_raw_controls(table.stderr)
    assert "\\x1b[2J" in table.stdout and "\\u202e" in table.stdout
    as_json = lines(run_cli(*graph_args(server), "profiles", "--search", "mallory", "--json", env=env).stdout)
    assert as_json[0]["displayName"] == EVIL  # data kept exact in JSON (escaped by the encoding)
    unknown = export(graph_args(server), "bad\x1b]0;title\x07id", "--storage-location", "acctone", env=env)
    assert unknown.returncode == 2 and no_raw_controls(unknown.stderr) and "\\x1b" in unknown.stderr
    done = export(graph_args(server), evil.user_id, "--storage-location", "acctone", "--wait", env=env)
    assert done.returncode == 0, done.stderr
    ops = run_cli(*graph_args(server), "ops", env=env)
    assert no_raw_controls(ops.stdout + ops.stderr)


def test_non_finite_progress_is_null_in_json() -> None:
    from console.cli.output import json_text
    from console.cli.views import view_json
    from console.ops.events import OperationView

    view = OperationView(
        1, "t", "u", "op", None, "acct", "tracking", "running", float("nan"), None, None, 0.0, None, "", 1
    )
    line = json_text(view_json(view, event="progress") | {"extra": [float("inf"), -float("inf")]})
    data = json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert data["progress"] is None and data["extra"] == [None, None]


def test_nan_and_infinity_from_graph_never_reach_the_json(served: Served) -> None:
    from console.sim.knobs import POLLS

    tenant, server, env = served
    tenant.graph.faults.spoil(1, "nan", only=POLLS)
    done = export(
        graph_args(server),
        tenant.graph.profiles[7].user_id,
        "--storage-location",
        "acctnan",
        "--wait",
        "--json",
        env=env,
    )
    tenant.graph.faults.spoil(1, "infinity", only=POLLS)
    other = export(
        graph_args(server),
        tenant.graph.profiles[8].user_id,
        "--storage-location",
        "acctinf",
        "--wait",
        "--json",
        env=env,
    )
    for run in (done, other):
        assert "Traceback" not in run.stderr
        assert lines(run.stdout)  # every line strict JSON (NaN/Infinity refused by the parser)
        assert "NaN" not in run.stdout and "Infinity" not in run.stdout
    assert lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)


def test_escaping_of_every_control_character() -> None:
    from console.cli.output import clean

    assert clean("a\x1b[31mb\x07c\x9bd\x7fe\u202ef\u2028g") == "a\\x1b[31mb\\x07c\\x9bd\\x7fe\\u202ef\\u2028g"
    assert clean("García Ñandú 李") == "García Ñandú 李"


# -- the Graph URL, input bounds, the budget warning -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("https://graph.microsoft.com", "version"),
        ("https://graph.microsoft.com/", "version"),
        ("https://admin:hunter2@graph.microsoft.com/beta", "user name or password"),
        ("https://graph.microsoft.com:99999/beta", "port"),
    ],
)
def test_graph_url_must_be_complete_and_credential_free(url: str, words: str) -> None:
    done = run_cli("--graph-url", url, "--token-env", "T", "profiles", env={"T": "x"})
    assert done.returncode == 2
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "hunter2" not in done.stderr


def test_from_file_reads_a_bounded_amount() -> None:
    started = time.monotonic()
    done = run_cli("--demo", "export", "--from-file", "/dev/zero", "--storage-location", "acctone", timeout=60)
    assert done.returncode == 2
    assert "larger than 10 MB" in done.stderr
    assert time.monotonic() - started < 60


def test_poll_budget_above_graphs_limit_warns(served: Served) -> None:
    _tenant, server, env = served
    done = run_cli("--poll-budget", "20000", *graph_args(server), "ops", env=env)
    assert done.returncode == 0
    assert "10,000" in done.stderr and "warning" in done.stderr
    quiet = run_cli("--poll-budget", "9000", *graph_args(server), "ops", env=env)
    assert "warning" not in quiet.stderr


# -- signals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 130), (signal.SIGHUP, 130), (signal.SIGINT, 130)])
def test_stop_signals_flush_the_journal_and_print_the_resume_hint(served: Served, signum: int, code: int) -> None:
    tenant, server, env = served
    tenant.graph.config.export_duration = 60.0
    users = [p.user_id for p in tenant.graph.profiles[40:44]]
    submitted = export(
        graph_args(server), *users, "--storage-location-env", "LOC", "--no-storage-check", env=with_loc(env)
    )
    assert submitted.returncode == 0, submitted.stderr
    polled = polls(tenant)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "console", *graph_args(server), "watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(env),
    )
    assert watcher.stderr is not None
    first = watcher.stderr.readline()
    assert "watching 4" in first, first
    wait_for_polls(tenant, polled + 1)  # stopped while it polls (a state, not a time)
    watcher.send_signal(signum)
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == code, err
    assert "export-console watch" in err and "Traceback" not in err
    listed = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert len(listed) == 4 and {e["state"] for e in listed} == {"tracking"}
    assert all(e["operationId"] for e in listed)


# -- never double -----------------------------------------------------------------------------------


def test_export_refuses_users_with_an_unfinished_export_unless_forced(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    tenant.graph.config.export_duration = 60.0
    users = [p.user_id for p in tenant.graph.profiles[50:53]]
    first = export(
        graph_args(server), *users[:2], "--storage-location-env", "LOC", "--no-storage-check", env=with_loc(env)
    )
    assert first.returncode == 0, first.stderr
    again = export(graph_args(server), *users, "--storage-location-env", "LOC", "--no-storage-check", env=with_loc(env))
    assert again.returncode == 2
    assert users[0] in again.stderr and users[1] in again.stderr and "--force" in again.stderr
    assert len(posts(tenant)) == 2
    forced = run_cli(*graph_args(server), "export", users[0], "--storage-location", "acctforced", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert len(posts(tenant)) == 3
    assert "exporting again" in forced.stderr
    journal = OperationJournal(isolated_state / "journal.sqlite3")
    try:
        rows = journal.rows()
    finally:
        journal.close()
    earliest = next(r for r in rows if r.user_id == users[0])
    assert rows[-1].user_id == users[0] and rows[-1].previous_key == earliest.key


def test_users_are_checked_with_one_paged_listing(served: Served) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[60:66]]
    tenant.graph.requests.clear()
    done = export(
        graph_args(server), *users, "--storage-location-env", "LOC", "--no-storage-check", "--json", env=with_loc(env)
    )
    assert done.returncode == 0, done.stderr
    gets = [r for r in tenant.requests if r.method == "GET" and "inboundSharedUserProfiles/" in r.path]
    listings = [r for r in tenant.requests if r.method == "GET" and r.path.endswith("inboundSharedUserProfiles")]
    assert gets == [] and len(listings) == 3  # 120 profiles, 50 a page
    submitted = [e for e in lines(done.stdout) if e["event"] == "submitted"]
    profile = tenant.graph.profiles[60]
    mine = next(e for e in submitted if e["userId"] == profile.user_id)
    assert mine["displayName"] == profile.display_name and mine["userPrincipalName"] == profile.user_principal_name


def test_ops_and_watch_show_a_crash_leftover_as_unconfirmed(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    user = tenant.graph.profiles[70].user_id
    journal = OperationJournal(isolated_state / "journal.sqlite3")
    journal.record_intent(tenant.tenant_id, user, "acctleft", time.time() - 5, owner="dead-process-id")
    journal.close()
    listed = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert [(e["userId"], e["state"], e["status"]) for e in listed] == [(user, "unconfirmed", "unconfirmed")]
    table = run_cli(*graph_args(server), "ops", env=env)
    assert "unconfirmed" in table.stdout and "submitting" not in table.stdout
    only = lines(run_cli(*graph_args(server), "ops", "--status", "unconfirmed", "--json", env=env).stdout)
    assert len(only) == 1
    watched = run_cli(*graph_args(server), "watch", env=env)
    assert watched.returncode == 1 and "unconfirmed:" in watched.stderr
    finished = run_cli(*graph_args(server), "note", "1", "--resolve", "the portal shows no export", env=env)
    assert finished.returncode == 0, finished.stderr
    assert [e["state"] for e in lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)] == ["resolved"]
    assert run_cli(*graph_args(server), "watch", env=env).returncode == 0
    again = run_cli(*graph_args(server), "note", "1", "--resolve", "twice", env=env)
    assert again.returncode == 2 and "only an unconfirmed export" in again.stderr


# -- storage ---------------------------------------------------------------------------------------


def test_the_three_storage_options(served: Served, tmp_path: Path) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[80:84]]
    loc_file = tmp_path / "loc.txt"
    loc_file.write_text("\n\n" + TEMPLATE + "\nignored\n")
    from_env = export(
        graph_args(server), users[0], "--storage-location-env", "LOC", "--no-storage-check", env=with_loc(env)
    )
    from_file = export(
        graph_args(server), users[1], "--storage-location-file", str(loc_file), "--no-storage-check", env=env
    )
    from_stdin = run_cli(
        *graph_args(server),
        "export",
        users[2],
        "--storage-location-file",
        "-",
        "--no-storage-check",
        env=env,
        stdin="\n" + TEMPLATE + "\n",
    )
    for done in (from_env, from_file, from_stdin):
        assert done.returncode == 0, done.stderr
        assert "ps" not in done.stderr and SECRET not in done.stderr
    on_argv = export(graph_args(server), users[3], "--storage-location", TEMPLATE, "--no-storage-check", env=env)
    assert on_argv.returncode == 0, on_argv.stderr
    warnings = [line for line in on_argv.stderr.splitlines() if "`ps`" in line]
    assert len(warnings) == 1 and SECRET not in on_argv.stderr
    both = export(
        graph_args(server), users[3], "--storage-location", "acct", "--storage-location-env", "LOC", env=with_loc(env)
    )
    neither = export(graph_args(server), users[3], env=env)
    unset = export(graph_args(server), users[3], "--storage-location-env", "NO_SUCH_LOC_VAR", env=env)
    for done in (both, neither, unset):
        assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "NO_SUCH_LOC_VAR" in unset.stderr
    two_stdins = export(graph_args(server), "--from-file", "-", "--storage-location-file", "-", env=env)
    assert two_stdins.returncode == 2 and "standard input" in two_stdins.stderr
    assert len(posts(tenant)) == 4


def test_template_names_the_profile_that_breaks_the_container_rule(served: Served) -> None:
    tenant, server, env = served
    good = tenant.graph.profiles[90]
    bad = put_profile(tenant, 91, user_principal_name="a" * 70 + "@fabrikam.com")
    upn_template = f"https://acct.blob.core.windows.net/dsr-{{upn}}?{SAS_QUERY}"
    done = export(
        graph_args(server),
        good.user_id,
        bad.user_id,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        env=with_loc(env, upn_template),
    )
    assert done.returncode == 2
    assert bad.user_id in done.stderr or bad.user_principal_name in done.stderr
    assert not posts(tenant)


def test_an_expired_sas_is_refused_before_anything_is_sent(served: Served) -> None:
    tenant, server, env = served
    expired = TEMPLATE.replace("se=2099-01-01T00:00:00Z", "se=2020-01-01T00:00:00Z")
    tenant.graph.requests.clear()
    done = export(
        graph_args(server),
        tenant.graph.profiles[0].user_id,
        "--storage-location-env",
        "LOC",
        env=with_loc(env, expired),
    )
    assert done.returncode == 2
    assert "se" in done.stderr and SECRET not in done.stderr
    assert tenant.requests == []  # not even signed in or listed


def test_a_reused_location_is_explained(served: Served) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[100:102]]
    done = export(
        graph_args(server),
        *users,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        "--json",
        env=with_loc(env, SAS),
    )
    assert done.returncode == 1, done.stderr
    assert "one export per storage location" in done.stderr  # warned before sending
    rejected = [e for e in lines(done.stdout) if e["state"] == "rejected"]
    assert len(rejected) == 1
    assert "RequestInfo.json" in rejected[0]["error"] and "{userId}" in rejected[0]["error"]
    table = run_cli(*graph_args(server), "ops", env=env)
    assert "StorageLocationAlreadyUsed" in table.stdout or "already been used" in table.stdout


# -- ops, note, report ----------------------------------------------------------------------------


def test_ops_status_uses_the_one_vocabulary(served: Served) -> None:
    tenant, server, env = served
    export(
        graph_args(server),
        tenant.graph.profiles[0].user_id,
        "--storage-location",
        "acctone",
        "--case",
        "DSR-1",
        "--wait",
        env=env,
    )
    bogus = run_cli(*graph_args(server), "ops", "--status", "bogus", env=env)
    assert bogus.returncode == 2 and "unfinished" in bogus.stderr and "problem" in bogus.stderr
    assert len(lines(run_cli(*graph_args(server), "ops", "--status", "finished", "--json", env=env).stdout)) == 1
    assert lines(run_cli(*graph_args(server), "ops", "--status", "unfinished", "--json", env=env).stdout) == []
    by_case = lines(run_cli(*graph_args(server), "ops", "--case", "DSR-1", "--json", env=env).stdout)
    assert [e["case"] for e in by_case] == ["DSR-1"]
    assert lines(run_cli(*graph_args(server), "ops", "--case", "DSR-2", "--json", env=env).stdout) == []


def test_note_by_operation_id_or_row_and_the_report(served: Served, tmp_path: Path) -> None:
    tenant, server, env = served
    users = [p.user_id for p in tenant.graph.profiles[110:112]]
    done = export(
        graph_args(server),
        *users,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        "--case",
        "DSR-77",
        "--wait",
        "--json",
        env=with_loc(env),
    )
    assert done.returncode == 0, done.stderr
    op_id = next(e["operationId"] for e in lines(done.stdout) if e["userId"] == users[0])
    by_id = run_cli(*graph_args(server), "note", op_id, "called the requester", env=env)
    assert by_id.returncode == 0, by_id.stderr
    by_row = run_cli(*graph_args(server), "note", "2", f"sent the link ...&sig={SECRET}", env=env)
    assert by_row.returncode == 0, by_row.stderr
    missing = run_cli(*graph_args(server), "note", "no-such-operation", "x", env=env)
    assert missing.returncode == 2
    before = len(tenant.requests)
    # The report needs no token and no network: an unset token variable and a closed port.
    offline = ["--graph-url", "http://127.0.0.1:9/beta", "--token-env", "NO_TOKEN_HERE"]
    out = tmp_path / "r.csv"
    report = run_cli(*offline, "report", "--case", "DSR-77", "--format", "csv", "--output", str(out), env=env)
    assert report.returncode == 0, report.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 2 and {r["case"] for r in rows} == {"DSR-77"}
    first = next(r for r in rows if r["userId"] == users[0])
    assert first["operationId"] == op_id and first["status"] == "complete"
    assert first["exportRequestId"] and first["finalRequestId"] and first["submittedBy"]
    assert "called the requester" in first["notes"]
    second = next(r for r in rows if r["userId"] == users[1])
    assert "sent the link" in second["notes"]
    as_json = run_cli(*offline, "report", "--format", "json", env=env)
    assert len(json.loads(as_json.stdout)) == 2
    md = run_cli(*offline, "report", "--case", "DSR-77", env=env)
    assert md.stdout.startswith("# Evidence report: case DSR-77") and "2 complete" in md.stdout
    assert SECRET not in out.read_text() + as_json.stdout + md.stdout
    since = run_cli(*offline, "report", "--since", "2999-01-01", "--format", "json", env=env)
    assert json.loads(since.stdout) == []
    bad_since = run_cli(*offline, "report", "--since", "last tuesday", env=env)
    assert bad_since.returncode == 2
    assert len(tenant.requests) == before


# -- --debug, --version, --help, simulate -----------------------------------------------------------


def test_debug_log_is_private_redacted_and_announced(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    done = export(
        ["--debug", *graph_args(server)],
        tenant.graph.profiles[5].user_id,
        "--storage-location-env",
        "LOC",
        "--no-storage-check",
        "--wait",
        env=with_loc(env),
    )
    assert done.returncode == 0, done.stderr
    log = isolated_state / "logs" / "export-console-debug.log"
    assert [line for line in done.stderr.splitlines() if "debug log" in line] == [f"debug log: {log}"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert text.strip() and SECRET not in text and env["SIM_TOKEN"] not in text
    assert "console." in text


def test_debug_filter_masks_messages_and_arguments(tmp_path: Path) -> None:
    import logging

    from console.debuglog import close_debug_logs, setup_debug_log

    path = setup_debug_log(tmp_path)
    try:
        logger = logging.getLogger("console.test")
        logger.debug(
            "location %s and header %s",
            f"https://a.blob.core.windows.net/c?sig={SECRET}",
            "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        )
        try:
            raise ValueError(f"failed for https://x/c?sv=1&sig={SECRET}")
        except ValueError:
            logger.exception("boom")
    finally:
        close_debug_logs()
    text = path.read_text()
    assert "location https://a.blob.core.windows.net/c?sig=" in text and "boom" in text
    assert SECRET not in text and "eyJzdWIiOiJ4In0" not in text


def test_version_and_every_help_has_an_example_and_the_exit_codes() -> None:
    from console import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"export-console {__version__}"
    for command in ([], ["profiles"], ["export"], ["watch"], ["ops"], ["note"], ["report"], ["simulate"]):
        shown = run_cli(*command, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "example" in shown.stdout and "exit codes:" in shown.stdout and "130" in shown.stdout


def test_simulate_serves_and_stops_on_ctrl_c() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "console", "simulate", "--port", "0", "--profiles", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert server.stdout is not None
    try:
        seen = [server.stdout.readline() for _ in range(3)]
        graph_url = next(line.split(": ", 1)[1].strip() for line in seen if line.startswith("graph url:"))
        token = next(line.split(": ", 1)[1].strip() for line in seen if line.startswith("token:"))
        listed = run_cli("--graph-url", graph_url, "--token-env", "T", "profiles", "--json", env={"T": token})
        assert listed.returncode == 0, listed.stderr
        assert len(lines(listed.stdout)) == 5
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=20)
    assert server.returncode == 0


def test_the_readme_exit_codes_are_the_codes_of_the_code() -> None:
    from console.cli.exitcodes import exit_codes_markdown

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- exit-codes:start -->\n", "\n<!-- exit-codes:end -->"
    assert start in readme and end in readme
    assert readme.split(start, 1)[1].split(end, 1)[0] == exit_codes_markdown()


def test_simulate_exposes_the_fault_knobs() -> None:
    shown = run_cli("simulate", "--help")
    assert "--storm" in shown.stdout and "--knob" in shown.stdout
    bad = run_cli("simulate", "--port", "0", "--knob", "no_such_knob_xyz=1", timeout=30)
    assert bad.returncode == 2 and "no_such_knob_xyz" in bad.stderr and "Traceback" not in bad.stderr


def test_outcome_exit_codes_come_from_the_typed_failure() -> None:
    from console.auth.errors import SignInError
    from console.cli.exitcodes import exit_code_for_exception, outcome_exit_code, worst
    from console.graph import errors
    from console.ops.events import SubmitFailure, SubmitOutcome

    signin = SignInError("the refresh token expired", answer={"error_codes": [700082]})
    assert outcome_exit_code(SubmitOutcome("u", None, SubmitFailure(str(signin), signin))) == 3
    assert outcome_exit_code(SubmitOutcome("u", None, SubmitFailure("refused"))) == 1
    assert outcome_exit_code(SubmitOutcome("u", None)) == 0
    assert exit_code_for_exception(errors.PermissionDenied("no role")) == 3
    assert exit_code_for_exception(errors.QuotaExceeded("too many")) == 2
    assert (
        exit_code_for_exception(ValueError("bad")) == 1
    )  # a bug is not a usage error (issue 14): only the project's own types are
    assert worst([0, 1, 3, 2]) == 3 and worst([0, 1]) == 1 and worst([]) == 0


def test_journal_intact_after_ctrl_c_during_export(served: Served) -> None:
    """Ctrl+C while exports are submitted: every row the journal holds is readable, none lost."""
    tenant, server, env = served
    tenant.graph.faults.delay = 0.4
    users = [p.user_id for p in tenant.graph.profiles[10:30]]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            *graph_args(server),
            "export",
            *users,
            "--storage-location-env",
            "LOC",
            "--no-storage-check",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(with_loc(env)),
    )
    deadline = time.monotonic() + 30
    while len(posts(tenant)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "export-console watch" in err and "Traceback" not in err
    tenant.graph.faults.delay = 0.0
    listed = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert listed and {e["state"] for e in listed} <= {"tracking", "unconfirmed", "final"}
    journalled = {e["operationId"] for e in listed if e["operationId"]}
    unconfirmed = {e["userId"] for e in listed if e["state"] == "unconfirmed"}
    # Every export Graph accepted is in the journal: tracked with its id, or unconfirmed when the 202 was cut off.
    for op_id in tenant.graph.operation_ids():
        record = tenant.graph.operation(op_id)
        assert record is not None
        assert op_id in journalled or record["userId"] in unconfirmed, op_id
    assert len(listed) == len(posts(tenant)) or len(listed) >= len(tenant.graph.operation_ids())


def test_device_code_text_from_entra_is_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli.run import _device_code

    _device_code("To sign in, open https://microsoft.com/devicelogin\x1b[2J and enter ABCD-EFGH\nthen come back")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err and err.splitlines()[1] == "then come back"


def test_a_crash_leftover_can_be_resolved_without_watching_first(served: Served, isolated_state: Path) -> None:
    tenant, server, env = served
    journal = OperationJournal(isolated_state / "journal.sqlite3")
    row = journal.record_intent(
        tenant.tenant_id, tenant.graph.profiles[71].user_id, "acct", time.time(), owner="dead-process-id"
    )
    journal.close()
    done = run_cli(*graph_args(server), "note", str(row.key), "--resolve", "no export in the portal", env=env)
    assert done.returncode == 0, done.stderr
    listed = lines(run_cli(*graph_args(server), "ops", "--json", env=env).stdout)
    assert [e["state"] for e in listed] == ["resolved"]
    report = json.loads(run_cli(*graph_args(server), "report", "--format", "json", env=env).stdout)
    assert report[0]["status"] == "resolved" and "no export in the portal" in report[0]["notes"][0]["text"]


def test_export_wait_never_exits_0_while_an_operation_still_runs() -> None:
    from types import SimpleNamespace

    from console.cli.exitcodes import EXIT_FAILED, EXIT_OK, exit_code_for_views

    done = SimpleNamespace(state="final", status="complete")
    running = SimpleNamespace(state="tracking", status="running")
    assert exit_code_for_views([done, done], waited=True) == EXIT_OK
    # --wait returned (a fatal error, an interrupt) with one still running: not "all complete".
    assert exit_code_for_views([done, running], waited=True) == EXIT_FAILED
    # Without --wait a running export is the expected outcome.
    assert exit_code_for_views([done, running], waited=False) == EXIT_OK
