"""The admin's notes on operations (kept for the evidence report), redacted: a pasted SAS is not kept in clear."""

from __future__ import annotations

from console.ops.events import Note
from console.ops.journal_db import JournalConnection
from console.redact import redact


class NoteStore:
    """The ``notes`` table of one journal."""

    def __init__(self, connection: JournalConnection) -> None:
        self._connection = connection

    def notes(self, key: int) -> list[Note]:
        """The admin's notes on one operation, oldest first."""
        found = self._connection.fetch(
            "SELECT id, operation, at, author, text FROM notes WHERE operation = ? ORDER BY id", (key,)
        )
        return [Note(*values) for values in found]

    def add_note(self, key: int, text: str, author: str, at: float) -> Note:
        """Keep a note on an operation.

        Raises:
            KeyError: no such operation.
        """
        connection = self._connection
        with connection.transaction():
            if connection.db.execute("SELECT 1 FROM operations WHERE id = ?", (key,)).fetchone() is None:
                raise KeyError(key)
            note = self.insert(key, text, author, at, keep_empty=True)
            connection.db.execute(
                "UPDATE operations SET version=?, written_by=? WHERE id=?",
                (connection.bump_version(), connection.process_id, key),
            )
        return note

    def insert(self, key: int, text: str, author: str, at: float, *, keep_empty: bool = False) -> Note:
        """Inside a transaction: the note (stripped, redacted; an empty one only with ``keep_empty``, else
        its key is 0)."""
        clean = redact(text.strip())
        note_key = 0
        if clean or keep_empty:
            cursor = self._connection.db.execute(
                "INSERT INTO notes (operation, at, author, text) VALUES (?, ?, ?, ?)", (key, at, redact(author), clean)
            )
            note_key = cursor.lastrowid or 0
        return Note(note_key, key, at, redact(author), clean)
