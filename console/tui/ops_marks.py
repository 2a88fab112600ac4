"""The operations table's marks: which rows a bulk action acts on (no Textual).

Marks survive refreshes and are dropped when their row leaves the shown rows, so a bulk
action never touches an operation the admin cannot see.
"""

from __future__ import annotations

from collections.abc import Container


class Marks:
    """Marked operation keys, in the order they were marked, and the anchor a range starts from."""

    def __init__(self) -> None:
        self.keys: dict[int, None] = {}
        """Marked keys, in the order they were marked."""
        self.anchor: int | None = None
        """The last key marked or unmarked (a range mark starts there)."""

    def in_order(self, order: list[int]) -> list[int]:
        """The marked keys, in ``order``."""
        return [key for key in order if key in self.keys]

    def drop_hidden(self, shown: Container[int]) -> None:
        """Forget the marks (and the anchor) of rows no longer shown."""
        for key in [k for k in self.keys if k not in shown]:
            del self.keys[key]
        if self.anchor is not None and self.anchor not in shown:
            self.anchor = None

    def toggle(self, key: int) -> bool:
        """Mark or unmark ``key``; returns whether it is marked now."""
        self.anchor = key
        if key in self.keys:
            del self.keys[key]
            return False
        self.keys[key] = None
        return True

    def mark_range(self, order: list[int], cursor: int, shown: Container[int]) -> int:
        """Mark every row of ``order`` from the anchor to ``cursor`` (inclusive); returns how many are marked."""
        start = order.index(self.anchor) if self.anchor is not None and self.anchor in shown else cursor
        low, high = sorted((start, cursor))
        for key in order[low : high + 1]:
            self.keys[key] = None
        self.anchor = order[cursor]
        return len(self.keys)

    def mark_all(self, order: list[int]) -> int:
        """Mark every key of ``order``; returns how many are marked."""
        for key in order:
            self.keys[key] = None
        return len(self.keys)

    def clear(self) -> int:
        """Unmark everything; returns how many were marked."""
        count = len(self.keys)
        self.keys.clear()
        self.anchor = None
        return count
