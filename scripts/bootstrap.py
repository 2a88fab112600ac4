#!/usr/bin/env python3
"""Create ``.venv`` and install export-console into it, on a stock Python 3.11+ (standard library only).

    python3 scripts/bootstrap.py            # the app:            .venv/bin/export-console --demo
    python3 scripts/bootstrap.py test       # plus the test extras (what .ci/run uses)
    python3 scripts/bootstrap.py --dry-run  # print the plan, change nothing, download nothing

Why a script and not ``pip install -e .``: on Debian and Ubuntu the system interpreter is
"externally managed" (PEP 668), so pip refuses to install into it; ``python3 -m venv`` needs the
``python3-venv`` package for its ``ensurepip``, and pip itself may be missing. So:

1. ``python3 -m venv .venv``; when ensurepip is unavailable, ``python3 -m venv --without-pip .venv``;
2. no pip in the venv: fetch pip's wheel from PyPI (``https://pypi.org/pypi/pip/json``, checked
   against its published sha256) and let the wheel install itself
   (``.venv/bin/python pip.whl/pip install pip.whl``);
3. ``.venv/bin/python -m pip install -e .[extras]``;
4. a stamp (``.venv/.bootstrap``: the interpreter, the extras and a hash of pyproject.toml) makes a
   second run return at once when nothing changed.

Proxies come from ``https_proxy``/``HTTPS_PROXY`` (urllib and pip both read them); a private CA from
``SSL_CERT_FILE``, then ``REQUESTS_CA_BUNDLE``, then ``CURL_CA_BUNDLE`` (the console's own rule,
console/tls.py). Exit codes: 0 installed (or already), 1 a step failed, 2 bad arguments or Python too old.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

MIN_PYTHON = (3, 11)
"""The project's ``requires-python``."""
PIP_INDEX = "https://pypi.org/pypi/pip/json"
"""PyPI's JSON description of pip's latest release (its files, with sha256 digests)."""
STAMP = ".bootstrap"
"""File inside the venv recording what was installed."""
CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""The console's CA-bundle precedence (console/tls.py), repeated here: this runs before it is installed."""

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class BootstrapError(Exception):
    """A step failed: a sentence saying which and what to do."""


def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output (shown only when it fails)."""
    return subprocess.run(list(command), capture_output=True, text=True, check=False)


def venv_python(venv: Path) -> Path:
    """The venv's interpreter (``bin/python``; ``Scripts\\python.exe`` on Windows)."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def stamp_text(project: Path, extras: Sequence[str], python: str) -> str:
    """What the stamp holds: changes to pyproject.toml, the extras or the interpreter force a reinstall."""
    digest = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    return json.dumps({"python": python, "extras": sorted(extras), "pyproject": digest}, sort_keys=True)


def requirement(project: Path, extras: Sequence[str]) -> str:
    """``-e`` target: the project, with its extras (``.[test]``)."""
    return f"{project}[{','.join(sorted(extras))}]" if extras else str(project)


def ensurepip_missing(result: subprocess.CompletedProcess[str]) -> bool:
    """``python3 -m venv`` failed because ensurepip is not installed (Debian's python3-venv)."""
    text = f"{result.stdout}\n{result.stderr}".lower()
    return "ensurepip" in text


def create_venv(python: str, venv: Path, runner: Runner, say: Callable[[str], None]) -> None:
    """``python -m venv``; without ensurepip, ``--without-pip`` (pip is bootstrapped afterwards).

    Raises:
        BootstrapError: neither form works.
    """
    result = runner([python, "-m", "venv", str(venv)])
    if result.returncode == 0:
        return
    if not ensurepip_missing(result):
        raise BootstrapError(f"`{python} -m venv {venv}` failed:\n{(result.stderr or result.stdout).strip()}")
    say("ensurepip is not available (python3-venv is not installed): creating the venv without pip")
    shutil.rmtree(venv, ignore_errors=True)
    result = runner([python, "-m", "venv", "--without-pip", str(venv)])
    if result.returncode != 0:
        raise BootstrapError(
            f"`{python} -m venv --without-pip {venv}` failed:\n{(result.stderr or result.stdout).strip()}\n"
            "Install your distribution's venv package (Debian/Ubuntu: python3-venv) and run this again."
        )


def pick_pip_wheel(index: Mapping[str, object]) -> tuple[str, str, str]:
    """``(url, filename, sha256)`` of the universal pip wheel in PyPI's JSON for pip.

    Raises:
        BootstrapError: the JSON holds no such wheel.
    """
    files = index.get("urls")
    if isinstance(files, list):
        for entry in files:
            if not isinstance(entry, dict):
                continue
            name = str(entry.get("filename", ""))
            digests = entry.get("digests")
            sha = digests.get("sha256") if isinstance(digests, dict) else None
            if entry.get("packagetype") == "bdist_wheel" and name.endswith("-py3-none-any.whl") and sha:
                # a mirror may answer with a URL relative to the JSON's own (``../../packages/...``)
                return urllib.parse.urljoin(PIP_INDEX, str(entry["url"])), name, str(sha)
    raise BootstrapError(f"{PIP_INDEX} lists no pip wheel (py3-none-any): install pip for this Python by hand")


def tls_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The CA bundle of the console's rule, else the system's."""
    env = os.environ if environ is None else environ
    for variable in CA_BUNDLE_VARIABLES:
        path = env.get(variable, "").strip()
        if path:
            if os.path.isdir(path):
                return ssl.create_default_context(capath=path)
            return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


def download(url: str, *, timeout: float = 60.0) -> bytes:
    """GET ``url`` over https (proxies from the environment)."""
    if not url.startswith("https://"):
        raise BootstrapError(f"refusing to download over plain http: {url}")
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context()))
    with opener.open(url, timeout=timeout) as response:
        data: bytes = response.read()
        return data


def bootstrap_pip(python: Path, runner: Runner, say: Callable[[str], None], fetch: Callable[[str], bytes]) -> None:
    """Install pip into the venv from PyPI's pip wheel (the wheel runs itself).

    Raises:
        BootstrapError: PyPI cannot be reached, the digest does not match, or the install fails.
    """
    try:
        index = json.loads(fetch(PIP_INDEX))
        url, name, sha = pick_pip_wheel(index)
        say(f"downloading {name} from PyPI")
        wheel = fetch(url)
    except (OSError, ValueError) as exc:
        raise BootstrapError(
            f"cannot download pip from PyPI ({exc}): check the network, https_proxy and the CA bundle "
            "(SSL_CERT_FILE), or install python3-venv / python3-pip"
        ) from None
    if hashlib.sha256(wheel).hexdigest() != sha:
        raise BootstrapError(f"{name} from PyPI does not match its published sha256: not installing it")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(wheel)
        result = runner([str(python), f"{path}/pip", "install", "--quiet", "--no-cache-dir", str(path)])
    if result.returncode != 0:
        raise BootstrapError(f"installing pip from its wheel failed:\n{(result.stderr or result.stdout).strip()}")


def has_pip(python: Path, runner: Runner) -> bool:
    return runner([str(python), "-m", "pip", "--version"]).returncode == 0


def installed(python: Path, venv: Path, expected: str, runner: Runner) -> bool:
    """The stamp matches and the package imports: nothing to do."""
    stamp = venv / STAMP
    if not python.exists() or not stamp.exists() or stamp.read_text() != expected:
        return False
    # -I: isolated, so the project directory itself (the cwd) cannot make the import succeed.
    check = "import importlib.metadata as m, console; m.version('export-console')"
    return runner([str(python), "-I", "-c", check]).returncode == 0


def plan(project: Path, venv: Path, extras: Sequence[str], python: str) -> list[str]:
    """The steps, as text (``--dry-run``)."""
    vpy = venv_python(venv)
    return [
        f"{python} -m venv {venv}   (or --without-pip when ensurepip is missing)",
        f"{vpy} -m pip --version    (when missing: pip's wheel from {PIP_INDEX}, sha256-checked, installs itself)",
        f"{vpy} -m pip install -e {requirement(project, extras)}",
        f"write {venv / STAMP}",
    ]


def bootstrap(
    project: Path,
    extras: Sequence[str],
    *,
    venv: Path | None = None,
    python: str = sys.executable,
    runner: Runner = run,
    fetch: Callable[[str], bytes] = download,
    say: Callable[[str], None] = print,
) -> bool:
    """Make ``venv`` hold the project with ``extras``; True when something was installed, False when up to date.

    Raises:
        BootstrapError: a step failed (the sentence says which).
    """
    venv = venv or project / ".venv"
    vpy = venv_python(venv)
    expected = stamp_text(project, extras, python)
    if installed(vpy, venv, expected, runner):
        say(f"already installed in {venv}")
        return False
    if not vpy.exists():
        say(f"creating {venv}")
        create_venv(python, venv, runner, say)
    if not has_pip(vpy, runner):
        bootstrap_pip(vpy, runner, say, fetch)
    target = requirement(project, extras)
    say(f"installing -e {target}")
    result = runner([str(vpy), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target])
    if result.returncode != 0:
        raise BootstrapError(f"pip install -e {target} failed:\n{(result.stderr or result.stdout).strip()}")
    (venv / STAMP).write_text(expected)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Create .venv and install export-console into it (works on a stock Debian/Ubuntu Python 3.11+).",
        epilog="Example: python3 scripts/bootstrap.py test && .venv/bin/export-console --demo",
    )
    parser.add_argument("extras", nargs="*", help="optional extras to install too, e.g. test")
    parser.add_argument("--venv", type=Path, help="the virtual environment to create (default: PROJECT/.venv)")
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parents[1], help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")
    args = parser.parse_args(argv)
    if sys.version_info < MIN_PYTHON:
        print(
            f"bootstrap: export-console needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; this is "
            f"{sys.version.split()[0]} ({sys.executable})",
            file=sys.stderr,
        )
        return 2
    project: Path = args.project.resolve()
    if not (project / "pyproject.toml").exists():
        print(f"bootstrap: {project} holds no pyproject.toml", file=sys.stderr)
        return 2
    extras = [extra.strip() for extra in args.extras if extra.strip()]
    for extra in extras:
        if not extra.replace("-", "").replace("_", "").isalnum():
            print(f"bootstrap: {extra!r} is not an extra's name", file=sys.stderr)
            return 2
    venv = (args.venv or project / ".venv").resolve()
    if args.dry_run:
        for step in plan(project, venv, extras, sys.executable):
            print(step)
        return 0
    try:
        bootstrap(project, extras, venv=venv)
    except BootstrapError as exc:
        print(f"bootstrap: {exc}", file=sys.stderr)
        return 1
    print(f"ready: {venv_python(venv).parent / 'export-console'} --demo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
