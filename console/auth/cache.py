"""The private MSAL token cache: one file per saved tenant, mode 0600, written atomically.

The file is created with mode 0600 (``os.open`` with that mode into a temp file in the
same directory, then ``os.replace``), never chmod-ed after, and written only when MSAL
says ``has_state_changed``. It holds tokens and account records, never a client secret.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import msal  # msal ships no type hints

from console.private import write_private_file

log = logging.getLogger(__name__)


class PrivateTokenCache:
    """An ``msal.SerializableTokenCache`` bound to a file (or to nothing, for ``--demo``).

    Args:
        path: the cache file (``Paths.token_cache_file(name)``); None keeps it in memory.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        """Where the cache is persisted, or None."""
        self.cache = msal.SerializableTokenCache()
        """The cache MSAL reads and writes."""
        self._lock = threading.Lock()
        self.load()

    def load(self) -> None:
        """Read the file if there is one; an unreadable or corrupt file is treated as empty (and logged)."""
        if self.path is None:
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("token cache %s unreadable (%s): signing in afresh", self.path, exc.strerror)
            return
        try:
            self.cache.deserialize(text)
        except ValueError:
            log.warning("token cache %s is corrupt: signing in afresh", self.path)
        self.cache.has_state_changed = False

    def save(self) -> bool:
        """Persist when MSAL changed the cache; returns True when the file was written."""
        with self._lock:
            if self.path is None or not self.cache.has_state_changed:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private_file(self.path, self.cache.serialize().encode("utf-8"))
            self.cache.has_state_changed = False
            return True

    def __repr__(self) -> str:
        return f"PrivateTokenCache(path={self.path!s})"
