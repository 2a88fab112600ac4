"""App-wide messages: small immutable payloads that travel up to the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.graph.models import InboundSharedUserProfile
from console.ops.events import OperationView
from console.tui.services import Session


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
