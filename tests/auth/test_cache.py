"""The token cache file: 0600 from creation, atomic, written only when MSAL changed it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from console.auth.cache import PrivateTokenCache


def _add_token(cache: PrivateTokenCache) -> None:
    cache.cache.add(
        {
            "client_id": "client",
            "scope": ["https://graph.microsoft.com/.default"],
            "token_endpoint": "https://login.test.invalid/tenant/oauth2/v2.0/token",
            "response": {"access_token": "at", "token_type": "Bearer", "expires_in": 3600},
        }
    )


def test_written_only_when_changed_with_mode_0600_even_under_a_lax_umask(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "token-cache-x.json"
    cache = PrivateTokenCache(target)
    assert cache.save() is False and not target.exists()
    old = os.umask(0)
    try:
        _add_token(cache)
        assert cache.save() is True
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert cache.save() is False  # nothing changed since
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp file left behind


def test_replaces_a_too_open_file_with_a_private_one(tmp_path: Path) -> None:
    target = tmp_path / "token-cache-x.json"
    target.write_text("{}")
    target.chmod(0o644)
    cache = PrivateTokenCache(target)
    _add_token(cache)
    cache.save()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_reload_and_corrupt_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    target = tmp_path / "token-cache-x.json"
    first = PrivateTokenCache(target)
    _add_token(first)
    first.save()
    again = PrivateTokenCache(target)
    assert list(again.cache.search(again.cache.CredentialType.ACCESS_TOKEN))
    assert again.cache.has_state_changed is False

    target.write_text("not json")
    broken = PrivateTokenCache(target)
    assert not list(broken.cache.search(broken.cache.CredentialType.ACCESS_TOKEN))
    assert "corrupt" in caplog.text


def test_in_memory_cache_never_touches_disk(tmp_path: Path) -> None:
    cache = PrivateTokenCache(None)
    _add_token(cache)
    assert cache.save() is False
