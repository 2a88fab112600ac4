"""The shape of a storage location: a blob container URL (with its SAS) or a storage account name.

What Graph can write to, and nothing else (issue 14.3: anything else was sent and spent a daily export):

* ``https://<account>.blob.core.windows.net/<container>`` (and the national clouds' blob endpoints),
  the account 3-24 lowercase letters and digits, exactly one path segment naming the container
  (or a template of one, ``dsr-{userId}``), no port but 443, no user name, no ``#fragment``;
* a loopback emulator only (plain http allowed): Azurite's path style
  ``http://127.0.0.1:10000/<account>/<container>``, the account being the first path segment;
* a storage account name (3-24 letters and digits).

The text is plain printable ASCII (a Cyrillic ``о`` in a host is another host), at most
``MAX_LOCATION_LENGTH`` characters. A SAS URL's ``sig`` value is a secret: every message here goes
through :func:`console.redact.redact`. The SAS rules themselves are in :mod:`console.storage.sas`.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from console.net import is_loopback  # the one loopback rule (plain http allowed: Azurite)
from console.redact import redact

__all__ = [
    "MAX_LOCATION_LENGTH",
    "account_of",
    "container_path_index",
    "is_blob_endpoint",
    "is_loopback",
    "validate_storage_location",
]

MAX_LOCATION_LENGTH = 2048
"""Longest storage location accepted: a container SAS URL is about 200 characters, an account SAS 300."""

_ACCOUNT = re.compile(r"^[A-Za-z0-9]{3,24}$")
"""Azure storage account names are 3-24 letters and digits (Graph's own example says MyStorageAccount)."""

_BLOB_HOST = re.compile(
    r"^([a-z0-9]{3,24})\.(?:blob\.core\.windows\.net|blob\.core\.usgovcloudapi\.net|blob\.core\.chinacloudapi\.cn"
    r"|z[0-9]{2}\.blob\.storage\.azure\.net)$"
)
"""An Azure Blob endpoint: ``<account>.blob.core.windows.net`` (global, US Gov, China, DNS-zone endpoints)."""

_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
_PLACEHOLDER_PROBE = "x0x"
"""What a placeholder stands for when the shape of a template is checked."""


def is_blob_endpoint(host: str | None) -> bool:
    """True when ``host`` is exactly an Azure Blob service endpoint (``{account}.blob.core.windows.net`` and kin)."""
    return bool(_BLOB_HOST.match((host or "").lower()))


def container_path_index(host: str | None) -> int:
    """Which path segment names the container: 0 on Azure, 1 on a loopback emulator (``/devstoreaccount1/c``)."""
    return 1 if is_loopback(host) else 0


def account_of(location: str) -> str:
    """The storage account a location names ('' when there is none): the host's first label, the
    emulator's first path segment, or the account name itself."""
    text = location.strip()
    if "://" not in text:
        return text if _ACCOUNT.match(text) else ""
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return ""
    match = _BLOB_HOST.match(host or "")
    if match:
        return match.group(1)
    if is_loopback(host):
        return parts.path.split("/")[1] if parts.path.count("/") >= 1 else ""
    return ""


def _character(c: str) -> str:
    """A character named for a message, never written raw (it may be a control or a lookalike)."""
    name = unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" {name}" if name else "")


def validate_storage_location(location: str) -> str:
    """Check the shape of a storage location (a template's placeholders stand for a valid name).

    Returns:
        The location, stripped of surrounding whitespace.

    Raises:
        ValueError: with a sentence naming the rule, never containing the signature.
    """
    text = location.strip()
    if not text:
        raise ValueError(
            "the storage location is empty: give an https SAS URL to a container or a storage account name"
        )
    if len(text) > MAX_LOCATION_LENGTH:
        raise ValueError(
            f"the storage location is {len(text):,} characters long; at most {MAX_LOCATION_LENGTH:,} are accepted "
            "(a container SAS URL is about 200): copy the container's SAS URL again"
        )
    if not (text.isascii() and text.isprintable() and " " not in text):  # the usual location: C calls only
        _refuse_character(text)
    if "://" not in text:
        probe = text
        for placeholder in ("{userId}", "{upn}", "{date}"):
            probe = probe.replace(placeholder, "abc")
        if not _ACCOUNT.match(probe):
            raise ValueError(
                f"{redact(text)!r} is neither an https URL nor a storage account name (3-24 letters and digits)"
            )
        return text
    _check_url(text)
    return text


def _refuse_character(text: str) -> None:
    """Name the first character no storage location may hold (not ASCII, a control character or a space)."""
    for index, c in enumerate(text):
        if not c.isascii():
            raise ValueError(
                f"the storage location must be plain ASCII: character {index + 1} is {_character(c)} "
                "(a lookalike letter names another host): type the URL again or copy it from the Azure portal"
            )
        if not c.isprintable() or c.isspace():
            raise ValueError(
                f"the storage location contains a control character or space ({_character(c)} at character "
                f"{index + 1}): copy the URL again"
            )


def _check_url(text: str) -> None:
    probe = text
    for placeholder in ("{userId}", "{upn}", "{date}"):
        probe = probe.replace(placeholder, _PLACEHOLDER_PROBE)
    try:
        parts = urlsplit(probe)
        host = parts.hostname
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"the storage location is not a valid URL: {redact(text)}") from None
    scheme = parts.scheme.lower()
    loopback = is_loopback(host)
    if scheme != "https" and not (scheme == "http" and loopback):
        raise ValueError(
            f"the storage location must be an https URL, not {parts.scheme}:// ({redact(text)}); plain http only to a "
            "loopback emulator"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("the storage location URL must not carry a user name or password: use a SAS")
    if not host:
        raise ValueError(f"the storage location URL has no host: {redact(text)}")
    if "#" in probe:
        raise ValueError(
            "the storage location has a #fragment: Graph never sees it (a SAS belongs in the query, after ?): "
            "copy the container's SAS URL again"
        )
    segments = _container_path(parts.path, host, port, loopback=loopback)
    container = segments[-1]
    if not _CONTAINER.match(container):
        raise ValueError(
            f"the container name {redact(container)[:80]!r} breaks Azure's rule (3-63 characters, lowercase "
            "letters, digits and single hyphens): https://<account>.blob.core.windows.net/<container>?<sas>"
        )


def _container_path(path: str, host: str, port: int | None, *, loopback: bool) -> list[str]:
    """The URL path's segments, checked against the endpoint's style (Azurite's or Azure Blob's host)."""
    segments = path.split("/")[1:]
    if segments and segments[-1] == "" and len(segments) > 1:
        segments = segments[:-1]  # one trailing slash
    if loopback:
        if len(segments) != 2 or not segments[0]:
            raise ValueError(
                "a loopback emulator location is http://127.0.0.1:<port>/<account>/<container> (Azurite's path "
                f"style): {len(segments)} path segment(s) given"
            )
    else:
        if not _BLOB_HOST.match(host):
            raise ValueError(
                f"the storage location's host {host!r} is not an Azure Blob endpoint: Graph writes only to "
                "https://<account>.blob.core.windows.net/<container> (account: 3-24 lowercase letters and digits)"
            )
        if port not in (None, 443):
            raise ValueError(f"the storage location's port {port} is not Azure Blob's (443): remove it")
        if len(segments) != 1:
            raise ValueError(
                f"the storage location must name exactly one container after the host ({len(segments)} path "
                "segments given): https://<account>.blob.core.windows.net/<container>?<sas>"
            )
    return segments
