"""In-memory services for the console's tests: deterministic, no network, a fixed clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import datetime, UTC
from typing import Any

from console.graph.errors import QuotaExceeded
from console.graph.models import InboundSharedUserProfile
from console.ops.events import (
    FINAL,
    TRACKING,
    OperationEvent,
    OperationView,
    PollRecord,
    QuotaReport,
    SubmitOutcome,
)
from console.sim.profiles import generate_profiles
from console.storage import redact, validate_storage_location
from console.tui.services import (
    DEVICE_CODE,
    CLIENT_SECRET,
    ConsoleServices,
    HeaderInfo,
    Session,
    SignInMethod,
    TenantChoice,
)

NOW = 1_800_000_000.0
"""The fixed 'now' of every test (2027-01-15 08:00:00 UTC)."""


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = NOW) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self._now += seconds


def make_profiles(count: int, seed: int = 7) -> list[InboundSharedUserProfile]:
    return [InboundSharedUserProfile.from_json(p.to_json()) for p in generate_profiles(count, seed)]


def paged_source(
    profiles: list[InboundSharedUserProfile], page_size: int = 100, gate: asyncio.Event | None = None
) -> Callable[[], AsyncIterator[list[InboundSharedUserProfile]]]:
    """A profile source that yields ``profiles`` in pages (waiting on ``gate`` before the last, when given)."""

    async def pages() -> AsyncIterator[list[InboundSharedUserProfile]]:
        for start in range(0, len(profiles), page_size):
            if gate is not None and start + page_size >= len(profiles):
                await gate.wait()
            yield profiles[start : start + page_size]
            await asyncio.sleep(0)

    return pages


def view(
    key: int,
    user_id: str,
    *,
    status: str | None = "running",
    state: str = TRACKING,
    progress: float | None = 40.0,
    submitted: float = NOW - 300,
    next_poll: float | None = NOW + 45,
    last_error: str = "",
    completed: float | None = None,
    polls: int = 3,
) -> OperationView:
    return OperationView(
        key=key,
        tenant_key="tenant",
        user_id=user_id,
        operation_id=f"op-{key:04d}",
        location=f"https://graph.example/v1.0/dataPolicyOperations/op-{key:04d}",
        storage_location="https://acct.blob.core.windows.net/exports?sv=2024&sig=***",
        state=state,
        status=status,
        progress=progress,
        submitted_at=datetime.fromtimestamp(submitted, UTC),
        completed_at=datetime.fromtimestamp(completed, UTC) if completed else None,
        created_at=submitted,
        next_poll_at=next_poll,
        last_error=last_error,
        polls=polls,
    )


def sample_views(profiles: list[InboundSharedUserProfile]) -> list[OperationView]:
    """A handful of operations in every state, for pictures and tests."""
    return [
        view(
            1,
            profiles[0].user_id,
            status="complete",
            state=FINAL,
            progress=100,
            next_poll=None,
            completed=NOW - 60,
            submitted=NOW - 1500,
        ),
        view(2, profiles[1].user_id, status="running", progress=62, submitted=NOW - 600),
        view(3, profiles[2].user_id, status="notStarted", progress=0, submitted=NOW - 90, next_poll=NOW + 30),
        view(
            4,
            profiles[3].user_id,
            status="failed",
            state=FINAL,
            progress=10,
            next_poll=None,
            completed=NOW - 200,
            submitted=NOW - 900,
            last_error="Graph reported the export failed [ExportFailed] (request-id 1b2c-77)",
        ),
        view(
            5,
            profiles[4].user_id,
            status="running",
            progress=15,
            submitted=NOW - 120,
            last_error="429 Too Many Requests: retried after 12s",
        ),
        view(6, profiles[5].user_id, status="running", progress=88, submitted=NOW - 2400),
    ]


class FakeEngine:
    """Matches ``console.ops.engine.OperationsEngine`` as the console uses it."""

    def __init__(self, views: Sequence[OperationView] = (), *, clock: FixedClock | None = None) -> None:
        self.views: dict[int, OperationView] = {v.key: v for v in views}
        self.clock = clock or FixedClock()
        self.subscribers: list[Callable[[OperationEvent], None]] = []
        self.posts_in_flight = 0
        self.started = False
        self.stopped = False
        self.submitted: list[tuple[list[str], str]] = []
        self.submit_gate: asyncio.Event | None = None
        self.refuse: dict[str, str] = {}
        self.tenant_used = 13
        self.histories: dict[int, list[PollRecord]] = {}

    def subscribe(self, callback: Callable[[OperationEvent], None]) -> Callable[[], None]:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback) if callback in self.subscribers else None

    def emit(self, updated: OperationView, kind: str = "status") -> None:
        self.views[updated.key] = updated
        for callback in list(self.subscribers):
            callback(OperationEvent(kind, updated))  # type: ignore[arg-type]

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def operations(self) -> list[OperationView]:
        return [self.views[k] for k in sorted(self.views)]

    def operation(self, key: int) -> OperationView | None:
        return self.views.get(key)

    def history(self, key: int) -> list[PollRecord]:
        if key in self.histories:
            return self.histories[key]
        base = self.views[key].created_at
        return [
            PollRecord(base, 202, 60.0, "req-submit-0001", "client-0001", None, None, ""),
            PollRecord(base + 60, 200, 60.0, "req-poll-0002", "client-0002", "notStarted", 0.0, ""),
            PollRecord(
                base + 120, 429, None, "req-poll-0003", "client-0003", "notStarted", 0.0, "429 Too Many Requests"
            ),
            PollRecord(base + 180, 200, 60.0, "req-poll-0004", "client-0004", "running", 40.0, ""),
        ]

    def quota(self) -> QuotaReport:
        return QuotaReport(tenant_used=self.tenant_used, tenant_limit=1000, per_user_used={}, per_user_limit=100)

    def unfinished_for(self, user_id: str, storage_location: str) -> list[OperationView]:
        safe = redact(storage_location.strip())
        return [v for v in self.views.values() if v.user_id == user_id and v.storage_location == safe and not v.is_done]

    async def submit(self, user_ids: Sequence[str], storage_location: str) -> list[SubmitOutcome]:
        location = validate_storage_location(storage_location)
        if self.tenant_used + len(user_ids) > 1000:
            raise QuotaExceeded("this would pass Graph's limit of 1000 exports a day for the tenant")
        self.submitted.append((list(user_ids), location))
        self.posts_in_flight += len(user_ids)
        try:
            if self.submit_gate is not None:
                await self.submit_gate.wait()
        finally:
            self.posts_in_flight -= len(user_ids)
        outcomes = []
        for user_id in user_ids:
            key = max(self.views, default=0) + 1
            if user_id in self.refuse:
                rejected = replace(
                    view(
                        key,
                        user_id,
                        status=None,
                        state="rejected",
                        progress=None,
                        submitted=self.clock.now(),
                        next_poll=None,
                    ),
                    storage_location=redact(location),
                    last_error=self.refuse[user_id],
                )
                self.emit(rejected, "rejected")
                outcomes.append(SubmitOutcome(user_id, rejected, self.refuse[user_id], "BadRequest"))
                continue
            accepted = replace(
                view(
                    key,
                    user_id,
                    status=None,
                    progress=None,
                    submitted=self.clock.now(),
                    next_poll=self.clock.now() + 60,
                    polls=0,
                ),
                storage_location=redact(location),
            )
            self.emit(accepted, "submitted")
            outcomes.append(SubmitOutcome(user_id, accepted, ""))
        return outcomes


class FakePrompt:
    def __init__(self, clock: FixedClock) -> None:
        self.verification_uri = "https://microsoft.com/devicelogin"
        self.user_code = "DEMO-4F7K"
        self.expires_at = clock.now() + 900
        self.message = "To sign in, open https://microsoft.com/devicelogin and enter the code DEMO-4F7K."


class FakeLogin:
    """A login service with saved tenants and a device-code flow approved by ``approve``."""

    def __init__(self, session_factory: Callable[[], Session], clock: FixedClock) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.saved = [
            TenantChoice("contoso", "contoso.onmicrosoft.com", "global", "device code"),
            TenantChoice("fabrikam", "fabrikam.onmicrosoft.com", "global", "client secret"),
        ]
        self.silent_ok = False
        self.approved = threading.Event()
        self.signed_out: list[Any] = []
        self.prompts = 0
        self.cancelled = False

    def tenants(self) -> list[TenantChoice]:
        return list(self.saved)

    def methods(self, tenant: TenantChoice) -> list[SignInMethod]:
        return [DEVICE_CODE, CLIENT_SECRET]

    def add_tenant(self, name: str, tenant: str, client_id: str, cloud: str) -> TenantChoice:
        if not name or not tenant:
            raise ValueError("a tenant needs a name and a tenant id or domain")
        choice = TenantChoice(name, tenant, cloud)
        self.saved.append(choice)
        return choice

    async def try_silent(self, tenant: TenantChoice) -> Session | None:
        return self.session_factory() if self.silent_ok else None

    async def sign_in(
        self, tenant: TenantChoice, method: SignInMethod, *, on_prompt: Any, cancel: threading.Event, secret: str = ""
    ) -> Session:
        if method.id == "client_secret":
            if secret != "s3cret":
                raise ValueError("Entra refused the client secret (AADSTS7000215): check it and try again.")
            return self.session_factory()
        self.prompts += 1
        on_prompt(FakePrompt(self.clock))
        while not self.approved.is_set():
            if cancel.is_set():
                self.cancelled = True
                raise RuntimeError("Sign-in cancelled.")
            await asyncio.sleep(0.01)
        return self.session_factory()

    async def sign_out(self, tenant: TenantChoice | None) -> None:
        self.signed_out.append(tenant)


def make_services(
    *,
    profiles: int = 300,
    views: Sequence[OperationView] | None = None,
    page_size: int = 100,
    signed_in: bool = True,
    with_login: bool = False,
    gate: asyncio.Event | None = None,
    demo: bool = False,
) -> tuple[ConsoleServices, FakeEngine]:
    """Services for a test app: a fake engine, paged profiles, a fixed clock, no ticking."""
    clock = FixedClock()
    people = make_profiles(profiles)
    engine = FakeEngine(sample_views(people) if views is None else views, clock=clock)
    header = HeaderInfo("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "global")

    def session() -> Session:
        return Session(engine=engine, profiles=paged_source(people, page_size, gate), header=header)

    login = FakeLogin(session, clock) if with_login else None
    services = ConsoleServices(
        session=session() if signed_in else None, login=login, demo=demo, clock=clock, live_ticks=False
    )
    return services, engine


def load_services(profiles: int, operations: int, clock: Any) -> tuple[ConsoleServices, FakeEngine]:
    """Services under load for the console benchmarks: ``operations`` live views over ``profiles`` profiles.

    ``clock`` runs the app (a real clock, so ticks happen); the engine's views are stamped from a fixed one.
    """
    people = make_profiles(profiles)
    now = clock.now()
    views = [
        view(
            k,
            people[k % len(people)].user_id,
            status=("running", "notStarted", "complete", "failed")[k % 4],
            submitted=now - 600 - k,
            next_poll=now + 30 + k % 60,
            progress=float(k % 100),
        )
        for k in range(1, operations + 1)
    ]
    engine = FakeEngine(views, clock=FixedClock(now))
    session = Session(
        engine=engine,
        profiles=paged_source(people, 500),
        header=HeaderInfo("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com"),
    )
    return ConsoleServices(session=session, clock=clock, live_ticks=True), engine
