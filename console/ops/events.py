"""Immutable snapshots the engine hands to the CLI and the UI."""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from console.text import terminal_safe

if TYPE_CHECKING:  # the storage slice imports httpx: a read of the journal never needs it
    from console.storage.blob import Delivery

INTENT = "intent"
"""Recorded before the POST; a row still here after a restart becomes unconfirmed."""
UNCONFIRMED = "unconfirmed"
"""The POST's outcome is unknown (5xx, timeout, crash, no Location): check before exporting again."""
TRACKING = "tracking"
"""Graph accepted the export; the operation is being polled."""
FINAL = "final"
"""Graph reported complete or failed."""
REJECTED = "rejected"
"""Graph refused the POST (400/401/403/404/429): nothing was created; it spent no quota."""
ERROR = "error"
"""Tracking stopped: the operation is gone (404) or its Location cannot be followed."""
RESOLVED = "resolved"
"""An unconfirmed export the admin checked and marked resolved (with a note)."""
STOPPED = "stopped"
"""The admin stopped watching it; its history is kept."""
OPEN_STATES = frozenset({INTENT, TRACKING})

UNFINISHED_STATES = frozenset({INTENT, TRACKING, UNCONFIRMED})
"""An export in one of these states blocks another export of the same user (unless forced)."""

EventKind = Literal[
    "submitted",
    "status",
    "progress",
    "polled",
    "error",
    "unconfirmed",
    "rejected",
    "added",
    "changed",
    "delivered",
]


@dataclass(frozen=True, slots=True)
class OperationView:
    """One export as the journal and the engine know it."""

    key: int
    """The journal row id (stable; Graph's id may be unknown for unconfirmed entries)."""
    tenant_key: str
    user_id: str
    operation_id: str | None
    location: str | None
    storage_location: str
    """Redacted: any sig= value is ***."""
    state: str
    status: str | None
    """Graph's word (notStarted, running, complete, failed, or an unknown new value)."""
    progress: float | None
    submitted_at: datetime | None
    completed_at: datetime | None
    created_at: float
    """When the console recorded the intent (epoch seconds)."""
    next_poll_at: float | None
    last_error: str
    polls: int
    case: str = ""
    """The data-subject request this export answers (for example DSR-1234)."""
    display_name: str = ""
    user_principal_name: str = ""
    home_tenant_id: str = ""
    submitted_by: str = ""
    """Who sent the POST: a UPN, an app id, ``token from $VAR``."""
    previous_key: int | None = None
    """The journal row this export repeats (an export again of a failed or unconfirmed one)."""
    post_request_id: str = ""
    """Graph's request-id of the export POST."""
    final_request_id: str = ""
    """Graph's request-id of the poll that saw the final status."""
    delivered: Delivery | None = None
    """What landed in the storage location once the export completed (when checked)."""
    notes: int = 0
    """How many notes the admin wrote on it."""
    kind: str = "export"
    """``export`` (exportPersonalData) or ``removal`` (removePersonalData: 204, nothing to poll)."""
    target_tenant: str = ""
    """An outbound removal's tenant (asked to remove its copy of our user's data); empty otherwise."""

    @property
    def display_status(self) -> str:
        """Graph's status, or the journal state when Graph never gave one."""
        if self.status:
            return self.status
        # Just accepted (202) and not yet polled: Graph's own word for that is notStarted.
        return {INTENT: "submitting", TRACKING: "notStarted"}.get(self.state, self.state)

    @property
    def is_done(self) -> bool:
        """Nothing more will happen to it without the admin."""
        return self.state not in OPEN_STATES

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON Lines object (field names from the core contract)."""
        return {
            "operationId": self.operation_id,
            "userId": self.user_id,
            "status": self.display_status,
            "progress": _finite(self.progress),
            "submittedDateTime": _iso(self.submitted_at),
            "completedDateTime": _iso(self.completed_at),
            "storageLocation": self.storage_location,
            "state": self.state,
            "error": self.last_error or None,
            "key": self.key,
            "case": self.case,
            "delivered": self.delivered.to_json() if self.delivered is not None else None,
            "displayName": self.display_name,
            "userPrincipalName": self.user_principal_name,
            "kind": self.kind,
        }


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or Infinity: a non-finite number becomes null."""
    if value is None or not math.isfinite(value):
        return None
    return value


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One poll (or the submission) in an operation's history."""

    at: float
    http_status: int | None
    retry_after: float | None
    request_id: str
    client_request_id: str
    status: str | None
    progress: float | None
    error: str


@dataclass(frozen=True, slots=True)
class OperationEvent:
    """Something happened to one operation."""

    kind: EventKind
    operation: OperationView


class Someone(Protocol):
    """Who an export or a removal is for, as either front end names them (a profile, a form's person)."""

    @property
    def user_id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def user_principal_name(self) -> str: ...

    @property
    def home_tenant_id(self) -> str: ...


class Names(TypedDict):
    """The fields that name a person, kept beside each export and removal of theirs."""

    display_name: str
    user_principal_name: str
    home_tenant_id: str


def names_of(someone: Someone) -> Names:
    return Names(
        display_name=someone.display_name,
        user_principal_name=someone.user_principal_name,
        home_tenant_id=someone.home_tenant_id,
    )


@dataclass(frozen=True, slots=True)
class Person:
    """Who an export is for, as the export form names them, and the journal row it repeats (if any)."""

    user_id: str
    _: KW_ONLY
    display_name: str = ""
    user_principal_name: str = ""
    home_tenant_id: str = ""
    previous_key: int | None = None
    """The journal row this export repeats (an export again from the operations pane), else None."""

    @property
    def label(self) -> str:
        """Name, else UPN, else userId; control characters escaped (tenant data)."""
        return terminal_safe(self.display_name or self.user_principal_name or self.user_id)


@dataclass(frozen=True, slots=True)
class ExportTarget(Person):
    """One person to export, with where to (each user its own location: one export per location):
    ``ExportTarget(user_id, storage_location, display_name=..., previous_key=...)``."""

    storage_location: str
    """Resolved and full (it may hold a SAS): kept in memory only, journalled redacted."""

    @classmethod
    def of(cls, someone: Someone, location: str, previous_key: int | None = None) -> ExportTarget:
        """``someone``'s export to ``location``."""
        return cls(someone.user_id, location, **names_of(someone), previous_key=previous_key)


@dataclass(frozen=True, slots=True)
class Note:
    """A free-text note an admin wrote on an operation (kept for the evidence report)."""

    key: int
    operation_key: int
    at: float
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class SubmitFailure:
    """Why one export was not accepted (or is not known to be): one failure, in words and by type."""

    message: str
    """What to show: Graph's answer or what went wrong, redacted."""
    cause: BaseException | None = None
    """The typed failure behind it (a ``GraphError``, the journal's error...), for the edge that maps it."""

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: the cause's own when it declares one (3 sign-in or permission), else 1."""
        declared = getattr(self.cause, "exit_code", None)
        return max(1, declared) if isinstance(declared, int) else 1


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """What became of one user's export request: its operation (if any), and its one failure (None: accepted)."""

    user_id: str
    operation: OperationView | None
    failure: SubmitFailure | None = None

    @property
    def accepted(self) -> bool:
        return self.failure is None

    @property
    def error(self) -> str:
        """The failure's words ('' when Graph accepted it)."""
        return self.failure.message if self.failure is not None else ""

    @property
    def exit_code(self) -> int:
        """0 accepted, else the failure's (1 refused/unconfirmed, 3 sign-in or permission)."""
        return self.failure.exit_code if self.failure is not None else 0

    @property
    def exception(self) -> BaseException | None:
        """The failure's typed cause, if any."""
        return self.failure.cause if self.failure is not None else None


@dataclass(frozen=True, slots=True)
class QuotaReport:
    """Exports left today under Graph's limits (1,000 a tenant, 100 a user, per 24 h)."""

    tenant_used: int
    tenant_limit: int
    per_user_used: dict[str, int]
    per_user_limit: int

    @property
    def tenant_left(self) -> int:
        return max(0, self.tenant_limit - self.tenant_used)

    def user_left(self, user_id: str) -> int:
        return max(0, self.per_user_limit - self.per_user_used.get(user_id, 0))
