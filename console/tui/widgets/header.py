"""The one-line header: where the console is signed in."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.tui.cells import safe_text
from console.tui.services import HeaderInfo


class ConsoleHeader(Static):
    """``export-console │ tenant … │ signed in as … │ cloud …`` (and DEMO for the simulated tenant)."""

    def show(self, info: HeaderInfo | None, *, demo: bool = False) -> None:
        """Show ``info``, or 'not signed in'."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" export-console ", style="bold")
        if demo:
            text.append(" DEMO ", style="reverse bold")
            text.append(" ")
        if info is None:
            text.append("│ not signed in")
        else:
            text.append("│ tenant ")
            text.append(safe_text(info.tenant), style="bold")
            text.append(" │ signed in as ")
            text.append(safe_text(info.identity), style="bold")
            text.append(" │ cloud ")
            text.append(safe_text(info.cloud), style="bold")
        self.update(text)
