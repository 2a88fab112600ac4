"""Focus moves that take effect as the key is read, so the rest of a burst goes where the admin meant."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Input


def move_focus_now(screen: Screen[Any], step: int) -> None:
    """Tab / Shift+Tab at once (Textual's own focus_next runs only after the key has bubbled up).

    Characters typed before the Tab may still wait in the Input being left: the keys typed after it
    are held by the app until they are in, then delivered (in order) to the field focused now.
    """
    focused = screen.focused
    app = screen.app
    if isinstance(focused, Input):
        hold = getattr(app, "hold_keys", None)
        release = getattr(app, "release_keys", None)
        if hold is not None and release is not None:
            hold()
            focused.call_later(release)
    if step > 0:
        screen.focus_next()
    else:
        screen.focus_previous()
