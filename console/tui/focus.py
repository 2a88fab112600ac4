"""Focus moves that take effect as the key is read, so the rest of a burst goes where the admin meant.

Widgets reach the App's key holding through ``KeyHolder`` (a typed protocol the console's App meets) and
the three helpers below, never by looking a method up by its name: an App without it (a test's bare App)
simply holds no keys.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from textual.screen import Screen
from textual.widgets import Input


@runtime_checkable
class KeyHolder(Protocol):
    """An App that can keep the keys typed while a screen opens or focus moves, then deliver them in order."""

    def hold_keys(self) -> None:
        """Keep the keys typed from now on until ``release_keys`` (or a short while)."""

    def release_keys(self) -> None:
        """Deliver the held keys, in order, to whatever has focus now."""

    def release_keys_after_refresh(self, screen: Screen[Any]) -> None:
        """Deliver the held keys once ``screen`` has been painted and has focus."""


def hold_keys(app: object) -> bool:
    """Ask ``app`` to hold the keys typed next; False when it cannot (nothing is held then)."""
    if isinstance(app, KeyHolder):
        app.hold_keys()
        return True
    return False


def release_keys(app: object) -> None:
    """Deliver the keys ``app`` holds (nothing when it holds none)."""
    if isinstance(app, KeyHolder):
        app.release_keys()


def release_keys_after_refresh(app: object, screen: Screen[Any]) -> None:
    """Deliver the keys ``app`` holds once ``screen`` is painted (nothing when it holds none)."""
    if isinstance(app, KeyHolder):
        app.release_keys_after_refresh(screen)


def move_focus_now(screen: Screen[Any], step: int) -> None:
    """Tab / Shift+Tab at once (Textual's own focus_next runs only after the key has bubbled up).

    Characters typed before the Tab may still wait in the Input being left: the keys typed after it
    are held by the app until they are in, then delivered (in order) to the field focused now.
    """
    focused = screen.focused
    if isinstance(focused, Input) and hold_keys(screen.app):
        focused.call_later(release_keys, screen.app)
    if step > 0:
        screen.focus_next()
    else:
        screen.focus_previous()


class _OnAScreen(Protocol):
    @property
    def screen(self) -> Screen[object]: ...


class MovesFocusNow:
    """Mixin of a screen whose Tab and Shift+Tab are bound to ``move_focus(1)`` and ``move_focus(-1)``
    (each screen binds them with its own ids): they move focus at once (``move_focus_now``)."""

    def action_move_focus(self: _OnAScreen, step: int) -> None:
        move_focus_now(self.screen, step)
