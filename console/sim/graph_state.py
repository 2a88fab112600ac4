"""What the simulated Graph holds: the tenant's profiles, its export operations, its page tokens.

One ``GraphState`` is shared by the resource families (``console.sim.graph_profiles``,
``graph_exports``, ``graph_operations``, ``graph_removals``); ``SimulatedGraph`` owns it and its lock.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from dataclasses import dataclass, field
from typing import Final

import httpx

from console.sim.blob import blob_address
from console.sim.knobs import GraphConfig, GraphFaults
from console.sim.profiles import SimulatedProfile

NOT_STARTED: Final = "notStarted"
RUNNING: Final = "running"
COMPLETE: Final = "complete"
FAILED: Final = "failed"


@dataclass
class Operation:
    """One export operation (a dataPolicyOperation) as the service keeps it."""

    id: str
    seq: int
    user_id: str
    storage_location: str
    """Already redacted: the SAS signature is never shown."""
    submitted_at: float
    duration: float
    queue_time: float
    fail_at: float | None
    unknown_status: str | None
    string_progress: bool
    stuck: bool = False
    null_status: bool = False
    target: str = field(default="", repr=False)
    """The full location (with the SAS), in memory only: where the export is written when it completes."""
    delivered: bool = False
    adopted: bool = False

    @property
    def end(self) -> float:
        """Seconds after submission at which it completes (or fails)."""
        return self.fail_at if self.fail_at is not None else self.duration


class PageTokens:
    """Opaque ``$skiptoken`` values: a position and the query they continue, salted per tenant."""

    def __init__(self, ids: random.Random) -> None:
        self._ids = ids
        self._salt = f"{ids.getrandbits(32):08x}"

    def encode(self, offset: int, query: str) -> str:
        """A token for the page at ``offset`` of the listing ``query`` describes."""
        junk = f"{self._ids.getrandbits(64):016x}"
        raw = json.dumps([self._salt, offset, query, junk], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def decode(self, token: str) -> tuple[int, str] | None:
        """``(offset, query)`` of a token this tenant issued, or None (expired, forged, garbled)."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            salt, offset, query, _junk = json.loads(raw)
        except (ValueError, TypeError, binascii.Error):
            return None
        if salt != self._salt or not isinstance(offset, int) or offset < 0 or not isinstance(query, str):
            return None
        return offset, query


@dataclass
class GraphState:
    """The tenant's data, shared by the resource families; guarded by ``SimulatedGraph``'s lock."""

    tenant_id: str
    seed: int
    config: GraphConfig
    faults: GraphFaults
    profiles: list[SimulatedProfile]
    outbound: dict[str, list[str]]
    pages: PageTokens
    by_id: dict[str, SimulatedProfile] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    used_locations: set[str] = field(default_factory=set)
    """Storage locations (``location_key``) that hold, or are receiving, an export of this run."""
    removed: set[str] = field(default_factory=set)
    removals: list[tuple[str, str | None, str]] = field(default_factory=list)
    """Every removal answered 204: ``(userId, from-tenant id or None for inbound, request-id)``."""

    def __post_init__(self) -> None:
        if not self.by_id:
            self.by_id.update({p.user_id: p for p in self.profiles})


def location_key(location: str) -> str:
    """What identifies a storage location for Graph's one-export rule: the container, SAS ignored.

    ``""`` for a plain account name (Graph picks the container there; never refused).
    """
    if "://" not in location:
        return ""
    address = blob_address(location)
    if address is not None and address.container:
        return f"{address.base.lower()}/{address.container.lower()}"
    try:
        url = httpx.URL(location)
    except (httpx.InvalidURL, ValueError):
        return ""
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace').lower()}{url.path.rstrip('/').lower()}"
