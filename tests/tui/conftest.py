"""Fixtures for the console's tests: isolated state, fake services, no blinking cursors."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own state directory (config, journal, token cache)."""
    monkeypatch.setenv("EXPORT_CONSOLE_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Input cursors don't blink, so snapshots don't depend on when they are taken."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
