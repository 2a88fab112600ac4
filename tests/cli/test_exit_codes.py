"""Bad input is exit 2 with one line and nothing sent; a bug is exit 1, never a usage error (issue 14, item 6).

Every case runs through the entry function (``console.cli.main``, what ``export-console`` calls) against
the simulated tenant on loopback, whose record shows that nothing reached Graph.
"""

from __future__ import annotations

import importlib.abc
import os
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import console.cli.run as cli_run
from console.cli import main
from console.cli.exitcodes import UsageProblem, exit_code_for_exception, is_expected
from console.config import ConfigError
from console.errors import ConsoleError
from console.errors import UsageError as ConsoleUsageError
from console.graph.errors import AuthenticationError, PermissionDenied, QuotaExceeded
from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant
from console.storage.templates import TemplateError
from console.wiring import UsageError
from tests.cli.conftest import TEMPLATE

COMMANDS: dict[str, list[str]] = {
    "profiles": ["profiles"],
    "export": ["export", "{user}", "--storage-location-env", "LOC"],
    "watch": ["watch"],
    "ops": ["ops"],
    "note": ["note", "1", "checked"],
    "report": ["report"],
    "console": [],  # no command: the console; its checks run before the app starts
}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SimulatedTenant, LoopbackServer]]:
    tenant = SimulatedTenant(profiles=5, page_size=2, retry_after=0.3, export_duration=1.0)
    with LoopbackServer(tenant) as server:
        monkeypatch.setenv("SIM_TOKEN", tenant.issue_token(lifetime=3600))
        monkeypatch.setenv("LOC", TEMPLATE)
        monkeypatch.delenv("EXPORT_CONSOLE_STATE_DIR", raising=False)
        for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
            monkeypatch.delenv(proxy, raising=False)
        yield tenant, server


def call(argv: list[str]) -> int:
    """``main(argv)``; argparse's own refusals come back as their exit code, an escaping Ctrl+C as -1."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except KeyboardInterrupt:  # escaped the entry: a traceback for the user
        return -1


def argv_for(command: str, server: LoopbackServer, tenant: SimulatedTenant, *, state_dir: str) -> list[str]:
    user = tenant.graph.profiles[0].user_id
    args = [a.replace("{user}", user) for a in COMMANDS[command]]
    return ["--graph-url", server.graph_url, "--token-env", "SIM_TOKEN", "--state-dir", state_dir, *args]


def assert_one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("export-console"), err
    return lines[0]


def unusable_state_dirs(tmp_path: Path) -> dict[str, str]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    loop_a, loop_b = tmp_path / "loop-a", tmp_path / "loop-b"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    journal_dir = tmp_path / "state-with-a-directory-journal"
    (journal_dir / "journal.sqlite3").mkdir(parents=True)
    return {
        "/dev/null": "/dev/null",
        "a file": str(a_file),
        "under a file": str(a_file / "state"),
        "/proc/self/x": "/proc/self/x",
        "too long": str(tmp_path / ("a" * 300)),
        "a symlink loop": str(loop_a),
        "journal is a directory": str(journal_dir),
    }


GLOBAL_VALUE_OPTIONS = ("--state-dir", "--tenant", "--token-env")

BAD_DIRS = [
    "/dev/null",
    "a file",
    "under a file",
    "/proc/self/x",
    "too long",
    "a symlink loop",
    "journal is a directory",
]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("bad", BAD_DIRS)
def test_an_unusable_state_dir_is_a_usage_error_with_one_line_and_nothing_sent(
    served: tuple[SimulatedTenant, LoopbackServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    bad: str,
) -> None:
    tenant, server = served
    state_dir = unusable_state_dirs(tmp_path)[bad]
    code = call(argv_for(command, server, tenant, state_dir=state_dir))
    err = capsys.readouterr().err
    line = assert_one_line(err)
    assert code == 2, err
    assert "state" in line or "journal" in line, line
    for name in ("FileExistsError", "FileNotFoundError", "NotADirectoryError", "AttributeError", "OSError"):
        assert name not in line
    assert tenant.requests == []


EMPTY_OPTIONS = [
    *((command, option) for command in ("profiles", "export", "ops", "console") for option in GLOBAL_VALUE_OPTIONS),
    # ``--case "$REF"`` with REF unset would export without the case, or list every case.
    *((command, "--case") for command in ("export", "ops", "report")),
]


@pytest.mark.parametrize(("command", "option"), EMPTY_OPTIONS)
def test_an_empty_option_value_is_a_usage_error_and_nothing_is_sent(
    served: tuple[SimulatedTenant, LoopbackServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    option: str,
) -> None:
    tenant, server = served
    argv = argv_for(command, server, tenant, state_dir=str(tmp_path / "state"))
    position = argv.index(option) if option in argv else 0 if option in GLOBAL_VALUE_OPTIONS else len(argv)
    if option in argv:
        argv[position + 1] = ""
    else:
        argv[position:position] = [option, ""]
    code = call(argv)
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2
    assert option in line and "empty" in line
    assert tenant.requests == []


@pytest.mark.parametrize("ids", [["{user}", ""], ["", "{user}"], ["{user}", "  "]])
def test_an_empty_user_id_is_a_usage_error_and_nothing_is_exported(
    served: tuple[SimulatedTenant, LoopbackServer], tmp_path: Path, capsys: pytest.CaptureFixture[str], ids: list[str]
) -> None:
    tenant, server = served
    user = tenant.graph.profiles[0].user_id
    argv = argv_for("export", server, tenant, state_dir=str(tmp_path / "state"))
    at = argv.index(user)
    argv[at : at + 1] = [i.replace("{user}", user) for i in ids]
    code = call(argv)
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2
    assert "empty" in line
    assert tenant.requests == []


@pytest.mark.parametrize("command", ["profiles", "export", "watch", "ops", "console"])
@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "abc\ndef", "abc\x1b[2Jdef"])
def test_a_token_with_a_line_break_or_control_character_is_a_usage_error_never_sent(
    served: tuple[SimulatedTenant, LoopbackServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    token: str,
) -> None:
    tenant, server = served
    monkeypatch.setenv("SIM_TOKEN", token)
    code = call(argv_for(command, server, tenant, state_dir=str(tmp_path / "state")))
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2
    assert "$SIM_TOKEN" in line and "nothing was sent" in line
    assert "abc" not in line
    assert tenant.requests == []


@pytest.mark.parametrize("command", ["profiles", "export", "watch", "console"])
def test_port_zero_in_the_graph_url_is_a_usage_error(
    served: tuple[SimulatedTenant, LoopbackServer], tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    tenant, server = served
    argv = argv_for(command, server, tenant, state_dir=str(tmp_path / "state"))
    argv[argv.index("--graph-url") + 1] = "http://127.0.0.1:0/beta"
    code = call(argv)
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2
    assert "port 0" in line


@pytest.mark.parametrize("command", ["profiles", "export"])
def test_user_info_in_the_graph_url_is_refused_before_anything_is_sent(
    served: tuple[SimulatedTenant, LoopbackServer], tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """httpx would send user:password@ as Basic credentials beside (or instead of) the bearer token."""
    tenant, server = served
    argv = argv_for(command, server, tenant, state_dir=str(tmp_path / "state"))
    url = argv[argv.index("--graph-url") + 1]
    argv[argv.index("--graph-url") + 1] = url.replace("://", "://admin:Pa55word@", 1)
    code = call(argv)
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2
    assert "password" in line and "Pa55word" not in line
    assert tenant.requests == []


def test_user_info_in_a_saved_tenants_graph_url_is_refused_before_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The saved tenant's graph_url meets the same rule as --graph-url (a closed loopback port behind it)."""
    root = tmp_path / "state"
    root.mkdir()
    (root / "config.toml").write_text(
        '[tenants.contoso]\ntenant = "contoso.onmicrosoft.com"\n'
        'graph_url = "http://admin:Pa55word@127.0.0.1:9/beta"\nauthority = "https://127.0.0.1:9/contoso"\n'
    )
    monkeypatch.setenv("EXPORT_CONSOLE_STATE_DIR", str(root))
    code = call(["--tenant", "contoso", "profiles"])
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2
    assert "user-info" in line and "Pa55word" not in line


def test_ctrl_c_while_starting_up_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_run, "build_parser", interrupted)
    assert call(["--state-dir", str(tmp_path), "ops"]) == 130
    assert assert_one_line(capsys.readouterr().err) == "export-console: interrupted"


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Ctrl+C landing while ``python -m console`` imports its entry (before ``main``'s guard exists)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "console.cli":
            raise KeyboardInterrupt


def test_ctrl_c_while_importing_the_entry_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "console.cli")
    monkeypatch.delitem(sys.modules, "console.__main__", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    try:
        runpy.run_module("console", run_name="__main__")
    except SystemExit as stopped:
        assert stopped.code == 130
    except KeyboardInterrupt:
        pytest.fail("Ctrl+C while importing the entry escaped as a traceback")
    else:
        pytest.fail("python -m console ended without an exit code")
    assert assert_one_line(capsys.readouterr().err) == "export-console: interrupted"


def test_ctrl_c_while_opening_the_journal_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_run, "open_journal_only", interrupted)
    assert call(["--state-dir", str(tmp_path), "ops"]) == 130
    assert assert_one_line(capsys.readouterr().err) == "export-console: interrupted"


def test_a_bug_escaping_a_command_is_exit_1_with_one_line_and_a_hint_to_rerun_with_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(cli_run, "run_journal_command", broken)
    assert call(["--state-dir", str(tmp_path), "ops"]) == 1
    line = assert_one_line(capsys.readouterr().err)
    assert "ValueError: a bug, not bad input" in line and "--debug" in line


def test_a_value_error_inside_a_command_is_exit_1_not_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import console.cli.journal_commands as journal_commands

    def broken(*_args: object, **_kwargs: object) -> int:
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(journal_commands, "cmd_ops", broken)
    assert call(["--state-dir", str(tmp_path), "ops"]) == 1
    line = assert_one_line(capsys.readouterr().err)
    assert "ValueError: a bug, not bad input" in line and "--debug" in line


def test_only_the_projects_own_error_types_are_usage_errors() -> None:
    assert exit_code_for_exception(ValueError("x")) == 1
    assert exit_code_for_exception(KeyError("x")) == 1
    assert exit_code_for_exception(TypeError("x")) == 1
    assert exit_code_for_exception(UsageProblem("x")) == 2
    assert exit_code_for_exception(UsageError("x")) == 2
    assert exit_code_for_exception(ConfigError("x")) == 2
    assert exit_code_for_exception(TemplateError("x")) == 2
    assert exit_code_for_exception(KeyboardInterrupt()) == 130


def test_the_entry_module_stays_light() -> None:
    """Ctrl+C during the imports before ``main``'s guard: importing the entry loads no heavy module."""
    import subprocess
    import sys

    code = "import sys, console.cli; print(','.join(m for m in ('httpx', 'textual', 'msal', 'console.cli.run') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_an_empty_state_dir_with_debug_writes_no_debug_log_anywhere(
    served: tuple[SimulatedTenant, LoopbackServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused by the parser, before the debug log would open in the per-user directories."""
    code = call(["--state-dir", "", "--debug", "ops"])
    line = assert_one_line(capsys.readouterr().err)
    assert code == 2 and "--state-dir" in line and "empty" in line


@pytest.mark.parametrize("field", ["state_dir", "tenant", "token_env"])
def test_the_option_rules_refuse_an_empty_value_whoever_builds_the_options(field: str) -> None:
    from console.wiring import ConnectionOptions, check_options

    with pytest.raises(UsageError, match="empty"):
        check_options(
            ConnectionOptions(
                state_dir="" if field == "state_dir" else None,
                tenant="" if field == "tenant" else None,
                token_env="" if field == "token_env" else None,
            )
        )


def _console_error_classes() -> list[type[ConsoleError]]:
    """Every class of the error family, once the modules that define them are imported."""
    import importlib

    for module in (
        "console.auth.errors",
        "console.config",
        "console.ops.budget",
        "console.ops.cases",
        "console.ops.engine",
        "console.ops.journal",
        "console.ops.removal",
        "console.ops.vocabulary",
        "console.storage.pool",
        "console.storage.templates",
        "console.tls",
    ):
        importlib.import_module(module)
    found: list[type[ConsoleError]] = []
    todo: list[type[ConsoleError]] = [ConsoleError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _family_code(cls: type[ConsoleError]) -> int:
    """What the contract says a family means: 2 input refused, 3 sign-in or permission, 1 the rest."""
    if issubclass(cls, UsageError | QuotaExceeded):
        return 2
    if issubclass(cls, AuthenticationError | PermissionDenied):
        return 3
    return 1


def test_every_console_error_maps_to_its_familys_exit_code() -> None:
    classes = _console_error_classes()
    names = {cls.__name__ for cls in classes}
    # Graph, sign-in, journal, ledger, config, template, storage and usage errors are all in the family.
    for name in ("GraphError", "SignInError", "JournalError", "LedgerUnavailable", "ConfigError", "TemplateError"):
        assert name in names
    assert {"HostDown", "CABundleError", "CaseError", "AlreadyExporting", "UnknownStatusWord"} <= names
    for cls in classes:
        error = cls.__new__(cls)  # the exit code is the class's: no constructor arguments needed
        assert exit_code_for_exception(error) == _family_code(cls) == cls.exit_code, cls
        assert is_expected(error), cls
        assert cls.title, cls


def test_the_usage_error_is_one_class_under_both_names() -> None:
    assert UsageProblem is UsageError is ConsoleUsageError


def test_a_console_error_escaping_a_command_is_its_one_line_and_code_without_a_debug_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from console.ops.journal import JournalError

    def broken(*_args: object, **_kwargs: object) -> int:
        raise JournalError("the journal is locked \x1b[2J by another program")

    monkeypatch.setattr(cli_run, "run_journal_command", broken)
    assert call(["--state-dir", str(tmp_path), "ops"]) == 1
    line = assert_one_line(capsys.readouterr().err)
    assert line == "export-console: the journal is locked \\x1b[2J by another program"


def test_a_bug_before_any_command_is_one_escaped_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An exception that escapes even the commands' own handling: the entry's guard, one line, no traceback."""

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("boom \x1b]52;c;SGVsbG8=\x07 \u202e")

    monkeypatch.setattr(cli_run, "main", broken)
    assert call(["ops"]) == 1
    line = assert_one_line(capsys.readouterr().err)
    assert line.startswith("export-console: unexpected error: RuntimeError: boom \\x1b]52;c;SGVsbG8=\\x07 \\u202e;")
    assert "\x1b" not in line and "\u202e" not in line and "--debug" in line
