"""Pre-flight and delivery against Azure Blob storage, with the SAS only.

Before an export spends one of the day's exports (1,000 per tenant, 100 per profile), check with
the location's own SAS that the container exists and holds no ``RequestInfo.json`` (Graph accepts
one export per storage location; graph-api.md, "Azure Blob storage"). After it completes, list
what landed in the container as delivery evidence.

Why a few REST calls over httpx and not the ``azure-storage-blob`` SDK: the console needs three
read-only calls (List Blobs, Head Blob, and List Blobs again after completion) authorised by a SAS
that is already in the URL. httpx is already the console's HTTP client, with the same transport
seam the tests and ``--demo`` plug the blob stand-in into (``console.sim.blob``), the same CA rule
(``console.tls.verification``) and no new runtime dependency; the SDK would add azure-core and its
own retry, logging (its HTTP logging policy prints request URLs) and credential machinery that can
pick up ambient credentials. Here nothing but the SAS in the URL authorises a request: the bearer
token never goes to storage, redirects are not followed, and no URL, log line or error carries the
signature (every text goes through ``console.redact.redact``).

Plain http is used only for a loopback emulator (Azurite); anything else must be https.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

import httpx

from console.redact import install_log_redaction, redact
from console.storage.location import account_of, container_path_index, is_blob_endpoint, is_loopback
from console.storage.pool import API_VERSION, HostDown, storage_pool
from console.storage.sas import parse_query
from console.storage.templates import is_template
from console.text import terminal_safe

__all__ = [
    "REQUEST_INFO",
    "API_VERSION",
    "ContainerAddress",
    "Delivery",
    "Preflight",
    "container_address",
    "inspect_delivery",
    "preflight",
]

log = logging.getLogger(__name__)

install_log_redaction("httpx")  # httpx logs every request URL at INFO: a SAS URL must never reach a log in clear

REQUEST_INFO: Final = "RequestInfo.json"
"""The file Graph leaves in a container it exported into (its presence means the location is used)."""
MAX_BODY: Final = 4 * 1024 * 1024
"""Largest listing page read (bytes): storage is someone else's server."""
MAX_PAGES: Final = 50
"""Listing pages read at most when recording a delivery (5,000 blobs each)."""
MAX_NAMES: Final = 200
"""Blob names kept in a ``Delivery`` (the count and bytes cover every blob listed)."""


@dataclass(frozen=True)
class Preflight:
    """What the pre-flight check found before the POST.

    Attributes:
        ok: False refuses the export (nothing is sent, no daily export spent).
        refused: why it is refused (a sentence naming what to do), when not ok.
        warning: what could not be checked, or why; the export goes on.
        code: ``ContainerNotFound``, ``RequestInfoPresent``, ``AuthenticationFailed``, ``NotChecked``... or "".
    """

    ok: bool
    refused: str = ""
    warning: str = ""
    code: str = ""


@dataclass(frozen=True)
class Delivery:
    """What landed in the container after an export completed: the delivery evidence.

    Attributes:
        checked_at: when the container was listed (epoch seconds).
        files: how many blobs the container holds.
        bytes: their total size.
        names: their names (the first ``MAX_NAMES``, control characters escaped).
        request_info: True when ``RequestInfo.json`` is there (Graph wrote the export).
        error: why the container could not be listed ("" when it was).
    """

    checked_at: float
    files: int
    bytes: int
    names: tuple[str, ...]
    request_info: bool
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        """The delivery for ``ops --json`` and the report: camelCase, an ISO 8601 time, redacted text."""
        return {
            "checkedAt": datetime.fromtimestamp(self.checked_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "files": self.files,
            "bytes": self.bytes,
            "names": [redact(n) for n in self.names],
            "requestInfo": self.request_info,
            "error": redact(self.error),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        """Read ``to_json()`` output (or the journal's snake_case form) back.

        Raises:
            ValueError: the data is not a delivery.
        """
        try:
            checked: Any = data.get("checked_at", data.get("checkedAt", 0.0))
            if isinstance(checked, str):
                checked = datetime.fromisoformat(checked.replace("Z", "+00:00")).timestamp()
            return cls(
                checked_at=float(checked),
                files=int(data.get("files", 0)),
                bytes=int(data.get("bytes", 0)),
                names=tuple(str(n) for n in data.get("names", ())),
                request_info=bool(data.get("request_info", data.get("requestInfo", False))),
                error=str(data.get("error", "")),
            )
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"not a delivery: {exc}") from None


@dataclass(frozen=True)
class ContainerAddress:
    """A blob container URL split up: where to send List Blobs and Head Blob, and the SAS query."""

    container_url: str
    """``scheme://host[:port][/account]/container`` without the query."""
    container: str
    query: str
    """The SAS query string (raw, as given): appended to every request, never logged."""
    permissions: frozenset[str] | None
    """The ``sp`` letters, or None when the SAS names none (a stored access policy decides)."""

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: what one pooled client and one breaker serve."""
        scheme, _, rest = self.container_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def url(self, blob: str = "", **params: str) -> str:
        """The URL of the container (or one blob in it) with extra query parameters and the SAS."""
        base = self.container_url + (f"/{quote(blob)}" if blob else "")
        extra = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        query = "&".join(q for q in (extra, self.query) if q)
        return f"{base}?{query}" if query else base

    def may(self, letter: str) -> bool:
        """True when the SAS grants ``letter`` (or names no permissions at all: then try)."""
        return self.permissions is None or letter in self.permissions


def container_address(location: str) -> ContainerAddress | None:
    """The container a storage location points at, or None when it is not a blob container URL.

    ``https://{account}.blob.core.windows.net/{container}?<sas>`` (and the other clouds' blob
    endpoints), or path-style ``http://127.0.0.1:10000/{account}/{container}?<sas>`` on a loopback
    emulator. A plain account name, another host or a template gives None.
    """
    text = location.strip()
    # str.isprintable() refuses every whitespace but the ASCII space (one C call, not one per character)
    if "://" not in text or is_template(text) or not text.isprintable() or " " in text:
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not (is_blob_endpoint(host) and scheme == "https") and not (is_loopback(host) and scheme in ("http", "https")):
        return None
    segments = parts.path.split("/")[1:]
    index = container_path_index(host)
    if len(segments) <= index or not segments[index]:
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    prefix = "/".join(segments[:index])
    container_url = f"{scheme}://{netloc}/" + (f"{prefix}/" if prefix else "") + segments[index]
    params = parse_query(parts.query)
    sp = params.get("sp")
    permissions = frozenset(sp[0].lower()) if sp else None
    return ContainerAddress(
        container_url=container_url, container=segments[index], query=parts.query, permissions=permissions
    )


def _error_code(response: httpx.Response) -> str:
    """Azure's error code: the ``x-ms-error-code`` header, else ``<Code>`` in the XML body."""
    code = response.headers.get("x-ms-error-code", "")
    if code:
        return terminal_safe(code)[:80]
    try:
        root = _xml(response.content)
    except ValueError:
        return ""
    found = root.findtext("Code") if root is not None else None
    return terminal_safe(found or "")[:80]


def _xml(body: bytes) -> ET.Element:
    """Parse a storage XML body, refusing entity tricks (DOCTYPE) and oversized bodies.

    Raises:
        ValueError: not a usable XML document.
    """
    if len(body) > MAX_BODY or b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise ValueError("unexpected XML from storage")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"unreadable XML from storage ({exc.msg})") from None


def _network_warning(exc: httpx.HTTPError, what: str) -> str:
    kind = type(exc).__name__
    return redact(f"storage could not be reached to check {what} ({kind}); the export goes on without the check")


async def preflight(location: str, *, transport: httpx.AsyncBaseTransport | None = None) -> Preflight:
    """Check a (resolved) storage location before the export is POSTed, with its own SAS.

    A missing container or a ``RequestInfo.json`` already there (an earlier export) refuses the
    export, and so does storage refusing the SAS itself (``AuthenticationFailed``: Graph could not
    write either). A SAS without ``l`` and ``r``, a location that is not a blob container URL, or
    storage out of reach gives ``ok`` with a warning saying what was not checked.

    Args:
        location: the full location (with the SAS; memory only).
        transport: an httpx transport (the demo's blob stand-in); None for the network.

    Returns:
        The verdict; its texts never contain the signature.
    """
    address = container_address(location)
    if address is None:
        if "://" in location and urlsplit(location.strip()).scheme.lower() == "http":
            return Preflight(
                ok=False, refused="plain http is allowed only to a loopback emulator: use https", code="InsecureUrl"
            )
        return Preflight(ok=True, code="NotChecked")
    name = terminal_safe(address.container)
    if not (address.may("l") or address.may("r")):
        return Preflight(
            ok=True,
            warning=(
                f"the SAS grants neither list (l) nor read (r): could not check that container {name} exists "
                "and holds no earlier export; add r and l to the SAS to have it checked"
            ),
            code="NotChecked",
        )
    pool = storage_pool(transport)

    async def check(http: httpx.AsyncClient) -> Preflight:
        if address.may("l"):
            verdict = await _check_by_listing(http, address, name)
            if verdict is not None:
                return verdict
        if address.may("r"):
            return await _check_by_head(http, address, name)
        return Preflight(ok=True, code="")

    try:
        return await pool.run(address.origin, account_of(location), check)
    except HostDown as exc:
        return Preflight(ok=True, warning=str(exc), code="Skipped")
    except httpx.TransportError as exc:
        log.info("pre-flight of container %s: %s", name, type(exc).__name__)
        return Preflight(ok=True, warning=_network_warning(exc, f"container {name}"), code="Unreachable")
    except (httpx.InvalidURL, ValueError):
        return Preflight(
            ok=True, warning=f"container {name} could not be checked: its URL cannot be sent", code="NotChecked"
        )
    except httpx.HTTPError as exc:
        return Preflight(ok=True, warning=_network_warning(exc, f"container {name}"), code="Unreachable")


def _refusal(code: str, name: str) -> Preflight | None:
    """The refusal an Azure error code means for the pre-flight, or None when it only means "not checked"."""
    if code == "ContainerNotFound":
        return Preflight(
            ok=False,
            refused=f"container {name} does not exist: create it first (Graph exports into an existing container)",
            code=code,
        )
    if code == "AuthenticationFailed":
        return Preflight(
            ok=False,
            refused=(
                f"storage refused the SAS for container {name} (AuthenticationFailed): the signature is wrong, "
                "expired or not yet valid, so Graph could not write either; make a new SAS"
            ),
            code=code,
        )
    return None


def _previous_export(name: str) -> Preflight:
    return Preflight(
        ok=False,
        refused=(
            f"container {name} already holds an export ({REQUEST_INFO}): Graph accepts one export per storage "
            f"location and would refuse it (StorageLocationAlreadyUsed); use another container, e.g. a template "
            f"such as .../dsr-{{userId}}?<sas>, or delete {REQUEST_INFO} from it if the earlier export is no longer "
            "needed"
        ),
        code="RequestInfoPresent",
    )


async def _check_by_listing(http: httpx.AsyncClient, address: ContainerAddress, name: str) -> Preflight | None:
    """List Blobs with ``prefix=RequestInfo.json``: the container exists, and is there an earlier export?

    Returns None when the listing was not allowed (then try Head Blob).
    """
    response = await http.get(address.url(restype="container", comp="list", prefix=REQUEST_INFO, maxresults="5"))
    if response.status_code == 200:
        try:
            names = [n for n, _ in _blobs(_xml(response.content[:MAX_BODY]))]
        except ValueError:
            return Preflight(ok=True, warning=f"could not read the listing of container {name}", code="NotChecked")
        return _previous_export(name) if REQUEST_INFO in names else Preflight(ok=True)
    code = _error_code(response)
    refusal = _refusal(code, name)
    if refusal is not None:
        return refusal
    if address.may("r"):
        return None  # listing not allowed or failed: Head Blob may still tell
    said = " ".join(p for p in (str(response.status_code), code) if p)
    return Preflight(
        ok=True, warning=f"storage answered {said} when listing container {name}: not checked", code="NotChecked"
    )


async def _check_by_head(http: httpx.AsyncClient, address: ContainerAddress, name: str) -> Preflight:
    """Head Blob ``RequestInfo.json``: 200 means an earlier export; ``BlobNotFound`` means the container is free."""
    response = await http.head(address.url(REQUEST_INFO))
    if response.status_code == 200:
        return _previous_export(name)
    code = _error_code(response)
    if code == "BlobNotFound" or (response.status_code == 404 and not code):
        return Preflight(ok=True)
    refusal = _refusal(code, name)
    if refusal is not None:
        return refusal
    said = " ".join(p for p in (str(response.status_code), code) if p)
    return Preflight(
        ok=True,
        warning=f"storage answered {said} for {REQUEST_INFO} in container {name}: not checked",
        code="NotChecked",
    )


def _blobs(root: ET.Element) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for blob in root.iter("Blob"):
        element = blob.find("Name")
        blob_name = (element.text or "") if element is not None else ""
        if element is not None and element.get("Encoded", "").lower() == "true":
            blob_name = unquote(blob_name)  # Azure percent-encodes names XML cannot carry
        size_text = blob.findtext("Properties/Content-Length") or "0"
        try:
            size = max(0, int(size_text))
        except ValueError:
            size = 0
        out.append((blob_name, size))
    return out


async def inspect_delivery(
    location: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: float | None = None,
) -> Delivery:
    """List what an export left in its container (files, bytes, names, ``RequestInfo.json``).

    Never raises for storage trouble: the reason is in ``Delivery.error`` (redacted).

    Args:
        location: the full location (with the SAS; memory only).
        transport: an httpx transport (the demo's blob stand-in); None for the network.
        now: the time to record (epoch seconds); the wall clock when None.
    """
    checked_at = time.time() if now is None else now
    address = container_address(location)
    if address is None:
        return Delivery(checked_at, 0, 0, (), False, error="not a blob container URL: delivery cannot be listed")
    name = terminal_safe(address.container)
    if not address.may("l"):
        return Delivery(
            checked_at, 0, 0, (), False, error=f"the SAS grants no list (l) permission: container {name} not listed"
        )
    tally = _Tally()

    async def listing(http: httpx.AsyncClient) -> Delivery:
        return tally.delivery(checked_at, await _list_container(http, address, name, tally))

    try:
        return await storage_pool(transport).run(address.origin, account_of(location), listing)
    except HostDown as exc:
        return _Tally().delivery(checked_at, redact(str(exc)))
    except httpx.InvalidURL:
        return tally.delivery(checked_at, "the URL cannot be sent")
    except httpx.HTTPError as exc:
        return tally.delivery(
            checked_at, redact(f"storage could not be reached to list container {name} ({type(exc).__name__})")
        )
    except ValueError as exc:
        return tally.delivery(checked_at, redact(str(exc)))


class _Tally:
    """What a container listing found so far (kept when a later page fails)."""

    def __init__(self) -> None:
        self.files = self.total = 0
        self.names: list[str] = []
        self.request_info = False

    def add(self, blob_name: str, size: int) -> None:
        self.files += 1
        self.total += size
        self.request_info = self.request_info or blob_name == REQUEST_INFO
        if len(self.names) < MAX_NAMES:
            self.names.append(terminal_safe(blob_name))

    def delivery(self, checked_at: float, error: str = "") -> Delivery:
        return Delivery(checked_at, self.files, self.total, tuple(self.names), self.request_info, error=error)


async def _list_container(http: httpx.AsyncClient, address: ContainerAddress, name: str, tally: _Tally) -> str:
    """Every page of the container's listing into ``tally``; why it stopped short ('' when it did not)."""
    marker = ""
    for _ in range(MAX_PAGES):
        params = {"restype": "container", "comp": "list", "maxresults": "5000"}
        if marker:
            params["marker"] = marker
        response = await http.get(address.url(**params))
        if response.status_code != 200:
            code = _error_code(response) or str(response.status_code)
            return f"storage answered {response.status_code} {code} listing container {name}"
        root = _xml(response.content[:MAX_BODY])
        for blob_name, size in _blobs(root):
            tally.add(blob_name, size)
        marker = root.findtext("NextMarker") or ""
        if not marker:
            break
    return ""
