"""The folder layout is the architecture: dependencies point down only (docs/architecture.md, issue 11).

The layer rules live once, as import-linter contracts in ``pyproject.toml`` (static: function-level
imports included); this runs them, so the suite fails when a contract breaks. At runtime (a fresh
interpreter): the headless layers never load Textual, and the Graph client loads neither sign-in nor
the simulator.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "console"


def contracts() -> list[dict[str, object]]:
    """The import contracts ``pyproject.toml`` declares."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    found: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return found


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout, result.stdout


def test_the_contracts_hold_the_layer_rules() -> None:
    """The rules a newcomer relies on are among the contracts (a contract deleted is a rule gone)."""
    forbidden = {
        (module, banned)
        for contract in contracts()
        if contract["type"] == "forbidden"
        for module in contract["source_modules"]  # type: ignore[attr-defined]
        for banned in contract["forbidden_modules"]  # type: ignore[attr-defined]
    }
    for layer in ("console.graph", "console.auth", "console.ops", "console.sim", "console.storage"):
        assert (layer, "textual") in forbidden or (layer, "console.tui") in forbidden, layer
    assert {
        ("console.graph", "console.auth"),
        ("console.graph", "console.sim"),
        ("console.auth", "console.sim"),
    } <= forbidden
    assert ("console", "sqlite3") in forbidden
    assert any(contract["type"] == "acyclic_siblings" for contract in contracts())


def test_auth_modules_do_not_reach_into_each_other() -> None:
    """provider.py and signin.py: signin owns the provider (the import rule is a contract), and neither
    touches the other's private members (issue 11)."""
    text = (ROOT / "auth" / "provider.py").read_text() + (ROOT / "auth" / "signin.py").read_text()
    for private in ("signin._", "provider._", "._signin._", "self.provider._"):
        assert private not in text, private


def test_one_jwt_reader() -> None:
    readers = [
        path.relative_to(ROOT.parent).as_posix()
        for path in sorted(ROOT.rglob("*.py"))
        if "urlsafe_b64decode" in path.read_text() and not path.is_relative_to(ROOT / "sim")
    ]
    assert readers == ["console/jwt.py"]


def test_the_tui_never_builds_urls_or_touches_sqlite() -> None:
    """The console may hand a transport on (the demo's storage stand-in), never open an HTTP client itself."""
    offenders = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        text = path.read_text()
        for needle in (
            "sqlite3",
            "/directory/",
            "dataPolicyOperations",
            "https://graph",
            "AsyncClient(",
            "httpx.Client(",
        ):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []


def test_the_tui_never_builds_a_client_journal_or_engine() -> None:
    """One composition root: console/wiring.py builds them; the console only calls it (a read-only
    ``OperationJournal(path)`` for the report is allowed, docs/interfaces.md)."""
    offenders = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        text = path.read_text()
        for needle in ("GraphClient(", "OperationsEngine(", "SimulatedTenant(", "journal_for("):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []


def python_prints(code: str) -> str:
    """What a fresh interpreter prints running ``code`` (a module's imports are its own there)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_headless_layers_do_not_load_textual_at_runtime() -> None:
    code = (
        "import sys, console.ops.engine, console.graph.client, console.sim.tenant, console.auth.signin, "
        "console.auth.headless, console.storage, console.wiring; "
        "print('textual' in sys.modules, 'console.sim' in sys.modules)"
    )
    assert python_prints(code).split()[0] == "False"
    code = "import sys, console.graph.client; print(any(m.startswith(('console.auth', 'console.sim')) for m in sys.modules))"
    assert python_prints(code).strip() == "False"
    code = "import sys, console.auth.signin, console.auth.headless; print('console.sim' in sys.modules)"
    assert python_prints(code).strip() == "False"


def test_the_export_path_leaves_httpx_command_line_unloaded() -> None:
    """httpx imports its own command line (click, rich) when they are installed; the console never runs it
    (45 ms of every start-up that talks to Graph). httpx still works, and its ``main`` is its stub."""
    code = (
        "import sys, console.cli.run, console.ops.engine, console.graph.client, console.storage.blob, "
        "console.ops.submission, httpx; "
        "print(sorted(m for m in ('click', 'rich', 'pygments', 'httpx._main') if sys.modules.get(m) is not None), "
        "httpx.URL('https://graph.microsoft.com/beta').host)"
    )
    assert python_prints(code).split() == ["[]", "graph.microsoft.com"]


def test_a_long_run_tunes_the_collector_once_started() -> None:
    """``run_async`` (export --wait, watch): young collections every 10,000 allocations, start-up frozen."""
    code = (
        "import gc; from console.cli.run import run_async\n"
        "async def probe() -> int:\n"
        "    return gc.get_threshold()[0] + (gc.get_freeze_count() > 0)\n"
        "print(gc.get_threshold()[0], run_async(probe))"
    )
    assert python_prints(code).split() == ["700", "10001"]
