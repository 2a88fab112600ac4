"""One operation this process polls: its journal row and what scheduling its next poll needs.

The engine keeps one ``TrackedOperation`` per polled operation (keyed by the row's key) and drops it
as one when the operation ends, is stopped or is taken over by another process.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.ops.answers import Streaks
from console.ops.journal import OperationRow
from console.ops.schedule import ProgressSample


@dataclass(slots=True)
class TrackedOperation:
    """An operation this process polls (state ``tracking``, under its lease)."""

    row: OperationRow
    """The journal row (the same object the engine shows: its changes are queued to the journal)."""
    location: str | None = None
    """The full storage location (with its SAS) of an export this process sent: memory only, for the
    delivery check once it completes."""
    submitted: float | None = None
    """When Graph accepted it (epoch seconds, from its answers), for the second progress sample's timing."""
    first_progress: ProgressSample | None = None
    """The first progress above zero Graph reported, and when (the ETA's base)."""
    streaks: Streaks = Streaks()
    """Failed polls and unknown statuses in a row (the back-off and the limits)."""

    @property
    def key(self) -> int:
        return self.row.key
