"""Every path the console uses, in one place.

platformdirs picks the per-user directories. ``--state-dir`` or the
``EXPORT_CONSOLE_STATE_DIR`` environment variable replaces all of them with a
single directory (tests and acceptance runs use it), so that config, journal
and token cache sit side by side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "export-console"
"""Application name used for the platformdirs directories."""

STATE_DIR_ENV = "EXPORT_CONSOLE_STATE_DIR"
"""Environment variable that replaces every platformdirs path."""


@dataclass(frozen=True)
class Paths:
    """Where the console keeps its files."""

    config_dir: Path
    """Holds ``config.toml`` (saved tenants)."""
    data_dir: Path
    """Holds the SQLite operations journal."""
    cache_dir: Path
    """Holds the MSAL token caches (mode 0600)."""

    @classmethod
    def resolve(cls, state_dir: str | os.PathLike[str] | None = None) -> Paths:
        """Build the paths from ``--state-dir``, the environment, or platformdirs."""
        chosen = state_dir or os.environ.get(STATE_DIR_ENV)
        if chosen:
            root = Path(chosen).expanduser()
            return cls(config_dir=root, data_dir=root, cache_dir=root)
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME)),
        )

    @property
    def config_file(self) -> Path:
        """The saved-tenants TOML file."""
        return self.config_dir / "config.toml"

    @property
    def journal_file(self) -> Path:
        """The SQLite operations journal."""
        return self.data_dir / "journal.sqlite3"

    def token_cache_file(self, tenant_name: str) -> Path:
        """The MSAL token cache of one saved tenant."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in tenant_name)
        return self.cache_dir / f"token-cache-{safe}.json"

    def ensure(self) -> None:
        """Create the directories, private to the user."""
        for directory in {self.config_dir, self.data_dir, self.cache_dir}:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
