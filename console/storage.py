"""Storage locations: validation and redaction of the SAS signature.

A SAS URL's ``sig`` query value is a secret: it is never shown, logged or
stored in clear (graph-api.md, exportPersonalData). Only the submission itself
holds the full location, in memory.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SIG = re.compile(r"([?&;]sig=)[^&#\s]*", re.IGNORECASE)
_ACCOUNT = re.compile(r"^[A-Za-z0-9]{3,24}$")
"""Azure storage account names are 3-24 letters and digits (Graph's own example says MyStorageAccount)."""
REDACTED = "***"


def redact(location: str) -> str:
    """The location with any ``sig=`` value replaced by ``***``."""
    return _SIG.sub(lambda m: m.group(1) + REDACTED, location)


def has_signature(location: str) -> bool:
    """True when the location carries a SAS signature."""
    return bool(_SIG.search(location))


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
        parts = urlsplit(text)
        if parts.scheme.lower() != "https":
            raise ValueError(f"the storage location must be an https URL, not {parts.scheme}:// ({redact(text)})")
        if not parts.hostname:
            raise ValueError(f"the storage location URL has no host: {redact(text)}")
        if any(c.isspace() for c in text):
            raise ValueError("the storage location URL contains spaces")
        return text
    if not _ACCOUNT.match(text):
        raise ValueError(
            f"{redact(text)!r} is neither an https URL nor a storage account name (3-24 letters and digits)"
        )
    return text
