"""When the operations table alerts: an export turning to a problem, a batch of exports finished (no Textual).

The first batch of views is the journal's snapshot: it raises no alert. After it, an operation
whose shown status turns to one of ``ATTENTION`` is a failure to announce, and when the last
operation watched since the previous batch finishes, that whole batch is announced.
"""

from __future__ import annotations

from collections.abc import Callable

from console.ops.events import OperationView
from console.ops.vocabulary import PROBLEM_WORDS, shown_status

ATTENTION = PROBLEM_WORDS
"""Display statuses that need the admin (the vocabulary's ``problem`` group: counted in red, toasted with a bell)."""


class AlertWatch:
    """Follows which operations are open and which batch they belong to."""

    def __init__(self) -> None:
        self.primed = False
        """A batch has been seen (the first, the journal's snapshot, raises no alert)."""
        self._watching: dict[int, None] = {}
        self._open: set[int] = set()

    def check(
        self, views: list[OperationView], before: Callable[[int], OperationView | None]
    ) -> tuple[list[OperationView], list[OperationView]]:
        """(operations that just turned to a problem, the batch that just finished) for one batch of ``views``.

        ``before`` gives the latest view known of a key before this batch (None: a new operation).
        """
        primed, self.primed = self.primed, True
        failures: list[OperationView] = []
        finished = False
        for view in views:
            earlier = before(view.key)
            if not view.is_done:
                self._watching[view.key] = None
                self._open.add(view.key)
            elif view.key in self._open:
                self._open.discard(view.key)
                finished = True
            if not primed:
                continue
            was = shown_status(earlier) if earlier is not None else None
            if shown_status(view) in ATTENTION and was != shown_status(view):
                failures.append(view)
        if not (primed and finished and not self._open):
            return failures, []
        # The last export watched since the previous batch just ended: that batch is finished.
        arrived = {view.key: view for view in views}
        batch = [arrived.get(key) or before(key) for key in self._watching]
        self._watching = {}
        return failures, [view for view in batch if view is not None]
