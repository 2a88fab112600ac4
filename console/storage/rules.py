"""The storage rules of one batch, below both front ends: the CLI's ``export`` and the console's form.

``plan_batch`` resolves a location (or template) for every profile and applies the SAS and shape
rules (``check_location``) to the template and to every resolved location; a batch where two
profiles land in the same container is refused (Graph accepts one export per storage location).
``preflight_batch`` checks each distinct container over the network (``console.storage.blob``),
through the process's storage pool: bounded concurrency, one breaker per host, and one finding per
unreachable host instead of one per container; ``PreflightRun`` is the same, one location at a
time, for a caller that submits each export as soon as its own check passes (the CLI's pipeline).
None ever returns a text holding the signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from console.redact import redact
from console.storage.blob import Preflight, preflight
from console.storage.pool import storage_pool
from console.storage.sas import SasFinding, check_location, check_shape
from console.storage.templates import TemplateError, is_template, resolve_locations

__all__ = ["BatchPlan", "BatchPreflight", "PreflightRun", "plan_batch", "preflight_batch"]


@dataclass(frozen=True)
class BatchPlan:
    """What a storage location means for a batch of profiles, before anything is sent."""

    locations: tuple[str, ...] = ()
    """One full location per profile, in order (secrets included: memory only); empty when refused."""
    errors: tuple[str, ...] = ()
    """Why nothing may be sent (each names its rule; redacted)."""
    warnings: tuple[str, ...] = ()
    """What the admin must know before sending (redacted)."""
    findings: tuple[SasFinding, ...] = ()
    """The template's own findings (for a form that marks the parameter concerned)."""
    profiles: tuple[str, ...] = ()
    """The profiles named by a refusal (a value that breaks the container rule, a shared container)."""

    @property
    def refused(self) -> bool:
        return bool(self.errors) or not self.locations


def plan_batch(
    location: str,
    profiles: Sequence[tuple[str, str]],
    *,
    now: float,
    findings: Sequence[SasFinding] | None = None,
) -> BatchPlan:
    """Resolve ``location`` for each ``(user_id, upn)`` and apply every storage rule, without the network.

    The SAS is checked once: on ``location`` itself (or taken from ``findings``, when the caller checked it
    already); a resolved location carries the same SAS, so only its shape (the container) is checked.

    Args:
        location: the location or template as given (may hold the SAS).
        profiles: who the export is for.
        now: epoch seconds (the SAS times, ``{date}``).
        findings: ``check_location``'s findings on ``location`` for these profiles, if already made.
    """
    text = location.strip()
    if findings is None:
        findings = check_location(text, now=now, targets=max(1, len(profiles)))
    errors = [redact(f.message) for f in findings if f.level == "error"]
    warnings = [redact(f.message) for f in findings if f.level == "warning"]
    if errors:
        return BatchPlan(errors=tuple(errors), warnings=tuple(warnings), findings=tuple(findings))
    day = datetime.fromtimestamp(now, UTC).date()
    try:
        resolved = resolve_locations(text, profiles, day=day) if is_template(text) else [text] * len(profiles)
    except TemplateError as exc:
        return BatchPlan(
            errors=(redact(str(exc)),), warnings=tuple(warnings), findings=tuple(findings), profiles=exc.profiles
        )
    if is_template(text):  # what a placeholder produced obeys the same rules as what was typed
        for each in dict.fromkeys(resolved):
            for finding in check_shape(each):
                message = redact(finding.message)
                target = errors if finding.level == "error" else warnings
                if message not in target:
                    target.append(message)
    if errors:
        return BatchPlan(errors=tuple(errors), warnings=tuple(warnings), findings=tuple(findings))
    return BatchPlan(locations=tuple(resolved), warnings=tuple(warnings), findings=tuple(findings))


@dataclass(frozen=True)
class BatchPreflight:
    """The pre-flight of a batch: one verdict per location given, and the findings to show once."""

    results: tuple[Preflight, ...]
    """One per location, in order (duplicates share a verdict)."""
    notes: tuple[str, ...]
    """Warnings to show once each: what was not checked, one line per unreachable storage account."""


class PreflightRun:
    """The pre-flight of a batch one location at a time, for a pipeline that submits as checks pass.

    The same verdicts and findings as ``preflight_batch``: a location asked twice is checked once
    (both share the verdict), each warning is handed out once (``warnings``), and an unreachable
    storage account is one finding with the checks it skipped, taken when the batch is done
    (``unreachable``), so it is said once with its full count.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._verdicts: dict[str, asyncio.Future[Preflight]] = {}
        self._said: set[str] = set()
        self._pending: list[str] = []

    async def check(self, location: str) -> Preflight:
        """The verdict on one (resolved) location; its warning, if new, is kept for ``warnings``."""
        known = self._verdicts.get(location)
        if known is not None:  # the same location again (shielded: one waiter cancelled never cancels the rest)
            answer = await asyncio.shield(known)
        else:
            verdict = self._verdicts[location] = asyncio.get_running_loop().create_future()
            try:
                answer = await preflight(location, transport=self._transport)
            except asyncio.CancelledError:
                del self._verdicts[location]  # not a verdict: whoever asks again checks again
                verdict.cancel()
                raise
            except Exception as exc:
                del self._verdicts[location]
                verdict.set_exception(exc)
                verdict.exception()  # marked retrieved (no "never retrieved" log); a waiter still gets it
                raise
            verdict.set_result(answer)
        warning = answer.warning
        if warning and answer.code not in ("Skipped", "Unreachable") and warning not in self._said:
            self._said.add(warning)
            self._pending.append(redact(warning))
        return answer

    def warnings(self) -> list[str]:
        """The warnings not handed out yet (redacted), each once."""
        out, self._pending = self._pending, []
        return out

    def unreachable(self) -> list[str]:
        """One finding per storage account found down, with the checks it skipped (redacted)."""
        return [redact(n) for n in storage_pool(self._transport).unreachable()]


async def preflight_batch(
    locations: Sequence[str], *, transport: httpx.AsyncBaseTransport | None = None
) -> BatchPreflight:
    """The Blob pre-flight of every distinct location, with its own SAS (never a bearer token).

    Concurrency is bounded by the storage pool; a host that cannot be reached is tried once and its
    other checks are skipped, said as one note ("storage account X unreachable: N checks skipped").
    """
    distinct = list(dict.fromkeys(locations))
    answers = await asyncio.gather(*(preflight(loc, transport=transport) for loc in distinct))
    verdicts = dict(zip(distinct, answers, strict=True))
    notes: list[str] = []
    for verdict in verdicts.values():
        if verdict.warning and verdict.code not in ("Skipped", "Unreachable") and verdict.warning not in notes:
            notes.append(verdict.warning)
    notes.extend(storage_pool(transport).unreachable())
    return BatchPreflight(results=tuple(verdicts[loc] for loc in locations), notes=tuple(redact(n) for n in notes))
