"""Blob delivery: writing a finished export's files into its storage location, as Graph does.

When an export completes, ``RequestInfo.json`` and a few data files are written into its location:
into the in-process blob stand-in (``storage``) or, for a loopback URL (Azurite), over HTTP with the
SAS. ``location_used`` answers Graph's one-export-per-location rule from what storage holds.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections.abc import Callable
from typing import Final
from urllib.parse import quote

import httpx

from console.redact import redact
from console.sim.blob import REQUEST_INFO, BlobAddress, BlobStore, blob_address
from console.sim.graph_answers import iso
from console.sim.graph_state import COMPLETE, FAILED, Operation
from console.sim.profiles import SimulatedProfile

log = logging.getLogger("console.sim.graph")

_BLOB_HEADERS: Final = {"x-ms-version": "2021-08-06", "x-ms-blob-type": "BlockBlob"}
"""Headers of the simulated Graph's own blob writes (Put Blob of a block blob)."""

Files = dict[str, tuple[bytes, str]]
"""Blob name -> (content, content type)."""


class ExportDelivery:
    """Writes each export into its location once it has finished (by the simulator's clock).

    Args:
        tenant_id: the tenant named in ``RequestInfo.json``.
        storage: the in-process blob stand-in (None: nothing written in-process).
        is_loopback_url: the simulator's rule for a URL it may write to over plain HTTP.
    """

    def __init__(self, tenant_id: str, storage: BlobStore | None, is_loopback_url: Callable[[str], bool]) -> None:
        self.tenant_id = tenant_id
        self.storage = storage
        self.deliveries: list[tuple[str, str]] = []
        """``(operation id, redacted location)`` of every export written into storage."""
        self.delivery_errors: list[str] = []
        """Why a delivery failed (redacted), for tests and the control endpoint."""
        self._pending: list[tuple[float, str]] = []
        self._is_loopback_url = is_loopback_url

    def schedule(self, op: Operation) -> None:
        """Write ``op``'s files when it ends (``deliver_due`` does it)."""
        heapq.heappush(self._pending, (op.submitted_at + op.end, op.id))

    def has_pending(self) -> bool:
        """True while an export waits to be written."""
        return bool(self._pending)

    def deliver_due(
        self, now: float, operations: dict[str, Operation], profiles: dict[str, SimulatedProfile], *, write: bool
    ) -> int:
        """Write every export that has finished by ``now``; returns how many were written (none unless ``write``)."""
        written = 0
        while self._pending and self._pending[0][0] <= now:
            _, op_id = heapq.heappop(self._pending)
            op = operations.get(op_id)
            if op is None or op.delivered or op.stuck:
                continue
            op.delivered = True
            if write and self.write_export(op, profiles.get(op.user_id), failed=op.fail_at is not None):
                written += 1
        return written

    def write_export(self, op: Operation, profile: SimulatedProfile | None, *, failed: bool) -> bool:
        """Write ``op``'s files into its location; False when there is nowhere to write or writing failed."""
        address = blob_address(op.target) if "://" in op.target else None
        if address is None or not address.container:
            return False  # an account name or another host: nowhere the simulator can write
        files = self.export_files(op, profile, failed=failed)
        try:
            if self.storage is not None and not address.base.startswith("http://"):
                for name, (data, content_type) in files.items():
                    self.storage.put_blob(
                        address.account, address.container, name, data, content_type, create_container=True
                    )
            elif self._is_loopback_url(op.target):
                _put_over_http(op.target, address, files)
            else:
                return False
        except (httpx.HTTPError, KeyError, OSError, ValueError) as exc:
            message = redact(f"writing export {op.id} to {op.storage_location} failed: {exc}")
            self.delivery_errors.append(message)
            log.warning("%s", message)
            return False
        self.deliveries.append((op.id, op.storage_location))
        return True

    def export_files(self, op: Operation, profile: SimulatedProfile | None, *, failed: bool) -> Files:
        """``RequestInfo.json`` and, for a completed export, the profile's data files."""
        info = {
            "operationId": op.id,
            "userId": op.user_id,
            "tenantId": self.tenant_id,
            "storageLocation": op.storage_location,
            "submittedDateTime": iso(op.submitted_at),
            "completedDateTime": iso(op.submitted_at + op.end),
            "status": FAILED if failed else COMPLETE,
        }
        files: Files = {REQUEST_INFO: (json.dumps(info, indent=2).encode(), "application/json")}
        if failed:
            return files
        data = profile.to_json() if profile is not None else {"userId": op.user_id}
        prefix = f"{op.user_id}/"
        files[prefix + "profile.json"] = (json.dumps(data, indent=2).encode(), "application/json")
        shared = [
            {"resource": "Teams shared channel", "name": f"Project {i + 1}", "lastAccess": iso(op.submitted_at)}
            for i in range(1 + len(op.id) % 3)
        ]
        files[prefix + "sharedResources.json"] = (json.dumps(shared, indent=2).encode(), "application/json")
        rows = "timestamp,activity\n" + "".join(f"{iso(op.submitted_at - 86400 * i)},signIn\n" for i in range(5))
        files[prefix + "activity.csv"] = (rows.encode(), "text/csv")
        return files

    def location_used(self, location: str) -> bool:
        """True when ``RequestInfo.json`` is already in the location's container."""
        address = blob_address(location)
        if address is None or not address.container:
            return False
        if self.storage is not None and not address.base.startswith("http://"):
            return self.storage.get_blob(address.account, address.container, REQUEST_INFO) is not None
        if self._is_loopback_url(location):
            try:
                with httpx.Client(timeout=2.0, trust_env=False) as http:
                    response = http.head(_blob_url(location, address, REQUEST_INFO), headers=_BLOB_HEADERS)
            except httpx.HTTPError:
                return False
            return response.status_code == 200
        return False


def _blob_url(location: str, address: BlobAddress, name: str) -> str:
    """The URL of blob ``name`` in the location's container, with the location's SAS query."""
    query = location.split("?", 1)[1].split("#", 1)[0] if "?" in location else ""
    url = f"{address.base}/{quote(address.container)}/{quote(name)}"
    return f"{url}?{query}" if query else url


def _put_over_http(location: str, address: BlobAddress, files: Files) -> None:
    """Write the export into a loopback blob service (Azurite) with the location's SAS, as Graph would."""
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        for name, (data, content_type) in files.items():
            response = http.put(
                _blob_url(location, address, name),
                content=data,
                headers={**_BLOB_HEADERS, "Content-Type": content_type},
            )
            if response.status_code not in (200, 201):
                code = response.headers.get("x-ms-error-code", str(response.status_code))
                raise ValueError(f"the blob service answered {response.status_code} {code} for {name}")
