"""What the console's two virtualised (Line API) lists share."""

from __future__ import annotations

from rich.style import Style
from textual.scroll_view import ScrollView


class LineList(ScrollView):
    """A ScrollView that renders its own lines and caches its base style between style changes."""

    _cached_base: Style | None = None

    def _base_style(self) -> Style:
        # DOMNode.rich_style walks the ancestors: once per style change, not once per line.
        if self._cached_base is None:
            self._cached_base = self.rich_style
        return self._cached_base

    def notify_style_update(self) -> None:
        self._cached_base = None
        super().notify_style_update()
