"""An in-process stand-in for Azure Blob storage: what ``--demo`` and the tests export into.

Answers the few Blob REST calls the console and the simulated Graph make, for
``https://{account}.blob.core.windows.net/{container}[/{blob}]`` (and path-style
``http://127.0.0.1:port/{account}/{container}`` as Azurite spells it), through an httpx transport:

* List Blobs: ``GET {container}?restype=container&comp=list[&prefix=&maxresults=&marker=]`` (needs ``l``);
* Get/Head Blob: ``GET|HEAD {container}/{blob}`` (needs ``r``);
* Put Blob: ``PUT {container}/{blob}`` (needs ``c`` or ``w``); Delete Blob (needs ``d``);
* Create Container: ``PUT {container}?restype=container`` (needs ``c``).

The SAS is checked loosely, as a shape: a non-empty ``sig`` (or one of ``signatures`` when given),
``st``/``se`` around the store's clock, and the ``sp`` letter each call needs. Errors are XML
``<Error><Code>..</Code><Message>..</Message></Error>`` with ``x-ms-error-code``, as Azure sends
(graph-api.md, "Azure Blob storage"): ``ContainerNotFound``, ``BlobNotFound``, ``AuthenticationFailed``,
``AuthorizationPermissionMismatch``. A bearer token is never needed; a request that carries one is
recorded as such (``requests``), so tests can prove the console never sends it to storage.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Final
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

import httpx

from console.redact import redact
from console.storage.location import is_blob_endpoint, is_loopback
from console.storage.sas import parse_query

__all__ = ["BlobAddress", "BlobRequest", "BlobStore", "BlobTransport", "StoredBlob", "blob_address"]

API_VERSION: Final = "2024-05-04"
"""The ``x-ms-version`` the stand-in answers with."""
REQUEST_INFO: Final = "RequestInfo.json"
"""The file whose presence marks a container as holding an export (Graph's StorageLocationAlreadyUsed)."""

_ERRORS: Final[dict[str, tuple[int, str]]] = {
    "ContainerNotFound": (404, "The specified container does not exist."),
    "ContainerAlreadyExists": (409, "The specified container already exists."),
    "BlobNotFound": (404, "The specified blob does not exist."),
    "AuthenticationFailed": (
        403,
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
        "correctly including the signature.",
    ),
    "AuthorizationPermissionMismatch": (
        403,
        "This request is not authorized to perform this operation using this permission.",
    ),
    "InvalidQueryParameterValue": (
        400,
        "Value for one of the query parameters specified in the request URI is invalid.",
    ),
    "UnsupportedHttpVerb": (405, "The resource doesn't support specified Http Verb."),
    "InvalidUri": (400, "The requested URI does not represent any resource on the server."),
}


@dataclass(frozen=True)
class StoredBlob:
    """One blob in the stand-in."""

    data: bytes
    content_type: str
    last_modified: float
    etag: str


@dataclass(frozen=True)
class BlobRequest:
    """One request the stand-in answered (the URL redacted), for tests."""

    method: str
    url: str
    """Redacted: the SAS signature is masked."""
    status: int
    error_code: str | None
    had_authorization: bool
    """True when the request carried an ``Authorization`` header (the console must never send one)."""


@dataclass(frozen=True)
class BlobAddress:
    """Where a URL points in a blob service: account, container and blob (empty when absent)."""

    account: str
    container: str
    blob: str
    base: str
    """``scheme://host[:port]`` plus the account segment for path-style URLs: ``base/container`` is the container."""


def blob_address(url: httpx.URL | str) -> BlobAddress | None:
    """Split a blob URL into account, container and blob, or None when it is not one.

    ``https://{account}.blob.core.windows.net/{container}/{blob}`` on Azure, and path-style
    ``http://127.0.0.1:10000/{account}/{container}/{blob}`` on a loopback emulator (Azurite).
    """
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
    except (httpx.InvalidURL, ValueError):
        return None
    host = parsed.host
    segments = [unquote(s) for s in parsed.raw_path.decode("ascii", "replace").split("?", 1)[0].split("/")[1:]]
    netloc = parsed.netloc.decode("ascii", "replace")
    if is_blob_endpoint(host):
        account = host.split(".", 1)[0].lower()
        base = f"{parsed.scheme}://{netloc}"
    elif is_loopback(host) and segments and segments[0]:
        account = segments.pop(0)
        base = f"{parsed.scheme}://{netloc}/{quote(account)}"
    else:
        return None
    container = segments[0] if segments else ""
    blob = "/".join(segments[1:])
    return BlobAddress(account=account, container=container, blob=blob, base=base)


def _permission_needed(method: str, address: BlobAddress, params: dict[str, list[str]]) -> str | None:
    """The SAS permission letters a request needs (``l``, ``c``, ``r``, ``cw``, ``d``), or None when unsupported."""
    restype = (params.get("restype") or [""])[0]
    comp = (params.get("comp") or [""])[0]
    if not address.blob and restype == "container" and comp == "list" and method == "GET":
        return "l"
    if not address.blob and restype == "container" and method == "PUT":
        return "c"
    if address.blob and method in ("GET", "HEAD"):
        return "r"
    if address.blob and method == "PUT":
        return "cw"
    if address.blob and method == "DELETE":
        return "d"
    return None


class BlobStore:
    """Accounts, containers and blobs in memory, thread-safe; ``transport()`` serves them to httpx.

    Args:
        clock: epoch seconds (checks ``se``/``st``; stamps Last-Modified).
        signatures: when given, the only ``sig`` values accepted (others: AuthenticationFailed).
        check_sas: check the SAS at all (off: every request is allowed).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        signatures: set[str] | None = None,
        check_sas: bool = True,
    ) -> None:
        self.clock = clock
        self.signatures = signatures
        """Accepted ``sig`` values, or None to accept any non-empty one."""
        self.check_sas = check_sas
        """Check the SAS (sig, st/se, sp letters) on every request."""
        self.requests: list[BlobRequest] = []
        """Every request answered through ``handle`` (URL redacted)."""
        self.unreachable = False
        """When True the transport raises ``httpx.ConnectError``: storage is down."""
        self.before_request: Callable[[], object] | None = None
        """Called before each request is answered (the simulated Graph delivers finished exports here)."""
        self._accounts: dict[str, dict[str, dict[str, StoredBlob]]] = {}
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- direct access

    def create_container(self, account: str, container: str) -> None:
        """Create a container (idempotent)."""
        with self._lock:
            self._accounts.setdefault(account.lower(), {}).setdefault(container.lower(), {})

    def has_container(self, account: str, container: str) -> bool:
        """True when the container exists."""
        self._sync()
        with self._lock:
            return container.lower() in self._accounts.get(account.lower(), {})

    def containers(self, account: str) -> list[str]:
        """The account's container names, sorted."""
        self._sync()
        with self._lock:
            return sorted(self._accounts.get(account.lower(), {}))

    def put_blob(
        self,
        account: str,
        container: str,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        create_container: bool = False,
    ) -> None:
        """Store a blob.

        Raises:
            KeyError: the container does not exist (and ``create_container`` is False).
        """
        with self._lock:
            if create_container:
                self.create_container(account, container)
            blobs = self._accounts.get(account.lower(), {}).get(container.lower())
            if blobs is None:
                raise KeyError(f"container {container!r} does not exist in account {account!r}")
            etag = '"0x' + hashlib.sha256(data).hexdigest()[:16].upper() + '"'
            blobs[name] = StoredBlob(data=data, content_type=content_type, last_modified=self.clock(), etag=etag)

    def get_blob(self, account: str, container: str, name: str) -> StoredBlob | None:
        """A blob, or None."""
        self._sync()
        with self._lock:
            return self._accounts.get(account.lower(), {}).get(container.lower(), {}).get(name)

    def list_blobs(self, account: str, container: str, prefix: str = "") -> list[tuple[str, int]]:
        """``(name, size)`` of each blob in the container, sorted by name.

        Raises:
            KeyError: the container does not exist.
        """
        self._sync()
        with self._lock:
            blobs = self._accounts.get(account.lower(), {}).get(container.lower())
            if blobs is None:
                raise KeyError(container)
            return sorted((n, len(b.data)) for n, b in blobs.items() if n.startswith(prefix))

    def _sync(self) -> None:
        """Let the simulated Graph deliver what has finished, so every read sees it."""
        if self.before_request is not None:
            self.before_request()

    def transport(self) -> BlobTransport:
        """An httpx async transport answering from this store."""
        return BlobTransport(self)

    # ----------------------------------------------------------------- REST

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one Blob REST request."""
        self._sync()
        body = request.read()
        with self._lock:
            response, code = self._dispatch(request, body)
            self.requests.append(
                BlobRequest(
                    method=request.method,
                    url=redact(str(request.url)),
                    status=response.status_code,
                    error_code=code,
                    had_authorization="authorization" in request.headers,
                )
            )
            return response

    def _dispatch(self, request: httpx.Request, body: bytes) -> tuple[httpx.Response, str | None]:
        method = request.method.upper()
        address = blob_address(request.url)
        if address is None or not address.container:
            return self._error("InvalidUri", method), "InvalidUri"
        params = parse_query(request.url.query.decode("ascii", "replace"))
        need = _permission_needed(method, address, params)
        if need is None:
            return self._error("UnsupportedHttpVerb", method), "UnsupportedHttpVerb"
        refused = self._check_sas(params, need)
        if refused is not None:
            return self._error(refused, method), refused
        blobs = self._accounts.get(address.account.lower(), {}).get(address.container.lower())
        if need == "c":
            if blobs is not None:
                return self._error("ContainerAlreadyExists", method), "ContainerAlreadyExists"
            self.create_container(address.account, address.container)
            return self._ok(201), None
        if blobs is None:
            return self._error("ContainerNotFound", method), "ContainerNotFound"
        if need == "l":
            return self._list(address, params, blobs), None
        return self._blob_request(request, body, address, blobs, need)

    def _blob_request(
        self,
        request: httpx.Request,
        body: bytes,
        address: BlobAddress,
        blobs: dict[str, StoredBlob],
        need: str,
    ) -> tuple[httpx.Response, str | None]:
        """Write, delete or read one blob of an existing container (the SAS already allowed ``need``)."""
        method = request.method.upper()
        if need == "cw":
            self.put_blob(
                address.account,
                address.container,
                address.blob,
                body,
                request.headers.get("content-type", "application/octet-stream"),
            )
            return self._ok(201, {"ETag": blobs[address.blob].etag}), None
        blob = blobs.get(address.blob)
        if blob is None:
            return self._error("BlobNotFound", method), "BlobNotFound"
        if need == "d":
            del blobs[address.blob]
            return self._ok(202), None
        headers = {
            "Content-Type": blob.content_type,
            "Content-Length": str(len(blob.data)),
            "ETag": blob.etag,
            "Last-Modified": formatdate(blob.last_modified, usegmt=True),
            "x-ms-blob-type": "BlockBlob",
        }
        return self._ok(200, headers, b"" if method == "HEAD" else blob.data), None

    def _check_sas(self, params: dict[str, list[str]], need: str) -> str | None:
        """The Azure error code a request with this SAS gets, or None when it may go on."""
        if not self.check_sas:
            return None
        sig = (params.get("sig") or [""])[0]
        if not sig.strip() or (self.signatures is not None and sig not in self.signatures):
            return "AuthenticationFailed"
        now = datetime.fromtimestamp(self.clock(), UTC)
        for name, late in (("se", False), ("st", True)):
            text = (params.get(name) or [""])[0]
            if not text:
                if name == "se" and "si" not in params:
                    return "AuthenticationFailed"
                continue
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return "AuthenticationFailed"
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if (not late and when <= now) or (late and when > now):
                return "AuthenticationFailed"
        letters = set((params.get("sp") or [""])[0].lower())
        if "sp" in params and not letters & set(need):
            return "AuthorizationPermissionMismatch"
        return None

    def _list(self, address: BlobAddress, params: dict[str, list[str]], blobs: dict[str, StoredBlob]) -> httpx.Response:
        prefix = (params.get("prefix") or [""])[0]
        marker = (params.get("marker") or [""])[0]
        try:
            limit = int((params.get("maxresults") or ["5000"])[0])
        except ValueError:
            return self._error("InvalidQueryParameterValue", "GET")
        limit = max(1, min(limit, 5000))
        names = sorted(n for n in blobs if n.startswith(prefix) and n > marker)
        page, more = names[:limit], names[limit:]
        items = "".join(
            f"<Blob>{_name_xml(n)}<Properties>"
            f"<Last-Modified>{formatdate(blobs[n].last_modified, usegmt=True)}</Last-Modified>"
            f"<Etag>{escape(blobs[n].etag)}</Etag><Content-Length>{len(blobs[n].data)}</Content-Length>"
            f"<Content-Type>{escape(blobs[n].content_type)}</Content-Type><BlobType>BlockBlob</BlobType>"
            "</Properties></Blob>"
            for n in page
        )
        next_marker = escape(page[-1]) if more else ""
        xml = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<EnumerationResults ServiceEndpoint="{escape(address.base)}/" ContainerName="{escape(address.container)}">'
            f"<Prefix>{escape(prefix)}</Prefix><MaxResults>{limit}</MaxResults><Blobs>{items}</Blobs>"
            f"<NextMarker>{next_marker}</NextMarker></EnumerationResults>"
        )
        return self._ok(200, {"Content-Type": "application/xml"}, xml.encode())

    def _headers(self) -> dict[str, str]:
        return {
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-version": API_VERSION,
            "Date": formatdate(self.clock(), usegmt=True),
            "Server": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0 (simulated)",
        }

    def _ok(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> httpx.Response:
        return httpx.Response(status, headers={**self._headers(), **(headers or {})}, content=body)

    def _error(self, code: str, method: str) -> httpx.Response:
        status, message = _ERRORS[code]
        headers = {**self._headers(), "x-ms-error-code": code}
        when = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        text = f"{message}\nRequestId:{headers['x-ms-request-id']}\nTime:{when}"
        if method == "HEAD":
            return httpx.Response(status, headers=headers)
        xml = (
            f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{escape(text)}</Message></Error>'
        )
        return httpx.Response(status, headers={**headers, "Content-Type": "application/xml"}, content=xml.encode())


def _name_xml(name: str) -> str:
    """A blob name for a listing; one XML cannot carry (control characters) is percent-encoded, as Azure does."""
    if any(ord(c) < 0x20 and c not in "\t\n\r" for c in name):
        return f'<Name Encoded="true">{quote(name, safe="")}</Name>'
    return f"<Name>{escape(name)}</Name>"


@dataclass
class BlobTransport(httpx.AsyncBaseTransport):
    """Answers an ``httpx.AsyncClient`` from a ``BlobStore`` without any network."""

    store: BlobStore
    calls: int = field(default=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.calls += 1
        if self.store.unreachable:
            raise httpx.ConnectError("simulated storage is unreachable", request=request)
        response = self.store.handle(request)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read())
