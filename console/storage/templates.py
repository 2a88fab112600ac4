"""Storage location templates: one container per export.

Graph accepts one export per storage location (graph-api.md, "One export per storage location"):
a bulk export needs a location per profile, such as
``https://acct.blob.core.windows.net/dsr-{userId}?<sas>``. The placeholders:

* ``{userId}``: Graph's id of the profile, lowercased (a GUID fits a container name as it is);
* ``{upn}``: the user principal name made safe for a container name (``Ann.Lee@Contoso.com`` ->
  ``ann-lee-contoso-com``: lowercase letters and digits, single hyphens, accents dropped);
* ``{date}``: the day (UTC) as ``2026-12-01``.

After substitution the container name must follow Azure's rule (3-63 characters, lowercase letters,
digits and single hyphens, starting and ending with a letter or digit); a profile whose value breaks
it is named in the ``TemplateError``. Placeholders belong in the path: in the host they would change
the account, in the query they would break the SAS signature.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote, urlsplit

from console.errors import UsageError
from console.redact import redact
from console.storage.location import container_path_index, is_blob_endpoint, is_loopback
from console.text import terminal_safe

__all__ = [
    "CONTAINER_RULE",
    "PLACEHOLDERS",
    "TemplateError",
    "check_placement",
    "container_key",
    "container_safe",
    "is_template",
    "preview_locations",
    "resolve_location",
    "resolve_locations",
    "valid_container_name",
]

PLACEHOLDERS = ("{userId}", "{upn}", "{date}")
"""The placeholders a storage location may contain."""

CONTAINER_RULE = (
    "3-63 characters, lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
)
"""Azure's rule for a container name, in words for messages."""

_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_BRACED = re.compile(r"\{[^{}]*\}")
_UNSAFE_RUN = re.compile(r"[^a-z0-9]+")


class TemplateError(UsageError, ValueError):
    """A template that cannot be resolved, naming the profile(s) whose value breaks the rule.

    Attributes:
        profiles: the labels (UPN and id) of the profiles concerned; empty when the template itself is wrong.
    """

    title = "Template refused"

    def __init__(self, message: str, profiles: Sequence[str] = ()) -> None:
        super().__init__(redact(message))
        self.profiles: tuple[str, ...] = tuple(profiles)


def is_template(location: str) -> bool:
    """True when the location contains one of ``PLACEHOLDERS``."""
    return any(p in location for p in PLACEHOLDERS)


def valid_container_name(name: str) -> bool:
    """True when ``name`` follows Azure's container naming rule (``CONTAINER_RULE``)."""
    return bool(_CONTAINER.match(name))


def container_safe(text: str) -> str:
    """``text`` made safe for a container name: lowercase ASCII letters and digits joined by single hyphens.

    Accents are dropped (``José`` -> ``jose``); every other run of characters becomes one hyphen; hyphens
    at the ends are removed. The result may still be too short or too long: the caller validates it.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    ascii_only = "".join(c if c.isascii() else "-" for c in ascii_only)
    return _UNSAFE_RUN.sub("-", ascii_only).strip("-")


def _label(user_id: str, upn: str) -> str:
    """How a profile is named in a message: UPN and id, control characters escaped (tenant data)."""
    text = f"{upn} ({user_id})" if upn else user_id
    return terminal_safe(text)[:200]


def check_placement(template: str) -> None:
    """Placeholders only in the path (or the account-name form as a whole); nothing unknown."""
    for braced in _BRACED.findall(template):
        if braced not in PLACEHOLDERS:
            raise TemplateError(f"unknown placeholder {braced} in the storage location: use {', '.join(PLACEHOLDERS)}")
    if "://" not in template:
        return
    rest = template.partition("://")[2]
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    query = template.split("?", 1)[1] if "?" in template else ""
    if any(p in authority for p in PLACEHOLDERS):
        raise TemplateError("placeholders belong in the container path, not in the host (the storage account)")
    if any(p in query for p in PLACEHOLDERS):
        raise TemplateError("placeholders belong in the container path, not in the query: it would break the SAS")


def resolve_location(template: str, *, user_id: str, upn: str = "", day: date | None = None) -> str:
    """The location of one profile's export: each placeholder replaced and the result validated.

    Args:
        template: a storage location with ``{userId}``, ``{upn}`` or ``{date}`` (or none: returned as is).
        user_id: the profile's ``userId``.
        upn: the profile's ``userPrincipalName`` (needed for ``{upn}``).
        day: the date for ``{date}``; today (UTC) when None.

    Returns:
        The resolved location (it still holds the SAS: memory only, redact before showing).

    Raises:
        TemplateError: the template is malformed, or this profile's value breaks the container rule.
    """
    check_placement(template)
    if not is_template(template):
        return template
    label = _label(user_id, upn)
    values: dict[str, str] = {}
    if "{userId}" in template:
        uid = user_id.strip().lower()
        if not uid:
            raise TemplateError("{userId} is empty for a profile", [label])
        values["{userId}"] = quote(uid, safe="-._~")
    if "{upn}" in template:
        safe = container_safe(upn)
        if not safe:
            why = "has no user principal name" if not upn.strip() else "has no letters or digits in its name"
            raise TemplateError(f"{{upn}} cannot be used for {label}: the profile {why}; use {{userId}}", [label])
        values["{upn}"] = safe
    if "{date}" in template:
        values["{date}"] = (day or datetime.now(UTC).date()).isoformat()
    resolved = template
    for placeholder, value in values.items():
        resolved = resolved.replace(placeholder, value)
    _validate_resolved(template, resolved, label)
    return resolved


def _validate_resolved(template: str, resolved: str, label: str) -> None:
    """The container (or account) name that the placeholders produced follows Azure's rule."""
    if "://" not in resolved:
        if not _ACCOUNT.match(resolved):
            raise TemplateError(
                f"the storage account name {resolved!r} for {label} breaks the rule (3-24 lowercase letters and "
                "digits): use a container SAS URL with a template such as https://<account>.blob.core.windows.net/"
                "dsr-{userId}?<sas>",
                [label],
            )
        return
    parts = urlsplit(resolved)
    segments = parts.path.split("/")[1:]
    template_segments = urlsplit(template).path.split("/")[1:]
    if not (is_blob_endpoint(parts.hostname) or is_loopback(parts.hostname)):
        for seg, tseg in zip(segments, template_segments, strict=False):
            if is_template(tseg) and not seg.strip("-"):
                raise TemplateError(f"the storage location for {label} has an empty path segment", [label])
        return
    index = container_path_index(parts.hostname)
    container = segments[index] if len(segments) > index else ""
    tcontainer = template_segments[index] if len(template_segments) > index else ""
    if is_template(tcontainer) and not valid_container_name(container):
        raise TemplateError(
            f"the container name {container!r} for {label} breaks Azure's rule ({CONTAINER_RULE}, "
            f"{len(container)} given): change the template or use {{userId}}",
            [label],
        )


def container_key(location: str) -> str:
    """What names one container, whatever the SAS: scheme-less host, port and path, lowercase.

    Two locations with the same key are one storage location to Graph (one export each).
    """
    text = location.strip()
    if "://" not in text:
        return text.lower()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return text.lower()
    return f"{host}:{port or ''}{unquote(parts.path).rstrip('/').lower()}"


def resolve_locations(template: str, profiles: Iterable[tuple[str, str]], *, day: date | None = None) -> list[str]:
    """Resolve a template for several profiles at once, reporting every profile that breaks a rule.

    Args:
        template: the storage location (a template or a fixed location).
        profiles: ``(user_id, upn)`` pairs.
        day: the date for ``{date}``.

    Returns:
        One location per profile, in order.

    Raises:
        TemplateError: naming every profile whose location is invalid, or that resolves to the same
            location as another (Graph accepts one export per storage location).
    """
    check_placement(template)
    resolved: list[str] = []
    bad: list[str] = []
    reasons: list[str] = []
    seen: dict[str, str] = {}
    for user_id, upn in profiles:
        try:
            location = resolve_location(template, user_id=user_id, upn=upn, day=day)
        except TemplateError as exc:
            bad.extend(exc.profiles)
            reasons.append(str(exc))
            resolved.append("")
            continue
        label = _label(user_id, upn)
        key = container_key(location)
        if is_template(template) and key in seen:
            bad.extend([seen[key], label])
            reasons.append(
                f"{seen[key]} and {label} resolve to the same container; Graph accepts one export per "
                "storage location: use {userId}"
            )
        seen.setdefault(key, label)
        resolved.append(location)
    if bad:
        more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
        raise TemplateError("; ".join(reasons[:3]) + more, list(dict.fromkeys(bad)))
    return resolved


def preview_locations(
    template: str, profiles: Iterable[tuple[str, str]], *, limit: int = 3, day: date | None = None
) -> list[str]:
    """The first ``limit`` resolved locations with the signature masked, for a form's preview.

    A profile whose value breaks a rule shows the reason instead of a location.
    """
    out: list[str] = []
    for user_id, upn in profiles:
        if len(out) >= limit:
            break
        try:
            out.append(redact(resolve_location(template, user_id=user_id, upn=upn, day=day)))
        except TemplateError as exc:
            out.append(f"! {exc}")
    return out
