"""One submission path under both front ends: the CLI's ``export`` and the console's export form.

Every rule that can refuse an export before a daily export is spent lives here once, so a rule
changed once changes both front ends (and both refuse with the same words):

1. ``check_request``: the SAS and location rules on what was given, no network (the CLI runs it
   before signing in). The SAS is checked once per request: ``plan_locations`` reuses these
   findings; a location resolved from a template carries the same SAS, so only its container's
   shape is checked again.
2. ``plan_locations``: the template resolved per person, two people landing in one container
   refused (Graph accepts one export per storage location), and for a form the first resolved
   locations (masked) and a per-person template to propose.
3. The Blob pre-flight with the SAS (network): ``console.storage.rules.PreflightRun``, one location
   at a time just before its POST (the CLI's pipeline), or ``check_people``, every location at once
   and told per person (the form, which then offers to go on without those refused).
4. ``Submission.send``: the conflict check (an unfinished or unconfirmed export of the same
   person, unless forced), the daily quota, the case opened when it is new (received today, due a
   month later: ``console.ops.cases``), then the POSTs (``OperationsEngine.submit``).

The engine layer: never imports Textual or the CLI; no text it returns holds a signature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from console.ops.engine import AlreadyExporting
from console.ops.events import ExportTarget, OperationView, QuotaReport, Someone, SubmitOutcome
from console.redact import redact
from console.storage.blob import container_address
from console.storage.location import container_path_index
from console.storage.rules import BatchPlan, plan_batch, preflight_batch
from console.storage.sas import SasFinding, check_location
from console.storage.templates import is_template, preview_locations
from console.text import terminal_safe

PREVIEW_COUNT = 3
"""Resolved locations previewed under a form's storage field."""
TEMPLATE_SUFFIX = "-{userId}"
"""Appended to a fixed container to propose a template (a GUID keeps the name within 63 characters)."""
_MAX_CONTAINER_PREFIX = 63 - 1 - 36
"""A container prefix that still leaves room for '-' and a 36-character userId."""


P = TypeVar("P", bound=Someone)


# -- the storage rules (no network) -----------------------------------------------------------


@dataclass(frozen=True)
class RequestCheck:
    """The SAS and location rules applied to what was given, once."""

    location: str
    """The location or template, stripped (may hold the SAS: memory only)."""
    findings: tuple[SasFinding, ...]

    @property
    def errors(self) -> list[str]:
        """Why nothing may be sent (each names its rule; redacted)."""
        return [redact(f.message) for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[str]:
        """What the admin must know before sending (redacted)."""
        return [redact(f.message) for f in self.findings if f.level == "warning"]


def check_request(location: str, count: int, *, now: float) -> RequestCheck:
    """The SAS and location rules on ``location`` for ``count`` people, without any network call."""
    text = location.strip()
    return RequestCheck(text, tuple(check_location(text, now=now, targets=max(1, count))))


@dataclass(frozen=True)
class LocationPlan:
    """What one storage location (or template) means for the people of a request."""

    rules: BatchPlan = field(default_factory=BatchPlan)
    """The storage rules' verdict (``console.storage.rules.plan_batch``)."""
    preview: tuple[str, ...] = ()
    """The first resolved locations, signature masked (only for a template)."""
    proposal: str = ""
    """A template to use instead of a fixed location for several people (full, with its SAS), or ''."""

    @property
    def locations(self) -> tuple[str, ...]:
        """One full location per person, in order (secrets included: memory only); empty when refused."""
        return self.rules.locations if not self.rules.errors else ()

    @property
    def errors(self) -> tuple[str, ...]:
        return self.rules.errors

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.rules.warnings

    @property
    def blocked(self) -> bool:
        return self.rules.refused


def plan_locations(
    location: str, people: Sequence[Someone], *, now: float, checked: RequestCheck | None = None
) -> LocationPlan:
    """Resolve ``location`` for ``people`` and apply every storage rule, without any network call.

    Args:
        location: what was given (full, with its signature).
        people: who the export is for.
        now: the time (epoch seconds) for the SAS expiry rules and ``{date}``.
        checked: ``check_request``'s verdict on the same location, when already made (not checked again).
    """
    text = location.strip()
    pairs = [(p.user_id, p.user_principal_name) for p in people]
    findings = checked.findings if checked is not None and checked.location == text else None
    rules = plan_batch(text, pairs, now=now, findings=findings)
    proposal = propose_template(text) if len(people) > 1 and not rules.errors else ""
    preview: tuple[str, ...] = ()
    if is_template(text) and not any(f.level == "error" for f in rules.findings):
        day = datetime.fromtimestamp(now, UTC).date()
        preview = tuple(preview_locations(text, pairs, limit=PREVIEW_COUNT, day=day))
    return LocationPlan(rules=rules, preview=preview, proposal=proposal)


def propose_template(location: str) -> str:
    """A per-person template from a fixed container URL: the container name + ``-{userId}``, same query.

    Returns:
        The template (keeping the SAS query), or '' when there is nothing sensible to propose
        (already a template, an account name, no container in the path).
    """
    text = location.strip()
    if not text or is_template(text) or "://" not in text:
        return ""
    parts = urlsplit(text)
    segments = parts.path.split("/")
    index = container_path_index(parts.hostname) + 1  # path starts with "/": segment 0 is ""
    if index >= len(segments) or not segments[index]:
        return ""
    container = segments[index][:_MAX_CONTAINER_PREFIX].rstrip("-")
    segments[index] = container + TEMPLATE_SUFFIX
    # Only the container gets the placeholder: a blob path under it would not make a new container.
    path = "/".join(segments[: index + 1])
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{path}{query}"


def targets_for(
    people: Sequence[Someone], locations: Sequence[str], *, previous: Mapping[str, int] | None = None
) -> list[ExportTarget]:
    """One target per person with its resolved location, and the journal row it exports again (the person's
    own ``previous_key``, else ``previous`` by lower-case user id)."""
    targets = []
    for person, location in zip(people, locations, strict=True):
        again = getattr(person, "previous_key", None)
        if again is None and previous:
            again = previous.get(person.user_id.lower())
        targets.append(ExportTarget.of(person, location, again))
    return targets


# -- the Blob pre-flight, told per person (the form) ---------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleCheck(Generic[P]):
    """The Blob pre-flight of a form's locations, told per person."""

    refused: tuple[tuple[str, tuple[P, ...]], ...] = ()
    """(reason, the people it refuses), grouped by reason (redacted)."""
    warnings: tuple[str, ...] = ()
    """Grouped warnings (``3 containers could not be reached: a, b, c``), redacted."""

    @property
    def refused_people(self) -> list[P]:
        """Everyone refused, in order, once."""
        seen: dict[str, P] = {}
        for _reason, people in self.refused:
            for person in people:
                seen.setdefault(person.user_id, person)
        return list(seen.values())


GROUP_NAMES_SHOWN = 3
"""Names (or containers) listed in one grouped line before '… and N more'."""


def _listed(items: list[str], shown: int = GROUP_NAMES_SHOWN) -> str:
    text = ", ".join(items[:shown])
    if len(items) > shown:
        text += f" … and {len(items) - shown:,} more"
    return text


_WARNING_GROUPS = {
    "Unreachable": "could not be reached to be checked; the export goes on without the check",
    "NotChecked": "not checked",
}


async def check_people(
    people: Sequence[P], locations: Sequence[str], *, transport: httpx.AsyncBaseTransport | None = None
) -> PeopleCheck[P]:
    """Blob pre-flight of every distinct URL location, answered per person and grouped.

    A refusal names the people it stops (so the rest can go on without them); warnings about many
    containers become one line per kind.
    """
    by_url: dict[str, list[P]] = {}
    for person, location in zip(people, locations, strict=False):
        if "://" in location:
            by_url.setdefault(location, []).append(person)
    if not by_url:
        return PeopleCheck[P]()
    urls = list(by_url)
    batch = await preflight_batch(urls, transport=transport)
    results = list(zip(urls, batch.results, strict=True))
    refused: dict[str, list[P]] = {}
    reasons: dict[str, list[str]] = {}
    containers: dict[str, list[str]] = {}
    warned: dict[str, list[str]] = {}
    first_warning: dict[str, str] = {}
    plain: list[str] = []
    for url, result in results:
        address = container_address(url)
        name = terminal_safe(address.container) if address is not None else ""
        if not result.ok and result.refused:
            key = result.code or redact(result.refused)
            refused.setdefault(key, []).extend(by_url[url])
            reasons.setdefault(key, []).append(redact(result.refused))
            containers.setdefault(key, []).append(name)
        elif result.warning:
            # A host the pool found down is tried once; its other checks are skipped: one group.
            code = "Unreachable" if result.code == "Skipped" else result.code
            if code in _WARNING_GROUPS and name:
                warned.setdefault(code, []).append(name)
                first_warning.setdefault(code, redact(result.warning))
            else:
                plain.append(redact(result.warning))
    groups = tuple((_refusal_text(key, reasons[key], containers[key]), tuple(refused[key])) for key in refused)
    warnings = [
        first_warning[code]
        if len(names) == 1
        else f"{_plural_word(len(names), 'container')} ({_listed(names, 2)}) {_WARNING_GROUPS[code]}"
        + ("" if code == "Unreachable" else f": {first_warning[code]}")
        for code, names in warned.items()
    ]
    warnings += list(dict.fromkeys(plain))[:GROUP_NAMES_SHOWN]
    return PeopleCheck[P](refused=groups, warnings=tuple(warnings))


_REFUSAL_GROUPS = {
    "ContainerNotFound": "do not exist: create them first (Graph exports into an existing container)",
    "RequestInfoPresent": (
        "already hold an export (Graph would refuse them: StorageLocationAlreadyUsed): use new containers"
    ),
    "AuthenticationFailed": "refused the SAS (AuthenticationFailed): make a new SAS",
}


def _refusal_text(code: str, reasons: list[str], names: list[str]) -> str:
    """One sentence for every container refused for the same reason."""
    if len(reasons) == 1 or not all(names):
        return reasons[0] + (f" (and {len(reasons) - 1:,} more containers)" if len(reasons) > 1 else "")
    what = _REFUSAL_GROUPS.get(code, "were refused: " + reasons[0])
    return f"{_plural_word(len(names), 'container')} ({_listed(names)}) {what}"


def _plural_word(count: int, one: str) -> str:
    return f"{count:,} {one if count == 1 else one + 's'}"


# -- the checks against the journal, and the POSTs ----------------------------------------------


class SubmitEngine(Protocol):
    """The part of ``OperationsEngine`` a submission uses (the console's ``OperationsService`` extends it)."""

    async def quota(self) -> QuotaReport:
        """Exports left today under Graph's daily limits."""
        ...

    async def check_quota(self, user_ids: Sequence[str]) -> QuotaReport:
        """``quota``, refusing a batch that would pass the limits (``QuotaExceeded``)."""
        ...

    async def conflicts(self, user_ids: Iterable[str]) -> list[OperationView]:
        """Unfinished or unconfirmed exports of these users, in any process."""
        ...

    async def submit(
        self, targets: Sequence[ExportTarget], *, case: str = "", submitted_by: str | None = None, force: bool = False
    ) -> list[SubmitOutcome]:
        """Export each target to its location; raises ValueError, QuotaExceeded or AlreadyExporting (unless
        ``force``) before any POST."""
        ...


@dataclass(frozen=True)
class Cleared:
    """The journal's checks passed for a batch of people."""

    conflicts: list[OperationView]
    """Their unfinished or unconfirmed exports (empty unless forced: then they are exported again)."""
    quota: QuotaReport
    """Graph's daily limits, before this batch."""

    @property
    def previous(self) -> dict[str, int]:
        """The latest conflicting export of each person (lower-case user id -> journal key)."""
        return {v.user_id.lower(): v.key for v in sorted(self.conflicts, key=lambda v: v.key)}


@dataclass(frozen=True)
class Sent:
    """What a submission did."""

    outcomes: list[SubmitOutcome]
    """One per target POSTed (or that failed to be), in order; a target the pre-check kept back has none."""
    case_opened: str = ""
    """The case this submission opened ('' when there was none or it existed already): say so."""


def case_opened_text(case: str) -> str:
    """The sentence both front ends say when an export opens its case."""
    return f"case {case} opened (received today, due in one month)"


class Submission:
    """The checks before the POSTs and the POSTs, for one engine (one tenant), whichever front end asks.

    Args:
        engine: the operations engine (``console.ops.engine.OperationsEngine``).
        identity: who submits (the author of a case opened; default: the engine's identity).
    """

    def __init__(self, engine: SubmitEngine, *, identity: str | None = None) -> None:
        self.engine = engine
        self.identity = identity

    async def prepare(self, user_ids: Sequence[str], *, force: bool = False) -> Cleared:
        """The conflict check, then the daily quota, before anything is sent.

        Raises:
            AlreadyExporting: someone has an unfinished or unconfirmed export, and not ``force`` (nothing sent).
            QuotaExceeded: the daily limits would be passed (nothing sent).
        """
        conflicts = await self.engine.conflicts(user_ids)
        if conflicts and not force:
            raise AlreadyExporting(conflicts)
        return Cleared(conflicts, await self.engine.check_quota(user_ids))

    async def send(
        self,
        targets: Sequence[ExportTarget],
        *,
        case: str = "",
        force: bool = False,
        precheck: Callable[[ExportTarget], Awaitable[bool]] | None = None,
        cleared: Cleared | None = None,
    ) -> Sent:
        """``prepare`` (unless ``cleared`` already), the case opened when new, then the POSTs.

        Args:
            targets: one per person, each with its resolved location (``targets_for``).
            case: the data-subject request reference.
            force: export again people with an unfinished or unconfirmed export.
            precheck: each target's storage pre-flight, just before its POST (the CLI's pipeline).
            cleared: what ``prepare`` answered for these targets, when the caller asked it first.

        Raises:
            AlreadyExporting, QuotaExceeded: as ``prepare`` (nothing sent).
        """
        if cleared is None:
            await self.prepare([t.user_id for t in targets], force=force)
        opened = await self._open_case(case)
        extra: dict[str, Any] = {} if precheck is None else {"precheck": precheck}  # (the CLI's pipeline)
        outcomes = await self.engine.submit(targets, case=case, submitted_by=self.identity, force=force, **extra)
        return Sent(outcomes, opened)

    async def _open_case(self, case: str) -> str:
        """Open ``case`` (received today, due a month later) unless it exists; the case opened, else ''."""
        ref = case.strip()
        writer = getattr(self.engine, "writer", None)
        tenant_key = getattr(self.engine, "tenant_key", None)
        if not ref or writer is None or tenant_key is None:
            return ""
        from console.ops.cases import ensure_case, utc_date

        today = utc_date(self.engine.clock.now())  # type: ignore[attr-defined]
        author = self.identity if self.identity is not None else str(getattr(self.engine, "identity", ""))
        opened = await writer.call(ensure_case, writer.journal, tenant_key, ref, today, author)
        return ref if opened else ""
