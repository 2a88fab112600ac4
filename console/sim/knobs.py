"""Knobs of the simulated Graph: behaviour (``GraphConfig``), limits, injected faults, request records.

Plain dataclasses with no dependency on the handler, so a benchmark, the demo or a test can build
and tweak them without importing ``SimulatedGraph``. ``console.sim.graph`` re-exports every name.

* ``GraphConfig``: page size, Retry-After, export duration (and its spread), service limits.
* ``GraphFaults``: injected throttling, 5xx, slowness, malformed bodies, missing Location, odd
  Retry-After values, failing users, unknown statuses, string progress, 403 switches.
* ``RequestMatch`` (with ``POLLS``, ``EXPORTS``, ``LISTS``): which requests a fault applies to.
* ``RecordedRequest``: one answered request, for assertions on timing and order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "EXPORTS",
    "LISTS",
    "POLLS",
    "RETRY_AFTER_HTTP_DATE",
    "GraphConfig",
    "GraphFaults",
    "LocationMode",
    "RecordedRequest",
    "RequestMatch",
    "ServiceLimits",
]

RETRY_AFTER_HTTP_DATE: Final = "http-date"
"""Value for ``GraphFaults.retry_after_value``: send Retry-After as an HTTP-date (now + retry_after)."""

LocationMode = Literal["header_and_body", "body_only", "none"]
"""Where the 202 carries the operation's Location: both (the service), the body only (the docs' example), nowhere."""


@dataclass
class RequestMatch:
    """Which requests a fault applies to: an optional method and an optional regex searched in the path."""

    method: str | None = None
    """HTTP method (case-insensitive), or None for any."""
    path: str | None = None
    """Regular expression searched (``re.search``, case-insensitive) in the URL path, or None for any."""

    def matches(self, method: str, path: str) -> bool:
        """True when ``method`` and ``path`` fit this pattern."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path, re.IGNORECASE) is not None


POLLS: Final = RequestMatch(method="GET", path=r"/dataPolicyOperations/")
"""Matches operation polls."""
EXPORTS: Final = RequestMatch(method="POST", path=r"/exportPersonalData/?$")
"""Matches export submissions."""
LISTS: Final = RequestMatch(method="GET", path=r"/inboundSharedUserProfiles/?$")
"""Matches profile list pages."""


@dataclass
class ServiceLimits:
    """Graph's service limits for data policy operations, per tenant (graph-api.md, "Errors and throttling").

    Both are answered with 429 **without** Retry-After, as the service does for these resources.
    Windows are sliding (the last 24 h / the last hour on the simulator's clock); only requests that
    were served count (a 429, 401 or 404 does not use quota).
    """

    exports_per_day: int = 1000
    """Accepted exportPersonalData POSTs per tenant in any 24 hours."""
    exports_per_user_per_day: int = 100
    """Accepted exportPersonalData POSTs per profile in any 24 hours."""
    requests_per_hour: int = 10_000
    """Any other Graph request (lists, gets, polls) per tenant in any hour."""


@dataclass
class GraphConfig:
    """How the simulated Graph behaves when nothing is wrong. Mutable at run time."""

    page_size: int = 100
    """Profiles per list page (the real page size is undocumented: the client must not assume one)."""
    retry_after: float = 5.0
    """Seconds of Retry-After on the 202 and on unfinished polls. The service (and the docs' example)
    says 60; 5 keeps the demo lively. Tests set fractions of a second."""
    export_duration: float = 30.0
    """Seconds from submission until an export is final (the mean when ``export_duration_jitter`` is set)."""
    export_duration_jitter: float = 0.0
    """Spread of each operation's duration, as a fraction of ``export_duration`` (clamped to 0..1):
    0.5 draws every duration uniformly in ``[d * 0.5, d * 1.5]``. The draw is deterministic, seeded by
    the tenant's seed and the operation id, so an adopted operation gets the same duration again."""
    queue_fraction: float = 0.1
    """Share of ``export_duration`` an export spends ``notStarted`` before it is ``running``."""
    failure_point: float = 0.5
    """Share of ``export_duration`` after which a failing user's export ends ``failed``."""
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    """Per-tenant service limits (429 without Retry-After)."""
    record_requests: bool = True
    """Keep a ``RecordedRequest`` for every request (turn off for very long benchmarks)."""


@dataclass
class GraphFaults:
    """Injected misbehaviour. Every field may be changed while requests are flowing.

    Counted faults answer the next N matching requests and then stop; the rest stay on until reset.
    """

    forbid_all: bool = False
    """403 ``Authorization_RequestDenied`` on every Graph request (no role / no consent)."""
    forbid_polls: bool = False
    """403 on ``GET dataPolicyOperations/{id}`` naming ``User.Export.All``: polling needs a different
    permission than exporting (graph-api.md), so an app that may export can still be refused here."""

    throttle_next: int = 0
    """Answer the next N matching requests with 429 ``TooManyRequests``."""
    throttle_retry_after: str | None = "1"
    """Retry-After on injected 429s (verbatim, so odd values are possible), or None for none."""
    throttle_only: RequestMatch | None = None
    """Restrict injected 429s to matching requests (e.g. ``POLLS``); None for all."""

    errors_next: int = 0
    """Answer the next N matching requests with ``error_status``."""
    error_status: int = 503
    """500, 502, 503 or 504."""
    error_retry_after: str | None = None
    """Retry-After on injected 5xx (verbatim), or None for none."""
    errors_only: RequestMatch | None = None
    """Restrict injected 5xx to matching requests; None for all."""

    delay: float = 0.0
    """Seconds before each matching answer. Waited by the transport (``asyncio.sleep`` or the tenant's
    injected sleep) and by the loopback server, never inside ``handle``."""
    delay_only: RequestMatch | None = None
    """Restrict the delay to matching requests; None for all Graph requests."""

    malformed_polls_next: int = 0
    """The next N successful polls answer 200 with a truncated, unparseable JSON body."""

    location: LocationMode = "header_and_body"
    """Where the 202 puts Location (trap 2): ``header_and_body`` (default), ``body_only`` or ``none``."""
    location_base: str | None = None
    """Scheme and host for Location and nextLink instead of the request's (e.g. ``https://evil.example``)
    to test that the client never follows them with the token (trap 6)."""

    retry_after_value: str | None = None
    """Replace the Retry-After on the 202 and polls with this text: ``"2.128"``, ``"0"``, ``"-5"``,
    ``"abc"``, ``"999999"``, or ``RETRY_AFTER_HTTP_DATE`` for an HTTP-date. None: ``config.retry_after``."""
    omit_retry_after: bool = False
    """Send no Retry-After on the 202 and polls at all (header and body)."""

    failing_users: set[str] = field(default_factory=set)
    """User ids whose exports end ``failed`` (decided at submission)."""
    unknown_status: str = "archiving"
    """Status reported instead of ``running`` by operations chosen below (an evolvable-enum member
    the client does not know; it must be shown as is and kept polling)."""
    unknown_status_users: set[str] = field(default_factory=set)
    """User ids whose operations report ``unknown_status`` while running."""
    unknown_status_every: int = 0
    """Every Nth operation (by submission order) reports ``unknown_status`` while running; 0: none."""
    string_progress_every: int = 0
    """Every Nth operation sends ``progress`` as a string (``"42.5"``); 0: none."""

    def throttle(self, count: int, retry_after: str | None = "1", only: RequestMatch | None = None) -> None:
        """429 the next ``count`` requests (matching ``only``), with ``retry_after`` or none."""
        self.throttle_next, self.throttle_retry_after, self.throttle_only = count, retry_after, only

    def fail(
        self, count: int, status: int = 503, retry_after: str | None = None, only: RequestMatch | None = None
    ) -> None:
        """Answer the next ``count`` requests (matching ``only``) with a 5xx ``status``."""
        if status not in (500, 502, 503, 504):
            raise ValueError(f"injected server errors are 500, 502, 503 or 504, not {status}")
        self.errors_next, self.error_status, self.error_retry_after, self.errors_only = count, status, retry_after, only

    def reset(self) -> None:
        """Turn every fault off."""
        fresh = GraphFaults()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the simulated Graph answered, for tests and benchmarks."""

    at: float
    """Simulator clock (epoch seconds) when it was answered."""
    method: str
    path: str
    query: str
    """Raw query string (percent-decoded), e.g. ``$skiptoken=...``."""
    url: str
    status: int
    retry_after: str | None
    """The Retry-After header of the answer, verbatim, or None."""
    client_request_id: str | None
    """The request's ``client-request-id`` header, or None when it sent none."""
    request_id: str
    """The ``request-id`` the answer carried."""
    kind: str
    """``list``, ``get``, ``export``, ``remove``, ``poll`` or ``other``."""
    user_id: str | None = None
    operation_id: str | None = None
