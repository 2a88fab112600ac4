"""A removal killed between its intent and Graph's 204 (issue 19), with real processes.

``remove`` writes the intent, sends the POST, and is killed (SIGKILL) while Graph holds the answer. The
outcome is unknown: the journal shows the removal ``unconfirmed``; the same removal again is refused
(exit 2, naming when it was requested, nothing sent); ``watch`` and ``ops --reconcile`` never send it
again; only ``--force`` asks again.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from tests.e2e.helpers import Console, Sim, assert_clean, finish, wait_until

HELD = 30.0
"""Seconds the simulator holds the removal's answer (the kill falls well inside them)."""


def removal_rows(journal: Path) -> int:
    try:
        db = sqlite3.connect(journal, timeout=30)
        try:
            return int(db.execute("SELECT COUNT(*) FROM operations WHERE kind = 'removal'").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0  # the journal or its table does not exist yet


def removal_posts(sim: Sim) -> int:
    return sum(1 for r in sim.requests() if r.get("method") == "POST" and "removePersonalData" in r.get("path", ""))


def test_a_removal_killed_before_its_204_is_unconfirmed_and_never_sent_again(sim: Sim, console: Console) -> None:
    (user,) = sim.user_ids(1)
    args = ("remove", user, "--case", "DSR-K", "--confirm", "1", "--allow-removal")
    sim.knobs(delay=HELD, delay_only={"method": "POST", "path": "removePersonalData"})
    remover = console.start(*args, "--json")
    wait_until(lambda: removal_rows(console.state_dir / "journal.sqlite3") == 1, timeout=60, pause=0.01)
    remover.send_signal(signal.SIGKILL)
    finish(remover, timeout=30)
    sim.knobs(delay=0.0)

    rows = console.ops()
    (row,) = [r for r in rows if r["kind"] == "removal"]
    assert (row["state"], row["case"]) == ("unconfirmed", "DSR-K"), row

    again = console.run(*args)
    assert again.rc == 2, str(again)
    assert "already requested" in again.err and "UTC" in again.err and "--force" in again.err
    for command in (("watch", "--json"), ("ops", "--reconcile", "--json")):
        result = console.run(*command)
        assert_clean(result, json_out=True)
    sent = removal_posts(sim)
    assert sent <= 1  # the killed one, if the simulator got to answer it; never another
    assert [r["state"] for r in console.ops() if r["kind"] == "removal"] == ["unconfirmed"]

    forced = console.run(*args, "--force", "--json")
    assert forced.rc == 0, str(forced)
    assert removal_posts(sim) == sent + 1
