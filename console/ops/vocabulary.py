"""One vocabulary of status and state words for the console's filter and ``ops --status``.

An operation has Graph's status (``notStarted``, ``running``, ``complete``, ``failed``, or a
value Graph added later) and the journal's state (``intent``, ``tracking``, ``unconfirmed``,
``final``, ``rejected``, ``error``, ``resolved``, ``stopped``). An admin filters by either word, or by a
group (``unfinished``, ``finished``, ``problem``, ``all``). Unknown words are refused with the
list of valid ones, so a typo never silently shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from console.graph.models import KNOWN_STATUSES

from console.ops.events import ERROR, FINAL, INTENT, REJECTED, RESOLVED, STOPPED, TRACKING, UNCONFIRMED

STATES = (INTENT, TRACKING, UNCONFIRMED, FINAL, REJECTED, ERROR, RESOLVED, STOPPED)
"""Every journal state."""


class _Viewlike(Protocol):
    @property
    def state(self) -> str: ...

    @property
    def status(self) -> str | None: ...


def _status_is(word: str) -> Callable[[_Viewlike], bool]:
    return lambda view: (view.status or "").lower() == word.lower()


def _state_is(*states: str) -> Callable[[_Viewlike], bool]:
    wanted = frozenset(states)
    return lambda view: view.state in wanted


def _unknown_status(view: _Viewlike) -> bool:
    return view.state in (TRACKING, FINAL, ERROR) and view.status not in KNOWN_STATUSES


def _problem(view: _Viewlike) -> bool:
    return view.state in (UNCONFIRMED, REJECTED, ERROR) or (view.state == FINAL and view.status == "failed")


FILTERS: dict[str, tuple[str, Callable[[_Viewlike], bool]]] = {
    # Graph's statuses (graph-api.md, dataPolicyOperation).
    "notstarted": ("Graph says notStarted", _status_is("notStarted")),
    "running": ("Graph says running", _status_is("running")),
    "complete": ("Graph says complete", _status_is("complete")),
    "failed": ("Graph says failed", _status_is("failed")),
    "unknown": ("a status Graph added later, or none", _unknown_status),
    # Journal states.
    "submitting": ("the POST is being sent (or the console stopped while sending it)", _state_is(INTENT)),
    "intent": ("same as submitting", _state_is(INTENT)),
    "tracking": ("accepted by Graph and being polled", _state_is(TRACKING)),
    "unconfirmed": ("Graph may or may not have accepted it: check before exporting again", _state_is(UNCONFIRMED)),
    "final": ("Graph reported complete or failed", _state_is(FINAL)),
    "rejected": ("Graph refused the POST; nothing was created", _state_is(REJECTED)),
    "error": ("watching stopped on an error", _state_is(ERROR)),
    "resolved": ("an unconfirmed export the admin checked", _state_is(RESOLVED)),
    "stopped": ("the admin stopped watching it", _state_is(STOPPED)),
    # Groups.
    "unfinished": ("submitting, tracking or unconfirmed", _state_is(INTENT, TRACKING, UNCONFIRMED)),
    "finished": ("nothing more will happen to it", _state_is(FINAL, REJECTED, ERROR, RESOLVED, STOPPED)),
    "problem": ("failed, rejected, error or unconfirmed", _problem),
    "all": ("every operation", lambda _view: True),
}
"""Filter word (lower case) -> (what it means, predicate)."""

WORDS = tuple(FILTERS)
"""The valid words, in the order help lists them."""


class UnknownStatusWord(ValueError):
    """A filter word that is not in the vocabulary."""


def parse_status_word(word: str) -> str:
    """The canonical (lower-case) filter word.

    Raises:
        UnknownStatusWord: with the list of valid words.
    """
    folded = word.strip().lower().replace("_", "").replace("-", "")
    if folded == "notstarted" or folded in FILTERS:
        return folded
    raise UnknownStatusWord(f"unknown status {word.strip()!r}: use one of {', '.join(WORDS)}")


def matches_status(view: _Viewlike, word: str) -> bool:
    """True when ``view`` is in the status, state or group ``word`` (already parsed)."""
    return FILTERS[word][1](view)
