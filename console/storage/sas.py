"""The SAS pre-check: what can be known about a storage location before a daily export is spent.

A SAS URL carries its own limits in the query (graph-api.md, exportPersonalData): ``se`` (expiry),
``st`` (start), ``sp`` (permissions; writing an export needs create or write, ``c``/``w``), ``sr`` or
``srt`` (scope) and ``sig`` (the secret). An expired SAS, or one that cannot write, fails late and
silently on Graph's side; it can be refused here without any network call. Graph also accepts one
export per storage location: a fixed location for several profiles fails for all but the first
(``StorageLocationAlreadyUsed``), so that gets a warning before anything is sent.

The query is parsed, not pattern-matched: parameter names in any case and percent-encoding, values
percent-decoded, repeated parameters noticed. No message ever contains the signature.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import unquote, urlsplit

from console.redact import redact
from console.storage.location import (
    container_path_index,
    is_blob_endpoint,
    is_loopback,
    validate_storage_location,
)
from console.storage.templates import PLACEHOLDERS, TemplateError, check_placement, is_template
from console.text import terminal_safe

__all__ = [
    "EXPIRY_MARGIN",
    "GRAPH_ALREADY_USED_MESSAGE",
    "STORAGE_LOCATION_ALREADY_USED",
    "SasFinding",
    "check_location",
    "check_shape",
    "errors",
    "explain_storage_error",
    "normalise_key",
    "parse_query",
    "warnings",
]

STORAGE_LOCATION_ALREADY_USED = "StorageLocationAlreadyUsed"
"""Graph's error code for a location that already holds an export."""

GRAPH_ALREADY_USED_MESSAGE = (
    "Storage destination has already been used for an export. "
    "If this is not true, delete 'RequestInfo.json' from the container and try again."
)
"""Graph's own words for ``StorageLocationAlreadyUsed`` (graph-api.md)."""

EXPIRY_MARGIN = 24 * 3600.0
"""A SAS expiring within this many seconds gets a warning: the export may outlive it."""

_TEMPLATE_HINT = "https://<account>.blob.core.windows.net/dsr-{userId}?<sas>"


@dataclass(frozen=True)
class SasFinding:
    """One thing the pre-check found about a storage location.

    Attributes:
        level: ``error`` refuses the export (nothing is sent); ``warning`` is shown and the export goes on.
        parameter: the SAS query parameter concerned (``se``, ``sp``, ``sig``...) or ``storageLocation``.
        message: a sentence naming the parameter and what to do; never contains the signature.
    """

    level: Literal["error", "warning"]
    parameter: str
    message: str


def errors(findings: list[SasFinding]) -> list[SasFinding]:
    """The findings that refuse the export."""
    return [f for f in findings if f.level == "error"]


def warnings(findings: list[SasFinding]) -> list[SasFinding]:
    """The findings that are shown but do not refuse."""
    return [f for f in findings if f.level == "warning"]


def normalise_key(name: str) -> str:
    """A query parameter's name as every rule and redaction reads it: percent-decoded (twice), NFKC, lowercase.

    ``SIG``, ``%73ig``, ``s%2569g`` and a fullwidth ``ｓig`` all read ``sig``.
    """
    return unicodedata.normalize("NFKC", unquote(unquote(name))).strip().casefold()


def parse_query(query: str) -> dict[str, list[str]]:
    """The query's parameters: names normalised (``normalise_key``), values percent-decoded, repeats kept.

    ``&`` separates parameters (``;`` too, as some tools write); a parameter without ``=`` has an empty value.
    """
    params: dict[str, list[str]] = {}
    for piece in query.replace(";", "&").split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        key = normalise_key(name)
        if key:
            params.setdefault(key, []).append(unquote(value))
    return params


def _parse_time(value: str) -> datetime | None:
    """A SAS time (ISO 8601, UTC: ``2026-12-31``, ``2026-12-31T23:59Z``, ``...:59.5Z``), or None."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _when(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _single(params: dict[str, list[str]], name: str, findings: list[SasFinding]) -> str | None:
    """The one value of ``name``; a repeated parameter is an error (which one Azure uses is not documented)."""
    values = params.get(name)
    if values is None:
        return None
    if len(values) > 1:
        findings.append(
            SasFinding(
                "error",
                name,
                f"the SAS gives {name} {len(values)} times: copy the SAS again so that each parameter appears once",
            )
        )
    return values[0]


def check_location(location: str, *, now: float, targets: int = 1) -> list[SasFinding]:
    """Check a storage location (or template) before the POST, without any network call.

    The one set of storage rules: ``console.ops.submission`` applies it once per request for the CLI
    and the console's export form alike, so what one refuses the other refuses with the same words.

    Errors (refuse, nothing sent): a shape Graph cannot write to (``validate_storage_location``); a
    malformed template; a URL without a SAS signature in its query; ``sig`` empty; ``sp`` missing or
    without ``c``/``w``; ``se`` missing, past or unreadable; ``st`` in the future or after ``se``; a
    blob SAS (``sr`` other than ``c``); an account SAS not for Blob (``ss`` without ``b``) or not for
    objects (``srt`` without ``o``); a parameter given twice; a parameter name that is not plain ASCII
    once decoded. (``sp`` and ``se`` may be left to a stored access policy, ``si``.)
    Warnings: ``se`` within the next 24 h; a fixed location for several targets (Graph accepts one
    export per storage location); a template varying the container under a container SAS (``sr=c``
    is signed for one container; the pre-flight tells when storage is reachable).

    Args:
        location: the storage location as given (may hold the SAS; never echoed in clear).
        now: the current time, epoch seconds.
        targets: how many profiles will be exported to it.

    Returns:
        The findings, errors first; empty when nothing is wrong.
    """
    text = location.strip()
    shape = check_shape(text)
    if shape:
        return shape
    findings: list[SasFinding] = []
    if targets > 1 and not is_template(text):
        findings.append(SasFinding("warning", "storageLocation", _one_location_warning(targets)))
    if "://" not in text:
        return findings
    probe = text
    for placeholder in PLACEHOLDERS:
        probe = probe.replace(placeholder, "x0x")
    query = urlsplit(probe).query
    params = parse_query(query)
    _name_rules(query, findings)
    _signature_rules(params, findings)
    _time_rules(params, datetime.fromtimestamp(now, UTC), findings)
    _permission_rules(params, findings)
    _scope_rules(params, text, findings)
    return _sorted(findings)


def check_shape(location: str) -> list[SasFinding]:
    """The shape rules alone (``validate_storage_location``, where placeholders may stand): what a location
    resolved from a checked template can add, since it carries the template's SAS unchanged."""
    try:
        validate_storage_location(location)
    except ValueError as exc:
        return [SasFinding("error", "storageLocation", redact(str(exc)))]
    try:
        check_placement(location)
    except TemplateError as exc:
        return [SasFinding("error", "storageLocation", str(exc))]
    return []


def _one_location_warning(targets: int) -> str:
    return (
        f"one export per storage location: Graph refuses a location that already holds an export "
        f"({STORAGE_LOCATION_ALREADY_USED}), so {targets - 1} of these {targets} exports would fail; "
        f"give each profile its own container with a template such as {_TEMPLATE_HINT}"
    )


def _name_rules(query: str, findings: list[SasFinding]) -> None:
    names = (unquote(unquote(piece.partition("=")[0])) for piece in query.replace(";", "&").split("&"))
    if any(not n.isascii() or not n.isprintable() for n in names):
        findings.append(
            SasFinding(
                "error",
                "storageLocation",
                "the SAS query has a parameter name that is not plain ASCII once decoded (Azure would not read it "
                "as the SAS parameter it looks like): copy the container's SAS URL again",
            )
        )


def _signature_rules(params: dict[str, list[str]], findings: list[SasFinding]) -> None:
    sig = _single(params, "sig", findings)
    if sig is None:
        findings.append(
            SasFinding(
                "error",
                "sig",
                "the location has no SAS signature (sig) in its query: Graph cannot write without it; "
                "copy the container's whole SAS URL (Blob SAS URL)",
            )
        )
    elif not sig.strip():
        findings.append(
            SasFinding(
                "error",
                "sig",
                "the SAS signature (sig) is empty: copy the whole SAS URL again (the signature is its last part)",
            )
        )


def _time_rules(params: dict[str, list[str]], current: datetime, findings: list[SasFinding]) -> None:
    expiry_text = _single(params, "se", findings)
    _policy_rule(
        params,
        "se",
        expiry_text,
        "the SAS has no expiry (se) and no stored access policy (si): Azure refuses it; make a new SAS",
        findings,
    )
    expiry = None if expiry_text is None else _expiry_rules(expiry_text, current, findings)
    start_text = _single(params, "st", findings)
    if start_text is not None:
        _start_rules(start_text, expiry, current, findings)


def _policy_rule(
    params: dict[str, list[str]], name: str, value: str | None, message: str, findings: list[SasFinding]
) -> None:
    """``name`` may be left out only for a stored access policy (``si``) to give."""
    if value is None and "si" not in params:
        findings.append(SasFinding("error", name, message))


def _expiry_rules(expiry_text: str, current: datetime, findings: list[SasFinding]) -> datetime | None:
    expiry = _parse_time(expiry_text)
    if expiry is None:
        message = (
            f"the SAS expiry (se) {_shown(expiry_text)!r} is not an ISO 8601 time: make a new SAS "
            "(for example se=2026-12-31T23:59:59Z)"
        )
        findings.append(SasFinding("error", "se", message))
    elif expiry <= current:
        message = (
            f"the SAS expired at {_when(expiry)} (se), {_span((current - expiry).total_seconds())} ago: "
            "make a new SAS with a later expiry"
        )
        findings.append(SasFinding("error", "se", message))
    elif (expiry - current).total_seconds() < EXPIRY_MARGIN:
        message = (
            f"the SAS expires at {_when(expiry)} (se), in {_span((expiry - current).total_seconds())}: "
            "the export may outlive it; make a SAS valid for a few days"
        )
        findings.append(SasFinding("warning", "se", message))
    return expiry


def _start_rules(start_text: str, expiry: datetime | None, current: datetime, findings: list[SasFinding]) -> None:
    start = _parse_time(start_text)
    if start is None:
        message = (
            f"the SAS start (st) {_shown(start_text)!r} is not an ISO 8601 time: Azure refuses the SAS; make a new SAS"
        )
    elif expiry is not None and start >= expiry:
        message = f"the SAS starts at {_when(start)} (st), not before it expires (se): make a new SAS"
    elif start > current:
        message = (
            f"the SAS is valid only from {_when(start)} (st), in {_span((start - current).total_seconds())}: "
            "Graph cannot write before then (the export would fail and still count); make a SAS that "
            "starts now"
        )
    else:
        return
    findings.append(SasFinding("error", "st", message))


def _permission_rules(params: dict[str, list[str]], findings: list[SasFinding]) -> None:
    permissions = _single(params, "sp", findings)
    _policy_rule(
        params,
        "sp",
        permissions,
        "the SAS names no permissions (sp) and no stored access policy (si): Graph needs "
        "create (c) and write (w); make a SAS with sp=rcwl",
        findings,
    )
    if permissions is not None and not ({"c", "w"} & set(permissions.lower())):
        shown = "".join(c for c in permissions if c.isalpha())[:20] or "(empty)"
        findings.append(
            SasFinding(
                "error",
                "sp",
                f"the SAS permissions (sp={shown}) grant neither create (c) nor write (w): Graph needs them to "
                "write the export; make a SAS with at least c and w (r and l also let the console check the "
                "container first)",
            )
        )


_ACCOUNT_RULES = {
    "ss": (
        "b",
        "the account SAS is for services ss={value!r} but not Blob (b): Graph cannot write with it; "
        "make an account SAS with ss=b",
    ),
    "srt": (
        "o",
        "the account SAS resource types (srt={value}) lack object (o): Graph cannot write "
        "the export's files; make an account SAS with srt=co (or sco)",
    ),
}
"""An account SAS parameter, the letter Graph needs in it, and what is said when it lacks it."""


def _scope_rules(params: dict[str, list[str]], text: str, findings: list[SasFinding]) -> None:
    for name, (needed, message) in _ACCOUNT_RULES.items():
        value = _single(params, name, findings)
        if value is not None and needed not in value.lower():
            findings.append(SasFinding("error", name, message.format(value=value[:10])))
    scope = _single(params, "sr", findings)
    if scope is not None and scope.strip().lower() != "c":
        findings.append(
            SasFinding(
                "error",
                "sr",
                f"the SAS is signed for sr={_shown(scope)[:10]}, not for a container (sr=c): Graph writes several "
                "files into the container; make a container SAS (sr=c) or an account SAS (ss=b, srt=co)",
            )
        )
    if scope is not None and scope.strip().lower() == "c" and is_template(text) and _template_in_container(text):
        findings.append(
            SasFinding(
                "warning",
                "sr",
                "the template gives each profile its own container, but a container SAS (sr=c) is signed for "
                "one container, so Graph could write to none of the others: use an account SAS (ss=b, srt=co) so "
                "the signature is valid for every container",
            )
        )


def _shown(value: str) -> str:
    """A SAS value quoted in a message: the first 40 characters, terminal-safe (``console.text``)."""
    return terminal_safe(value[:40])


def _template_in_container(template: str) -> bool:
    parts = urlsplit(template)
    segments = parts.path.split("/")[1:]
    index = container_path_index(parts.hostname)
    if not (is_blob_endpoint(parts.hostname) or is_loopback(parts.hostname)) or len(segments) <= index:
        return False
    return is_template(segments[index])


def _sorted(findings: list[SasFinding]) -> list[SasFinding]:
    return sorted(findings, key=lambda f: 0 if f.level == "error" else 1)


def explain_storage_error(code: str, message: str) -> str:
    """A storage-related Graph error in words an admin can act on.

    For ``StorageLocationAlreadyUsed`` (by code, or by Graph's words when the code is lost): Graph's
    message and the fix (a template giving each profile its own container, or removing
    ``RequestInfo.json``). Any other error: its code and message, redacted.

    Args:
        code: Graph's error code (may be empty).
        message: Graph's error message (may quote the location with its SAS: it is redacted).

    Returns:
        One paragraph, never containing the signature.
    """
    said = redact(" ".join(message.split()))
    if code.strip().lower() == STORAGE_LOCATION_ALREADY_USED.lower() or "already been used for an export" in said:
        words = said or GRAPH_ALREADY_USED_MESSAGE
        return (
            f"{STORAGE_LOCATION_ALREADY_USED}: {words} Graph accepts one export per storage location: give each "
            f"profile its own container with a template such as {_TEMPLATE_HINT}, or, if the earlier export is "
            "no longer needed, delete RequestInfo.json from the container and export again."
        )
    if code and said:
        return f"{redact(code)}: {said}"
    return said or redact(code)
