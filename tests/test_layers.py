"""The folder layout is the architecture: dependencies point down only (docs/architecture.md, issue 11).

Static (ast over every file, function-level imports included) and at runtime (a fresh interpreter):
``graph`` imports neither ``auth`` nor ``sim``; ``auth`` does not import ``sim``; ``ops``, ``graph``,
``auth``, ``sim`` and ``storage`` never import Textual; no import cycle between console's packages.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "console"

FORBIDDEN = {
    "graph": (
        "textual",
        "console.tui",
        "console.ops",
        "console.auth",
        "console.sim",
        "console.cli",
        "console.wiring",
        "sqlite3",
    ),
    "auth": ("textual", "console.tui", "console.ops", "console.sim", "console.cli", "console.wiring"),
    "ops": ("textual", "console.tui", "console.sim", "console.cli", "console.auth", "console.wiring"),
    "sim": ("textual", "console.tui", "console.ops", "console.cli", "console.graph.client", "console.wiring"),
    "storage": ("textual", "console.tui", "console.cli", "console.wiring", "console.auth"),
}
"""What each layer must never import (a module or anything under it)."""


def module_name(path: Path) -> str:
    parts = list(path.with_suffix("").relative_to(ROOT.parent).parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (relative imports resolved)."""
    names: set[str] = set()
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # `from console import wiring`
    return names


def unit_of(module: str) -> str:
    """The package (or top-level module) of console a module belongs to: ``console.graph.client`` -> ``console.graph``."""
    return ".".join(module.split(".")[:2])


def is_console_unit(unit: str) -> bool:
    """``console.X`` is a package or a module of console (not a name imported from ``console/__init__``)."""
    relative = unit.split(".", 1)[1]
    return (ROOT / relative).is_dir() or (ROOT / f"{relative}.py").exists()


def package_graph() -> dict[str, set[str]]:
    """console's packages and top-level modules, and which of them each imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = module_name(path)
        if name == "console":
            continue
        source = unit_of(name)
        targets = graph.setdefault(source, set())
        for imported in imports_of(path):
            target = unit_of(imported)
            if imported.startswith("console.") and target != source and is_console_unit(target):
                targets.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer: str) -> None:
    offenders = []
    files = sorted((ROOT / layer).rglob("*.py")) or [ROOT / f"{layer}.py"]
    for path in files:
        if not path.exists():
            continue
        for name in imports_of(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offenders.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    assert offenders == []


def test_no_import_cycle_between_console_packages() -> None:
    graph = package_graph()
    assert {"console.graph", "console.auth", "console.ops", "console.wiring"} <= set(graph)
    assert "console.graph" in graph["console.wiring"]  # the graph is really computed
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    graph = package_graph()
    graph["console.graph"] = graph["console.graph"] | {"console.wiring"}  # what a back-edge would do
    assert find_cycle(graph) is not None


def test_auth_modules_do_not_reach_into_each_other() -> None:
    """provider.py and signin.py: signin owns the provider, the provider never imports signin (issue 11)."""
    provider = imports_of(ROOT / "auth" / "provider.py")
    assert not any(name.startswith("console.auth.signin") for name in provider)
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


def test_headless_layers_do_not_load_textual_at_runtime() -> None:
    code = (
        "import sys, console.ops.engine, console.graph.client, console.sim.tenant, console.auth.signin, "
        "console.auth.headless, console.storage, console.wiring; "
        "print('textual' in sys.modules, 'console.sim' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "False"
    code = "import sys, console.graph.client; print(any(m.startswith(('console.auth', 'console.sim')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    code = "import sys, console.auth.signin, console.auth.headless; print('console.sim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
