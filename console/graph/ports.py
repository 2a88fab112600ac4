"""The ports the Graph client needs from the outside (the consumer owns its port).

Sign-in (``console.auth``) implements ``TokenProvider``; the operations engine (``console.ops``)
implements ``RequestBudget``. ``console.graph`` imports neither of them.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["RequestBudget", "TokenProvider"]


class TokenProvider(Protocol):
    """Hands the Graph client a bearer token."""

    async def get_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` after Graph answered 401 with the last one.

        Raises:
            console.graph.errors.AuthenticationError: when no token can be had.
        """
        ...


class RequestBudget(Protocol):
    """The tenant's budget of non-export requests (Graph allows 10,000 an hour, graph-api.md)."""

    async def acquire(self) -> None:
        """Wait until one non-export request may be sent, then spend it."""
        ...
