"""``export --case REF`` opens a case never opened (received today) and says so; an open case is left alone."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import TEMPLATE, Served, graph_args, lines, run_cli


def test_export_with_a_new_case_opens_it_once(served: Served, tmp_path: Path) -> None:
    tenant, server, env = served
    env = {**env, "LOC": TEMPLATE}
    state = ["--state-dir", str(tmp_path)]
    first, second = (p.user_id for p in tenant.graph.profiles[:2])
    common = ["--storage-location-env", "LOC", "--no-storage-check", "--case", "DSR-9"]
    done = run_cli(*state, *graph_args(server), "export", first, *common, env=env)
    assert done.returncode == 0, done.stderr
    assert "case DSR-9 opened" in done.stderr
    again = run_cli(*state, *graph_args(server), "export", second, *common, env=env)
    assert again.returncode == 0, again.stderr
    assert "opened" not in again.stderr
    listed = lines(run_cli(*state, *graph_args(server), "case", "list", "--json", env=env).stdout)
    assert [(c["case"], c["state"], c["exports"], c["daysLeft"] > 27) for c in listed] == [("DSR-9", "open", 2, True)]
