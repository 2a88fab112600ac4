"""The folder layout is the architecture: dependencies point down only (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "console"

FORBIDDEN = {
    "graph": ("textual", "console.tui", "console.ops", "console.sim", "console.cli", "sqlite3"),
    "auth": ("textual", "console.tui", "console.ops", "console.cli"),
    "ops": ("textual", "console.tui", "console.sim", "console.cli", "console.auth.signin"),
    "sim": ("textual", "console.tui", "console.ops", "console.cli", "console.graph.client"),
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer: str) -> None:
    offenders = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for name in imports_of(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offenders.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    assert offenders == []


def test_the_tui_never_builds_urls_or_touches_sqlite() -> None:
    offenders = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        text = path.read_text()
        for needle in ("sqlite3", "/directory/", "dataPolicyOperations", "https://graph", "httpx"):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []


def test_headless_commands_do_not_load_textual() -> None:
    code = (
        "import sys, console.cli, console.ops.engine, console.graph.client, console.sim.tenant;"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
