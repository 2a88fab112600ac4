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
    explain_storage_error,
    is_template,
    preview_locations,
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
