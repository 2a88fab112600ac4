"""The shape of a storage location: an https URL (a container SAS URL) or a storage account name.

A SAS URL's ``sig`` value is a secret: it is never shown, logged or stored in clear (graph-api.md,
exportPersonalData); every message here goes through :func:`console.redact.redact`. Only the
submission itself holds the full location, in memory.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from console.redact import redact

_ACCOUNT = re.compile(r"^[A-Za-z0-9]{3,24}$")
"""Azure storage account names are 3-24 letters and digits (Graph's own example says MyStorageAccount)."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
"""Hosts where plain http is allowed: a local blob emulator (Azurite) in tests and demos, never a tenant."""

_BLOB_SUFFIXES = (
    ".blob.core.windows.net",
    ".blob.core.usgovcloudapi.net",
    ".blob.core.chinacloudapi.cn",
    ".blob.storage.azure.net",
)
"""Host suffixes of Azure Blob endpoints (global, US Gov, China, DNS-zone endpoints)."""


def is_loopback(host: str | None) -> bool:
    """True for a loopback host (plain http allowed: Azurite)."""
    return (host or "").lower().strip("[]") in LOOPBACK_HOSTS or (host or "").startswith("127.")


def is_blob_endpoint(host: str | None) -> bool:
    """True when ``host`` is an Azure Blob service endpoint (``{account}.blob.core.windows.net`` and kin)."""
    name = (host or "").lower().rstrip(".")
    return any(name.endswith(suffix) and len(name) > len(suffix) for suffix in _BLOB_SUFFIXES)


def container_path_index(host: str | None) -> int:
    """Which path segment names the container: 0 on Azure, 1 on a loopback emulator (``/devstoreaccount1/c``)."""
    return 1 if is_loopback(host) else 0


def validate_storage_location(location: str) -> str:
    """Check a storage location: an https URL or a storage account name.

    Returns:
        The location, stripped of surrounding whitespace.

    Raises:
        ValueError: with a sentence that never contains the signature.
    """
    text = location.strip()
    if not text:
        raise ValueError(
            "the storage location is empty: give an https SAS URL to a container or a storage account name"
        )
    if "://" in text:
        try:
            parts = urlsplit(text)
            host = parts.hostname
            _ = parts.port  # raises ValueError for a bad port
        except ValueError:
            raise ValueError(f"the storage location is not a valid URL: {redact(text)}") from None
        scheme = parts.scheme.lower()
        if scheme != "https" and not (scheme == "http" and is_loopback(host)):
            raise ValueError(f"the storage location must be an https URL, not {parts.scheme}:// ({redact(text)})")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the storage location URL must not carry a user name or password: use a SAS")
        if not host:
            raise ValueError(f"the storage location URL has no host: {redact(text)}")
        if any(c.isspace() for c in text):
            raise ValueError("the storage location URL contains spaces")
        return text
    if not _ACCOUNT.match(text):
        raise ValueError(
            f"{redact(text)!r} is neither an https URL nor a storage account name (3-24 letters and digits)"
        )
    return text
