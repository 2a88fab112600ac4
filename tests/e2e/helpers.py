"""End-to-end helpers: the simulator and the CLI as real subprocesses on loopback, and the checks
every fault case makes (no traceback, valid JSON, no early poll, no lost or doubled export).

Everything runs on 127.0.0.1; nothing can reach a Microsoft endpoint (storage locations point at a
loopback port that is bound but never listens, so every storage call is refused at once).
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

TOKEN = "e2eKnownBearerToken-7Q2xP9vR4mT8kL1n"
"""The bearer token the simulator accepts (opaque on purpose: found only if printed verbatim)."""
SAS_SIG = "e2eKnownSasSignature0x5EcReT4cUdS9Z3w"
"""A known SAS signature value: it must never appear in any output or file."""

RETRY_AFTER = 0.5
"""Seconds of Retry-After on 202s and unfinished polls in the fault suite."""
DURATION = 2.0
"""Seconds an export takes in the fault suite."""
POLL_TOLERANCE = 0.1
"""Seconds of slack when checking that no poll came before its Retry-After (scheduling jitter)."""


def reserve_dead_port() -> socket.socket:
    """A loopback port that is bound but never listens: connections to it are refused at once.

    Keep the returned socket open for as long as the port is used (nobody else can take it).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def location_template(port: int, prefix: str = "dsr", sig: str = SAS_SIG) -> str:
    """An account-SAS location template on a dead loopback port (one container per user)."""
    return (
        f"http://127.0.0.1:{port}/devstoreaccount1/{prefix}-{{userId}}"
        f"?sv=2021-08-06&ss=b&srt=co&sp=racwl&se=2030-01-01T00:00:00Z&sig={sig}"
    )


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: no proxies, loopback only, the known token in ``T``."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "EXPORT_CONSOLE_STATE_DIR"}
    env.update({"NO_PROXY": "127.0.0.1,localhost,::1", "T": TOKEN, "PYTHONUNBUFFERED": "1", "COLUMNS": "160"})
    env.update(extra or {})
    return env


# --------------------------------------------------------------------------------- simulator


class Sim:
    """``export-console simulate`` in a subprocess (or ``tests.e2e.sim_runner`` for a restart that
    adopts the operations of the previous life), with its control endpoint."""

    def __init__(
        self,
        workdir: Path,
        *,
        profiles: int = 30,
        retry_after: float = RETRY_AFTER,
        duration: float = DURATION,
        knobs: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.profiles = profiles
        self.retry_after = retry_after
        self.duration = duration
        self.start_knobs = dict(knobs or {})
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.lives = 0
        self._http: httpx.Client | None = None

    # -- life cycle

    def start(self, *, port: int = 0, adopt: Sequence[dict[str, Any]] | None = None) -> None:
        self.lives += 1
        err = open(self.workdir / f"sim-{self.lives}.err", "w")  # noqa: SIM115 - kept open by the child
        common = [
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--profiles",
            str(self.profiles),
            "--retry-after",
            str(self.retry_after),
            "--duration",
            str(self.duration),
            "--token",
            TOKEN,
        ]
        if adopt is None:
            argv = [PYTHON, "-m", "console", "simulate", *common]
            for name, value in self.start_knobs.items():
                argv += ["--knob", f"{name}={json.dumps(value)}"]
        else:
            adopt_file = self.workdir / f"adopt-{self.lives}.json"
            adopt_file.write_text(json.dumps(list(adopt)))
            argv = [PYTHON, "-m", "tests.e2e.sim_runner", *common, "--adopt", str(adopt_file)]
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30  # readiness wait only
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the simulator exited: {(self.workdir / f'sim-{self.lives}.err').read_text()}")
            if line.startswith("graph url:"):
                url = line.split(":", 1)[1].strip()
                self.port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
                break
        else:
            raise RuntimeError("the simulator did not print its graph url")
        if self._http is not None:
            self._http.close()
        self._http = httpx.Client(base_url=self.base_url, trust_env=False, timeout=10)

    def kill(self) -> None:
        """kill -9, as a crash does (the port is free again at once: the server set SO_REUSEADDR)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start again on the same port, adopting every operation the previous life accepted."""
        ops = self.operations()
        self.kill()
        self.start(port=self.port, adopt=ops)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/beta"

    # -- control endpoint

    @property
    def http(self) -> httpx.Client:
        assert self._http is not None, "the simulator is not started"
        return self._http

    def knobs(self, **knobs: Any) -> dict[str, Any]:
        response = self.http.post("/_sim/knobs", json=knobs)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def operations(self) -> list[dict[str, Any]]:
        """The simulator's record of every accepted export."""
        response = self.http.get("/_sim/operations")
        assert response.status_code == 200, response.text
        value: list[dict[str, Any]] = response.json()["value"]
        return value

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """Every Graph request the simulator answered (``at``, ``kind``, ``status``, ``retry_after``...)."""
        response = self.http.get("/_sim/requests", params={"since": since})
        assert response.status_code == 200, response.text
        value: list[dict[str, Any]] = response.json()["value"]
        return value

    def user_ids(self, count: int) -> list[str]:
        """The first ``count`` profiles' ids (before any fault is switched on)."""
        response = self.http.get(
            "/beta/directory/inboundSharedUserProfiles", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 200, response.text
        ids = [p["userId"] for p in response.json()["value"]][:count]
        assert len(ids) == count
        return ids


# --------------------------------------------------------------------------------- the CLI


@dataclass
class Result:
    argv: list[str]
    rc: int
    out: str
    err: str

    @property
    def events(self) -> list[dict[str, Any]]:
        """stdout as JSON Lines (strict: NaN or Infinity fails)."""
        return [strict_json(line) for line in self.out.splitlines() if line.strip()]

    def __str__(self) -> str:
        return f"rc={self.rc} argv={self.argv[3:]}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def strict_json(line: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity (which are not JSON)."""
    return json.loads(line, parse_constant=_reject_constant)


@dataclass
class Console:
    """Runs ``python -m console`` against one simulator and one state dir."""

    sim: Sim
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    debug: bool = False
    children: list[subprocess.Popen[str]] = field(default_factory=list)
    """Processes started with ``start`` (killed at teardown if still running)."""

    def argv(self, *args: str) -> list[str]:
        base = [PYTHON, "-m", "console", "--graph-url", self.sim.graph_url, "--token-env", "T"]
        base += ["--state-dir", str(self.state_dir)]
        if self.debug:
            base.append("--debug")
        return base + list(args)

    def run(self, *args: str, timeout: float = 90, stdin: str | None = None) -> Result:
        argv = self.argv(*args)
        try:
            done = subprocess.run(
                argv,
                cwd=ROOT,
                env=child_env(self.env),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"hung for {timeout} s: {argv[3:]}\n{exc.stdout!r}\n{exc.stderr!r}") from None
        return Result(argv, done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            self.argv(*args),
            cwd=ROOT,
            env=child_env(self.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.children.append(process)
        return process

    def close(self) -> None:
        """Kill (by pid) every child still running: a failed test leaves no orphan behind."""
        for process in self.children:
            if process.poll() is None:
                process.kill()
                process.communicate()

    def ops(self) -> list[dict[str, Any]]:
        """``ops --json``: must succeed, print valid JSON, and never show an open intent as "submitting"."""
        result = self.run("ops", "--json", timeout=60)
        assert_clean(result)
        assert result.rc == 0, str(result)
        rows = result.events
        for row in rows:
            assert row.get("state") not in ("intent", "submitting"), row
            assert row.get("status") != "submitting", row
        return rows


def finish(process: subprocess.Popen[str], timeout: float = 90) -> Result:
    """Wait for a started CLI process and collect its output."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"hung for {timeout} s: {process.args!r}\n{out[-2000:]}\n{err[-2000:]}") from None
    argv = [str(a) for a in process.args] if isinstance(process.args, list) else [str(process.args)]
    return Result(argv, process.returncode, out, err)


def wait_until(predicate: Any, timeout: float = 30, pause: float = 0.05) -> None:
    """Readiness wait (never an assertion on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(pause)
    raise AssertionError(f"condition not met within {timeout} s")


# --------------------------------------------------------------------------------- checks


def assert_clean(result: Result, *, json_out: bool = False) -> None:
    """No traceback anywhere; with ``--json`` every stdout line is valid, strict JSON."""
    for stream in (result.out, result.err):
        assert "Traceback (most recent call last)" not in stream, str(result)
        assert "Exception ignored" not in stream, str(result)
    if json_out:
        for line in result.out.splitlines():
            if line.strip():
                try:
                    strict_json(line)
                except ValueError as exc:
                    raise AssertionError(f"invalid JSON line {line!r}: {exc}\n{result}") from None


def retry_after_seconds(value: str | None, answered_at: float) -> float:
    """What a client must wait after an answer with this Retry-After (clamped to [0, 3600])."""
    if value is None:
        return 0.0
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - answered_at
        except (TypeError, ValueError, IndexError):
            return 0.0
    if not math.isfinite(seconds):
        return 0.0
    return min(max(seconds, 0.0), 3600.0)


def early_polls(requests: Iterable[dict[str, Any]], tolerance: float = POLL_TOLERANCE) -> list[str]:
    """Polls that arrived before the previous answer for that operation (202 or poll) said to retry."""
    by_op: dict[str, list[dict[str, Any]]] = {}
    for record in requests:
        if record.get("operation_id") and record.get("kind") in ("export", "poll"):
            by_op.setdefault(str(record["operation_id"]).lower(), []).append(record)
    problems: list[str] = []
    for op_id, records in by_op.items():
        records.sort(key=lambda r: float(r["at"]))
        for previous, current in zip(records, records[1:], strict=False):
            if current["kind"] != "poll":
                continue
            wait = retry_after_seconds(previous.get("retry_after"), float(previous["at"]))
            gap = float(current["at"]) - float(previous["at"])
            if gap + tolerance < wait:
                problems.append(
                    f"{op_id}: poll {gap:.3f} s after an answer {previous['status']} with Retry-After "
                    f"{previous.get('retry_after')!r}"
                )
    return problems


def assert_no_early_polls(sim: Sim, tolerance: float = POLL_TOLERANCE) -> list[dict[str, Any]]:
    records = sim.requests()
    problems = early_polls(records, tolerance)
    assert not problems, "\n".join(problems[:20])
    return records


def posts_per_user(records: Iterable[dict[str, Any]]) -> Counter[str]:
    """How many export POSTs reached the simulator for each user (answered or not)."""
    return Counter(str(r["user_id"]).lower() for r in records if r.get("kind") == "export" and r.get("user_id"))


def assert_journal_matches(
    rows: Sequence[dict[str, Any]], sim_ops: Sequence[dict[str, Any]], users: Iterable[str] | None = None
) -> None:
    """Nothing lost, nothing doubled: the journal (``ops --json`` rows) against the simulator's record.

    Every accepted export is in the journal under its id, or its user has an unconfirmed row (the
    202 never reached the journal); every journal operation id is one the simulator accepted; no user
    has more accepted exports than journal rows.
    """
    wanted = None if users is None else {u.lower() for u in users}
    ops = [o for o in sim_ops if wanted is None or str(o["userId"]).lower() in wanted]
    rows = [r for r in rows if wanted is None or str(r["userId"]).lower() in wanted]
    journal_ids = {str(r["operationId"]).lower() for r in rows if r.get("operationId")}
    sim_ids = {str(o["id"]).lower() for o in ops}
    ids = [str(r["operationId"]).lower() for r in rows if r.get("operationId")]
    assert len(ids) == len(set(ids)), f"an operation id is journalled twice: {Counter(ids).most_common(3)}"
    phantom = journal_ids - sim_ids
    assert not phantom, f"journal rows for operations the simulator never accepted: {sorted(phantom)}"
    unconfirmed_users = Counter(
        str(r["userId"]).lower() for r in rows if r.get("state") == "unconfirmed" and not r.get("operationId")
    )
    missing = Counter(str(o["userId"]).lower() for o in ops if str(o["id"]).lower() not in journal_ids)
    for user, count in missing.items():
        assert unconfirmed_users[user] >= count, (
            f"lost: {count} export(s) of {user} accepted by Graph are neither journalled nor unconfirmed"
        )
    per_user_ops = Counter(str(o["userId"]).lower() for o in ops)
    per_user_rows = Counter(str(r["userId"]).lower() for r in rows)
    for user, count in per_user_ops.items():
        assert count <= per_user_rows[user], f"doubled: {count} exports of {user} for {per_user_rows[user]} rows"
