"""The secrets audit (issues 7 and 8): a full CLI session and a console session with a KNOWN SAS
signature and a KNOWN bearer token; neither may appear in stdout, stderr, the journal (raw bytes of
the database, -wal and -shm), the debug log, any config or cache file, or in ``ps``-visible argv
when ``--storage-location-env`` / ``--storage-location-file`` are used. The SAS given on the command
line gets the one-line ``ps`` warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.e2e.helpers import (
    SAS_SIG,
    TOKEN,
    Console,
    Result,
    Sim,
    assert_clean,
    finish,
    location_template,
    wait_until,
)

SECRETS = (SAS_SIG, TOKEN, quote(SAS_SIG, safe=""), SAS_SIG.lower())


def _cmdline(pid: int) -> bytes:
    """What ``ps`` shows of a running process (waits until the kernel has its argv)."""
    seen = b""

    def ready() -> bool:
        nonlocal seen
        seen = Path(f"/proc/{pid}/cmdline").read_bytes()
        return b"export" in seen

    wait_until(ready, timeout=30, pause=0.01)
    return seen


def _leaks(text: str | bytes) -> list[str]:
    data = text if isinstance(text, str) else text.decode("latin-1")
    return [s for s in SECRETS if s in data]


def _assert_no_secret(where: str, text: str | bytes) -> None:
    found = _leaks(text)
    assert not found, f"a secret ({found}) appears in {where}"


def _check_result(result: Result) -> None:
    assert_clean(result)
    _assert_no_secret(f"stdout of {result.argv[-6:]}", result.out)
    _assert_no_secret(f"stderr of {result.argv[-6:]}", result.err)


def _scan_tree(root: Path) -> list[Path]:
    """Every file under ``root`` (journal, -wal, -shm, logs, config, cache): no secret in its bytes."""
    files = [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        _assert_no_secret(str(path), path.read_bytes())
    return files


def test_cli_session_leaks_no_secret(console: Console, sim: Sim, dead_port: int, tmp_path: Path) -> None:
    console.debug = True
    users = sim.user_ids(5)
    console.env["LOC"] = location_template(dead_port, prefix="env")
    seen: list[Result] = []

    def run(*args: str, stdin: str | None = None, rc: set[int] | None = None) -> Result:
        result = console.run(*args, stdin=stdin)
        _check_result(result)
        if rc is not None:
            assert result.rc in rc, str(result)
        seen.append(result)
        return result

    run("profiles", "--json", rc={0})
    # --storage-location-env, while ps shows its argv.
    process = console.start(
        "export", users[0], users[1], "--storage-location-env", "LOC", "--case", "DSR-7", "--wait", "--json"
    )
    cmdline = _cmdline(process.pid)
    result = finish(process)
    _check_result(result)
    assert result.rc == 0, str(result)
    assert b"--storage-location-env" in cmdline
    _assert_no_secret("the exporter's argv (ps)", cmdline)
    # --storage-location-file PATH and '-' (standard input).
    location_file = tmp_path / "location.txt"
    location_file.write_text("\n" + location_template(dead_port, prefix="file") + "\n")
    location_file.chmod(0o600)
    run("export", users[2], "--storage-location-file", str(location_file), "--wait", "--json", rc={0})
    run(
        "export",
        users[3],
        "--storage-location-file",
        "-",
        "--wait",
        stdin=location_template(dead_port, prefix="stdin") + "\n",
        rc={0},
    )
    # On the command line: accepted, with the one-line ps warning (the secret itself is never echoed).
    argv_result = run(
        "export", users[4], "--storage-location", location_template(dead_port, prefix="argv"), "--wait", rc={0}
    )
    warnings = [line for line in argv_result.err.splitlines() if "ps" in line and "sig" in line.lower()]
    assert len(warnings) == 1, argv_result.err
    # Graph refuses a reused container (400 StorageLocationAlreadyUsed): the error text is redacted too.
    refused = run(
        "export", users[0], "--storage-location-env", "LOC", "--force", "--no-storage-check", "--json", rc={1}
    )
    assert "StorageLocationAlreadyUsed" in refused.out + refused.err or "already been used" in refused.out
    run("watch", "--json", rc={0, 1})
    ops = run("ops", "--json", rc={0})
    run("ops", rc={0})
    operation_id = next(e["operationId"] for e in ops.events if e.get("operationId"))
    run("note", operation_id, "checked with the requester", rc={0})
    for fmt in ("md", "csv", "json"):
        report = run("report", "--format", fmt, rc={0})
        assert operation_id in report.out
        out_file = tmp_path / f"report.{fmt}"
        run("report", "--format", fmt, "--output", str(out_file), rc={0})
        _assert_no_secret(str(out_file), out_file.read_bytes())
    # Every file the session wrote: journal (db, -wal, -shm), debug log, config, cache.
    files = _scan_tree(console.state_dir)
    names = {p.name for p in files}
    assert any(n.startswith("journal") for n in names), names
    assert any(n.endswith(".log") or ".log." in n for n in names), f"no debug log among {sorted(names)}"
    # Each location the session used is in the journal, redacted: the journal did record the SAS query.
    journal = b"".join(p.read_bytes() for p in files if p.name.startswith("journal"))
    assert b"sig=***" in journal or b"sig=%2A%2A%2A" in journal
    _assert_no_secret("the simulator's stderr", (sim.workdir / "sim-1.err").read_bytes())


async def test_console_session_leaks_no_secret(tmp_path: Path) -> None:
    """The demo console, the known SAS typed into the export form: not on screen, not in any file."""
    from textual import events
    from textual.worker import WorkerFailed

    from console.tui.app import ConsoleApp
    from console.tui.dialogs.confirm import ConfirmScreen
    from console.tui.entry import build_console_services
    from console.tui.screens.export import ExportScreen
    from console.tui.screens.main import MainScreen
    from console.tui.widgets.profile_list import ProfileList
    from console.tui.widgets.storage_input import StorageLocationInput
    from console.wiring import ConnectionOptions, demo_location

    state = tmp_path / "console-state"
    services = build_console_services(ConnectionOptions(demo=True, state_dir=str(state)))
    app = ConsoleApp(services)

    async def settle(pilot: Any) -> None:
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        await pilot.pause(0.1)

    screens: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        user = main.query_one(ProfileList).highlighted_user_id
        assert user is not None
        location = re.sub(r"sig=[^&#]*", f"sig={SAS_SIG}", demo_location(user))
        assert SAS_SIG in location
        await pilot.press("enter", "tab")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExportScreen)
        field = form.query_one("#storage", StorageLocationInput)
        for chunk in (location[:20], location[20:]):  # typed in two bursts
            field.post_message(events.Paste(chunk))
            await settle(pilot)
        screens.append(app.export_screenshot())
        await pilot.press("enter")
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            screens.append(app.export_screenshot())
            await pilot.press("y")
        await settle(pilot)
        for _ in range(100):
            if getattr(form, "outcomes", None) is not None:
                break
            await pilot.pause(0.05)
        screens.append(app.export_screenshot())
        await pilot.press("escape")
        await settle(pilot)
        screens.append(app.export_screenshot())
    for number, screen in enumerate(screens):
        _assert_no_secret(f"screen {number}", screen)
    assert getattr(form, "outcomes", None), "the export was never sent: the audit saw nothing"
    _scan_tree(state)
    journal = b"".join(p.read_bytes() for p in state.rglob("journal*") if p.is_file())
    assert journal, "no journal written"
    assert b"***" in journal


def test_secret_in_argv_is_visible_only_where_the_user_put_it(console: Console, sim: Sim, dead_port: int) -> None:
    """With --storage-location, ps shows the SAS (the user's choice, warned about): the warning says so
    in one line and the process's own output never repeats it."""
    users = sim.user_ids(1)
    process = console.start(
        "export", users[0], "--storage-location", location_template(dead_port, prefix="ps"), "--wait", "--json"
    )
    cmdline = _cmdline(process.pid)
    result = finish(process)
    assert SAS_SIG.encode() in cmdline  # what the warning is about
    _check_result(result)
    assert result.rc == 0, str(result)
    assert sum(1 for line in result.err.splitlines() if "`ps`" in line) == 1, result.err
