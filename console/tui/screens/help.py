"""The help overlay: every binding of the console, read from the BINDINGS declarations themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


def _bindings(node_type: type[DOMNode]) -> Iterable[Binding]:
    """The bindings ``node_type`` itself declares (not inherited ones)."""
    declared: list[BindingType] = node_type.__dict__.get("BINDINGS", [])
    for binding in declared:
        if isinstance(binding, Binding):
            yield binding
        elif len(binding) == 2:
            yield Binding(binding[0], binding[1])
        else:
            yield Binding(binding[0], binding[1], binding[2])


class HelpScreen(ModalScreen[None]):
    """Lists every binding, grouped by where it works."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close help", id="help.close"),
    ]

    def __init__(self, sections: list[tuple[str, type[DOMNode]]], extra: list[tuple[str, str, str]]) -> None:
        """
        Args:
            sections: (title, class) whose own BINDINGS are listed under title.
            extra: (section, key, description) for bindings Textual provides (the command palette).
        """
        super().__init__()
        self.sections = sections
        self.extra = extra
        self.rows: list[tuple[str, str, str]] = []
        """(section, keys, description) as listed."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static(self._table(), id="help-table")
            yield Static("Esc or ? closes · q quits", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = "Keys"

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        seen_sections: set[str] = set()
        for title, node_type in self.sections:
            rows = []
            for binding in _bindings(node_type):
                if not binding.description:
                    continue
                keys = ", ".join(
                    self.app.get_key_display(Binding(key.strip(), binding.action)) for key in binding.key.split(",")
                )
                rows.append((keys, binding.tooltip or binding.description))
            rows.extend((key, description) for section, key, description in self.extra if section == title)
            if not rows:
                continue
            if title not in seen_sections:
                table.add_row(Text(title, style="reverse"), "")
                seen_sections.add(title)
            for keys, description in rows:
                table.add_row(keys, description)
                self.rows.append((title, keys, description))
            table.add_row("", "")
        return table

    def action_close(self) -> None:
        self.dismiss(None)
