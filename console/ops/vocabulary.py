"""One vocabulary of status and state words for the console's filter and ``ops --status``.

An operation has Graph's status (``notStarted``, ``running``, ``complete``, ``failed``, or a
value Graph added later) and the journal's state (``intent``, ``tracking``, ``unconfirmed``,
``final``, ``rejected``, ``error``, ``resolved``, ``stopped``). An admin filters by either word, or by a
group (``unfinished``, ``finished``, ``problem``, ``all``). Unknown words are refused with the
list of valid ones, so a typo never silently shows nothing. ``!WORD`` (or ``not-WORD``) is every
operation that ``WORD`` is not (k9s' ``/!``).

One word per operation (``shown_status``) is what the console's table and the CLI's table show,
what the counts count and what a status word matches: "1 failed" on the tab, the ``failed``
filter and ``ops --status failed`` are the same operations (issue 17, item 9). The ``problem``
group (``PROBLEM_WORDS``) is what the tab counts as problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from console.errors import UsageError
from console.graph.models import KNOWN_STATUSES
from console.ops.events import ERROR, FINAL, INTENT, REJECTED, RESOLVED, STOPPED, TRACKING, UNCONFIRMED

STATES = (INTENT, TRACKING, UNCONFIRMED, FINAL, REJECTED, ERROR, RESOLVED, STOPPED)
"""Every journal state."""
STATE_WORDS = frozenset({UNCONFIRMED, REJECTED, ERROR, RESOLVED, STOPPED})
"""Journal states that say more than Graph's last word (watching stopped, or Graph never answered)."""
PROBLEM_WORDS = frozenset({"failed", REJECTED, ERROR, UNCONFIRMED})
"""Shown statuses that need the admin: the ``problem`` group, counted on the tab."""
NEGATION = "!"


class _Viewlike(Protocol):
    @property
    def state(self) -> str: ...

    @property
    def status(self) -> str | None: ...

    @property
    def display_status(self) -> str: ...


def shown_status(view: _Viewlike) -> str:
    """The one word shown for an operation: Graph's status, except when the journal state tells more.

    An operation whose watching stopped on a 403 keeps Graph's last word (``running``), yet
    nobody polls it: it shows ``error``; likewise ``unconfirmed``, ``rejected``, ``resolved``
    and ``stopped``.
    """
    if view.state in STATE_WORDS:
        return view.state
    return view.display_status


def _status_is(word: str) -> Callable[[_Viewlike], bool]:
    folded = word.lower()
    return lambda view: shown_status(view).lower() == folded


def _state_is(*states: str) -> Callable[[_Viewlike], bool]:
    wanted = frozenset(states)
    return lambda view: view.state in wanted


def _unknown_status(view: _Viewlike) -> bool:
    return view.state in (TRACKING, FINAL, ERROR) and view.status not in KNOWN_STATUSES


def _problem(view: _Viewlike) -> bool:
    return shown_status(view) in PROBLEM_WORDS


FILTERS: dict[str, tuple[str, Callable[[_Viewlike], bool]]] = {
    # Graph's statuses (graph-api.md, dataPolicyOperation).
    "notstarted": ("Graph says notStarted", _status_is("notStarted")),
    "running": ("Graph says running", _status_is("running")),
    "complete": ("Graph says complete", _status_is("complete")),
    "failed": ("Graph says failed (and the journal has nothing more to say)", _status_is("failed")),
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
    "problem": ("failed, rejected, error or unconfirmed: what needs the admin", _problem),
    "all": ("every operation", lambda _view: True),
}
"""Filter word (lower case) -> (what it means, predicate)."""

WORDS = tuple(FILTERS)
"""The valid words, in the order help lists them."""


class UnknownStatusWord(UsageError, ValueError):
    """A filter word that is not in the vocabulary."""


ALIASES = {"problems": "problem", "notstarted": "notstarted"}


def parse_status_word(word: str) -> str:
    """The canonical (lower-case) filter word; ``!WORD`` or ``not-WORD`` stays negated (``!complete``).

    Raises:
        UnknownStatusWord: with the list of valid words.
    """
    text = word.strip()
    negated = False
    if text.startswith(NEGATION):
        negated, text = True, text[1:].strip()
    elif text.lower().startswith("not-") or text.lower().startswith("not_"):
        negated, text = True, text[4:]
    folded = text.lower().replace("_", "").replace("-", "")
    folded = ALIASES.get(folded, folded)
    if folded in FILTERS:
        return NEGATION + folded if negated else folded
    raise UnknownStatusWord(
        f"unknown status {word.strip()!r}: use one of {', '.join(WORDS)} (or !WORD for every other operation)"
    )


def matches_status(view: _Viewlike, word: str) -> bool:
    """True when ``view`` is in the status, state or group ``word`` (already parsed; ``!WORD``: is not)."""
    if word.startswith(NEGATION):
        return not FILTERS[word[1:]][1](view)
    return FILTERS[word][1](view)


def count_problems(views: Iterable[_Viewlike]) -> int:
    """Operations in the ``problem`` group (the tab's count)."""
    return sum(1 for view in views if shown_status(view) in PROBLEM_WORDS)
