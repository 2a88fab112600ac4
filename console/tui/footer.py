"""The footer of every screen: what works there, with ``?`` and ``q`` first so that 80 columns never cut them.

Textual's footer lists the focused widget's keys first and the app's last, so on a narrow
terminal the keys that always work (help, quit) fall off the end. This one lists the app's
``ALWAYS`` keys first, then the rest in Textual's order. What a screen or widget hides with
``check_action`` (returning False) is not listed (issue 17, item 7).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS = ("app.help", "app.quit")
"""Binding ids listed first on every footer."""


def footer_bindings(active: list[tuple[Binding, bool, str]]) -> list[tuple[Binding, bool, str]]:
    """One entry per action, the ``ALWAYS`` keys first, hidden (``show=False``) ones left out."""
    seen: set[str] = set()
    first: list[tuple[Binding, bool, str]] = []
    rest: list[tuple[Binding, bool, str]] = []
    for binding, enabled, tooltip in active:
        if not binding.show or binding.action in seen:
            continue
        seen.add(binding.action)
        (first if binding.id in ALWAYS else rest).append((binding, enabled, tooltip))
    first.sort(key=lambda entry: ALWAYS.index(entry[0].id or ""))
    return first + rest


class ConsoleFooter(Footer):
    """Footer with ``? Help`` and ``q Quit`` first."""

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active_bindings = self.screen.active_bindings
        entries = footer_bindings([(b, enabled, tip) for (_, b, enabled, tip) in active_bindings.values()])
        self.styles.grid_size_columns = len(entries)
        for binding, enabled, tooltip in entries:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, tooltip = palette
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )
        self.call_after_refresh(self._hide_cut_keys)

    def on_resize(self) -> None:
        # Listed again at the new width (what did not fit may fit now), then cut again.
        self.call_after_refresh(self.recompose)

    def _hide_cut_keys(self, tries: int = 5) -> None:
        """Hide the keys drawn only in part (under the palette key or past the end), and all after them:
        a footer lists whole keys, in order; ``?`` help lists every key."""
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        palette = [key for key in self.query(FooterKey) if key.has_class("-command-palette")]
        if not keys or any(key.outer_size.width == 0 for key in keys + palette) or not self.size.width:
            if keys and tries:  # not laid out yet
                self.call_after_refresh(self._hide_cut_keys, tries - 1)
            return
        room = self.size.width - (palette[0].outer_size.width if palette else 0)
        used = 0
        for key in keys:
            used += key.outer_size.width + key.styles.margin.width
            # The description's right padding may go under the palette key: its letters all show.
            blank = key.styles.margin.right + key.get_component_styles("footer-key--description").padding.right
            if used - blank > room:
                key.display = False
