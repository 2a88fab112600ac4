"""``read_only = true`` on a saved tenant (issue 19): the same effect as ``--read-only``. Export and
removal (inbound and outbound) are refused before sign-in (exit 2, naming the setting, nothing sent);
the journal commands (ops, report, case) go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.run import main
from console.config import ConfigError, SavedTenant, load_config
from console.paths import Paths

LOCATION = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rwlc&se=2099-01-01T00:00:00Z&sig=X"
USER = "1c4b0e2a-0000-4000-8000-000000000001"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A saved tenant that may remove but is read-only; its sign-in and Graph are a closed loopback port (a
    broken refusal fails there, never reaching Microsoft)."""
    root = tmp_path / "state"
    root.mkdir()
    (root / "config.toml").write_text(
        '[tenants.contoso]\ntenant = "contoso.onmicrosoft.com"\ngraph_url = "http://127.0.0.1:9/beta"\n'
        'authority = "https://127.0.0.1:9/contoso"\n'
        "allow_removal = true\nread_only = true\n"
    )
    monkeypatch.setenv("EXPORT_CONSOLE_STATE_DIR", str(root))
    return root


@pytest.mark.parametrize(
    ("what", "args"),
    [
        ("export", ["export", USER, "--storage-location", LOCATION]),
        ("removal", ["remove", USER, "--case", "DSR-1", "--confirm", "1"]),
        ("removal", ["remove", "--outbound", USER, "--from-tenant", "t1", "--case", "DSR-1", "--confirm", "1"]),
    ],
)
def test_a_read_only_tenant_refuses_changes_naming_the_setting(
    state: Path, capsys: pytest.CaptureFixture[str], what: str, args: list[str]
) -> None:
    assert main(["--tenant", "contoso", *args]) == 2
    err = capsys.readouterr().err
    assert f"{what} refused: read-only" in err
    assert "read_only = true for tenant contoso in config.toml" in err


def test_journal_commands_go_on_for_a_read_only_tenant(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--tenant", "contoso", "case", "open", "DSR-1"]) == 0
    assert main(["--tenant", "contoso", "ops", "--json"]) == 0
    assert main(["--tenant", "contoso", "report", "--case", "DSR-1", "--part", "internal"]) == 0
    captured = capsys.readouterr()
    assert "case DSR-1 opened" in captured.err and "refused" not in captured.err


def test_read_only_is_read_and_written_back(state: Path) -> None:
    saved = load_config(Paths.resolve(state)).tenant("contoso")
    assert saved.read_only and saved.allow_removal
    assert saved.to_table()["read_only"] is True
    assert "read_only" not in SavedTenant("x", "t").to_table()
    with pytest.raises(ConfigError, match="'read_only' must be true or false"):
        SavedTenant.from_table("x", {"tenant": "t", "read_only": "yes"})
