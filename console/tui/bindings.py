"""The keys of one screen or widget, declared one line each.

A screen or widget names its area once, with what each key does (the tooltip the help screen and the
README's key table show), and then lists its keys one line each::

    _key = KeyArea("main", priority=True, tooltips={"search": "Search profiles"})
    BINDINGS = [_key("slash", "focus_search", "Search", "search")]

Each binding's id is ``AREA.NAME`` (the ids the help screen and user keymaps go by), its tooltip is
``tooltips[NAME]`` (none when absent) and its priority is the area's unless the key says otherwise. The
result is a plain Textual ``Binding``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from textual.binding import Binding


@dataclass(frozen=True)
class KeyArea:
    """Builds the bindings of one area.

    Args:
        area: the first part of every id (``operations``, ``main``, ``details``).
        priority: the keys run as they are read, before the next key of a burst is routed (Textual's
            priority bindings), unless a key says ``priority=False``.
        tooltips: what each key does, by NAME.
    """

    area: str
    priority: bool = False
    tooltips: Mapping[str, str] = field(default_factory=dict)

    def __call__(
        self,
        key: str,
        action: str,
        description: str,
        name: str,
        *,
        show: bool = True,
        priority: bool | None = None,
        key_display: str | None = None,
    ) -> Binding:
        """One key: its id is ``AREA.NAME``, its tooltip ``tooltips[NAME]``; ``show=False`` keeps it out of the
        footer (the help lists it)."""
        return Binding(
            key,
            action,
            description,
            show=show,
            key_display=key_display,
            priority=self.priority if priority is None else priority,
            tooltip=self.tooltips.get(name, ""),
            id=f"{self.area}.{name}",
        )
