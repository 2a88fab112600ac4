"""The simulated Graph's ``exportPersonalData``: checking the request, creating the operation, the 202.

The 202 carries Location and Retry-After as headers with an empty body, as the service does
(msgraph-sdk-raptor#488); ``faults.location`` brings back the docs' body form. Graph's rule of one
export per storage location is enforced (``config.refuse_reused_location``).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from console.redact import redact
from console.sim import graph_answers as answers
from console.sim.delivery import ExportDelivery
from console.sim.faults import FaultInjector
from console.sim.graph_answers import Context
from console.sim.graph_state import GraphState, Operation, location_key
from console.sim.quotas import Quotas

STORAGE_LOCATION_ALREADY_USED: Final = "StorageLocationAlreadyUsed"
"""Graph's error code for a storage location that already holds an export (graph-api.md)."""
STORAGE_LOCATION_ALREADY_USED_MESSAGE: Final = (
    "Storage destination has already been used for an export. "
    "If this is not true, delete 'RequestInfo.json' from the container and try again."
)
"""Graph's words for it, verbatim."""

_STORAGE_NAME_RE: Final = re.compile(r"^[A-Za-z0-9]{3,24}$")


@dataclass(kw_only=True, eq=False)
class ExportEndpoints:
    """``POST /directory/inboundSharedUserProfiles/{userId}/exportPersonalData`` and adopted operations.

    Neither frozen nor slotted: benchmarks wrap its handlers on the instance (``benchmarks/_common.py``).
    """

    state: GraphState
    faults: FaultInjector
    delivery: ExportDelivery
    quotas: Quotas
    op_ids: random.Random
    """Draws the operation ids (seeded per run)."""
    is_loopback_url: Callable[[str], bool]

    def export(self, body: bytes, ctx: Context) -> httpx.Response:
        """Accept an export (202) or refuse it in Graph's words (400, 404)."""
        user_id = ctx.user_id or ""
        if user_id not in self.state.by_id:
            return answers.not_found(ctx, ctx.user_id)
        location = self._requested_location(body, ctx)
        if isinstance(location, httpx.Response):
            return location
        key = location_key(location)
        if self.state.config.refuse_reused_location and key and self.location_used(key, location):
            # graph-api.md "One export per storage location": Graph's own words, verbatim.
            return answers.error(ctx, 400, STORAGE_LOCATION_ALREADY_USED, STORAGE_LOCATION_ALREADY_USED_MESSAGE)

        op_id = self.new_operation_id()
        op = self.new_operation(op_id, user_id, location, ctx.now)
        self.state.operations[op_id] = op
        if key:
            self.state.used_locations.add(key)
        self.delivery.schedule(op)
        self.quotas.count_export(ctx.now, user_id)
        ctx.operation_id = op_id
        return self._accepted(ctx, op_id)

    def _requested_location(self, body: bytes, ctx: Context) -> str | httpx.Response:
        """The body's ``storageLocation`` (stripped), or the 400 a body Graph would refuse gets."""
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return answers.error(ctx, 400, "BadRequest", "The request body is not valid JSON.")
        if not isinstance(payload, dict):
            return answers.error(
                ctx, 400, "BadRequest", "Request body with the parameter 'storageLocation' is required."
            )
        if "bindingParameter" in payload:
            # graph-api.md trap 7: the binding parameter is the profile in the URL, never a body field.
            return answers.error(
                ctx,
                400,
                "BadRequest",
                "The parameter 'bindingParameter' in the request payload is not a valid parameter for the operation "
                "'exportPersonalData'.",
            )
        location = payload.get("storageLocation")
        if not isinstance(location, str) or not location.strip():
            return answers.error(
                ctx, 400, "BadRequest", "The parameter 'storageLocation' is required and must be a non-empty string."
            )
        refusal = self._storage_location_refusal(location.strip())
        if refusal:
            return answers.error(ctx, 400, "BadRequest", refusal)
        return location.strip()

    def _accepted(self, ctx: Context, op_id: str) -> httpx.Response:
        # graph-api.md traps 2, 3, 5: Location and Retry-After are headers with an empty body (what the
        # service sends, msgraph-sdk-raptor#488; the docs show them in a body), Location points at /v1.0
        # even when called on /beta, and the 202 carries no profile. ``faults.location`` picks the form.
        location_url = _odd_location(self.state.faults.location_style, ctx, op_id)
        mode = self.state.faults.location
        in_headers = mode in ("header", "header_and_body", "none")
        in_body = mode in ("header_and_body", "body_only", "none")
        headers: dict[str, str] = {}
        data: dict[str, Any] = {}
        if mode != "none":
            if in_headers:
                headers["Location"] = location_url
            if in_body:
                data["Location"] = location_url
        retry_after = self.faults.retry_after(ctx.now, ctx)
        if retry_after is not None:
            if in_headers:
                headers["Retry-After"] = retry_after
            if in_body:
                data["Retry-After"] = _body_number(retry_after)
        if not in_body:
            return answers.respond(ctx, 202, b"", headers)
        return answers.json_answer(ctx, 202, data, headers)

    def location_used(self, key: str, location: str) -> bool:
        """True when the location already holds an export: accepted in this run, or RequestInfo.json is there."""
        return key in self.state.used_locations or self.delivery.location_used(location)

    def new_operation_id(self) -> str:
        """A fresh operation id, salted by ``run_id`` and never one already known (submitted or adopted)."""
        while True:
            op_id = str(uuid.UUID(int=self.op_ids.getrandbits(128), version=4))
            if op_id not in self.state.operations:
                return op_id

    def new_operation(self, op_id: str, user_id: str, location: str, submitted_at: float) -> Operation:
        """An operation as the service would create it now (faults and config read at this moment)."""
        faults = self.state.faults
        config = self.state.config
        seq = len(self.state.operations) + 1
        duration = max(0.0, config.export_duration)
        jitter = min(max(config.export_duration_jitter, 0.0), 1.0)
        if jitter > 0 and duration > 0:
            # Seeded by tenant seed and id (str seeds hash with SHA-512: stable across processes),
            # so the draw neither disturbs the id stream nor changes when the operation is adopted.
            draw = random.Random(f"{self.state.seed}:{op_id}").uniform(-jitter, jitter)
            duration = max(0.0, duration * (1.0 + draw))

        def chosen(users: set[str], every: int) -> bool:
            return user_id in users or bool(every and seq % every == 0)

        failing = chosen(faults.failing_users, faults.failing_every)
        return Operation(
            id=op_id,
            seq=seq,
            user_id=user_id,
            storage_location=redact(location),
            submitted_at=submitted_at,
            duration=duration,
            queue_time=duration * min(max(config.queue_fraction, 0.0), 1.0),
            fail_at=duration * min(max(config.failure_point, 0.0), 1.0) if failing else None,
            unknown_status=(
                faults.unknown_status if chosen(faults.unknown_status_users, faults.unknown_status_every) else None
            ),
            string_progress=bool(faults.string_progress_every) and seq % faults.string_progress_every == 0,
            stuck=chosen(faults.stuck_users, faults.stuck_every),
            null_status=chosen(faults.null_status_users, faults.null_status_every),
            target=location,
        )

    def adopt(self, operation_id: str, user_id: str, storage_location: str, submitted_at: float) -> None:
        """Register an operation submitted before this simulator existed (see ``SimulatedGraph.adopt_operation``)."""
        op_id = operation_id.strip().lower()
        user = user_id.strip().lower()
        for name, value in (("operation_id", op_id), ("user_id", user)):
            if not value or "/" in value:
                raise ValueError(f"{name} must be a non-empty path segment, not {value!r}")
        if op_id in self.state.operations:
            return
        op = self.new_operation(op_id, user, storage_location.strip(), float(submitted_at))
        op.adopted = True
        op.delivered = True  # its files (if any) were written by the run that accepted it
        self.state.operations[op_id] = op
        key = location_key(storage_location.strip())
        if key:
            self.state.used_locations.add(key)

    def _storage_location_refusal(self, location: str) -> str | None:
        """Graph's 400 message for an unusable storage location, or None when its shape is acceptable.

        Both forms are accepted (graph-api.md): a storage account name (the docs' ``MyStorageAccount``)
        or an https URL (a SAS URL to a container, as for the sibling user export). The simulator also
        takes plain http to a loopback host: a local blob emulator (Azurite) it writes the export into.
        """
        if "{" in location or "}" in location:
            # A template (.../dsr-{userId}) sent unresolved: no container may have braces in its name.
            return "The storageLocation contains '{' or '}': the container name is not valid (an unresolved template?)."
        if "://" in location:
            url = httpx.URL(location) if _is_valid_url(location) else None
            loopback = url is not None and url.scheme == "http" and self.is_loopback_url(location)
            if url is None or (url.scheme != "https" and not loopback) or not url.host:
                return (
                    "The storageLocation must be an https URL to an Azure Storage container or a storage account name."
                )
            return None
        if not _STORAGE_NAME_RE.match(location):
            return "The storageLocation is not a valid Azure Storage account name (3 to 24 letters and digits) or https URL."
        return None


def _odd_location(style: str, ctx: Context, op_id: str) -> str:
    """The 202's Location in the style a fault asks for (graph-api.md traps 3 and 6)."""
    path = f"/v1.0/dataPolicyOperations/{op_id}"
    scheme, _, host = ctx.base.partition("://")
    host = host.split("/", 1)[0]
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    styles = {
        "same_version": f"{ctx.base}/{ctx.version}/dataPolicyOperations/{op_id}",
        "foreign_host": f"https://evil.example{path}",
        "bad_port": f"{scheme}://{bare}:99999{path}",
        "ipv6": f"{scheme}://[::1]:8443{path}",
        "bad_ipv6": f"{scheme}://[::1{path}",
        "relative": path,
        "garbage": "not a location ::",
    }
    return styles.get(style, f"{ctx.base}{path}")


def _body_number(value: str) -> int | float | str:
    """Retry-After for the 202 body: a number when it is one (the docs' example shows 60), else the text."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _is_valid_url(text: str) -> bool:
    try:
        httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        return False
    return True
