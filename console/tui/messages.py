"""App-wide messages: small immutable payloads that travel up to the screens, the one way a worker's
failure reaches the admin (``describe_failure``, ``WorkerFailed``, ``ReportsWorkerFailures``), and the
typed protocols through which a screen reads the App's parts (``KeepsEventLog``, ``HoldsSession``):
never an attribute looked up by its name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.message import Message
from textual.worker import Worker, WorkerState

from console.errors import ConsoleError
from console.graph.models import InboundSharedUserProfile
from console.ops.events import OperationView
from console.redact import redact
from console.text import terminal_safe
from console.tui.services import Session

if TYPE_CHECKING:
    from console.tui.event_log import EventLog


@runtime_checkable
class KeepsEventLog(Protocol):
    """An App with the console's event log (a test's bare App has none: then nothing is logged)."""

    @property
    def event_log(self) -> EventLog: ...


@runtime_checkable
class HoldsSession(Protocol):
    """An App with a signed-in session (the header's tenants), or None before the first sign-in."""

    @property
    def session(self) -> Session | None: ...


@dataclass
class OperationsChanged(Message, bubble=False):
    """The latest view of every operation that changed since the last flush (at most 10 a second)."""

    views: tuple[OperationView, ...]


@dataclass
class ProfilesPage(Message, bubble=False):
    """One more page of profiles arrived from Graph."""

    profiles: tuple[InboundSharedUserProfile, ...]
    pages: int
    """Pages received so far."""


@dataclass
class ProfilesLoaded(Message, bubble=False):
    """Every page has been listed."""

    total: int
    pages: int


@dataclass
class ProfilesFailed(Message, bubble=False):
    """Listing stopped with an error an admin can act on."""

    error: str


@dataclass
class SessionOpened(Message):
    """Signed in: the main screen can show this session."""

    session: Session


WORKER_TITLES = {
    "export": "Export failed",
    "export-check": "Storage check failed",
    "export-quota": "Today's quota is not known",
    "profiles": "Listing profiles failed",
    "sign-in": "Sign-in failed",
    "engine": "Operations",
    "quota": "Quota",
    "removal": "Removal failed",
    "outbound": "Outbound",
    "details-reload": "Details",
    "details-note": "Note not saved",
    "ops-actions": "Operations",
    "ops-report": "Report not saved",
}
"""A failed worker's toast heading, by the worker's group (else the error's own ``title``)."""


@dataclass(frozen=True)
class Failure:
    """A failure as the admin reads it: a heading and one terminal-safe text (never markup)."""

    title: str
    text: str


def describe_failure(error: BaseException | None, *, group: str = "") -> Failure:
    """The one formatter of a failure: the worker's purpose (or the error's ``title``) and its sentence.

    A ``ConsoleError`` is the project's own (its ``str()`` is the sentence, with Graph's code and request
    id); anything else is a bug shown by its text, or its type when it has none. Either way the text is
    redacted and made terminal-safe (``console.text.terminal_safe``): it is shown as typed, never as markup.
    """
    if isinstance(error, ConsoleError):
        title, text = error.title, str(error)
    elif error is None:
        title, text = "Failed", "no reason was given"
    else:
        title, text = "Unexpected error", str(error) or type(error).__name__
    return Failure(terminal_safe(WORKER_TITLES.get(group, title)), terminal_safe(redact(text)))


@dataclass
class WorkerFailed(Message, bubble=False):
    """A worker ended with an error: sent to the App, whose one handler shows it."""

    worker: Worker[Any]


class ReportsWorkerFailures:
    """Mixin for the App, screens and widgets that run workers: a failed worker goes to the App's one handler.

    Textual tells only the node that started a worker about its state; this hands the failure on to the
    App (``WorkerFailed``). The node's own handler may still react to its worker's end (reset a form).
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            event.worker.node.app.post_message(WorkerFailed(event.worker))
