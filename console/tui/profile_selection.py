"""The profiles the admin selected, and the select-alls and clears ``ctrl+z`` undoes (no Textual)."""

from __future__ import annotations

from collections.abc import Iterable

UNDO_DEPTH = 10
"""Select-alls and clears ctrl+z can undo."""


class ProfileSelection:
    """Selected user ids, in the order they were selected, with an undo history of bulk changes."""

    def __init__(self) -> None:
        self.ids: dict[str, None] = {}
        """Selected user ids, in the order they were selected."""
        self._undo: list[dict[str, None]] = []

    def toggle(self, user_id: str) -> None:
        """Select ``user_id``, or unselect it when it is selected."""
        if user_id in self.ids:
            del self.ids[user_id]
        else:
            self.ids[user_id] = None

    def add(self, user_ids: Iterable[str]) -> int:
        """Select ``user_ids`` too; returns how many were not selected before."""
        before = len(self.ids)
        for user_id in user_ids:
            self.ids[user_id] = None
        return len(self.ids) - before

    def add_all(self, user_ids: Iterable[str]) -> int:
        """Select ``user_ids`` too, as one step ``undo`` takes back; returns how many were added."""
        self._remember()
        return self.add(user_ids)

    def clear(self) -> int:
        """Unselect everything, as one step ``undo`` takes back; returns how many were selected."""
        count = len(self.ids)
        self._remember()
        self.ids.clear()
        return count

    def undo(self) -> bool:
        """Take back the last ``add_all`` or ``clear``; False when there is none."""
        if not self._undo:
            return False
        self.ids = self._undo.pop()
        return True

    def forget(self) -> None:
        """Unselect everything, history included (the profiles are listed again)."""
        self.ids.clear()
        self._undo.clear()

    def _remember(self) -> None:
        self._undo.append(dict(self.ids))
        del self._undo[:-UNDO_DEPTH]
