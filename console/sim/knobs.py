"""Knobs of the simulated Graph: behaviour (``GraphConfig``), limits, injected faults, request records.

Plain dataclasses with no dependency on the handler, so a benchmark, the demo or a test can build
and tweak them without importing ``SimulatedGraph``. ``console.sim.graph`` re-exports every name.

* ``GraphConfig``: page size, Retry-After, export duration (and its spread), service limits.
* ``GraphFaults``: injected throttling, 5xx, slowness, malformed bodies, missing Location, odd
  Retry-After values, failing users, unknown statuses, string progress, 403 switches.
* ``RequestMatch`` (with ``POLLS``, ``EXPORTS``, ``LISTS``): which requests a fault applies to.
* ``RecordedRequest``: one answered request, for assertions on timing and order.
* ``apply_knobs`` / ``knobs_json``: set and read every knob by name (the loopback control endpoint
  ``POST /_sim/knobs`` and ``export-console simulate --knob NAME=VALUE`` use them).
* ``add_simulate_arguments`` / ``apply_simulate_arguments``: the fault knobs as ``simulate`` options.

The fault suite of issue 7 needs, and finds here: 429/503 storms for a time window (``storm``) and
sporadic (``sporadic_fraction``), with or without Retry-After; 5xx bursts (``fail``); connection
resets before and after the server acted (``drop_next``/``drop_when``); hangs (``hang_next``);
malformed bodies (``malformed_next``/``malformed_kind``: truncated, HTML, NaN progress, empty);
odd Locations (``location_style``, ``location_base``); odd Retry-After (``retry_after_value``,
``omit_retry_after``); stuck operations (``stuck_users``, ``stuck_every``, ``stuck_all``); unknown
and null statuses; 401 mid-run (``unauthorized_next``, ``revoke_tokens``); a permanent error on
polls (``poll_error``); failing users (``failing_users``, ``failing_every``).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal, Protocol, get_args

__all__ = [
    "DROP_WHEN",
    "EXPORTS",
    "LOCATION_STYLES",
    "MALFORMED_KINDS",
    "LISTS",
    "POLLS",
    "RETRY_AFTER_HTTP_DATE",
    "GraphConfig",
    "GraphFaults",
    "LocationMode",
    "RecordedRequest",
    "RequestMatch",
    "ServiceLimits",
    "add_simulate_arguments",
    "apply_knobs",
    "apply_simulate_arguments",
    "knobs_json",
]

RETRY_AFTER_HTTP_DATE: Final = "http-date"
"""Value for ``GraphFaults.retry_after_value``: send Retry-After as an HTTP-date (now + retry_after)."""

LocationMode = Literal["header", "header_and_body", "body_only", "none"]
"""Where the 202 carries the operation's Location and Retry-After: ``header`` (the service: headers and an empty
body, as msgraph-sdk-raptor#488 saw), ``header_and_body`` (headers, and the docs' body echoing them),
``body_only`` (the docs' example: a JSON body, no headers), ``none`` (no Location at all; Retry-After as a header)."""

LocationStyle = Literal["normal", "same_version", "foreign_host", "bad_port", "ipv6", "bad_ipv6", "relative", "garbage"]
"""What the 202's Location looks like: ``normal`` (``/v1.0`` on the request's host, trap 3), ``same_version``
(the request's version), ``foreign_host`` (``https://evil.example``), ``bad_port`` (port 99999), ``ipv6``
(``https://[::1]:8443``), ``bad_ipv6`` (an unclosed bracket), ``relative`` (a path only), ``garbage``."""
LOCATION_STYLES: Final = get_args(LocationStyle)

MalformedKind = Literal["truncated", "html", "nan", "infinity", "empty", "not_object"]
"""How ``malformed_next`` spoils a successful body: cut in half, an HTML error page, ``"progress": NaN``,
``"progress": Infinity``, no body at all, or a JSON array instead of an object."""
MALFORMED_KINDS: Final = get_args(MalformedKind)

DropWhen = Literal["before", "after", "connect"]
"""When a dropped connection fails: ``before`` the server acted (nothing happened), ``after`` it acted
(for an export: the operation exists, the 202 is lost), or ``connect`` (refused: the server is down)."""
DROP_WHEN: Final = get_args(DropWhen)


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
EXPORTS: Final = RequestMatch(method="POST", path=r"/(microsoft\.graph\.)?exportPersonalData/?$")
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
    refuse_reused_location: bool = True
    """Refuse an export to a storage location that already holds one with ``400 StorageLocationAlreadyUsed``
    in Graph's words (graph-api.md, "One export per storage location"). A location is used once an export
    to the same container was accepted in this run, or the container holds ``RequestInfo.json``. A plain
    account name (Graph chooses the container; undocumented) is never refused."""
    removal_hides_profile: bool = False
    """Whether a profile disappears from the inbound list (and an outbound tenant from its user's list)
    once ``removePersonalData`` was answered 204. Microsoft does not document it (graph-api.md, "Erasure"):
    by default it stays; the console must cope either way."""
    deliver_exports: bool = True
    """Write ``RequestInfo.json`` and a few data files into the location when an export completes (the
    blob stand-in, or a loopback blob service such as Azurite over HTTP with the SAS)."""


@dataclass
class GraphFaults:
    """Injected misbehaviour. Every field may be changed while requests are flowing.

    Counted faults answer the next N matching requests and then stop; the rest stay on until reset.
    """

    forbid_all: bool = False
    """403 ``Authorization_RequestDenied`` on every Graph request (no role / no consent)."""
    forbid_removal: bool = False
    """403 on both ``removePersonalData`` actions (inbound and outbound), naming
    ``CrossTenantUserProfileSharing.ReadWrite.All``: removal needs more than listing and export (.Read.All)."""
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

    location: LocationMode = "header"
    """Where the 202 puts Location and Retry-After (trap 2): ``header`` (default: headers, empty body, as the
    service does), ``header_and_body`` (also the docs' body form), ``body_only`` (the docs' example) or ``none``."""
    location_base: str | None = None
    """Scheme and host for Location and nextLink instead of the request's (e.g. ``https://evil.example``)
    to test that the client never follows them with the token (trap 6)."""

    empty_pages_next: int = 0
    """The next N profile list pages come back empty (``"value": []``) with a nextLink to where the page
    would have been: Graph may send an empty page mid-listing, which must not end the listing."""
    next_link_loop: bool = False
    """The last profile page carries a nextLink back to the first page, the very URL a client starts
    from (a service whose cursor loops): the listing never ends unless the client notices."""
    next_link_restart: bool = False
    """The last profile page carries a nextLink back to the start with a fresh skiptoken (a new URL each
    time, the same profiles again): only the profiles tell the loop."""

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

    storm_until: float = 0.0
    """Until this simulator time (epoch seconds) every matching request gets ``storm_status``; 0: no storm.
    Start one with ``SimulatedGraph.start_storm(seconds)`` or the knob ``storm_seconds``."""
    storm_status: int = 429
    """429, 503 or 504 during a storm."""
    storm_retry_after: str | None = None
    """Retry-After on storm answers (verbatim), or None for none (Graph's data-policy 429s send none)."""
    storm_only: RequestMatch | None = None
    """Restrict the storm to matching requests; None for all."""

    sporadic_fraction: float = 0.0
    """Share (0..1) of matching requests answered with ``sporadic_status`` at random (seeded)."""
    sporadic_status: int = 429
    """429, 503 or 504 for sporadic failures."""
    sporadic_retry_after: str | None = None
    """Retry-After on sporadic failures (verbatim), or None for none."""
    sporadic_only: RequestMatch | None = None
    """Restrict sporadic failures to matching requests; None for all."""

    drop_next: int = 0
    """Drop the connection of the next N matching requests (the client sees a reset, no answer)."""
    drop_when: DropWhen = "after"
    """``before`` the server acts, ``after`` it acted (an export is then created but its 202 lost), ``connect``."""
    drop_only: RequestMatch | None = None
    """Restrict dropped connections to matching requests; None for all."""

    hang_next: int = 0
    """The next N matching requests wait ``hang_seconds`` before any answer (a hung server)."""
    hang_seconds: float = 3600.0
    """How long a hung request waits (the client's timeout should fire first)."""
    hang_only: RequestMatch | None = None
    """Restrict hangs to matching requests; None for all."""

    malformed_next: int = 0
    """Spoil the body of the next N successful matching answers (``malformed_kind``)."""
    malformed_kind: MalformedKind = "truncated"
    """How the body is spoiled: see ``MalformedKind``."""
    malformed_only: RequestMatch | None = None
    """Restrict spoiled bodies to matching requests; None for polls only."""

    location_style: LocationStyle = "normal"
    """What the 202's Location looks like (see ``LocationStyle``)."""

    retry_after_only: RequestMatch | None = None
    """Apply ``retry_after_value`` / ``omit_retry_after`` only to matching requests (e.g. ``EXPORTS``)."""

    stuck_users: set[str] = field(default_factory=set)
    """User ids whose exports never finish (``running`` with frozen progress; decided at submission)."""
    stuck_every: int = 0
    """Every Nth operation (by submission order) is stuck; 0: none."""
    stuck_all: bool = False
    """Every unfinished operation, existing ones included, stays ``running`` while this is on."""
    null_status_users: set[str] = field(default_factory=set)
    """User ids whose operations report ``"status": null`` while running (not the unknownFutureValue sentinel)."""
    null_status_every: int = 0
    """Every Nth operation reports a null status while running; 0: none."""
    failing_every: int = 0
    """Every Nth operation (by submission order) ends ``failed``; 0: none."""

    unauthorized_next: int = 0
    """Answer the next N matching requests 401 ``InvalidAuthenticationToken`` whatever the token (revoked)."""
    unauthorized_only: RequestMatch | None = None
    """Restrict injected 401s to matching requests; None for all."""
    poll_error: int | None = None
    """Answer every poll with this 4xx status (400, 404, 409, 410...) permanently; None: off."""

    operations_list_status: int | None = None
    """Answer ``GET /dataPolicyOperations`` (the collection) with this status, as a tenant that does not offer
    it would: 400, 403, 404 or 405 (graph-api.md); None: the collection is offered."""
    ignore_operations_filter: bool = False
    """``GET /dataPolicyOperations`` ignores ``$filter`` and lists every operation (the filter's support is
    undocumented): the client must filter on its side too."""

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

    def storm(
        self, until: float, status: int = 429, retry_after: str | None = None, only: RequestMatch | None = None
    ) -> None:
        """Answer every matching request with ``status`` until simulator time ``until``."""
        if status not in (429, 500, 502, 503, 504):
            raise ValueError(f"a storm answers 429, 500, 502, 503 or 504, not {status}")
        self.storm_until, self.storm_status, self.storm_retry_after, self.storm_only = until, status, retry_after, only

    def sporadic(
        self, fraction: float, status: int = 429, retry_after: str | None = None, only: RequestMatch | None = None
    ) -> None:
        """Answer a random ``fraction`` of matching requests with ``status``."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"the sporadic fraction is between 0 and 1, not {fraction}")
        self.sporadic_fraction, self.sporadic_status = fraction, status
        self.sporadic_retry_after, self.sporadic_only = retry_after, only

    def drop(self, count: int, when: DropWhen = "after", only: RequestMatch | None = None) -> None:
        """Drop the connection of the next ``count`` matching requests ``before``/``after`` the server acted."""
        if when not in DROP_WHEN:
            raise ValueError(f"drop_when is one of {', '.join(DROP_WHEN)}, not {when!r}")
        self.drop_next, self.drop_when, self.drop_only = count, when, only

    def hang(self, count: int, seconds: float = 3600.0, only: RequestMatch | None = None) -> None:
        """Let the next ``count`` matching requests hang for ``seconds``."""
        self.hang_next, self.hang_seconds, self.hang_only = count, seconds, only

    def spoil(self, count: int, kind: MalformedKind = "truncated", only: RequestMatch | None = None) -> None:
        """Spoil the next ``count`` successful matching bodies (default: polls) in the way ``kind`` says."""
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"malformed_kind is one of {', '.join(MALFORMED_KINDS)}, not {kind!r}")
        self.malformed_next, self.malformed_kind, self.malformed_only = count, kind, only

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
    """``list``, ``get``, ``export``, ``remove``, ``poll``, ``operations`` (``GET /dataPolicyOperations``),
    ``outbound_list``, ``outbound_tenants``, ``outbound_remove`` or ``other``."""
    user_id: str | None = None
    operation_id: str | None = None


# --------------------------------------------------------------------------- knobs by name


class _Graph(Protocol):
    """What the knobs need of the simulated Graph (a protocol: knobs never import the handler)."""

    @property
    def faults(self) -> GraphFaults: ...
    @property
    def config(self) -> GraphConfig: ...

    clock: Callable[[], float]


class _Tokens(Protocol):
    def expire_all(self) -> None: ...


class KnobTarget(Protocol):
    """What the knobs are set on: a ``SimulatedTenant`` (its Graph and its tokens)."""

    @property
    def graph(self) -> _Graph: ...

    @property
    def tokens(self) -> _Tokens: ...


_MATCHES: Final[dict[str, RequestMatch | None]] = {"polls": POLLS, "exports": EXPORTS, "lists": LISTS, "all": None}
"""Names a request filter may be given by (the control endpoint, ``--knob``)."""

_ACTIONS: Final = ("reset", "storm_seconds", "revoke_tokens", "limits")
"""Knob names that are actions rather than fields."""


def _match_from(value: Any) -> RequestMatch | None:
    if value is None or isinstance(value, RequestMatch):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("", "none", "null"):
            return None
        if key in _MATCHES:
            return _MATCHES[key]
        raise ValueError(
            f"a request filter is one of {', '.join(_MATCHES)} or {{'method':..,'path':..}}, not {value!r}"
        )
    if isinstance(value, dict):
        unknown = set(value) - {"method", "path"}
        if unknown:
            raise ValueError(f"a request filter has only method and path, not {', '.join(sorted(unknown))}")
        method, path = value.get("method"), value.get("path")
        if path is not None:
            re.compile(str(path))
        return RequestMatch(method=None if method is None else str(method), path=None if path is None else str(path))
    raise ValueError(f"not a request filter: {value!r}")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.strip().lower() in ("1", "true", "yes", "on")
    raise ValueError(f"not a boolean: {value!r}")


def _as_number(value: Any, kind: type[int] | type[float]) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    number = float(value) if isinstance(value, str) else value
    if not isinstance(number, (int, float)) or not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    if kind is int:
        if not float(number).is_integer():
            raise ValueError(f"not a whole number: {value!r}")
        return int(number)
    return float(number)


def _coerce(annotation: str, value: Any, name: str) -> Any:
    """``value`` (from JSON or the command line) as the type the knob's annotation names."""
    kind = annotation.replace(" ", "")
    choices = {
        "LocationMode": get_args(LocationMode),
        "LocationStyle": LOCATION_STYLES,
        "MalformedKind": MALFORMED_KINDS,
        "DropWhen": DROP_WHEN,
    }
    if kind in choices:
        if value not in choices[kind]:
            raise ValueError(f"{name} is one of {', '.join(choices[kind])}, not {value!r}")
        return value
    if kind == "bool":
        return _as_bool(value)
    if kind in ("int", "float"):
        return _as_number(value, int if kind == "int" else float)
    if kind == "int|None":
        return None if value is None else _as_number(value, int)
    if kind == "str|None":
        return None if value is None else str(value)
    if kind == "str":
        return str(value)
    if kind == "set[str]":
        items = value.split(",") if isinstance(value, str) else list(value or [])
        return {str(item).strip().lower() for item in items if str(item).strip()}
    if kind == "RequestMatch|None":
        return _match_from(value)
    raise ValueError(f"{name} cannot be set by name")  # pragma: no cover - every knob's type is listed above


def apply_knobs(tenant: KnobTarget, knobs: dict[str, Any]) -> list[str]:
    """Set knobs of ``tenant`` by name, as ``POST /_sim/knobs`` and ``simulate --knob`` do.

    Names are ``GraphFaults`` and ``GraphConfig`` fields, plus actions: ``reset`` (true: every fault
    off, applied first), ``storm_seconds`` (start a storm of ``storm_status`` now, for that long,
    applied last), ``revoke_tokens`` (true: every issued token expires now: 401 mid-run) and
    ``limits`` (a dict of ``ServiceLimits`` fields). Values are coerced (``"0.05"`` for a float,
    ``"polls"`` for a request filter, a list or ``"a,b"`` for a set).

    Returns:
        The names that were set, in order.

    Raises:
        ValueError: an unknown name or an unusable value (nothing is changed then).
    """
    graph = tenant.graph
    faults, config = graph.faults, graph.config
    fault_fields = {f.name: str(f.type) for f in fields(GraphFaults)}
    config_fields = {f.name: str(f.type) for f in fields(GraphConfig) if f.name != "limits"}
    limit_fields = {f.name: str(f.type) for f in fields(ServiceLimits)}
    staged: list[tuple[object, str, Any]] = []
    actions: dict[str, Any] = {}
    for name, value in knobs.items():
        if name in _ACTIONS:
            if name == "limits":
                if not isinstance(value, dict):
                    raise ValueError("limits is a dict of exports_per_day, exports_per_user_per_day, requests_per_hour")
                for key, item in value.items():
                    if key not in limit_fields:
                        raise ValueError(f"unknown limit {key!r}: {', '.join(limit_fields)}")
                    staged.append((config.limits, key, _coerce(limit_fields[key], item, key)))
            else:
                actions[name] = _as_number(value, float) if name == "storm_seconds" else _as_bool(value)
        elif name in fault_fields:
            staged.append((faults, name, _coerce(fault_fields[name], value, name)))
        elif name in config_fields:
            staged.append((config, name, _coerce(config_fields[name], value, name)))
        else:
            known = sorted([*fault_fields, *config_fields, *_ACTIONS])
            raise ValueError(f"unknown knob {name!r}; known: {', '.join(known)}")
    for _target, name, value in staged:
        if name in ("storm_status", "sporadic_status") and value not in (429, 500, 502, 503, 504):
            raise ValueError(f"{name} is 429, 500, 502, 503 or 504, not {value}")
        if name == "error_status" and value not in (500, 502, 503, 504):
            raise ValueError(f"error_status is 500, 502, 503 or 504, not {value}")
        if name == "sporadic_fraction" and not 0.0 <= value <= 1.0:
            raise ValueError(f"sporadic_fraction is between 0 and 1, not {value}")
        if name == "poll_error" and value is not None and not 400 <= value <= 499:
            raise ValueError(f"poll_error is a 4xx status, not {value}")
    if actions.get("reset"):
        faults.reset()
    for target, name, value in staged:
        setattr(target, name, value)
    if actions.get("revoke_tokens"):
        tenant.tokens.expire_all()
    if "storm_seconds" in actions:
        seconds = actions["storm_seconds"]
        faults.storm_until = graph.clock() + seconds if seconds > 0 else 0.0
    return [name for name in knobs]


def _plain(value: Any) -> Any:
    if isinstance(value, RequestMatch):
        return {"method": value.method, "path": value.path}
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, ServiceLimits):
        return {f.name: getattr(value, f.name) for f in fields(ServiceLimits)}
    return value


def knobs_json(tenant: KnobTarget) -> dict[str, Any]:
    """Every knob's current value (what ``GET /_sim/knobs`` answers), JSON-ready."""
    graph = tenant.graph
    out: dict[str, Any] = {"now": graph.clock()}
    out.update({f.name: _plain(getattr(graph.config, f.name)) for f in fields(GraphConfig)})
    out.update({f.name: _plain(getattr(graph.faults, f.name)) for f in fields(GraphFaults)})
    return out


# --------------------------------------------------------------------------- simulate options


def _knob_pair(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's fault knobs to ``export-console simulate`` (the CLI calls this).

    Every knob stays settable while the server runs: ``POST /_sim/knobs`` with a JSON object of the
    same names (``GET /_sim/knobs`` shows them all).
    """
    group = parser.add_argument_group(
        "simulated faults", "knobs of the simulated Graph; also settable at run time with POST /_sim/knobs (JSON)"
    )
    group.add_argument(
        "--knob",
        action="append",
        type=_knob_pair,
        default=[],
        metavar="NAME=VALUE",
        help="set any knob by name (repeatable), e.g. --knob sporadic_fraction=0.05 --knob drop_next=1",
    )
    group.add_argument("--knobs-file", metavar="PATH", help="a JSON object of knobs to set")
    group.add_argument("--storm", type=float, metavar="SECONDS", help="answer every request with 429 for SECONDS")
    group.add_argument("--storm-status", type=int, choices=(429, 503, 504), help="status of the storm (429)")
    group.add_argument("--sporadic", type=float, metavar="FRACTION", help="throttle this share of requests at random")
    group.add_argument("--sporadic-status", type=int, choices=(429, 503, 504), help="status of sporadic failures")
    group.add_argument(
        "--throttle-retry-after",
        metavar="TEXT",
        help="Retry-After on storm and sporadic answers (verbatim: 1, 2.128, 0, -5, 1e9); none by default",
    )
    group.add_argument("--location-style", choices=LOCATION_STYLES, help="what the 202's Location looks like")
    group.add_argument(
        "--retry-after-value",
        metavar="TEXT",
        help="Retry-After on 202s and polls, verbatim (0, -5, 2.128, 1e9, abc, or http-date)",
    )
    group.add_argument("--no-retry-after", action="store_true", help="send no Retry-After on 202s and polls")
    group.add_argument("--failing-user", action="append", default=[], metavar="USER_ID", help="this export fails")
    group.add_argument("--stuck-user", action="append", default=[], metavar="USER_ID", help="this export never ends")
    group.add_argument(
        "--allow-reused-location",
        action="store_true",
        help="accept a storage location that already holds an export (Graph refuses: StorageLocationAlreadyUsed)",
    )
    group.add_argument("--no-delivery", action="store_true", help="do not write exported files into the location")


def apply_simulate_arguments(tenant: KnobTarget, args: argparse.Namespace) -> None:
    """Apply the options ``add_simulate_arguments`` added to a built tenant.

    Raises:
        ValueError: an unknown knob or an unusable value (a sentence for the CLI to print, exit 2).
    """
    knobs: dict[str, Any] = {}
    path = getattr(args, "knobs_file", None)
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the knobs file {path}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"the knobs file {path} must hold a JSON object")
        knobs.update(loaded)
    retry_after = getattr(args, "throttle_retry_after", None)
    if getattr(args, "storm_status", None) is not None:
        knobs["storm_status"] = args.storm_status
    if getattr(args, "sporadic_status", None) is not None:
        knobs["sporadic_status"] = args.sporadic_status
    if retry_after is not None:
        knobs["storm_retry_after"] = knobs["sporadic_retry_after"] = retry_after
    if getattr(args, "sporadic", None) is not None:
        knobs["sporadic_fraction"] = args.sporadic
    if getattr(args, "location_style", None):
        knobs["location_style"] = args.location_style
    if getattr(args, "retry_after_value", None) is not None:
        knobs["retry_after_value"] = args.retry_after_value
    if getattr(args, "no_retry_after", False):
        knobs["omit_retry_after"] = True
    failing = [u for u in getattr(args, "failing_user", None) or [] if u]
    if failing:
        knobs["failing_users"] = sorted(tenant.graph.faults.failing_users | {u.lower() for u in failing})
    stuck = [u for u in getattr(args, "stuck_user", None) or [] if u]
    if stuck:
        knobs["stuck_users"] = sorted(tenant.graph.faults.stuck_users | {u.lower() for u in stuck})
    if getattr(args, "allow_reused_location", False):
        knobs["refuse_reused_location"] = False
    if getattr(args, "no_delivery", False):
        knobs["deliver_exports"] = False
    for name, value in getattr(args, "knob", None) or []:
        knobs[name] = value
    if getattr(args, "storm", None) is not None:
        knobs["storm_seconds"] = args.storm
    if knobs:
        apply_knobs(tenant, knobs)
