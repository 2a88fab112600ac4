"""Client-side search over inbound shared user profiles (Graph has no $search for them).

Each profile gets a precomputed lowercase haystack (name, UPN, userId, home tenant),
so a keystroke is one substring test per profile: 20,000 profiles filter in a few
milliseconds. A query that extends the previous one only searches the previous hits.
No Textual here: the widget asks, this answers.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.graph.models import InboundSharedUserProfile

_SEPARATOR = "\x00"
"""Between the fields of a haystack, so a query never matches across two fields."""


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
                _SEPARATOR.join(
                    (profile.display_name, profile.user_principal_name, profile.user_id, profile.home_tenant_id)
                ).lower()
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
        """Indexes of the profiles whose name, UPN, userId or home tenant contain ``query``.

        Args:
            query: any text; case is ignored, surrounding spaces too. Empty matches all.
            candidates: search only these indexes (new pages while a filter is set).
        """
        needle = query.strip().lower()
        haystacks = self._haystacks
        if candidates is not None:
            return [i for i in candidates if needle in haystacks[i]] if needle else list(candidates)
        if not needle:
            hits = list(range(len(haystacks)))
        elif self._last_hits is not None and self._last_query and needle.startswith(self._last_query):
            # Typing one more character narrows the previous hits: search only those.
            previous = self._last_hits
            hits = [i for i in previous if needle in haystacks[i]]
        else:
            hits = [i for i, hay in enumerate(haystacks) if needle in hay]
        self._last_query = needle
        self._last_hits = hits
        return hits
