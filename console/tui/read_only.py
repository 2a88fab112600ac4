"""Read-only in the console: ``--read-only`` or the saved tenant's ``read_only = true`` (issue 19).

One rule for every action that changes something (the export key, form and palette command, removal
inbound and outbound): ``console.ops.removal.read_only_reason`` names what makes the session read-only,
so the refusal says which setting to change.
"""

from __future__ import annotations

from typing import Any

from console.ops.removal import read_only_reason


def console_read_only(services: Any, session: Any) -> str:
    """Why this console session may change nothing ("" when it may).

    Args:
        services: the app's ``ConsoleServices`` (its ``read_only`` is ``--read-only``).
        session: the signed-in ``Session`` (its ``read_only`` comes from the saved tenant).
    """
    header = getattr(session, "header", None)
    return read_only_reason(
        flag=bool(getattr(services, "read_only", False)),
        saved=bool(getattr(session, "read_only", False)),
        tenant_label=f"tenant {header.tenant}" if header is not None else "",
    )


def refused_text(what: str, reason: str) -> str:
    """The one-line toast of a refusal: the setting named first (the event log keeps it too)."""
    return f"Read-only: {what} is refused ({reason})."
