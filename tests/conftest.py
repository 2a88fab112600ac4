"""Shared fixtures: every test gets its own state dir; nothing reaches the internet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every platformdirs path at a private temporary directory."""
    state = tmp_path / "state"
    monkeypatch.setenv("EXPORT_CONSOLE_STATE_DIR", str(state))
    yield state
