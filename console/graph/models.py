"""Typed Graph payloads, parsed leniently (see ../shared/graph-api.md)."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NOT_STARTED = "notStarted"
RUNNING = "running"
COMPLETE = "complete"
FAILED = "failed"
FINAL_STATUSES = frozenset({COMPLETE, FAILED})
"""Graph's final dataPolicyOperation states; anything else keeps being polled."""
KNOWN_STATUSES = frozenset({NOT_STARTED, RUNNING, COMPLETE, FAILED})


def is_final(status: str | None) -> bool:
    """True when Graph will not change this operation any more."""
    return status in FINAL_STATUSES


def parse_progress(value: Any) -> float | None:
    """Graph types progress as Double, String or "double-value": accept all, tolerate null.

    NaN and Infinity (Python's JSON reader accepts both literals) become None, so every JSON the
    console writes stays valid.
    """
    if value is None or isinstance(value, bool):
        return None
    number: float
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (Graph sends ``Z`` and up to 7 fractional digits); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_text(value)


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> datetime | None:
    """``parse_datetime`` of a string, remembered: every poll of an operation (and every event shown of
    it) reads the same submitted and completed times again."""
    text = value.strip().replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        digits = tail[: len(tail) - len(tail.lstrip("0123456789"))]
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}" if digits else f"{head}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # Graph's DateTimeOffset values are UTC; a value without an offset is read as UTC too.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


_PROFILE_KEYS = (
    ("user_id", "userId"),
    ("display_name", "displayName"),
    ("user_principal_name", "userPrincipalName"),
    ("home_tenant_id", "homeTenantId"),
)
"""A profile's fields and Graph's JSON names for them (both ways: read and written)."""


@dataclass(frozen=True, slots=True)
class InboundSharedUserProfile:
    """A user from another tenant who used a shared resource here."""

    user_id: str
    display_name: str
    user_principal_name: str
    home_tenant_id: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboundSharedUserProfile:
        return cls(**{field: _str(data, key) for field, key in _PROFILE_KEYS})

    def to_json(self) -> dict[str, str]:
        return {key: getattr(self, field) for field, key in _PROFILE_KEYS}


@dataclass(frozen=True, slots=True)
class DataPolicyOperation:
    """Graph's status resource for one export (``/dataPolicyOperations/{id}``)."""

    id: str
    status: str | None
    """Graph's word, kept as sent even when unknown (evolvable enum); None when Graph sent null or
    nothing (nullable in the CSDL: not the ``unknownFutureValue`` sentinel; shown as unknown, polled on)."""
    progress: float | None
    storage_location: str
    user_id: str
    submitted: datetime | None
    completed: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataPolicyOperation:
        status = data.get("status")
        return cls(
            id=_str(data, "id"),
            status=status if isinstance(status, str) and status else None,
            progress=parse_progress(data.get("progress")),
            storage_location=_str(data, "storageLocation"),
            user_id=_str(data, "userId"),
            submitted=parse_datetime(data.get("submittedDateTime")),
            completed=parse_datetime(data.get("completedDateTime")),
        )


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What support needs about one HTTP exchange."""

    http_status: int
    request_id: str
    client_request_id: str
    date: str
    retry_after: float | None
    """Seconds to wait before asking again (already clamped), or None when not sent."""


@dataclass(frozen=True, slots=True)
class ExportAccepted:
    """Graph's 202 to exportPersonalData."""

    operation_id: str
    location: str
    """The status URL exactly as Graph gave it (may be /v1.0 while we call /beta)."""
    retry_after: float | None
    info: ResponseInfo


@dataclass(frozen=True, slots=True)
class OperationPoll:
    """One poll of a dataPolicyOperation."""

    operation: DataPolicyOperation
    info: ResponseInfo


_OPERATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")
"""What an operation id looks like (Graph's are GUIDs); anything else is not taken for one."""


def operation_id_from_location(location: str) -> str:
    """The operation id: the last path segment of the Location URL, or "" when it holds none.

    A garbage Location must not become an "id" that two exports then share (the journal would
    track two rows under one fake id, and Graph's real ids nowhere).
    """
    path = location.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    candidate = path.rsplit("/", 1)[-1]
    return candidate if _OPERATION_ID.match(candidate) else ""
