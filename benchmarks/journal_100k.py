"""``ops`` and ``report`` on a big journal: wall time and peak RSS per command, beside a bare Python loop.

Builds a journal of ``--ops`` operations (100,000 by default) in a temporary state directory: the
schema from ``OperationJournal`` itself, the rows by direct SQL matching it (states, statuses,
request ids, deliveries, two poll records per operation, a note on one in 50, a few intents of a
dead process). Then runs each command as its own process (``python -m console --state-dir D ...``,
stdout to a file), measuring wall time and the child's peak RSS (``os.wait4``'s ``ru_maxrss``), and,
in the same run, the floor: a ten-line Python loop that prints the same rows with ``sqlite3``.

Targets (issue 15): ``ops``, ``ops --json`` and ``report --format csv`` each <= 0.5 s, <= 60 MB and
<= 3x the loop's time (``report --format md/json`` are measured too, without a verdict). ``--check``
exits 1 on any MISS. The figure reported is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import median, print_block, verdict  # noqa: E402

from console.ops.journal import OperationJournal  # noqa: E402

TENANT = "11111111-2222-3333-4444-555555555555"

LOOP = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
out = sys.stdout
for row in db.execute(
    "SELECT id, case_ref, user_id, state, status, progress, submitted_at, completed_at, operation_id, "
    "last_error, storage_location, post_request_id, final_request_id, submitted_by, tenant_key "
    "FROM operations ORDER BY id"
):
    out.write("\\t".join("" if v is None else str(v) for v in row) + "\\n")
"""
"""The floor: ten lines of Python printing the same rows (every column the commands print)."""

COMMANDS: dict[str, list[str]] = {
    "ops": ["ops"],
    "ops --json": ["ops", "--json"],
    "report csv": ["report", "--format", "csv"],
    "report md": ["report", "--format", "md"],
    "report json": ["report", "--format", "json"],
}
CHECKED = ("ops", "ops --json", "report csv")
"""The commands issue 15's target names; the Markdown and JSON reports are measured and shown beside them."""


def build(state_dir: Path, ops: int, seed: int = 15) -> Path:
    """A journal of ``ops`` operations in ``state_dir`` (the CLI's own path for it)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "journal.sqlite3"
    OperationJournal(path).close()  # the schema (and its version) as the console writes it
    rng = random.Random(seed)
    start = 1_796_000_000.0
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    op_rows = []
    poll_rows = []
    note_rows = []
    for key in range(1, ops + 1):
        created = start + key * 0.5
        pick = rng.random()
        user = f"{rng.getrandbits(128):032x}"
        user_id = f"{user[:8]}-{user[8:12]}-{user[12:16]}-{user[16:20]}-{user[20:]}"
        op_id = None
        location = None
        status = None
        progress = None
        submitted = None
        completed = None
        owner = None
        error = ""
        delivered = None
        post_rid = f"{rng.getrandbits(64):016x}-post" if rng.random() < 0.9 else ""
        final_rid = ""
        if pick < 0.80:
            state, status, progress = "final", "complete", 100.0
        elif pick < 0.88:
            state, status, progress = "final", "failed", 40.0
            error = "the export failed: user mailbox is on hold"
        elif pick < 0.95:
            state, status, progress = "tracking", "running", 50.0
        elif pick < 0.97:
            state, error = "error", "the operation is gone (404)"
        elif pick < 0.98:
            state, error = "rejected", "400 Bad Request: storage location already used"
        elif pick < 0.99:
            state, owner = "intent", "dead-process"
        else:
            state, error = "unconfirmed", "the POST timed out: Graph may or may not have accepted it"
        if state not in ("intent", "rejected"):
            op_id = f"{rng.getrandbits(64):016x}"
            location = f"https://graph.microsoft.com/beta/dataPolicyOperations/{op_id}"
            submitted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created + 1)) + ".1234567Z"
        if state == "final":
            completed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created + 600))
            if rng.random() < 0.7:
                final_rid = f"{rng.getrandbits(64):016x}-final"
            if status == "complete" and rng.random() < 0.5:
                delivered = json.dumps(
                    {
                        "checked_at": created + 700,
                        "files": 3,
                        "bytes": 123456,
                        "names": ["RequestInfo.json", "a.zip", "b.zip"],
                        "request_info": True,
                        "error": "",
                    }
                )
        storage = f"https://acct.blob.core.windows.net/dsr-{user_id}?sv=2022-11-02&sp=rwl&sig=***"
        op_rows.append(
            (
                key,
                TENANT,
                user_id,
                storage,
                state,
                op_id,
                location,
                status,
                progress,
                submitted,
                completed,
                created,
                created,
                None,
                error,
                2,
                f"DSR-{key % 500:04d}",
                f"User {key}",
                f"user{key}@contoso.com",
                TENANT,
                "admin@contoso.com",
                post_rid,
                final_rid,
                delivered,
                owner,
                1.0,
            )
        )
        if op_id is not None:
            poll_rows.append((key, created + 1, 202, 1.0, f"{rng.getrandbits(64):016x}", "c1", None, None, ""))
            poll_rows.append((key, created + 2, 200, 1.0, f"{rng.getrandbits(64):016x}", "c2", status, progress, ""))
        if key % 50 == 0:
            note_rows.append((key, created + 900, "ann@contoso.com", f"checked with the user ({key})"))
    db.executemany(
        "INSERT INTO operations (id, tenant_key, user_id, storage_location, state, operation_id, location, status, "
        "progress, submitted_at, completed_at, created_at, updated_at, next_poll_at, last_error, polls, case_ref, "
        "display_name, user_principal_name, home_tenant_id, submitted_by, post_request_id, final_request_id, "
        "delivered, owner, retry_after) VALUES (" + ", ".join("?" * 26) + ")",
        op_rows,
    )
    db.executemany(
        "INSERT INTO polls (operation, at, http_status, retry_after, request_id, client_request_id, status, "
        "progress, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        poll_rows,
    )
    db.executemany("INSERT INTO notes (operation, at, author, text) VALUES (?, ?, ?, ?)", note_rows)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


TIME = "/usr/bin/time"
"""GNU time reports its child's peak RSS; a child forked straight from this (big) process would
inherit this process's resident size as its ``ru_maxrss`` floor."""


def run(argv: list[str], out: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one process, its stdout written to ``out``."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte code cached, not compiled every run
    report = out.with_suffix(".rss")
    wrapped = [TIME, "-f", "%M", "-o", str(report), *argv] if os.path.exists(TIME) else argv
    with out.open("wb") as handle:
        began = time.perf_counter()
        child = subprocess.Popen(wrapped, stdout=handle, stderr=subprocess.DEVNULL, env=env)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
    code = os.waitstatus_to_exitcode(status)
    if wrapped is argv:
        return wall, usage.ru_maxrss / 1024.0, code
    lines = report.read_text().split()
    return wall, float(lines[-1]) / 1024.0, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (the median is reported)")
    parser.add_argument("--max-seconds", type=float, default=0.5)
    parser.add_argument("--max-mb", type=float, default=60.0)
    parser.add_argument("--max-ratio", type=float, default=3.0, help="time of a command / time of the loop")
    parser.add_argument("--keep", metavar="DIR", help="build the journal here and keep it")
    parser.add_argument("--check", action="store_true", help="exit 1 on any MISS")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="journal100k-") as tmp:
        state_dir = Path(args.keep) if args.keep else Path(tmp) / "state"
        began = time.perf_counter()
        path = build(state_dir, args.ops)
        print(
            f"journal of {args.ops:,} operations built in {time.perf_counter() - began:.1f} s "
            f"({path.stat().st_size / 1e6:.1f} MB)",
            flush=True,
        )
        figures: dict[str, tuple[float, float, int, int]] = {}
        names = ["loop", *COMMANDS]
        samples: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in names}
        for _ in range(args.runs):
            for name in names:  # interleaved, so machine load hits every command alike
                out = Path(tmp) / "out.txt"
                if name == "loop":
                    argv = [sys.executable, "-c", LOOP, str(path)]
                else:
                    argv = [sys.executable, "-m", "console", "--state-dir", str(state_dir), *COMMANDS[name]]
                wall, rss, code = run(argv, out)
                samples[name].append((wall, rss, code, out.stat().st_size))
        for name in names:
            walls = [s[0] for s in samples[name]]
            figures[name] = (
                median(walls),
                max(s[1] for s in samples[name]),
                max(abs(s[2]) for s in samples[name]),
                samples[name][0][3],
            )
    floor = figures["loop"][0]
    rows = []
    ok = True
    for name in names:
        wall, rss, code, size = figures[name]
        ratio = wall / floor if floor > 0 else float("nan")
        line = f"{wall:6.3f} s  {rss:6.1f} MB  {ratio:4.2f}x loop  {size / 1e6:6.2f} MB out  exit {code}"
        if name in CHECKED:
            missed = [
                what
                for what, bad in (
                    (f"> {args.max_seconds} s", wall > args.max_seconds),
                    (f"> {args.max_mb} MB", rss > args.max_mb),
                    (f"> {args.max_ratio}x loop", ratio > args.max_ratio),
                    ("exit", code != 0),
                )
                if bad
            ]
            ok = ok and not missed
            line += f"  {verdict(not missed)}" + (f" ({', '.join(missed)})" if missed else "")
        rows.append((name, line))
    print_block(
        f"TARGET each command <= {args.max_seconds} s, <= {args.max_mb} MB, <= {args.max_ratio}x loop "
        f"({args.ops:,} operations, median of {args.runs})",
        rows,
    )
    print(f"RESULT {verdict(ok)}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
