"""The help overlay: every binding of the console, read from the BINDINGS declarations themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from console.tui.footer import ConsoleFooter
from console.tui.widgets.filter_line import FilterLine


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


def key_display(binding: Binding) -> str:
    """How the footer shows a bound key (Textual's rule, without an app: ``^p``, ``shift+tab``, ``?``)."""
    if binding.key_display:
        return binding.key_display
    modifiers, key = binding.parse_key()
    shown = format_key(key)
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        shown = f"^{shown}"
    return "+".join([*modifiers, shown])


def help_rows(
    sections: list[tuple[str, type[DOMNode]]], extra: list[tuple[str, str, str]], display: Callable[[Binding], str]
) -> list[tuple[str, str, str]]:
    """(section, keys, description) for every described binding, in the order help shows them."""
    rows: list[tuple[str, str, str]] = []
    for title, node_type in sections:
        for binding in _bindings(node_type):
            if not binding.description:
                continue
            keys = ", ".join(display(Binding(key.strip(), binding.action)) for key in binding.key.split(","))
            rows.append((title, keys, binding.tooltip or binding.description))
        rows.extend((title, key, description) for section, key, description in extra if section == title)
    return rows


def keys_markdown(sections: list[tuple[str, type[DOMNode]]], extra: list[tuple[str, str, str]]) -> str:
    """The README's key table, from the same declarations as the help overlay."""
    lines = ["| where | keys | what |", "|---|---|---|"]
    for title, keys, description in help_rows(sections, extra, key_display):
        cells = (title, keys.replace("|", "\\|"), description.replace("|", "\\|"))
        lines.append("| " + " | ".join(f"`{c}`" if i == 1 else c for i, c in enumerate(cells)) + " |")
    return "\n".join(lines)


class HelpSearch(FilterLine):
    """The help's search box: Enter, Down or Esc go back to the list (the search stays)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,down", "leave", "Keep search", id="help-search.leave", priority=True, key_display="esc"),
    ]

    BACK_TO = "#help-dialog"


def row_matches(row: tuple[str, str, str], query: str) -> bool:
    """Every word of ``query`` in the row's section, keys or description (case-insensitive)."""
    haystack = " ".join(row).lower()
    return all(word in haystack for word in query.lower().split())


class HelpScreen(ModalScreen[None]):
    """Lists every binding, grouped by where it works; ``/`` searches it (``?`` then ``/``, as less does)."""

    DEFAULT_CSS = """
    HelpScreen #help-search { height: 1; border: none; padding: 0 1; background: $boost; }
    HelpScreen #help-search:focus { background: $accent 20%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close help", id="help.close"),
        Binding("slash", "search", "Search", id="help.search", priority=True, tooltip="Search the keys"),
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
        """(section, keys, description) as listed (those the search lets through)."""
        self.query_text = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield HelpSearch(placeholder="/ search keys and what they do", id="help-search")
            yield Static(self._table(), id="help-table")
            yield Static("/ searches · Esc or ? closes · q quits", classes="hint")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = "Keys"

    def action_search(self) -> None:
        self.query_one(HelpSearch).open()

    @on(HelpSearch.Query)
    def _search(self, event: HelpSearch.Query) -> None:
        self.query_text = event.text
        self.query_one("#help-table", Static).update(self._table())
        typed = event.text.strip()
        # Text, never markup: what was typed is shown as typed.
        self.query_one("#help-dialog").border_title = Text(f"Keys · /{typed}") if typed else "Keys"

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        seen_sections: set[str] = set()
        self.rows = []
        for title, keys, description in help_rows(self.sections, self.extra, self.app.get_key_display):
            if not row_matches((title, keys, description), self.query_text):
                continue
            if title not in seen_sections:
                if seen_sections:
                    table.add_row("", "")  # a blank line between sections
                table.add_row(Text(title, style="reverse"), "")
                seen_sections.add(title)
            table.add_row(keys, description)
            self.rows.append((title, keys, description))
        if seen_sections:
            table.add_row("", "")
        else:
            table.add_row("", Text(f"No key matches {self.query_text.strip()!r}."))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
