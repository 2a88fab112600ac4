"""What the console's two virtualised (Line API) lists share."""

from __future__ import annotations

from rich.style import Style
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineList(ScrollView):
    """A ScrollView that renders its own lines and caches its base style between style changes."""

    _cached_base: Style | None = None

    def _base_style(self) -> Style:
        # DOMNode.rich_style walks the ancestors: once per style change, not once per line.
        if self._cached_base is None:
            self._cached_base = self.rich_style
        return self._cached_base

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; line ``y`` below it shows row ``scroll_y + y - 1``."""
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y == 0:
            return self._header(width, base)
        return self._row_line(y, int(self.scroll_y) + y - 1, width, base)

    def _header(self, width: int, base: Style) -> Strip:
        raise NotImplementedError

    def _row_line(self, y: int, row: int, width: int, base: Style) -> Strip:
        raise NotImplementedError

    def notify_style_update(self) -> None:
        self._cached_base = None
        super().notify_style_update()
