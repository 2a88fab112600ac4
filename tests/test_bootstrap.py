"""scripts/bootstrap.py: a venv and the project on a stock Python, even without ensurepip or pip (no downloads)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bootstrap.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bootstrap_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bootstrap = load()


def done(command: Sequence[str], code: int = 0, err: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(list(command), code, "", err)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n')
    return root


def fake_pip_wheel(tmp_path: Path) -> tuple[bytes, str]:
    """A wheel whose ``pip/__main__.py`` (run as ``python pip.whl/pip install pip.whl``) leaves a marker."""
    path = tmp_path / "pip-99.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(
            "pip/__main__.py",
            "import sys, pathlib\npathlib.Path(sys.prefix, 'pip-installed').write_text(' '.join(sys.argv[1:]))\n",
        )
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def test_dry_run_prints_the_plan_and_changes_nothing(project: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--project", str(project), "test"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-m venv" in out and "--without-pip" in out and "pypi.org/pypi/pip/json" in out
    assert f"pip install -e {project}[test]" in out
    assert not (project / ".venv").exists()


def test_without_ensurepip_or_pip_it_builds_a_venv_and_bootstraps_pip_from_its_wheel(
    project: Path, tmp_path: Path
) -> None:
    """Real venv (``--without-pip``) and a real run of the pip wheel; only pip's own commands are faked."""
    wheel, sha = fake_pip_wheel(tmp_path)
    index = {
        "urls": [
            {"packagetype": "sdist", "filename": "pip-99.0.tar.gz", "url": "https://files.example/pip.tgz"},
            {
                "packagetype": "bdist_wheel",
                "filename": "pip-99.0-py3-none-any.whl",
                "url": "https://files.example/pip.whl",
                "digests": {"sha256": sha},
            },
        ]
    }
    fetched: list[str] = []
    commands: list[list[str]] = []
    installs: list[str] = []
    venv = project / ".venv"

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return json.dumps(index).encode() if url == bootstrap.PIP_INDEX else wheel

    def runner(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        commands.append(list(command))
        if command[1:3] == ["-m", "venv"] and "--without-pip" not in command:
            return done(
                command, 1, "The virtual environment was not created successfully because ensurepip is not available."
            )
        if command[1:3] == ["-m", "pip"]:  # pip's own commands: present once the wheel ran
            if "install" in command:
                installs.append(command[-1])
            return done(command, 0 if (venv / "pip-installed").exists() else 1)
        if command[1:3] == ["-I", "-c"]:  # "is export-console installed": once pip install -e ran
            return done(command, 0 if installs else 1)
        result: subprocess.CompletedProcess[str] = bootstrap.run(command)
        return result

    said: list[str] = []
    assert bootstrap.bootstrap(project, ["test"], python=sys.executable, runner=runner, fetch=fetch, say=said.append)
    assert (venv / "pyvenv.cfg").exists() and bootstrap.venv_python(venv).exists()
    assert "install" in (venv / "pip-installed").read_text()  # the wheel installed itself
    assert fetched == [bootstrap.PIP_INDEX, "https://files.example/pip.whl"]
    assert commands[-1][-2:] == ["-e", f"{project}[test]"]
    assert any("ensurepip is not available" in line for line in said)

    # a second run finds the stamp and returns at once: nothing created, fetched or installed
    commands.clear()
    assert not bootstrap.bootstrap(
        project, ["test"], python=sys.executable, runner=runner, fetch=fetch, say=said.append
    )
    assert [c[1:3] for c in commands] == [["-I", "-c"]]
    assert said[-1].startswith("already installed")

    # another extra, or a changed pyproject.toml, installs again
    commands.clear()
    assert bootstrap.bootstrap(project, [], python=sys.executable, runner=runner, fetch=fetch, say=said.append)
    assert commands[-1][-2:] == ["-e", str(project)]


def test_a_wheel_that_does_not_match_its_digest_is_refused(project: Path, tmp_path: Path) -> None:
    wheel, _sha = fake_pip_wheel(tmp_path)
    index = {
        "urls": [
            {
                "packagetype": "bdist_wheel",
                "filename": "pip-99.0-py3-none-any.whl",
                "url": "https://files.example/pip.whl",
                "digests": {"sha256": "0" * 64},
            }
        ]
    }

    def fetch(url: str) -> bytes:
        return json.dumps(index).encode() if url == bootstrap.PIP_INDEX else wheel

    ran: list[list[str]] = []

    def runner(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        ran.append(list(command))
        return done(command, 1)

    with pytest.raises(bootstrap.BootstrapError, match="sha256"):
        bootstrap.bootstrap_pip(project / "python", runner, lambda _m: None, fetch)
    assert ran == []


def test_a_venv_failure_other_than_ensurepip_is_reported(tmp_path: Path) -> None:
    def runner(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return done(command, 1, "Error: [Errno 13] Permission denied")

    with pytest.raises(bootstrap.BootstrapError, match="Permission denied"):
        bootstrap.create_venv(sys.executable, tmp_path / "v", runner, lambda _m: None)


def test_a_relative_wheel_url_is_resolved_against_the_index() -> None:
    """A PyPI mirror answered ``../../packages/...``: that is relative to the JSON's URL."""
    entry = {"packagetype": "bdist_wheel", "filename": "pip-1-py3-none-any.whl", "digests": {"sha256": "ab"}}
    url, _name, _sha = bootstrap.pick_pip_wheel(
        {"urls": [{**entry, "url": "../../packages/aa/pip-1-py3-none-any.whl"}]}
    )
    assert url == "https://pypi.org/packages/aa/pip-1-py3-none-any.whl"


def test_pick_pip_wheel_needs_a_universal_wheel() -> None:
    with pytest.raises(bootstrap.BootstrapError):
        bootstrap.pick_pip_wheel({"urls": [{"packagetype": "sdist", "filename": "pip.tar.gz", "url": "u"}]})


def test_bad_arguments_exit_2(project: Path) -> None:
    args: list[Any] = [sys.executable, str(SCRIPT), "--dry-run", "--project", str(project), "te;st"]
    assert subprocess.run(args, capture_output=True, check=False).returncode == 2


def test_the_project_directory_does_not_pass_for_an_installed_package(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from the checkout, ``import console`` works from the cwd: the up-to-date check must not trust that."""
    venv = tmp_path / "bare"
    assert bootstrap.run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    expected = bootstrap.stamp_text(project, [], sys.executable)
    (venv / bootstrap.STAMP).write_text(expected)
    monkeypatch.chdir(SCRIPT.parents[1])  # console/ importable from here
    assert not bootstrap.installed(bootstrap.venv_python(venv), venv, expected, bootstrap.run)
