"""Issue 14's tally, measured again: fault runs, bad inputs and processes meeting, with the issue's rows.

    PYTHONPATH=$PWD python scripts/probe_issue14.py [--quick] [--verbose]

Everything runs on loopback against the simulator (``export-console simulate`` or this script's own
hostile-tenant server, ``--serve-hostile``), each run in a temporary state dir; nothing reaches Microsoft.
Every CLI run is a real process. It counts, over all runs:

- lost: exports Graph accepted that are neither journalled under their id nor an unconfirmed row of their user;
- duplicated: an operation id journalled twice, or a user with more accepted exports than journal rows;
- early polls: polls the simulator recorded before the previous answer's Retry-After had passed;
- tracebacks: "Traceback" or "Exception ignored" on stdout or stderr;
- wrong exit codes: an exit code outside what the case documents (usage errors: 2, one stderr line, nothing sent);
- secrets in clear: the known SAS signature or bearer token in any output, or in any file of the state dir;
- escapes reaching a terminal: a raw C0/C1/DEL/bidi/line-separator character in stdout, stderr or a report file;
- hangs: a run that had not ended within its guard (it is then killed).

Not part of the pytest suite: it takes a few minutes. ``--quick`` runs a smaller set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.cli.test_exit_codes import unusable_state_dirs  # noqa: E402
from tests.e2e.helpers import (  # noqa: E402
    PYTHON,
    SAS_SIG,
    TOKEN,
    Sim,
    child_env,
    early_polls,
    location_template,
    reserve_dead_port,
)
from tests.hostile import ESCAPES, leaks  # noqa: E402

SECRETS = (SAS_SIG, TOKEN, quote(SAS_SIG, safe=""), SAS_SIG.lower())
GUARD = 60.0
"""Seconds after which a run counts as hung and is killed."""
ROWS = (
    "runs",
    "lost",
    "duplicated",
    "early polls",
    "tracebacks",
    "wrong exit codes",
    "usage errors not one line",
    "sent on a usage error",
    "secrets in clear",
    "escapes reaching a terminal",
    "hangs",
)


@dataclass
class Ran:
    name: str
    argv: list[str]
    rc: int | None
    out: str
    err: str
    seconds: float


@dataclass
class Tally:
    section: str
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def bad(self, row: str, what: str, n: int = 1) -> None:
        if n:
            self.counts[row] += n
            self.problems.append(f"[{self.section}] {row}: {what}")


# ----------------------------------------------------------------------------------------------- running


def run(
    name: str,
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    guard: float = GUARD,
    fsize: int | None = None,
    stdin: str | None = None,
) -> Ran:
    """One CLI process (``python -m console ARGV``), collected; a hang is killed after ``guard`` s (rc None)."""
    started = time.monotonic()
    process = spawn(argv, env, piped_stdin=stdin is not None, fsize=fsize)
    return collect(name, process, started, guard, stdin)


def spawn(
    argv: Sequence[str], env: dict[str, str] | None, *, piped_stdin: bool = False, fsize: int | None = None
) -> subprocess.Popen[str]:
    """``python -m console ARGV`` started (output piped; ``fsize``: a file size limit, as ``ulimit -f``)."""
    limit = None if fsize is None else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize)))
    return subprocess.Popen(
        [PYTHON, "-m", "console", *argv],
        cwd=ROOT,
        env=child_env(env),
        stdin=subprocess.PIPE if piped_stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,  # noqa: PLW1509 - a limit for this child only
    )


def collect(name: str, process: subprocess.Popen[str], started: float, guard: float, stdin: str | None = None) -> Ran:
    try:
        out, err = process.communicate(stdin, timeout=guard)
        rc: int | None = process.returncode
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        rc = None
    argv = [str(a) for a in process.args] if isinstance(process.args, list) else [str(process.args)]
    return Ran(name, argv, rc, out, err, time.monotonic() - started)


def check_output(tally: Tally, ran: Ran, *, allowed: set[int] | None, guard: float = GUARD) -> None:
    """The rows every run is counted in: traceback, exit code, secrets, escapes, hang."""
    tally.counts["runs"] += 1
    both = ran.out + ran.err
    if ran.rc is None:
        tally.bad("hangs", f"{ran.name}: still running after {guard:.0f} s")
    if "Traceback (most recent call last)" in both or "Exception ignored" in both:
        tally.bad("tracebacks", f"{ran.name}: {ran.err.strip().splitlines()[-1:]}")
    if allowed is not None and ran.rc is not None and ran.rc not in allowed:
        tally.bad("wrong exit codes", f"{ran.name}: exit {ran.rc}, wanted {sorted(allowed)}: {ran.err.strip()[:300]!r}")
    found = [s for s in SECRETS if s in both]
    tally.bad("secrets in clear", f"{ran.name}: {found}", 1 if found else 0)
    raw = leaks(both, allow="\r\n")
    tally.bad("escapes reaching a terminal", f"{ran.name}: {raw}", 1 if raw else 0)


def scan_state(tally: Tally, name: str, state: Path) -> None:
    """Every file of a state dir (journal, -wal, -shm, logs, config, cache): no secret in its bytes."""
    if not state.is_dir():
        return
    for path in state.rglob("*"):
        if path.is_file():
            data = path.read_bytes().decode("latin-1")
            found = [s for s in SECRETS if s in data]
            tally.bad("secrets in clear", f"{name}: {found} in {path.name}", 1 if found else 0)


def started_sim(workdir: Path, *, profiles: int, retry_after: float, duration: float) -> Sim:
    """``export-console simulate`` in a process of its own, serving (``close`` it in a ``finally``)."""
    workdir.mkdir(parents=True)
    sim = Sim(workdir, profiles=profiles, retry_after=retry_after, duration=duration)
    sim.start()
    return sim


def graph_args(sim: Sim, state: Path) -> list[str]:
    return ["--graph-url", sim.graph_url, "--token-env", "T", "--state-dir", str(state)]


def ops_rows(sim: Sim, state: Path, tally: Tally, name: str) -> list[dict[str, Any]]:
    ran = run(f"{name}/ops --json", [*graph_args(sim, state), "ops", "--json"])
    check_output(tally, ran, allowed={0})
    rows: list[dict[str, Any]] = []
    for line in ran.out.splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                tally.bad("wrong exit codes", f"{name}: ops --json printed a line that is not JSON: {line[:80]!r}")
    return rows


def lost_and_doubled(
    rows: list[dict[str, Any]], sim_ops: list[dict[str, Any]], users: Sequence[str]
) -> tuple[int, int]:
    """The issue's "lost" and "duplicated" for ``users``: the journal (``ops --json``) against Graph's record."""
    wanted = {u.lower() for u in users}
    ops = [o for o in sim_ops if str(o["userId"]).lower() in wanted]
    rows = [r for r in rows if str(r["userId"]).lower() in wanted and r.get("kind", "export") == "export"]
    ids = [str(r["operationId"]).lower() for r in rows if r.get("operationId")]
    doubled = sum(n - 1 for n in Counter(ids).values() if n > 1)
    journal_ids = set(ids)
    unconfirmed = Counter(
        str(r["userId"]).lower() for r in rows if r.get("state") == "unconfirmed" and not r.get("operationId")
    )
    missing = Counter(str(o["userId"]).lower() for o in ops if str(o["id"]).lower() not in journal_ids)
    lost = sum(max(0, n - unconfirmed[u]) for u, n in missing.items())
    per_op = Counter(str(o["userId"]).lower() for o in ops)
    per_row = Counter(str(r["userId"]).lower() for r in rows)
    doubled += sum(max(0, n - per_row[u]) for u, n in per_op.items())
    return lost, doubled


def settle(tally: Tally, name: str, sim: Sim, state: Path, users: Sequence[str], *, finish: bool = True) -> None:
    """After a scenario: (optionally) a clean ``watch`` to finish, then lost, doubled, early polls, secrets.

    The final ``watch`` may wait the 60 s Graph asks of an export whose own 202 was lost (a reconciled one)."""
    if finish:
        ran = run(f"{name}/final watch", [*graph_args(sim, state), "watch", "--json"], guard=150)
        check_output(tally, ran, allowed={0, 1}, guard=150)
    lost, doubled = lost_and_doubled(ops_rows(sim, state, tally, name), sim.operations(), users)
    tally.bad("lost", f"{name}: {lost}", lost)
    tally.bad("duplicated", f"{name}: {doubled}", doubled)
    early = early_polls(sim.requests())
    tally.bad("early polls", f"{name}: {early[:3]}", len(early))
    scan_state(tally, name, state)


# ----------------------------------------------------------------------------------------------- faults

FAULTS: dict[str, tuple[dict[str, Any], set[int]]] = {
    "baseline": ({}, {0}),
    "429 storm on polls, Retry-After 1": (
        dict(storm_status=429, storm_retry_after="1", storm_only="polls", storm_seconds=2),
        {0},
    ),
    "429 storm on everything, no Retry-After": (dict(storm_status=429, storm_seconds=2), {0}),
    "503 storm on polls": (dict(storm_status=503, storm_retry_after="1", storm_only="polls", storm_seconds=2), {0}),
    "504 storm on polls, no Retry-After": (dict(storm_status=504, storm_only="polls", storm_seconds=2), {0}),
    "sporadic 429 on polls": (dict(sporadic_fraction=0.25, sporadic_only="polls"), {0}),
    "sporadic 503 on polls": (
        dict(sporadic_fraction=0.25, sporadic_status=503, sporadic_retry_after="0.5", sporadic_only="polls"),
        {0},
    ),
    "500 burst on polls": (dict(errors_next=4, error_status=500, errors_only="polls"), {0}),
    "502 burst on the listing": (dict(errors_next=2, error_status=502, errors_only="lists"), {0}),
    "503 on the export POST": (
        dict(errors_next=1, error_status=503, error_retry_after="1", errors_only="exports"),
        {1},
    ),
    "429 on the export POST": (dict(throttle_next=1, throttle_retry_after="1", throttle_only="exports"), {0, 1}),
    "reset after Graph acted on the POST": (dict(drop_next=1, drop_when="after", drop_only="exports"), {1}),
    "reset before Graph acted on the POST": (dict(drop_next=1, drop_when="before", drop_only="exports"), {0, 1}),
    "a poll hangs (timeout)": (dict(hang_next=1, hang_seconds=3600, hang_only="polls"), {0}),
    "malformed poll: truncated JSON": (dict(malformed_next=2, malformed_kind="truncated", malformed_only="polls"), {0}),
    "malformed poll: HTML page": (dict(malformed_next=2, malformed_kind="html", malformed_only="polls"), {0}),
    "malformed poll: progress NaN": (dict(malformed_next=2, malformed_kind="nan", malformed_only="polls"), {0}),
    "malformed poll: progress Infinity": (
        dict(malformed_next=2, malformed_kind="infinity", malformed_only="polls"),
        {0},
    ),
    "malformed poll: empty body": (dict(malformed_next=2, malformed_kind="empty", malformed_only="polls"), {0}),
    "malformed poll: an array": (dict(malformed_next=2, malformed_kind="not_object", malformed_only="polls"), {0}),
    "unknown status": (dict(unknown_status_every=1), {0}),
    "null status": (dict(null_status_every=1), {0}),
    "string progress": (dict(string_progress_every=1), {0}),
    "Retry-After 0": (dict(retry_after_value="0"), {0}),
    "Retry-After -5": (dict(retry_after_value="-5"), {0}),
    "Retry-After an HTTP date": (dict(retry_after_value="http-date"), {0}),
    "Retry-After 2.128": (dict(retry_after_value="2.128"), {0}),
    "Retry-After 'soon'": (dict(retry_after_value="soon"), {0}),
    "Retry-After 1e999": (dict(retry_after_value="1e999", retry_after_only="exports"), {0, 1}),
    "no Retry-After at all": (dict(omit_retry_after=True), {0}),
    "the 202 in the body only (the docs' form)": (dict(location="body_only"), {0}),
    "Location on a foreign host": (dict(location_style="foreign_host"), {1}),
    "Location relative": (dict(location_style="relative"), {0, 1}),
    "Location garbage": (dict(location_style="garbage"), {1}),
    "poll 400 for ever": (dict(poll_error=400), {1}),
    "poll 404 (gone)": (dict(poll_error=404), {1}),
    "polls forbidden (403)": (dict(forbid_polls=True), {3}),
    "a failing export": (dict(failing_every=2), {1}),
}

SLOW = {"Retry-After 'soon'", "no Retry-After at all"}
"""Graph gave no usable Retry-After: the documented 60 s between polls, so these runs take over a minute."""
NO_WAIT = {"Retry-After 1e999"}
"""The 202 asks for more than an hour (clamped to 3600 s): sent without --wait (the poll is an hour away)."""

QUICK_FAULTS = ("baseline", "429 on the export POST", "malformed poll: truncated JSON", "Retry-After 'soon'")


def fault_runs(tally: Tally, work: Path, dead_port: int, names: Sequence[str]) -> None:
    env = {"LOC": location_template(dead_port)}
    for name in names:
        knobs, allowed = FAULTS[name]
        sim = started_sim(
            work / f"sim-{len(tally.problems)}-{tally.counts['runs']}", profiles=10, retry_after=0.5, duration=1.5
        )
        try:
            users = sim.user_ids(3)
            if knobs:
                sim.knobs(**knobs)
            state = work / f"state-fault-{tally.counts['runs']}"
            wait = [] if name in NO_WAIT else ["--wait"]
            args = [*graph_args(sim, state), "export", *users, "--storage-location-env", "LOC", *wait, "--json"]
            ran = run(f"fault {name}", args, env=env, guard=150 if name in SLOW else GUARD)
            check_output(tally, ran, allowed=allowed, guard=150 if name in SLOW else GUARD)
            settle(tally, f"fault {name}", sim, state, users, finish=False)
        finally:
            sim.close()
    reconcile_runs(tally, work, dead_port)
    hang_runs(tally, work, dead_port)


def reconcile_runs(tally: Tally, work: Path, dead_port: int) -> None:
    """Item 7: a 202 lost on the way (Graph acted) is found again by ``ops --reconcile``; a tenant that does not
    offer the operations list (400/403/404/405) is said once and leaves the export unconfirmed."""
    from console.ops.reconcile import NOT_OFFERED_MESSAGE

    env = {"LOC": location_template(dead_port)}
    for status in (None, 400, 403, 404, 405):
        name = f"reconcile, list answers {status or 200}"
        sim = started_sim(work / f"sim-reconcile-{status}", profiles=10, retry_after=0.5, duration=1.5)
        try:
            users = sim.user_ids(2)
            sim.knobs(drop_next=1, drop_when="after", drop_only="exports")
            if status:
                sim.knobs(operations_list_status=status)
            state = work / f"state-reconcile-{status}"
            args = [*graph_args(sim, state), "export", *users, "--storage-location-env", "LOC", "--json"]
            check_output(tally, run(f"{name}: export", args, env=env), allowed={1})
            ran = run(f"{name}: ops --reconcile", [*graph_args(sim, state), "ops", "--reconcile"])
            check_output(tally, ran, allowed={1} if status else {0})
            if status and ran.err.count(NOT_OFFERED_MESSAGE) != 1:
                tally.bad("wrong exit codes", f"{name}: 'not offered' said {ran.err.count(NOT_OFFERED_MESSAGE)} times")
            states = {r.get("state") for r in ops_rows(sim, state, tally, name)}
            if (not status) == ("unconfirmed" in states):
                tally.bad("lost", f"{name}: states after reconcile {sorted(map(str, states))}")
            settle(tally, name, sim, state, users)
        finally:
            sim.close()


def hang_runs(tally: Tally, work: Path, dead_port: int) -> None:
    """Item 4: what used to hang must end (or speak) within seconds."""
    state = work / "state-hangs"
    cases: list[tuple[str, list[str], set[int], dict[str, str]]] = [
        ("closed port", ["--graph-url", f"http://127.0.0.1:{dead_port}/beta", "--token-env", "T", "profiles"], {1}, {}),
        (
            "unresolvable host",
            ["--graph-url", "https://graph.nowhere.invalid/beta", "--token-env", "T", "profiles"],
            {1},
            {},
        ),
        ("port 0", ["--graph-url", "http://127.0.0.1:0/beta", "--token-env", "T", "profiles"], {2}, {}),
        (
            "token with CR/LF",
            ["--graph-url", f"http://127.0.0.1:{dead_port}/beta", "--token-env", "BAD", "profiles"],
            {2},
            {"BAD": "abc\r\nX-Injected: 1"},
        ),
    ]
    for name, args, allowed, env in cases:
        ran = run(f"hang {name}", ["--state-dir", str(state), *args], env=env, guard=30)
        check_output(tally, ran, allowed=allowed)
    sim = started_sim(work / "sim-hang-loop", profiles=60, retry_after=0.5, duration=1.5)
    try:
        for knob in ("next_link_loop", "next_link_restart"):
            sim.knobs(**{knob: True})
            ran = run(f"hang {knob}", [*graph_args(sim, state), "profiles"], guard=30)
            check_output(tally, ran, allowed={1})
            rows = len([line for line in ran.out.splitlines() if line.strip()]) - 1
            if rows > 60:
                tally.bad("duplicated", f"{knob}: {rows} rows listed for 60 profiles", rows - 60)
            sim.knobs(**{knob: False})
    finally:
        sim.close()
    full_disk_runs(tally, work, dead_port)


def full_disk_runs(tally: Tally, work: Path, dead_port: int) -> None:
    """Item 4: a full disk (RLIMIT_FSIZE, as ``ulimit -f``) under export --wait and watch ends; nothing is lost."""
    env = {"LOC": location_template(dead_port)}
    for limit in (80 * 1024, 200 * 1024, 400 * 1024):
        sim = started_sim(work / f"sim-disk-{limit}", profiles=10, retry_after=0.5, duration=1.5)
        try:
            users = sim.user_ids(4)
            state = work / f"state-disk-{limit}"
            args = [*graph_args(sim, state), "export", *users, "--storage-location-env", "LOC", "--wait", "--json"]
            ran = run(f"full disk {limit // 1024} KB under export --wait", args, env=env, fsize=limit)
            check_output(tally, ran, allowed={0, 1, 2})
            accepted = {o["id"] for o in sim.operations()}
            if ran.rc and accepted:  # every accepted id is in the journal, or printed on stderr
                known = {str(r.get("operationId")) for r in ops_rows(sim, state, tally, f"disk {limit}")}
                unknown = [i for i in accepted if i not in known and i not in ran.err]
                tally.bad(
                    "lost", f"full disk {limit}: accepted, neither journalled nor printed: {unknown}", len(unknown)
                )
            ran = run(f"full disk {limit // 1024} KB under watch", [*graph_args(sim, state), "watch"], fsize=limit)
            check_output(tally, ran, allowed={0, 1})
            settle(tally, f"full disk {limit // 1024} KB", sim, state, users)
        finally:
            sim.close()


# ----------------------------------------------------------------------------------------------- bad inputs

Q = f"sv=2022-11-02&ss=b&srt=co&sp=rcwl&se=2030-01-01T00:00:00Z&sig={SAS_SIG}"
H = "https://acct.blob.core.windows.net"
BAD_LOCATIONS = {
    "SAS without sp": f"{H}/exports?sv=2022-11-02&se=2030-01-01T00:00:00Z&sig={SAS_SIG}",
    "SAS without sig": f"{H}/exports?sv=2022-11-02&sp=rcwl&se=2030-01-01T00:00:00Z",
    "sig only in a fragment": f"{H}/exports?sv=2022-11-02&sp=rcwl&se=2030-01-01#sig={SAS_SIG}",
    "sig in a path segment": f"{H}/exports/sig={SAS_SIG}?sv=2022-11-02&sp=rcwl&se=2030-01-01",
    "st in the future": f"{H}/exports?{Q}&st=2029-12-01T00:00:00Z",
    "sr=b": f"{H}/exports?{Q}&sr=b",
    "example.com": f"https://example.com/exports?{Q}",
    "1.2.3.4": f"https://1.2.3.4/exports?{Q}",
    "file.core.windows.net": f"https://acct.file.core.windows.net/exports?{Q}",
    "...windows.net.evil.invalid": f"https://acct.blob.core.windows.net.evil.invalid/exports?{Q}",
    "Cyrillic lookalike": f"https://acct.blob.c\u043ere.windows.net/exports?{Q}",
    "no container": f"{H}?{Q}",
    "no container, trailing slash": f"{H}/?{Q}",
    "nested path": f"{H}/exports/sub?{Q}",
    "100,000 characters": f"{H}/exports?{Q}&x={'a' * 100_000}",
    "control characters": f"{H}/exp\x1b[2Jorts?{Q}",
    "fullwidth \uff53ig=": f"{H}/exports?sv=2022-11-02&sp=rcwl&se=2030-01-01T00:00:00Z&\uff53ig={SAS_SIG}",
    "percent-encoded fullwidth sig": f"{H}/exports?sv=2022-11-02&sp=rcwl&se=2030-01-01&%EF%BD%93ig={SAS_SIG}",
    "SIG upper case twice": f"{H}/exports?{Q}&SIG={SAS_SIG}",
    "expired se": f"{H}/exports?sv=2022-11-02&sp=rcwl&se=2020-01-01T00:00:00Z&sig={SAS_SIG}",
    "sp without write": f"{H}/exports?sv=2022-11-02&sp=rl&se=2030-01-01T00:00:00Z&sig={SAS_SIG}",
    "plain http to Azure": f"http://acct.blob.core.windows.net/exports?{Q}",
    "ftp scheme": f"ftp://acct.blob.core.windows.net/exports?{Q}",
    "user-info in the URL": f"https://u:p@acct.blob.core.windows.net/exports?{Q}",
    "a port on Azure": f"https://acct.blob.core.windows.net:8443/exports?{Q}",
    "an upper-case container": f"{H}/Exports?{Q}",
    "template {userid} (typo)": f"{H}/dsr-{{userid}}?{Q}",
    "template {unknown}": f"{H}/dsr-{{unknown}}?{Q}",
    "template in the host": f"https://{{userId}}.blob.core.windows.net/dsr?{Q}",
    "template in the query": f"{H}/dsr?{Q}&x={{userId}}",
    "template {date} only (one container, 2 users)": f"{H}/dsr-{{date}}?{Q}",
    "an unclosed brace": f"{H}/dsr-{{userId?{Q}",
    "an account name too short": "ab",
    "an account name with a dot": "acct.name",
    "empty location": "",
    "blank location": "   ",
}


def bad_input_cases(
    sim: Sim, work: Path, users: list[str], dead_port: int
) -> list[tuple[str, list[str], dict[str, str], str | None]]:
    """(name, argv after ``python -m console``, environment, stdin): each must be exit 2, one line, nothing sent."""
    u1, u2 = users[0], users[1]
    cases: list[tuple[str, list[str], dict[str, str], str | None]] = []
    n = 0

    def state() -> str:
        nonlocal n
        n += 1
        return str(work / f"state-bad-{n}")

    def g(st: str | None = None) -> list[str]:
        return ["--graph-url", sim.graph_url, "--token-env", "T", "--state-dir", st or state()]

    for name, loc in BAD_LOCATIONS.items():
        ids = [u1, u2] if "2 users" in name else [u1]
        cases.append(
            (
                f"location: {name}",
                [*g(), "export", *ids, "--storage-location-env", "LOC", "--no-storage-check"],
                {"LOC": loc},
                None,
            )
        )
    cases.append(
        ("location on argv: sr=b", [*g(), "export", u1, "--storage-location", BAD_LOCATIONS["sr=b"]], {}, None)
    )
    cases.append(
        (
            "location file: no sig",
            [*g(), "export", u1, "--storage-location-file", "-"],
            {},
            BAD_LOCATIONS["SAS without sig"] + "\n",
        )
    )
    dirs = {**unusable_state_dirs(work), "empty": ""}  # the suite's own list of item 6's state dirs
    commands = {
        "profiles": ["profiles"],
        "export": ["export", u1, "--storage-location-env", "LOC"],
        "watch": ["watch"],
        "ops": ["ops"],
        "report": ["report"],
        "note": ["note", "1", "hello"],
        "case": ["case", "list"],
    }
    good = {"LOC": location_template(dead_port)}
    for dname, d in dirs.items():
        for cname, cargs in commands.items():
            argv = ["--graph-url", sim.graph_url, "--token-env", "T", "--state-dir", d, *cargs]
            cases.append((f"state-dir {dname}: {cname}", argv, good, None))
    for cname in ("profiles", "export", "ops", "watch"):
        cases.append((f"--tenant '': {cname}", [*g(), "--tenant", "", *commands[cname]], good, None))
        cases.append(
            (
                f"--token-env '': {cname}",
                ["--graph-url", sim.graph_url, "--token-env", "", "--state-dir", state(), *commands[cname]],
                good,
                None,
            )
        )
    for ids_name, ids in {
        "U1 ''": [u1, ""],
        "'' U1": ["", u1],
        "U1 '  '": [u1, "  "],
        "not a GUID": ["not-a-guid"],
        "an escape in the id": [f"{u1}\x1b[2J"],
        "a 300-character id": ["a" * 300],
        "an unknown GUID": ["00000000-0000-4000-8000-00000000dead"],
        "path traversal": ["../../etc/passwd"],
    }.items():
        cases.append((f"export {ids_name}", [*g(), "export", *ids, "--storage-location-env", "LOC"], good, None))
    cases.append(
        (
            "export --from-file missing",
            [*g(), "export", "--from-file", str(work / "nope"), "--storage-location-env", "LOC"],
            good,
            None,
        )
    )
    cases.append(
        (
            "export --from-file a dir",
            [*g(), "export", "--from-file", str(work), "--storage-location-env", "LOC"],
            good,
            None,
        )
    )
    cases.append(("export without a location", [*g(), "export", u1], {}, None))
    cases.append(
        ("export --storage-location-env unset", [*g(), "export", u1, "--storage-location-env", "NOPE"], {}, None)
    )
    for opt_name, extra in {
        "--poll-budget -1": ["--poll-budget", "-1"],
        "--poll-budget 0": ["--poll-budget", "0"],
        "--poll-budget abc": ["--poll-budget", "abc"],
        "--poll-budget nan": ["--poll-budget", "nan"],
        "--poll-budget 1e999": ["--poll-budget", "1e999"],
        "--graph-url ftp": ["--graph-url", "ftp://127.0.0.1/beta"],
        "--graph-url not a URL": ["--graph-url", "not a url"],
        "--graph-url with a space": ["--graph-url", "http://127.0.0.1:1/be ta"],
        "--graph-url with user-info": ["--graph-url", "https://u:p@graph.microsoft.com/beta"],
        "an unknown option": ["--bogus"],
    }.items():
        cases.append((f"option {opt_name}", [*g(), *extra, "profiles"], good, None))
    cases.append(("ops --status bogus", [*g(), "ops", "--status", "bogus"], {}, None))
    cases.append(("report --format bogus", [*g(), "report", "--format", "bogus"], {}, None))
    cases.append(("an unknown command", [*g(), "frobnicate"], {}, None))
    cases.append(("note of a missing operation", [*g(), "note", "999", "x"], {}, None))
    cases.append(("note with an empty text", [*g(), "note", "1", ""], {}, None))
    cases.append(("case open ''", [*g(), "case", "open", ""], {}, None))
    cases.append(("export --case ''", [*g(), "export", u1, "--storage-location-env", "LOC", "--case", ""], good, None))
    cases.append(
        (
            "export --case with ESC",
            [*g(), "export", u1, "--storage-location-env", "LOC", "--case", "A\x1b[2J"],
            good,
            None,
        )
    )
    cases.append(
        (
            "token with CR/LF",
            [
                "--graph-url",
                sim.graph_url,
                "--token-env",
                "BAD",
                "--state-dir",
                state(),
                "export",
                u1,
                "--storage-location-env",
                "LOC",
            ],
            {**good, "BAD": "abc\r\nX-Injected: 1"},
            None,
        )
    )
    return cases


def bad_inputs(tally: Tally, work: Path, dead_port: int, quick: bool) -> None:
    sim = started_sim(work / "sim-bad", profiles=10, retry_after=0.5, duration=1.5)
    try:
        users = sim.user_ids(2)
        for name, argv, env, stdin in bad_input_cases(sim, work, users, dead_port):
            if quick and not name.startswith(("location: S", "state-dir a file", "export U1")):
                continue
            before = len(sim.requests())
            ran = run(name, argv, env=env, stdin=stdin, guard=30)
            check_output(tally, ran, allowed={2})
            lines = [line for line in ran.err.splitlines() if line.strip() and "warning:" not in line]
            if ran.rc == 2 and len(lines) != 1:
                tally.bad("usage errors not one line", f"{name}: {len(lines)} lines: {ran.err.strip()[:200]!r}")
            sent = [r for r in sim.requests()[before:] if r.get("kind") not in ("list", "get")]
            tally.bad("sent on a usage error", f"{name}: {[r.get('kind') for r in sent]}", len(sent))
        ctrl_c(tally, work, sim, dead_port)
    finally:
        sim.close()


def ctrl_c(tally: Tally, work: Path, sim: Sim, dead_port: int) -> None:
    """Ctrl+C during start-up: exit 130 (the documented code for a stop), one line, no traceback."""
    env = {"LOC": location_template(dead_port)}
    spare = iter(sim.user_ids(10)[2:])  # one user of its own per export run (the simulator's record is shared)
    for delay in (0.1, 0.2, 0.3, 0.5):
        user = next(spare)
        for cname, cargs in (("profiles", ["profiles"]), ("export", ["export", user, "--storage-location-env", "LOC"])):
            state = work / f"state-ctrlc-{cname}-{delay}"
            started = time.monotonic()
            process = spawn([*graph_args(sim, state), *cargs], env)
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            ran = collect(f"Ctrl+C after {delay} s: {cname}", process, started, 30)
            # 130, or death by SIGINT (-2: what a shell also shows as 130; CPython 3.11 re-raises the signal
            # at exit when Ctrl+C landed inside an exec() of a dataclass or namedtuple being built at import).
            check_output(tally, ran, allowed={0, 130, -2})
            lines = [line for line in ran.err.splitlines() if line.strip()]
            if ran.rc == 130 and len(lines) > 1:
                tally.bad("usage errors not one line", f"{ran.name}: {ran.err.strip()[:200]!r}")
            if cname == "export":
                settle(tally, ran.name, sim, state, [user], finish=False)


# ----------------------------------------------------------------------------------------------- processes


def multi_process(tally: Tally, work: Path, dead_port: int, rounds: int) -> None:
    """Console-less meetings: ``export --wait`` and two ``watch`` on one journal; kill -9 (or a stop signal) of one."""
    env = {"LOC": location_template(dead_port)}
    victims = ["none", "watch", "export", "sighup export", "sigterm watch", "kill both watchers"]
    for r in range(rounds):
        for victim in victims:
            name = f"meet #{r + 1} victim={victim}"
            sim = started_sim(
                work / f"sim-meet-{r}-{victim.replace(' ', '-')}", profiles=12, retry_after=1.0, duration=3.0
            )
            try:
                users = sim.user_ids(6)
                state = work / f"state-meet-{r}-{victim.replace(' ', '-')}"
                base = graph_args(sim, state)
                start = time.monotonic()
                exporter = spawn([*base, "export", *users, "--storage-location-env", "LOC", "--wait", "--json"], env)
                wait_accepted(sim, len(users), 30)
                time.sleep(0.3)  # the accepted exports reach the journal
                watchers = [spawn([*base, "watch", "--json"], env), spawn([*base, "watch", "--json"], env)]
                time.sleep(1.2)  # a poll or two each
                killed: list[subprocess.Popen[str]] = []
                if victim == "watch":
                    killed = [watchers[0]]
                elif victim == "export":
                    killed = [exporter]
                elif victim == "kill both watchers":
                    killed = watchers
                for process in killed:
                    process.send_signal(signal.SIGKILL)
                if victim == "sighup export":
                    exporter.send_signal(signal.SIGHUP)
                if victim == "sigterm watch":
                    watchers[1].send_signal(signal.SIGTERM)
                for label, process in [("export --wait", exporter), ("watch 1", watchers[0]), ("watch 2", watchers[1])]:
                    ran = collect(f"{name}: {label}", process, start, GUARD)
                    allowed = None if process in killed else {0, 1, 130, 129, 143}
                    check_output(tally, ran, allowed=allowed)
                settle(tally, name, sim, state, users)
            finally:
                sim.close()


def wait_accepted(sim: Sim, count: int, timeout: float) -> None:
    """Readiness wait: until Graph accepted ``count`` exports (or ``timeout`` s passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(sim.operations()) < count:
        time.sleep(0.05)


# ----------------------------------------------------------------------------------------------- hostile tenant


def serve_hostile(token: str) -> None:
    """A simulated tenant whose first profiles carry every kind of escape in name, UPN and home tenant id."""
    from dataclasses import replace

    from console.sim.server import run_forever
    from console.sim.tenant import SimulatedTenant

    tenant = SimulatedTenant(profiles=12, retry_after=0.5, export_duration=1.5)
    tenant.tokens.accept(token, {"tid": tenant.tenant_id})
    profiles = tenant.graph.profiles  # the state's own list: replaced in place below
    for n, (kind, payload) in enumerate(ESCAPES.items()):
        p = profiles[n]
        profiles[n] = replace(
            p,
            display_name=f"Eve {kind} {payload} End",
            user_principal_name=f"eve{payload}@evil.example",
            home_tenant_id=f"tenant{payload}",
        )
    tenant.graph._by_id.update({p.user_id: p for p in profiles})  # noqa: SLF001 - a probe's hostile tenant

    def ready(base_url: str) -> None:
        print(f"graph url: {base_url}/beta", flush=True)

    run_forever(tenant, "127.0.0.1", 0, ready)


def hostile_runs(tally: Tally, work: Path, dead_port: int) -> None:
    """Item 2: tenant text with every kind of escape through every CLI output (the console is another helper's)."""
    err = open(work / "hostile.err", "w")  # noqa: SIM115 - kept open by the child
    server = subprocess.Popen(
        [PYTHON, str(Path(__file__).resolve()), "--serve-hostile", TOKEN],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        graph_url = line.split(":", 1)[1].strip()
        state = work / "state-hostile"
        g = ["--graph-url", graph_url, "--token-env", "T", "--state-dir", str(state)]
        env = {"LOC": location_template(dead_port)}
        listed = run("hostile: profiles --json", [*g, "profiles", "--json"])
        users = [json.loads(row)["userId"] for row in listed.out.splitlines() if row.strip()][: len(ESCAPES)]
        check_output(tally, listed, allowed={0})
        report = work / "hostile-report"
        steps: list[tuple[str, list[str], set[int]]] = [
            ("profiles", ["profiles"], {0}),
            ("profiles --search Eve", ["profiles", "--search", "Eve"], {0}),
            (
                "export --wait",
                ["export", *users, "--storage-location-env", "LOC", "--case", "DSR-1", "--wait"],
                {0},
            ),
            ("ops", ["ops"], {0}),
            ("ops --json", ["ops", "--json"], {0}),
            ("note", ["note", "1", "seen \x1b]52;c;SGVsbG8=\x07 ok"], {0}),
            ("report", ["report"], {0}),
            ("report --format csv", ["report", "--format", "csv"], {0}),
            ("report --format json", ["report", "--format", "json"], {0}),
            ("report --format csv --output", ["report", "--format", "csv", "--output", f"{report}.csv"], {0}),
            ("report --format md --output", ["report", "--format", "md", "--output", f"{report}.md"], {0}),
            ("watch", ["watch"], {0}),
            ("case list", ["case", "list"], {0}),
        ]
        for name, args, allowed in steps:
            check_output(tally, run(f"hostile: {name}", [*g, *args], env=env), allowed=allowed)
        for path in (Path(f"{report}.csv"), Path(f"{report}.md")):
            if path.exists():
                raw = leaks(path.read_text(encoding="utf-8", errors="replace"), allow="\r\n")
                tally.bad("escapes reaching a terminal", f"{path.name}: {raw}", 1 if raw else 0)
            else:
                tally.bad("wrong exit codes", f"{path.name} was not written")
    finally:
        server.terminate()
        server.wait(timeout=10)
        err.close()


# ----------------------------------------------------------------------------------------------- main


def table(tallies: Sequence[Tally]) -> str:
    heads = [t.section for t in tallies]
    width = max(len(r) for r in ROWS)
    lines = [f"{'':<{width}}  " + "  ".join(f"{h:>12}" for h in [*heads, "total"])]
    for row in ROWS:
        values = [t.counts[row] for t in tallies]
        lines.append(f"{row:<{width}}  " + "  ".join(f"{v:>12}" for v in [*values, sum(values)]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller set (a smoke run)")
    parser.add_argument("--verbose", action="store_true", help="print each problem, not only the first 40")
    parser.add_argument("--serve-hostile", metavar="TOKEN", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["faults", "bad", "processes", "hostile"], action="append")
    args = parser.parse_args()
    if args.serve_hostile:
        serve_hostile(args.serve_hostile)
        return 0
    os.environ.pop("EXPORT_CONSOLE_STATE_DIR", None)
    work = Path(tempfile.mkdtemp(prefix="probe14-"))
    dead = reserve_dead_port()
    dead_port = dead.getsockname()[1]
    only = set(args.only or ["faults", "bad", "processes", "hostile"])
    tallies: list[Tally] = []
    started = time.monotonic()
    try:
        if "faults" in only:
            tallies.append(Tally("faults"))
            fault_runs(tallies[-1], work, dead_port, QUICK_FAULTS if args.quick else list(FAULTS))
        if "bad" in only:
            tallies.append(Tally("bad inputs"))
            bad_inputs(tallies[-1], work, dead_port, args.quick)
        if "processes" in only:
            tallies.append(Tally("processes"))
            multi_process(tallies[-1], work, dead_port, 1 if args.quick else 2)
        if "hostile" in only:
            tallies.append(Tally("hostile text"))
            hostile_runs(tallies[-1], work, dead_port)
    finally:
        dead.close()
        shutil.rmtree(work, ignore_errors=True)
    print(table(tallies))
    print(f"({time.monotonic() - started:.0f} s)")
    problems = [p for t in tallies for p in t.problems]
    for problem in problems if args.verbose else problems[:40]:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
