"""What the export form decides, without Textual: who, where to (one location per person), what is wrong.

Graph accepts one export per storage location (../shared/graph-api.md, "One export per storage
location"): several people need a template such as ``.../dsr-{userId}?<sas>``. The form proposes
one from the location typed, previews the first resolved locations (signature masked), and blocks
on every error of the storage rules (``console.storage.plan_batch``, the CLI's too) before a daily
export is spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import httpx

from console.redact import redact
from console.storage import (
    STORAGE_LOCATION_ALREADY_USED,
    TemplateError,
    explain_storage_error,
    is_template,
    preview_locations,
    resolve_locations,
)
from console.storage.location import container_path_index
from console.storage.rules import plan_batch, preflight_batch
from console.tui.cells import one_line, safe_text

PREVIEW_COUNT = 3
"""Resolved locations previewed under the storage field."""
TEMPLATE_SUFFIX = "-{userId}"
"""Appended to the typed container to propose a template (a GUID keeps the name within 63 characters)."""
_MAX_CONTAINER_PREFIX = 63 - 1 - 36
"""A container prefix that still leaves room for '-' and a 36-character userId."""


@dataclass(frozen=True)
class Person:
    """One person an export is for, as the form names them."""

    user_id: str
    display_name: str = ""
    user_principal_name: str = ""
    home_tenant_id: str = ""
    previous_key: int | None = None
    """The operation this export repeats (from the operations pane), else None."""

    @property
    def label(self) -> str:
        """Name, else UPN, else userId; control characters escaped (tenant data)."""
        return safe_text(self.display_name or self.user_principal_name or self.user_id)


@dataclass
class ExportMemory:
    """What the form remembers for the next export of the same session."""

    case: str = ""
    """The last case reference (a data-subject request id such as DSR-1234)."""


@dataclass(frozen=True)
class LocationPlan:
    """What one storage location (or template) means for the people of a form."""

    locations: tuple[str, ...] = ()
    """One full location per person, in order (secrets included: memory only); empty when blocked."""
    errors: tuple[str, ...] = ()
    """Reasons nothing can be sent (redacted)."""
    warnings: tuple[str, ...] = ()
    """Things the admin must know before sending (redacted)."""
    preview: tuple[str, ...] = ()
    """The first resolved locations, signature masked (only for a template)."""
    proposal: str = ""
    """A template to use instead of a fixed location for several people (full, with its SAS), or ''."""
    findings_by_parameter: dict[str, str] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return bool(self.errors) or not self.locations


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


def plan_locations(location: str, people: list[Person], *, now: float) -> LocationPlan:
    """Check ``location`` for ``people`` without any network call: the same rules as the CLI's
    (``console.storage.plan_batch``), so the form refuses with the CLI's words.

    Args:
        location: what the admin typed (full, with its signature).
        people: who the export is for.
        now: the time (epoch seconds) for the SAS expiry rules.
    """
    text = location.strip()
    pairs = [(p.user_id, p.user_principal_name) for p in people]
    plan = plan_batch(text, pairs, now=now)
    by_parameter = {f.parameter: redact(f.message) for f in plan.findings}
    proposal = propose_template(text) if len(people) > 1 and not plan.errors else ""
    preview: tuple[str, ...] = ()
    if is_template(text) and not any(f.level == "error" for f in plan.findings):
        preview = tuple(preview_locations(text, pairs, limit=PREVIEW_COUNT, day=_day(now)))
    return LocationPlan(
        locations=plan.locations if not plan.errors else (),
        errors=plan.errors,
        warnings=plan.warnings,
        preview=preview,
        proposal=proposal,
        findings_by_parameter=by_parameter,
    )


def _day(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def short_location(location: str) -> str:
    """A previewed location on one line: its path (the container), the (masked) SAS query as ``?…``.

    Every resolved location carries the same query as the template, so the preview shows what differs.
    A profile whose value breaks a rule (``! reason``) is kept as is.
    """
    if location.startswith("!") or "://" not in location:
        return location
    head, _, query = location.partition("?")
    path = "/" + head.partition("://")[2].partition("/")[2]
    return path + ("?…" if query else "")


def location_host(location: str) -> str:
    """The host of a location URL ('' for an account name)."""
    return urlsplit(location).netloc if "://" in location else ""


def outcome_reason(error: str, code: str = "") -> str:
    """Graph's answer for one refused export, with the fix when the location was already used."""
    if code == STORAGE_LOCATION_ALREADY_USED or STORAGE_LOCATION_ALREADY_USED in error:
        return one_line(explain_storage_error(STORAGE_LOCATION_ALREADY_USED, error), 600)
    return one_line(redact(error), 600)


def names_text(people: list[Person], shown: int = 5) -> str:
    """'For: A, B, C … and N more' (every form names its targets)."""
    names = [p.label for p in people[:shown]]
    more = len(people) - len(names)
    text = ", ".join(names)
    if more > 0:
        text += f" … and {more:,} more"
    return text


async def preflight_locations(
    locations: tuple[str, ...], *, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[list[str], list[str]]:
    """Blob pre-flight of every distinct URL location, with its own SAS (never a bearer token), as the CLI's
    (``console.storage.preflight_batch``: bounded, one breaker and one line per unreachable storage account).

    Returns:
        (refusals, warnings), redacted: a refusal means nothing may be sent (a missing container,
        an export already there); a warning is shown (storage unreachable, SAS without read/list).
    """
    urls = list(dict.fromkeys(loc for loc in locations if "://" in loc))
    if not urls:
        return [], []
    batch = await preflight_batch(urls, transport=transport)
    refused = [redact(r.refused) for r in batch.results if not r.ok and r.refused]
    if len(refused) > 3:
        refused = [*refused[:3], f"… and {len(refused) - 3:,} more locations refused"]
    return refused, list(batch.notes[:3])


# -- a location not used before (re-exports, the demo) ------------------------------------------


def container_key(location: str) -> str:
    """``host/container`` of a location URL or template (lower case), '' for an account name.

    The journal keeps locations redacted: the container part is all it needs to say "used before".
    """
    text = location.strip()
    if "://" not in text:
        return ""
    parts = urlsplit(text)
    segments = parts.path.split("/")
    index = container_path_index(parts.hostname) + 1
    if index >= len(segments) or not segments[index]:
        return ""
    return f"{parts.netloc.rsplit('@', 1)[-1]}/{'/'.join(segments[1 : index + 1])}".lower()


def _with_container_suffix(location: str, suffix: str) -> str:
    parts = urlsplit(location.strip())
    segments = parts.path.split("/")
    index = container_path_index(parts.hostname) + 1
    segments[index] = segments[index][: 63 - len(suffix) - (36 if "{userId}" in segments[index] else 0)] + suffix
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{'/'.join(segments[: index + 1])}{query}"


def fresh_location(location: str, people: list[Person], used: set[str], *, stamp: str) -> str:
    """``location``, or the same with a dated container (``dsr-{userId}-20270115``) when any of ``people``'s
    containers was used before: Graph refuses a used one (StorageLocationAlreadyUsed, graph-api.md).

    Args:
        location: a location URL or template (its SAS is kept as is).
        people: who the export is for.
        used: ``container_key`` of every location the journal knows.
        stamp: the date suffix (``20270115``); ``-2``, ``-3``... follow when that one was used too.

    Returns:
        A location none of whose resolved containers is in ``used`` (or ``location`` when it is not a URL).
    """

    def containers(candidate: str) -> set[str]:
        pairs = [(p.user_id, p.user_principal_name) for p in people]
        try:
            resolved = resolve_locations(candidate, pairs) if is_template(candidate) else [candidate]
        except TemplateError:
            return set()
        return {container_key(loc) for loc in resolved}

    if not container_key(location) and not is_template(location):
        return location
    if not containers(location) & used:
        return location
    for attempt in range(1, 100):
        suffix = f"-{stamp}" if attempt == 1 else f"-{stamp}-{attempt}"
        candidate = _with_container_suffix(location, suffix)
        if not containers(candidate) & used:
            return candidate
    return location


# -- pre-flight per person ---------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleCheck:
    """The Blob pre-flight of a form's locations, told per person."""

    refused: tuple[tuple[str, tuple[Person, ...]], ...] = ()
    """(reason, the people it refuses), grouped by reason (redacted)."""
    warnings: tuple[str, ...] = ()
    """Grouped warnings (``3 containers could not be reached: a, b, c``), redacted."""

    @property
    def refused_people(self) -> list[Person]:
        """Everyone refused, in order, once."""
        seen: dict[str, Person] = {}
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
    people: list[Person], locations: tuple[str, ...], *, transport: httpx.AsyncBaseTransport | None = None
) -> PeopleCheck:
    """Blob pre-flight of every distinct URL location, answered per person and grouped.

    A refusal names the people it stops (so the rest can go on without them); warnings about many
    containers become one line per kind.
    """
    from console.storage.blob import container_address

    by_url: dict[str, list[Person]] = {}
    for person, location in zip(people, locations, strict=False):
        if "://" in location:
            by_url.setdefault(location, []).append(person)
    if not by_url:
        return PeopleCheck()
    urls = list(by_url)
    batch = await preflight_batch(urls, transport=transport)
    results = list(zip(urls, batch.results, strict=True))
    refused: dict[str, list[Person]] = {}
    reasons: dict[str, list[str]] = {}
    containers: dict[str, list[str]] = {}
    warned: dict[str, list[str]] = {}
    first_warning: dict[str, str] = {}
    plain: list[str] = []
    for url, result in results:
        address = container_address(url)
        name = safe_text(address.container) if address is not None else ""
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
    return PeopleCheck(refused=groups, warnings=tuple(warnings))


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
