"""The one-line header: where the console is signed in, fitted to the terminal's width.

At 80 columns the whole line does not fit: the cloud goes first (global is the default), then
"signed in as" becomes "as", then the tenant is cut in its middle; the name of who is signed in
is the last thing cut, so the line never ends in "signed in as" with no name (issue 17, item 7).
A tenant given as a GUID (a token's ``tid``) is shortened to its first block.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import events
from textual.widgets import Static

from console.tui.cells import safe_text
from console.tui.services import HeaderInfo

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MIN_TENANT = 12
"""The tenant keeps at least this many columns when the line is cut."""


def short_tenant(tenant: str) -> str:
    """``72f988bf-86f1-41af-91ab-2d7cd011db47`` -> ``tenant 72f988bf…`` (a token's tenant id); names unchanged."""
    return _GUID.sub(lambda match: f"{match.group(0)[:8]}…", tenant)


def _cut_middle(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = (width - 1) // 2 + (width - 1) % 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def header_text(info: HeaderInfo | None, *, demo: bool = False, width: int | None = None) -> Text:
    """The header line for ``width`` columns (None: everything)."""
    lead = Text(no_wrap=True, overflow="ellipsis")
    lead.append(" export-console ", style="bold")
    if demo:
        lead.append(" DEMO ", style="reverse bold")
        lead.append(" ")
    if info is None:
        return lead.append("│ not signed in")
    tenant = safe_text(short_tenant(info.tenant))
    identity = safe_text(info.identity)
    cloud = safe_text(info.cloud)
    for with_cloud, as_label in ((True, " │ signed in as "), (False, " │ signed in as "), (False, " │ as ")):
        text = _line(lead, tenant, identity, cloud if with_cloud else "", as_label)
        if width is None or text.cell_len <= width:
            return text
    # Cut the tenant (in its middle, both ends say something), then, only if still too wide, the name.
    fixed = _line(lead, "", identity, "", " │ as ").cell_len
    room = max(MIN_TENANT, (width or 0) - fixed)
    return _line(lead, _cut_middle(tenant, room), identity, "", " │ as ")


def _line(lead: Text, tenant: str, identity: str, cloud: str, as_label: str) -> Text:
    text = lead.copy()
    text.append("│ tenant ")
    text.append(tenant, style="bold")
    text.append(as_label)
    text.append(identity, style="bold")
    if cloud:
        text.append(" │ cloud ")
        text.append(cloud, style="bold")
    return text


class ConsoleHeader(Static):
    """``export-console │ tenant … │ signed in as … │ cloud …`` (and DEMO for the simulated tenant)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._info: HeaderInfo | None = None
        self._demo = False
        self._shown: Text | None = None

    def show(self, info: HeaderInfo | None, *, demo: bool = False) -> None:
        """Show ``info``, or 'not signed in'."""
        self._info, self._demo = info, demo
        self._render_line()

    def _render_line(self) -> None:
        width = self.content_region.width or self.app.size.width
        text = header_text(self._info, demo=self._demo, width=width or None)
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)

    def on_resize(self, event: events.Resize) -> None:
        self._render_line()
