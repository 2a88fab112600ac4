"""A row cursor over a list that changes under it, with no Textual in sight.

Both virtualised lists (profiles and operations) keep a cursor on a list of keys that
filters, sorts and live updates rebuild. The rule is the same for both (STYLE.md habit 6):
the row the admin is on stays under the cursor, on the same screen line, while it exists;
when it goes, the cursor stays where it was, clamped to the list.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class RowCursor(Generic[K]):
    """Which row (an index into the shown keys) is highlighted, and which screen line it sits on."""

    row: int = 0
    """Index into the shown keys."""

    def clamp(self, rows: int) -> int:
        """Keep the cursor inside ``rows`` rows (0 when there are none)."""
        self.row = max(0, min(self.row, rows - 1)) if rows else 0
        return self.row

    def move(self, row: int, rows: int) -> int:
        """Put the cursor on ``row`` (clamped)."""
        self.row = row
        return self.clamp(rows)

    def key(self, keys: Sequence[K]) -> K | None:
        """The key under the cursor, or None when nothing is shown."""
        return keys[self.row] if 0 <= self.row < len(keys) else None

    def follow(self, key: K | None, keys: Sequence[K], *, index: dict[K, int] | None = None) -> bool:
        """After ``keys`` changed: go back to ``key`` if it is still there, else clamp.

        Args:
            key: the key that was under the cursor before the change.
            keys: the new shown keys.
            index: a ready ``key -> row`` map of ``keys`` (saves a scan on big lists).

        Returns:
            True when the cursor's row index changed.
        """
        before = self.row
        if key is not None:
            row = index.get(key) if index is not None else _find(keys, key)
            if row is not None:
                self.row = row
                return row != before
        self.clamp(len(keys))
        return self.row != before

    @staticmethod
    def scroll_for(row: int, top: int, visible: int) -> int:
        """The scroll offset that shows ``row`` with as little movement as possible."""
        visible = max(1, visible)
        if row < top:
            return row
        if row >= top + visible:
            return row - visible + 1
        return top


def _find(keys: Sequence[K], key: K) -> int | None:
    try:
        return list(keys).index(key) if not isinstance(keys, list) else keys.index(key)
    except ValueError:
        return None
