"""What the operations table lets through: a status word and a text query over each operation.

Filters combine: a status word from ``console.ops.vocabulary`` (the same words as
``ops --status``) and a text query whose words must all match, in any order, case- and
accent-insensitively, over the user's name, UPN, user id, operation id, error and case.
``case:REF`` matches one case exactly; ``status:WORD`` (or ``is:WORD``) adds a status word;
``tenant:NAME`` keeps one tenant's operations (issue 18: one table across several tenants).
No Textual: ``console.tui.ops_model.OpsModel`` asks ``RowFilter`` which rows pass.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from console.ops.events import OperationView
from console.ops.vocabulary import UnknownStatusWord, matches_status, parse_status_word, shown_status

_PARTS = ("words", "cases", "statuses", "not_words", "not_cases", "tenants", "not_tenants")
"""What ``Query.parse`` collects, by field (``cases``: the last one is ``case``)."""
_PREFIXES = ("case", "status", "is", "tenant")
"""The words before a colon that name a part of the query."""
_SEPARATOR = "\x00"
"""Between the fields of a haystack, so a word never matches across two fields."""


def fold(text: str) -> str:
    """Lower case without accents: ``García`` -> ``garcia`` (names are typed as people type them)."""
    if text.isascii():  # the common case (GUIDs, UPNs, Graph's errors): no accents to strip
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Query:
    """A parsed text filter; ``!`` before a word, ``case:`` or ``status:`` leaves those out (k9s' ``/!``)."""

    words: tuple[str, ...] = ()
    """Folded words that must all appear in the haystack."""
    case: str | None = None
    """``case:REF``: this case only (folded)."""
    statuses: tuple[str, ...] = ()
    """``status:WORD``: vocabulary words that must all match (``!WORD``: must not)."""
    not_words: tuple[str, ...] = ()
    """``!word``: folded words that must not appear."""
    not_cases: tuple[str, ...] = ()
    """``!case:REF``: cases left out (folded)."""
    tenants: tuple[str, ...] = ()
    """``tenant:NAME``: only these tenants (folded saved names; several: any of them)."""
    not_tenants: tuple[str, ...] = ()
    """``!tenant:NAME``: tenants left out (folded)."""

    @classmethod
    def parse(cls, text: str) -> Query:
        """Parse ``alice case:DSR-1 status:failed !status:complete tenant:fabrikam !bob``.

        Raises:
            UnknownStatusWord: a ``status:`` word outside the vocabulary (with the valid ones).
        """
        found: dict[str, list[str]] = {name: [] for name in _PARTS}
        for token in text.split():
            negated = token.startswith("!")
            if negated:
                token = token[1:]
                if not token:
                    continue  # "!" alone: still being typed
            head, colon, rest = token.partition(":")
            name = head.lower()
            if colon and name in _PREFIXES and not rest:
                continue  # still being typed: no filter yet
            if colon and name in ("status", "is"):
                word = parse_status_word(rest)
                if negated:
                    word = word[1:] if word.startswith("!") else "!" + word
                found["statuses"].append(word)
            elif colon and name in ("case", "tenant"):
                found[("not_" if negated else "") + name + "s"].append(fold(rest))
            else:
                found["not_words" if negated else "words"].append(fold(token))
        cases = found.pop("cases")
        return cls(case=cases[-1] if cases else None, **{name: tuple(values) for name, values in found.items()})

    @property
    def empty(self) -> bool:
        return not (
            self.words
            or self.case is not None
            or self.statuses
            or self.not_words
            or self.not_cases
            or self.tenants
            or self.not_tenants
        )

    @property
    def simple(self) -> bool:
        """Only words that must appear (the fast path: one substring test per row and word)."""
        return self.case is None and not (
            self.statuses or self.not_words or self.not_cases or self.tenants or self.not_tenants
        )


def _narrows(before: Query, after: Query) -> bool:
    """True when every row ``after`` lets through ``before`` let through too (typing on)."""
    if (before.not_words, before.not_cases, before.not_tenants) != (
        after.not_words,
        after.not_cases,
        after.not_tenants,
    ):
        return False
    if before.tenants != after.tenants and before.tenants:
        return False
    if before.case != after.case and before.case is not None:
        return False
    if not set(before.statuses) <= set(after.statuses):
        return False
    return all(any(old in new for new in after.words) for old in before.words)


class RowFilter:
    """The status filter and the text query, with the haystack each operation is searched in.

    Args:
        label: who an operation is for, as the table shows it (searched too).
    """

    def __init__(
        self, label: Callable[[OperationView], str], tenant: Callable[[OperationView], str] | None = None
    ) -> None:
        self.label = label
        self.tenant: Callable[[OperationView], str] = tenant or (lambda view: view.tenant_key)
        """The saved name of an operation's tenant (what ``tenant:NAME`` matches)."""
        self.status_filter = "all"
        """A word of ``console.ops.vocabulary``."""
        self.query_text = ""
        """The text filter as typed."""
        self.query = Query()
        """The text filter, parsed."""
        self.haystacks: dict[int, str] = {}
        """Folded search text per operation key (dropped when its view or label changes)."""

    def set_status(self, word: str) -> None:
        """Let through operations in status, state or group ``word``.

        Raises:
            UnknownStatusWord: with the list of valid words.
        """
        self.status_filter = parse_status_word(word)

    def set_query(self, text: str) -> tuple[str, bool | None]:
        """Take ``text`` as the query: (why it cannot be used or "", whether it narrows the last one).

        The second is None when nothing changed (an unusable text keeps the previous query).
        """
        try:
            query = Query.parse(text)
        except UnknownStatusWord as exc:
            self.query_text = text
            return str(exc), None
        self.query_text = text
        if query == self.query:
            return "", None
        narrower = _narrows(self.query, query)
        self.query = query
        return "", narrower

    def haystack(self, view: OperationView) -> str:
        parts = (
            self.label(view),
            view.display_name,
            view.user_principal_name,
            view.user_id,
            view.operation_id or "",
            view.last_error,
            view.case,
            shown_status(view),
        )
        return _SEPARATOR.join(fold(part) for part in parts)

    def passes(self, view: OperationView) -> bool:
        """True when ``view`` passes the status filter and the text filter."""
        if self.status_filter != "all" and not matches_status(view, self.status_filter):
            return False
        query = self.query
        if query.empty:
            return True
        if query.case is not None and fold(view.case) != query.case:
            return False
        if query.not_cases and fold(view.case) in query.not_cases:
            return False
        if any(not matches_status(view, word) for word in query.statuses):
            return False
        if (query.tenants or query.not_tenants) and not self._tenant_passes(view):
            return False
        if query.words or query.not_words:
            haystack = self.haystacks.get(view.key)
            if haystack is None:
                haystack = self.haystacks[view.key] = self.haystack(view)
            if any(word in haystack for word in query.not_words):
                return False
            return all(word in haystack for word in query.words)
        return True

    def _tenant_passes(self, view: OperationView) -> bool:
        """``tenant:NAME`` (any of several) and ``!tenant:NAME``: the saved name, exactly (folded)."""
        name = fold(self.tenant(view))
        if self.query.tenants and name not in self.query.tenants:
            return False
        return name not in self.query.not_tenants

    def select(self, candidates: list[int], views: dict[int, OperationView]) -> list[int]:
        """The ``candidates`` that pass, in their order."""
        query = self.query
        if self.status_filter != "all" or not query.simple:
            return [k for k in candidates if self.passes(views[k])]
        # The common case, a few typed words: one substring test per row, no call per row.
        haystacks = self.haystacks
        if query.words and len(haystacks) < len(views):
            for k in candidates:
                if k not in haystacks:
                    haystacks[k] = self.haystack(views[k])
        order = list(candidates)
        for word in query.words:
            order = [k for k in order if word in haystacks[k]]
        return order
