"""Several tenants in one console (issue 18): one ``Session`` per tenant, one operations table over them.

``Sessions`` holds each tenant's own session (its engine, sign-in, budget, quota; all of them in the
one shared journal, so an operation's journal key names it across tenants) and which tenant the
profile list and the export form are for. ``TenantsEngine`` is what the operations table, the
details view and the cases follow: every tenant's operations, each call on one operation routed to
the engine of its tenant. No Textual here.

With one tenant the console is as it always was: ``Sessions.table_session`` is that tenant's session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from console.ops.events import OperationEvent, OperationView, PollRecord
from console.tui.services import HeaderInfo, LoginService, Session


def tenant_key_of(session: Session) -> str:
    """The tenant key the engine journals its operations under (``OperationView.tenant_key``)."""
    services = session.services
    key = getattr(services, "tenant_key", None) or getattr(session.engine, "tenant_key", None)
    return str(key or "")


def tenant_name_of(session: Session) -> str:
    """The saved tenant's name (the demo's tenants have names too), else the header's tenant."""
    return session.name or session.header.tenant


class TenantsEngine:
    """Every tenant's engine behind the operations table: reads merged, actions routed by journal key.

    Args:
        engines: the engines, one per tenant, in the order the tenants are shown.
    """

    def __init__(self, engines: list[Any]) -> None:
        self.engines = engines
        self.left: dict[int, OperationView] = {}
        """The operations of the tenants signed out of, as they were then (shown, no longer polled)."""
        self._followers: dict[object, Callable[[OperationEvent], None]] = {}
        """Who follows every tenant (the table's feed): an engine that joins later is followed by them too."""
        self._subscriptions: list[tuple[Any, object, Callable[[], None]]] = []
        """(engine, follower, its unsubscribe) for each engine each follower is subscribed to."""

    @property
    def posts_in_flight(self) -> int:
        """Export POSTs in flight in every tenant (quitting asks while any is)."""
        return sum(int(getattr(engine, "posts_in_flight", 0)) for engine in self.engines)

    @property
    def journal_path(self) -> Any:
        """The shared journal (every tenant's rows are in it)."""
        for engine in self.engines:
            path = getattr(engine, "journal_path", None) or getattr(getattr(engine, "journal", None), "path", None)
            if path:
                return path
        return None

    def subscribe(self, callback: Callable[[OperationEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every tenant's events, those of a tenant signed in to again later too."""
        follower = object()
        self._followers[follower] = callback
        self._subscriptions.extend((engine, follower, engine.subscribe(callback)) for engine in self.engines)

        def unsubscribe() -> None:
            self._followers.pop(follower, None)
            self._unsubscribe(lambda engine, who: who is follower)

        return unsubscribe

    def _unsubscribe(self, which: Callable[[Any, object], bool]) -> None:
        for triple in [t for t in self._subscriptions if which(t[0], t[1])]:
            self._subscriptions.remove(triple)
            triple[2]()

    def drop(self, engine: Any, views: list[OperationView]) -> None:
        """Follow ``engine`` no more (its tenant was signed out of); ``views`` stay shown as they are."""
        self.engines = [e for e in self.engines if e is not engine]
        self._unsubscribe(lambda subscribed, who: subscribed is engine)
        self.left.update((view.key, view) for view in views)

    def join(self, engine: Any, position: int, tenant_keys: set[str]) -> None:
        """Follow ``engine`` (its tenant was signed in to again) at ``position`` among the engines: everyone
        following the tenants follows it too, and the rows left of ``tenant_keys`` are its own again."""
        self.engines.insert(position, engine)
        self._subscriptions.extend(
            (engine, follower, engine.subscribe(callback)) for follower, callback in self._followers.items()
        )
        self.left = {key: view for key, view in self.left.items() if view.tenant_key not in tenant_keys}

    async def start(self, *, resume: bool = True) -> None:
        for engine in self.engines:
            await engine.start(resume=resume)

    async def stop(self) -> None:
        for engine in self.engines:
            await engine.stop()

    def operations(self) -> list[OperationView]:
        views = [view for engine in self.engines for view in engine.operations()]
        return sorted([*views, *self.left.values()], key=lambda view: view.key)

    def owner(self, key: int) -> Any:
        """The engine of the tenant that operation ``key`` belongs to (the first one when none knows it:
        the journal is shared, so a signed-out tenant's history and notes are read through another)."""
        for engine in self.engines:
            if engine.operation(key) is not None:
                return engine
        return self.engines[0]

    def operation(self, key: int) -> OperationView | None:
        left = self.left.get(key)
        return left if left is not None else self.owner(key).operation(key)

    async def history(self, key: int) -> list[PollRecord]:
        return await self.owner(key).history(key)  # type: ignore[no-any-return]

    async def notes(self, key: int) -> list[Any]:
        return await self.owner(key).notes(key)  # type: ignore[no-any-return]

    async def add_note(self, key: int, text: str, author: str | None = None) -> Any:
        return await self.owner(key).add_note(key, text, author)

    async def resolve(self, key: int, note: str, author: str | None = None) -> None:
        await self.owner(key).resolve(key, note, author)

    async def stop_watching(self, key: int) -> None:
        await self.owner(key).stop_watching(key)


@dataclass
class Sessions:
    """The tenants open in this console, each with its own session, and the one the profiles show.

    Args:
        sessions: one per tenant, in the order the pulse strip and the picker list them.
        current: the name of the tenant the profile list shows (the first by default).
    """

    sessions: list[Session]
    current: str = ""
    signed_out: set[str] = field(default_factory=set)
    """Names of the tenants signed out of: their rows stay in the table and their line in the strip."""
    logins: dict[str, LoginService] = field(default_factory=dict)
    """How to sign in to each tenant again once signed out of (by name): its own ways in, as at start-up."""

    def __post_init__(self) -> None:
        if not self.sessions:
            raise ValueError("no tenant to show")
        if not self.current:
            self.current = tenant_name_of(self.sessions[0])
        self._table: Session | None = None

    def __iter__(self) -> Iterator[Session]:
        return iter(self.sessions)

    def __len__(self) -> int:
        return len(self.sessions)

    @property
    def several(self) -> bool:
        """More than one tenant: the table gets its Tenant column, the pulse strip one line per tenant."""
        return len(self.sessions) > 1

    @property
    def live(self) -> list[Session]:
        """The tenants still signed in (polled; the picker offers them)."""
        return [s for s in self.sessions if tenant_name_of(s) not in self.signed_out]

    def names(self) -> list[str]:
        """The names of the tenants still signed in."""
        return [tenant_name_of(session) for session in self.live]

    def get(self, name: str) -> Session | None:
        """The session of the tenant named ``name`` (None: no such tenant signed in)."""
        return next((s for s in self.live if tenant_name_of(s) == name), None)

    @property
    def current_session(self) -> Session:
        """The tenant the profile list and the export form are for."""
        return self.get(self.current) or self.sessions[0]

    def pick(self, name: str) -> Session:
        """Show tenant ``name`` in the profile list.

        Raises:
            KeyError: no tenant of that name is open.
        """
        session = self.get(name)
        if session is None:
            raise KeyError(name)
        self.current = name
        return session

    def next_name(self) -> str:
        """The tenant after the current one (the picker's key cycles)."""
        names = self.names()
        position = names.index(self.current) if self.current in names else -1
        return names[(position + 1) % len(names)]

    def name_for_key(self) -> dict[str, str]:
        """Tenant key -> tenant name (signed out of too), for the table's Tenant column and ``tenant:``."""
        return {tenant_key_of(session): tenant_name_of(session) for session in self.sessions}

    def session_of(self, view: OperationView) -> Session | None:
        """The session of the tenant an operation belongs to (signed out of: None)."""
        name = self.name_for_key().get(view.tenant_key)
        return self.get(name) if name is not None else None

    def sign_out(self, name: str) -> tuple[Session, list[OperationView]]:
        """Leave tenant ``name``: its engine is no longer followed, its operations stay shown as they are
        now, marked not watched; the profiles show the next tenant. The caller stops and closes the session.

        Returns:
            The session left, and its operations as the table shows them from now on.

        Raises:
            KeyError: no tenant of that name is signed in.
        """
        session = self.get(name)
        if session is None:
            raise KeyError(name)
        views = [not_watched(view, name) for view in session.engine.operations()]
        if self.current == name:
            self.current = self.next_name()
        self.signed_out.add(name)
        table = self._table
        if table is not None and isinstance(table.engine, TenantsEngine):
            table.engine.drop(session.engine, views)
        return session, views

    def left_names(self) -> list[str]:
        """The names of the tenants signed out of, in the order the strip lists them."""
        return [tenant_name_of(s) for s in self.sessions if tenant_name_of(s) in self.signed_out]

    def sign_in(self, session: Session) -> Session:
        """Take tenant ``session.name`` back (signed in to again): its new session in the old one's place,
        its engine followed by the table from now on, its rows its own again. The caller starts the engine.

        Returns:
            The session it replaces (signed out of, already closed).

        Raises:
            KeyError: no tenant of that name was signed out of.
        """
        name = tenant_name_of(session)
        if name not in self.signed_out:
            raise KeyError(name)
        index = next(i for i, s in enumerate(self.sessions) if tenant_name_of(s) == name)
        old = self.sessions[index]
        position = len([s for s in self.sessions[:index] if tenant_name_of(s) not in self.signed_out])
        self.sessions[index] = session
        self.signed_out.discard(name)
        table = self._table
        if table is not None and isinstance(table.engine, TenantsEngine):
            table.engine.join(session.engine, position, {tenant_key_of(old), tenant_key_of(session)})
        return old

    @property
    def table_session(self) -> Session:
        """What the operations table, the details view and the cases follow: the one tenant's session,
        or with several, one over all their engines (``TenantsEngine``)."""
        if not self.several:
            return self.sessions[0]
        if self._table is None:
            first = self.sessions[0]
            self._table = Session(
                engine=TenantsEngine([session.engine for session in self.sessions]),  # type: ignore[arg-type]
                profiles=first.profiles,
                header=HeaderInfo(", ".join(self.names()), first.header.identity, first.header.cloud),
                close=self._close_all,
                warm_up=self._warm_up_all,
                journal_path=first.journal_path,
                identity=first.identity,
                name="",
            )
        return self._table

    async def _close_all(self) -> None:
        for session in self.live:  # the ones signed out of were closed then
            if session.close is not None:
                await session.close()

    async def _warm_up_all(self) -> None:
        warm_ups: list[Callable[[], Awaitable[None]]] = []
        for session in self.sessions:
            warm_up, session.warm_up = session.warm_up, None
            if warm_up is not None:
                warm_ups.append(warm_up)
        for warm_up in warm_ups:
            await warm_up()


def not_watched(view: OperationView, name: str) -> OperationView:
    """``view`` as shown once its tenant is signed out of: an unfinished one says it is not polled."""
    if view.is_done:
        return view
    return replace(view, next_poll_at=None, last_error=f"{NOT_WATCHED} {name}")


NOT_WATCHED = "not watched: signed out of"
"""What an unfinished operation of a tenant signed out of says in its Last error cell."""
