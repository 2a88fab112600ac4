"""Nothing hangs: a dead or unreachable Graph ends within seconds with its retries said, bad input is refused
at once, and a looping profile list stops (issue 14, item 4; issue 22, behaviours 12 and 13).

Each case runs the CLI as a process against the simulator on loopback (or a port that refuses) and checks
the exit code, the lines on stderr, that no traceback appeared, that nothing reached the simulator when
nothing may, and that the process ended well inside a loose hang guard (not a performance threshold).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.helpers import PYTHON, ROOT, Sim, child_env, strict_json

HANG_GUARD = 20.0
"""Seconds after which a case counts as hung (it takes about 3 s; the old behaviour took 60-72 s)."""
DNS_HANG_GUARD = 45.0
"""Name resolution may itself wait for a resolver's timeout before failing: a looser guard."""


@dataclass
class Ran:
    rc: int
    out: str
    err: str
    elapsed: float

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run(state_dir: Path, *args: str, env: dict[str, str] | None = None, guard: float = HANG_GUARD) -> Ran:
    argv = [PYTHON, "-m", "console", "--state-dir", str(state_dir), *args]
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=guard, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"hung for more than {guard} s: {args}\n{exc.stderr!r}") from None
    ran = Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
    for stream in (ran.out, ran.err):
        assert "Traceback (most recent call last)" not in stream, stream
    return ran


def graph_requests(sim: Sim) -> list[dict[str, object]]:
    return [r for r in sim.requests() if r.get("kind") in ("list", "get", "export", "poll")]


def test_a_closed_port_is_retried_twice_with_a_line_each_then_exits_1(tmp_path: Path, dead_port: int) -> None:
    ran = run(tmp_path / "state", "--graph-url", f"http://127.0.0.1:{dead_port}/beta", "--token-env", "T", "profiles")
    assert ran.rc == 1, ran.err
    where = f"127.0.0.1:{dead_port} (connection refused)"
    assert ran.err_lines == [
        f"WARNING console.graph: no answer from Graph for list profiles: cannot connect to {where}; retry 1 of 2 in 1 s",
        f"WARNING console.graph: no answer from Graph for list profiles: cannot connect to {where}; retry 2 of 2 in 2 s",
        f"export-console: no answer from Graph for list profiles after 3 attempts: cannot connect to {where}",
    ]


def test_a_closed_port_ends_an_export_within_seconds_and_nothing_is_journaled_as_sent(
    tmp_path: Path, dead_port: int
) -> None:
    state = tmp_path / "state"
    location = "https://acct.blob.core.windows.net/dsr-{userId}?sv=2022-11-02&ss=b&srt=co&sp=rwlc&se=2099-01-01T00:00:00Z&sig=x"
    ran = run(
        state,
        "--graph-url",
        f"http://127.0.0.1:{dead_port}/beta",
        "--token-env",
        "T",
        "export",
        "00000000-0000-0000-0000-000000000001",
        "--storage-location-env",
        "LOC",
        env={"LOC": location},
    )
    assert ran.rc == 1, ran.err
    assert sum("retry" in line for line in ran.err_lines) == 2
    assert ran.err_lines[-1].startswith("export-console: no answer from Graph")


def test_an_unresolvable_host_ends_within_seconds_naming_the_host(tmp_path: Path) -> None:
    ran = run(
        tmp_path / "state",
        "--graph-url",
        "https://graph.no-such-host.invalid/beta",
        "--token-env",
        "T",
        "profiles",
        guard=DNS_HANG_GUARD,
    )
    assert ran.rc == 1, ran.err
    assert len(ran.err_lines) == 3, ran.err
    assert "graph.no-such-host.invalid" in ran.err_lines[-1]
    assert all("retry" in line for line in ran.err_lines[:2])


@pytest.mark.parametrize("command", [["profiles"], ["watch"], []])
def test_port_zero_is_a_usage_error_at_once(tmp_path: Path, command: list[str]) -> None:
    ran = run(tmp_path / "state", "--graph-url", "http://127.0.0.1:0/beta", "--token-env", "T", *command)
    assert ran.rc == 2, ran.err
    assert len(ran.err_lines) == 1 and "port 0" in ran.err_lines[0]


@pytest.mark.parametrize("command", [["profiles"], ["watch"], []])
def test_a_token_holding_cr_lf_is_a_usage_error_at_once_and_never_sent(
    sim: Sim, tmp_path: Path, command: list[str]
) -> None:
    ran = run(
        tmp_path / "state",
        "--graph-url",
        sim.graph_url,
        "--token-env",
        "T",
        *command,
        env={"T": "eyJhbGciOiJub25lIn0.e30.\r\nX-Injected: yes"},
    )
    assert ran.rc == 2, ran.err
    assert len(ran.err_lines) == 1 and "$T" in ran.err_lines[0] and "nothing was sent" in ran.err_lines[0]
    assert "X-Injected" not in ran.err
    assert graph_requests(sim) == []


def _profiles_json(sim: Sim, tmp_path: Path, *extra: str) -> tuple[Ran, list[dict[str, object]]]:
    ran = run(tmp_path / "state", "--graph-url", sim.graph_url, "--token-env", "T", "profiles", *extra)
    rows = [strict_json(line) for line in ran.out.splitlines() if line.strip()] if "--json" in extra else []
    return ran, rows


def test_a_looping_next_link_stops_keeps_what_was_read_and_exits_1(sim: Sim, tmp_path: Path) -> None:
    sim.knobs(page_size=7, next_link_loop=True)  # 30 profiles: 7+7+7+7+2, then back to the first URL
    ran, rows = _profiles_json(sim, tmp_path, "--json")
    assert ran.rc == 1, ran.err
    ids = [row["userId"] for row in rows]
    assert len(ids) == len(set(ids)) == sim.profiles
    assert len(ran.err_lines) == 1 and "loops" in ran.err_lines[0] and "may be incomplete" in ran.err_lines[0]
    assert sum(1 for r in sim.requests() if r.get("kind") == "list") == 5


def test_a_listing_restarting_with_new_links_stops_at_the_first_repeated_page(sim: Sim, tmp_path: Path) -> None:
    sim.knobs(page_size=7, next_link_restart=True)
    ran, rows = _profiles_json(sim, tmp_path)
    assert ran.rc == 1, ran.err
    assert f"{sim.profiles} of {sim.profiles} profiles" in ran.err
    assert ran.err_lines[-1].startswith("export-console: Graph's profile list loops")
    assert sum(1 for r in sim.requests() if r.get("kind") == "list") == 6


def test_an_empty_page_carrying_a_next_link_does_not_end_the_listing(sim: Sim, tmp_path: Path) -> None:
    sim.knobs(page_size=7, empty_pages_next=2)
    ran, rows = _profiles_json(sim, tmp_path, "--json")
    assert ran.rc == 0, ran.err
    assert len({row["userId"] for row in rows}) == sim.profiles
    assert sum(1 for r in sim.requests() if r.get("kind") == "list") == 7  # 2 empty + 5 full pages


def test_profiles_search_reads_every_page(sim: Sim, tmp_path: Path) -> None:
    last = sim.user_ids(sim.profiles)  # one page of 100 still: the last id ends on the last page of 4
    sim.knobs(page_size=4)
    ran = run(tmp_path / "state", "--graph-url", sim.graph_url, "--token-env", "T", "profiles", "--search", last[-1])
    assert ran.rc == 0, ran.err
    assert last[-1] in ran.out
    assert f"1 of {sim.profiles} profiles" in ran.err
