"""The engine's export API as the console uses it (docs/interfaces.md, "console/ops").

``ExportTarget`` and ``AlreadyExporting`` come from ``console.ops``; while that slice is landing
them this module offers stand-ins with the same fields, so the console imports from one place.
Remove the stand-ins once ``console.ops`` has both.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import console.ops.engine as _engine
import console.ops.events as _events
from console.ops.events import OperationView

T = TypeVar("T")


@dataclass(frozen=True)
class _ExportTarget:
    user_id: str
    storage_location: str
    display_name: str = ""
    user_principal_name: str = ""
    home_tenant_id: str = ""
    previous_key: int | None = None


class _AlreadyExporting(Exception):
    def __init__(self, conflicts: list[OperationView]) -> None:
        super().__init__(f"{len(conflicts)} of these users already have an unfinished or unconfirmed export")
        self.conflicts = conflicts


if TYPE_CHECKING:
    from console.ops.engine import AlreadyExporting
    from console.ops.events import ExportTarget
else:
    ExportTarget = getattr(_events, "ExportTarget", _ExportTarget)
    AlreadyExporting = getattr(_engine, "AlreadyExporting", _AlreadyExporting)


async def settled(value: Awaitable[T] | T) -> T:
    """``await`` an engine call that the contract makes async (older engines answered at once)."""
    if isinstance(value, Awaitable):
        return await value
    return value


__all__ = ["AlreadyExporting", "ExportTarget", "settled"]
