"""Client-side search over inbound shared user profiles (Graph has no $search for them).

People type names as they say them: ``garcia`` must find García, ``fabrikam garcia`` the
Garcias of Fabrikam. Each profile gets a precomputed folded haystack (name, UPN, userId,
home tenant: case folded, accents dropped), and every word of the query must occur in it,
in any order. 20,000 profiles filter in a few milliseconds; a query that extends the
previous one only searches the previous hits. No Textual here: the widget asks, this answers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from console.graph.models import InboundSharedUserProfile

_SEPARATOR = "\x00"
"""Between the fields of a haystack, so a word never matches across two fields."""


def fold(text: str) -> str:
    """``text`` as search compares it: accents dropped (NFKD, no combining marks), case folded.

    ``García`` -> ``garcia``, ``Ørsted`` keeps its ``ø`` (not a combining mark), ``ＧＡＲＣＩＡ`` -> ``garcia``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed.lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def query_words(query: str) -> list[str]:
    """The folded words of a query (spaces separate words; empty: no filter)."""
    return fold(query).split()


class ProfileIndex:
    """Profiles in listing order, searchable case-insensitively."""

    def __init__(self) -> None:
        self.profiles: list[InboundSharedUserProfile] = []
        """Every profile, in the order Graph listed them."""
        self._haystacks: list[str] = []
        self._by_user: dict[str, int] = {}
        self._last_query = ""
        self._last_hits: list[int] | None = None

    def __len__(self) -> int:
        return len(self.profiles)

    def clear(self) -> None:
        """Forget every profile (a new sign-in lists them again)."""
        self.profiles.clear()
        self._haystacks.clear()
        self._by_user.clear()
        self._last_query = ""
        self._last_hits = None

    def extend(self, page: Iterable[InboundSharedUserProfile]) -> range:
        """Add a page of profiles (a profile listed twice keeps its first place).

        Returns:
            The indexes of the profiles added.
        """
        start = len(self.profiles)
        for profile in page:
            if profile.user_id in self._by_user:
                continue
            self._by_user[profile.user_id] = len(self.profiles)
            self.profiles.append(profile)
            self._haystacks.append(
                fold(
                    _SEPARATOR.join(
                        (profile.display_name, profile.user_principal_name, profile.user_id, profile.home_tenant_id)
                    )
                )
            )
        self._last_hits = None
        return range(start, len(self.profiles))

    def index_of(self, user_id: str) -> int | None:
        """Where ``user_id`` is in ``profiles``."""
        return self._by_user.get(user_id)

    def get(self, user_id: str) -> InboundSharedUserProfile | None:
        """The profile of ``user_id`` when it has been listed."""
        index = self._by_user.get(user_id)
        return self.profiles[index] if index is not None else None

    def matches(self, query: str, candidates: Iterable[int] | None = None) -> list[int]:
        """Indexes of the profiles in which every word of ``query`` occurs (name, UPN, userId, home tenant).

        Args:
            query: any text; case and accents are ignored, words match in any order. Empty matches all.
            candidates: search only these indexes (new pages while a filter is set).
        """
        words = query_words(query)
        haystacks = self._haystacks
        if candidates is not None:
            return [i for i in candidates if _has_all(haystacks[i], words)] if words else list(candidates)
        needle = " ".join(words)
        if not words:
            hits = list(range(len(haystacks)))
        elif self._last_hits is not None and self._last_query and needle.startswith(self._last_query):
            # Typing on narrows the previous hits (a longer word, or one more word): search only those.
            hits = [i for i in self._last_hits if _has_all(haystacks[i], words)]
        else:
            hits = [i for i, hay in enumerate(haystacks) if _has_all(hay, words)]
        self._last_query = needle
        self._last_hits = hits
        return hits


def _has_all(haystack: str, words: list[str]) -> bool:
    if len(words) == 1:
        return words[0] in haystack
    return all(word in haystack for word in words)
