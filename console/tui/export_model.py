"""What the export form decides, without Textual: who, where to (one location per person), what is wrong.

Graph accepts one export per storage location (../shared/graph-api.md, "One export per storage
location"): several people need a template such as ``.../dsr-{userId}?<sas>``. The form proposes
one from the location typed, previews the first resolved locations (signature masked), and blocks
on every error of the storage rules (``console.ops.submission``, the CLI's too) before a daily
export is spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from console.ops.submission import LocationPlan, PeopleCheck, check_people, plan_locations, propose_template
from console.redact import redact
from console.storage import (
    STORAGE_LOCATION_ALREADY_USED,
    TemplateError,
    explain_storage_error,
    is_template,
    resolve_locations,
)
from console.storage.location import container_path_index
from console.tui.cells import one_line, safe_text

__all__ = [
    "ExportMemory",
    "LocationPlan",
    "PeopleCheck",
    "Person",
    "check_people",
    "container_key",
    "fresh_location",
    "location_host",
    "names_text",
    "outcome_reason",
    "plan_locations",
    "propose_template",
    "short_location",
]


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
