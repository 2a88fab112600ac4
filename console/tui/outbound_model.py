"""What the Outbound view shows (issue 19): our users whose data other tenants hold, one line per user
followed by one line per tenant holding its data, with the removal already asked of that tenant (if any).

No Textual here: the screen (``console.tui.screens.outbound``) only draws these lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from console.ops.events import OperationView
from console.ops.removal import OutboundHolding, RemovalTarget


@dataclass(frozen=True, slots=True)
class OutboundLine:
    """One line of the view: a user (``tenant_id`` empty) or one tenant holding that user's data."""

    user_id: str
    tenant_id: str = ""
    removal: str = ""
    """The removal already asked of this tenant for this user (status and UTC time), or empty."""

    @property
    def option_id(self) -> str:
        """A stable id for the list's option (user and tenant)."""
        return f"{self.user_id}\t{self.tenant_id}" if self.tenant_id else f"user\t{self.user_id}"


def removal_targets(holdings: Sequence[OutboundHolding]) -> list[RemovalTarget]:
    """Every (user, tenant) pair of ``holdings`` as a removal target (to look up removals already asked)."""
    return [RemovalTarget(h.user_id, tenant) for h in holdings for tenant in h.tenants]


def removal_text(view: OperationView) -> str:
    """How a removal already asked is shown: its status and when it was asked (UTC)."""
    when = datetime.fromtimestamp(view.created_at, UTC).strftime("%Y-%m-%d %H:%M")
    return f"removal {view.display_status} {when} UTC"


def outbound_lines(holdings: Sequence[OutboundHolding], removals: Sequence[OperationView]) -> list[OutboundLine]:
    """The view's lines: each user, then each tenant holding its data with the newest removal asked of it."""
    asked: dict[tuple[str, str], OperationView] = {}
    for view in sorted(removals, key=lambda v: v.key):
        asked[(view.user_id.lower(), view.target_tenant.lower())] = view
    lines: list[OutboundLine] = []
    for holding in holdings:
        lines.append(OutboundLine(holding.user_id))
        for tenant in holding.tenants:
            newest = asked.get((holding.user_id.lower(), tenant.lower()))
            lines.append(OutboundLine(holding.user_id, tenant, removal_text(newest) if newest is not None else ""))
    return lines


def outbound_summary(holdings: Sequence[OutboundHolding], lines: Sequence[OutboundLine]) -> str:
    """The status line: how many users, how many tenants hold data, how many removals were asked."""
    users = len(holdings)
    pairs = sum(len(h.tenants) for h in holdings)
    asked = sum(1 for line in lines if line.removal)
    text = f"{users:,} user{'' if users == 1 else 's'} · held at {pairs:,} tenant{'' if pairs == 1 else 's'}"
    return text + (f" · {asked:,} removal{'' if asked == 1 else 's'} asked" if asked else "")
