"""What the export form decides, without Textual: who, where to (one location per person), what is wrong.

Graph accepts one export per storage location (../shared/graph-api.md, "One export per storage
location"): several people need a template such as ``.../dsr-{userId}?<sas>``. The form proposes
one from the location typed, previews the first resolved locations (signature masked), and blocks
on every error of the storage rules (``console.ops.submission``, the CLI's too) before a daily
export is spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.text import Text

from console.ops.events import UNCONFIRMED, Person, QuotaReport, SubmitOutcome
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


def proposal_text(plan: LocationPlan) -> str:
    """The line offering the proposed per-person template (signature masked), or ''."""
    if not plan.proposal:
        return ""
    return f"ctrl+t uses one container per person: {short_location(redact(plan.proposal))} (same account and SAS)"


def preview_text(plan: LocationPlan, people: list[Person]) -> str:
    """The first resolved locations, one line per person (signature masked), or ''."""
    if not plan.preview:
        return ""
    more = len(people) - len(plan.preview)
    lines = [f"  {person.label} → {short_location(loc)}" for person, loc in zip(people, plan.preview, strict=False)]
    if more > 0:
        lines.append(f"  … and {more:,} more, each with its own container")
    host = location_host(plan.preview[0])
    return f"Locations{' on ' + host if host else ''}, each with the SAS:\n" + "\n".join(lines)


def quota_text(report: QuotaReport, people: list[Person], tenant: str = "") -> Text:
    """What is left of today's limits (of ``tenant`` when several are open), and who this export would take over them."""
    text = Text()
    whose = safe_text(tenant) if tenant else "the tenant"
    text.append(
        f"Exports left today: {report.tenant_left:,} of {report.tenant_limit:,} for {whose}, "
        f"{report.per_user_limit} a day per user."
    )
    if len(people) > report.tenant_left:
        text.append(f" {len(people):,} asked: over today's tenant limit.", style="bold")
    spent = [p.label for p in people if report.user_left(p.user_id) < 1]
    if spent:
        text.append(f" No exports left today for: {', '.join(spent[:3])}", style="bold")
    return text


def location_host(location: str) -> str:
    """The host of a location URL ('' for an account name)."""
    return urlsplit(location).netloc if "://" in location else ""


def outcome_reason(error: str, code: str = "") -> str:
    """Graph's answer for one refused export, with the fix when the location was already used."""
    if code == STORAGE_LOCATION_ALREADY_USED or STORAGE_LOCATION_ALREADY_USED in error:
        return one_line(explain_storage_error(STORAGE_LOCATION_ALREADY_USED, error), 600)
    return one_line(redact(error), 600)


def outcome_cells(outcome: SubmitOutcome) -> tuple[str, str, str]:
    """(result, detail, reason to explain under the table): ✓ accepted with the operation id, or ? unconfirmed /
    ✗ refused with Graph's answer (StorageLocationAlreadyUsed with its fix)."""
    if outcome.accepted:
        operation = outcome.operation
        return "✓ accepted", operation.operation_id if operation and operation.operation_id else "accepted", ""
    code = str(getattr(outcome.exception, "code", "") or "")
    unconfirmed = outcome.operation is not None and outcome.operation.state == UNCONFIRMED
    reason = outcome_reason(outcome.error, code)
    return "? unconfirmed" if unconfirmed else "✗ refused", one_line(reason, 300), reason


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 person', '2 people', '1,000 exports'."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def bulk_question(
    count: int,
    where: str,
    case: str,
    *,
    hidden: str,
    refused: Sequence[tuple[str, Sequence[Person]]],
    warnings: Sequence[str],
    quota: QuotaReport | None,
    tenant: str = "",
) -> str:
    """The question before an export that is not one person with nothing to warn about (default No).

    Args:
        count: the people it goes on with; ``refused``: those pre-flight left out, grouped by reason.
        where: the location, masked; ``case``: the Case field; ``hidden``: who the search hides ('' when none).
        tenant: the tenant's saved name when several are open (named in the question), else ''.
    """
    in_tenant = f" in {safe_text(tenant)}" if tenant else ""
    lines = [f"Export the personal data of {plural(count, 'person', 'people')}{in_tenant} to {where}?"]
    lines.append(f"Case: {safe_text(case)}" if case else "Case: none (the Case field is empty)")
    if hidden:
        lines.append(hidden + ".")
    skipped = len({p.user_id for _reason, people in refused for p in people})
    if refused:
        lines.append(f"Pre-flight refused {plural(skipped, 'person', 'people')}, left out if you go on:")
        lines += [f"✗ {reason}: {names_text(list(people), 3)}" for reason, people in refused]
    lines += [f"! {w}" for w in warnings]
    if quota is not None:
        whose = safe_text(tenant) if tenant else "the tenant"
        lines.append(f"Graph counts each against today's limits ({quota.tenant_left:,} left for {whose}).")
    return "\n".join(lines)


def force_question(users: int) -> str:
    """The question when some people already have an unfinished or unconfirmed export."""
    return (
        f"{plural(users, 'person already has', 'people already have')} an unfinished or unconfirmed "
        "export. Exporting again spends another of today's exports and may duplicate one Graph already "
        "accepted (check unconfirmed ones first).\n\nExport them again anyway?"
    )


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
