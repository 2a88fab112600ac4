"""In-memory services for the console's tests: deterministic, no network, a fixed clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from console.graph.errors import BadRequest, QuotaExceeded
from console.graph.models import InboundSharedUserProfile
from console.ops.engine import AlreadyExporting
from console.ops.events import (
    FINAL,
    REJECTED,
    RESOLVED,
    STOPPED,
    TRACKING,
    UNCONFIRMED,
    ExportTarget,
    Note,
    OperationEvent,
    OperationView,
    PollRecord,
    QuotaReport,
    SubmitFailure,
    SubmitOutcome,
)
from console.sim.profiles import generate_profiles
from console.storage import redact, validate_storage_location
from console.tui.services import (
    CLIENT_SECRET,
    DEVICE_CODE,
    ConsoleServices,
    DeviceCodeHooks,
    HeaderInfo,
    Session,
    SignInMethod,
    TenantChoice,
)

_VIEW_FIELDS = frozenset(f.name for f in fields(OperationView))
"""OperationView's fields in this checkout (the contract adds case, display_name, ... at the end)."""

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
    **extra: Any,
) -> OperationView:
    """One operation view; ``extra`` sets the contract's newer fields (case, display_name, ...) when present."""
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
        **_view_extras(**extra),
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


@dataclass(frozen=True)
class SubmitCall:
    """One call of ``FakeEngine.submit``, as the engine received it (full locations, in memory only)."""

    targets: tuple[Any, ...]
    case: str
    submitted_by: str | None
    force: bool

    @property
    def user_ids(self) -> list[str]:
        return [t.user_id for t in self.targets]

    @property
    def locations(self) -> list[str]:
        return [t.storage_location for t in self.targets]


OPEN_OR_UNCONFIRMED = frozenset({"intent", TRACKING, UNCONFIRMED})
"""States that make a new export of the same user a duplicate (``AlreadyExporting``)."""


class FakeEngine:
    """Matches ``console.ops.engine.OperationsEngine`` as the console uses it (docs/interfaces.md, console/ops)."""

    def __init__(
        self, views: Sequence[OperationView] = (), *, clock: FixedClock | None = None, tenant_key: str = "tenant"
    ) -> None:
        self.tenant_key = tenant_key
        """The tenant key of the operations it creates (several tenants: one fake engine each)."""
        self.views: dict[int, OperationView] = {v.key: v for v in views}
        self.clock = clock or FixedClock()
        self.subscribers: list[Callable[[OperationEvent], None]] = []
        self.posts_in_flight = 0
        self.started = False
        self.stopped = False
        self.submitted: list[tuple[list[str], str]] = []
        """(user ids, the first target's full location) of every submit call."""
        self.calls: list[SubmitCall] = []
        """Every submit call in full (targets, case, submitted_by, force)."""
        self.submit_gate: asyncio.Event | None = None
        self.refuse: dict[str, str] = {}
        """user id -> Graph's error for a refused POST."""
        self.refuse_codes: dict[str, str] = {}
        """user id -> Graph's error code for a refused POST (e.g. StorageLocationAlreadyUsed)."""
        self.tenant_used = 13
        self.per_user_used: dict[str, int] = {}
        self.histories: dict[int, list[PollRecord]] = {}
        self.note_rows: dict[int, list[Any]] = {}
        self.fatal_error: Exception | None = None
        self.identity = "admin@contoso.onmicrosoft.com"

    def subscribe(
        self, callback: Callable[[OperationEvent], None], kinds: Iterable[str] | None = None
    ) -> Callable[[], None]:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback) if callback in self.subscribers else None

    def emit(self, updated: OperationView, kind: str = "status") -> None:
        self.views[updated.key] = updated
        for callback in list(self.subscribers):
            callback(OperationEvent(kind, updated))  # type: ignore[arg-type]

    async def start(self, resume: bool = True) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def wait_until_idle(self) -> None:
        await asyncio.sleep(0)

    def operations(self) -> list[OperationView]:
        return [self.views[k] for k in sorted(self.views)]

    def operation(self, key: int) -> OperationView | None:
        return self.views.get(key)

    async def history(self, key: int) -> list[PollRecord]:
        if key in self.histories:
            return list(self.histories[key])
        base = self.views[key].created_at
        return list(
            [
                PollRecord(base, 202, 60.0, "req-submit-0001", "client-0001", None, None, ""),
                PollRecord(base + 60, 200, 60.0, "req-poll-0002", "client-0002", "notStarted", 0.0, ""),
                PollRecord(
                    base + 120, 429, None, "req-poll-0003", "client-0003", "notStarted", 0.0, "429 Too Many Requests"
                ),
                PollRecord(base + 180, 200, 60.0, "req-poll-0004", "client-0004", "running", 40.0, ""),
            ]
        )

    async def quota(self) -> QuotaReport:
        return QuotaReport(
            tenant_used=self.tenant_used,
            tenant_limit=1000,
            per_user_used=dict(self.per_user_used),
            per_user_limit=100,
        )

    async def check_quota(self, user_ids: Sequence[str]) -> QuotaReport:
        report = await self.quota()
        if len(user_ids) > report.tenant_left:
            raise QuotaExceeded(f"this would pass Graph's limit of {report.tenant_limit} exports a day for the tenant")
        return report

    async def conflicts(self, user_ids: Iterable[str]) -> list[OperationView]:
        wanted = set(user_ids)
        return [v for v in self.operations() if v.user_id in wanted and v.state in OPEN_OR_UNCONFIRMED]

    async def notes(self, key: int) -> list[Any]:
        return list(self.note_rows.get(key, []))

    async def add_note(self, key: int, text: str, author: str | None = None) -> Any:
        rows = self.note_rows.setdefault(key, [])
        note = Note(len(rows) + 1, key, self.clock.now(), author or self.identity, text)
        rows.append(note)
        self.emit(replace(self.views[key], notes=len(rows)), "changed")
        return note

    async def resolve(self, key: int, note: str, author: str | None = None) -> None:
        if self.views[key].state != UNCONFIRMED:
            raise ValueError(f"operation {key} is not unconfirmed")
        await self.add_note(key, note, author)
        self.emit(replace(self.views[key], state=RESOLVED, next_poll_at=None), "changed")

    async def stop_watching(self, key: int) -> None:
        current = self.views[key]
        if current.is_done:
            return
        self.emit(replace(current, state=STOPPED, next_poll_at=None), "changed")

    def unfinished_for(self, user_id: str, storage_location: str) -> list[OperationView]:
        """The pre-contract check (kept for callers not yet moved to ``conflicts``)."""
        safe = redact(storage_location.strip())
        return [v for v in self.views.values() if v.user_id == user_id and v.storage_location == safe and not v.is_done]

    async def submit(
        self,
        targets: Sequence[Any],
        storage_location: str | None = None,
        *,
        case: str = "",
        submitted_by: str | None = None,
        force: bool = False,
    ) -> list[SubmitOutcome]:
        resolved = [
            t if not isinstance(t, str) else ExportTarget(user_id=t, storage_location=storage_location or "")
            for t in targets
        ]
        resolved = [replace(t, storage_location=validate_storage_location(t.storage_location)) for t in resolved]
        user_ids = [t.user_id for t in resolved]
        await self.check_quota(user_ids)
        if not force:
            conflicts = await self.conflicts(user_ids)
            if conflicts:
                raise AlreadyExporting(conflicts)
        self.calls.append(SubmitCall(tuple(resolved), case, submitted_by, force))
        self.submitted.append((user_ids, resolved[0].storage_location if resolved else ""))
        self.posts_in_flight += len(resolved)
        try:
            if self.submit_gate is not None:
                await self.submit_gate.wait()
        finally:
            self.posts_in_flight -= len(resolved)
        outcomes = []
        for target in resolved:
            user_id = target.user_id
            key = max(self.views, default=0) + 1
            extra = _view_extras(
                case=case,
                display_name=target.display_name,
                user_principal_name=target.user_principal_name,
                home_tenant_id=target.home_tenant_id,
                submitted_by=submitted_by or self.identity,
                previous_key=target.previous_key,
            )
            if user_id in self.refuse:
                rejected = replace(
                    view(
                        key,
                        user_id,
                        status=None,
                        state=REJECTED,
                        progress=None,
                        submitted=self.clock.now(),
                        next_poll=None,
                    ),
                    storage_location=redact(target.storage_location),
                    tenant_key=self.tenant_key,
                    last_error=self.refuse[user_id],
                    **extra,
                )
                self.emit(rejected, "rejected")
                code = self.refuse_codes.get(user_id, "")
                exception = BadRequest(self.refuse[user_id], code=code) if code else None
                outcomes.append(_outcome(user_id, rejected, self.refuse[user_id], exception))
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
                storage_location=redact(target.storage_location),
                tenant_key=self.tenant_key,
                **extra,
            )
            self.tenant_used += 1
            self.per_user_used[user_id] = self.per_user_used.get(user_id, 0) + 1
            self.emit(accepted, "submitted")
            outcomes.append(_outcome(user_id, accepted, "", None))
        return outcomes


def _view_extras(**values: Any) -> dict[str, Any]:
    """The OperationView fields of the contract that this checkout's OperationView already has."""
    return {name: value for name, value in values.items() if name in _VIEW_FIELDS}


def _outcome(user_id: str, operation: OperationView, error: str, exception: Exception | None) -> SubmitOutcome:
    return SubmitOutcome(user_id, operation, SubmitFailure(error, exception) if error else None)


class FakeBlobService:
    """Azure Blob as the pre-flight sees it (../shared/graph-api.md, "Azure Blob storage"), over httpx.

    ``missing`` containers answer 404 ContainerNotFound; ``used`` ones hold a RequestInfo.json (an
    earlier export). Every request is kept, to prove the SAS alone is sent (no bearer token).
    """

    def __init__(self) -> None:
        self.missing: set[str] = set()
        self.used: set[str] = set()
        self.unreachable = False
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.unreachable:
            raise httpx.ConnectError("storage unreachable", request=request)
        parts = [p for p in request.url.path.split("/") if p]
        container = parts[0] if parts else ""
        if container in self.missing:
            return _blob_error(404, "ContainerNotFound", "The specified container does not exist.")
        blob = "/".join(parts[1:])
        if blob:
            if blob == "RequestInfo.json" and container in self.used:
                return httpx.Response(200, headers={"content-length": "2"})
            return _blob_error(404, "BlobNotFound", "The specified blob does not exist.")
        prefix = request.url.params.get("prefix", "")
        names = ["RequestInfo.json"] if container in self.used else []
        names = [n for n in names if n.startswith(prefix)]
        blobs = "".join(
            f"<Blob><Name>{n}</Name><Properties><Content-Length>2</Content-Length></Properties></Blob>" for n in names
        )
        body = f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>{blobs}</Blobs></EnumerationResults>'
        return httpx.Response(200, text=body, headers={"content-type": "application/xml"})


def _blob_error(status: int, code: str, message: str) -> httpx.Response:
    body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return httpx.Response(status, text=body, headers={"x-ms-error-code": code, "content-type": "application/xml"})


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
        self, tenant: TenantChoice, method: SignInMethod, hooks: DeviceCodeHooks, secret: str = ""
    ) -> Session:
        if method.id == "client_secret":
            if secret != "s3cret":
                raise ValueError("Entra refused the client secret (AADSTS7000215): check it and try again.")
            return self.session_factory()
        self.prompts += 1
        hooks.on_prompt(FakePrompt(self.clock))
        while not self.approved.is_set():
            if hooks.cancel.is_set():
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
    blob: FakeBlobService | None = None,
    people: list[InboundSharedUserProfile] | None = None,
) -> tuple[ConsoleServices, FakeEngine]:
    """Services for a test app: a fake engine, paged profiles, a fixed clock, no ticking.

    Storage pre-flight goes to ``blob`` (a fresh FakeBlobService when None): never to the network.
    """
    blob_service = blob or FakeBlobService()
    clock = FixedClock()
    people = make_profiles(profiles) if people is None else people
    engine = FakeEngine(sample_views(people) if views is None else views, clock=clock)
    header = HeaderInfo("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "global")

    def session() -> Session:
        opened = Session(engine=engine, profiles=paged_source(people, page_size, gate), header=header)
        # The session's storage transport (docs/interfaces.md, wiring): the pre-flight's only way out.
        opened.storage_transport = blob_service.transport()  # type: ignore[attr-defined, unused-ignore]
        return opened

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
