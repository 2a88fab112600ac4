"""Several tenants in one process: one engine per tenant, each tenant's health, and its pulse.

Below the UI (no Textual, no CLI): the console and the headless commands both hold a ``Fleet``.
Each tenant keeps its own engine (its own client, pacer, budget and leases; the journal and its
ledger are shared and keyed by tenant). A tenant whose sign-in fails, or whose polling keeps
failing, is *set aside*: its operations stay in the journal, and it is not tried again before a
back-off (doubling from ``SET_ASIDE_START`` up to ``SET_ASIDE_CAP``): never in a tight loop.

The *pulse* of a tenant is what one line of the pulse strip (and a row of ``ops --summary``) shows:
sign-in state, polls this hour against its budget, exports left today, throttled now or not,
unfinished, failed, the oldest running. ``journal_figures`` is the one computation of the figures the
journal holds (``ops --summary``'s ``pulse_from_journal`` reads them from the journal alone; the console's
strip from its live engines, ``console.tui.pulse``); ``tenant_pulse`` adds what only the live side knows
(sign-in state, throttled now).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from console.ops.budget import EXPORTS_PER_TENANT_PER_DAY
from console.ops.events import OPEN_STATES, OperationView
from console.ops.vocabulary import matches_status

if TYPE_CHECKING:
    from console.clock import Clock
    from console.ops.engine import OperationsEngine
    from console.ops.journal import OperationJournal

DAY = 86400.0
SET_ASIDE_AFTER = 3
"""Failures in a row (sign-in or polling) after which a tenant is set aside."""
SET_ASIDE_START = 60.0
"""The first set-aside back-off (seconds); it doubles with each further failure."""
SET_ASIDE_CAP = 3600.0
"""The longest set-aside back-off (seconds)."""

OK = "ok"
THROTTLED = "throttled"
SIGN_IN_FAILED = "sign-in failed"
SET_ASIDE = "set aside"
PULSE_FIELDS = (
    "tenant",
    "signed_in",
    "state",
    "polls_this_hour",
    "poll_budget",
    "exports_left_today",
    "throttled_until",
    "unfinished",
    "failed",
    "oldest_running_since",
    "last_error",
)
"""``TenantPulse``'s fields, in order (the columns of ``ops --summary``)."""


@dataclass(frozen=True)
class TenantPulse:
    """One tenant's figures: a line of the pulse strip, a row of ``ops --summary``."""

    tenant: str
    """The saved tenant's name."""
    signed_in: bool
    """Whether this process holds a usable sign-in for it."""
    state: str
    """``ok``, ``throttled``, ``sign-in failed`` or ``set aside``."""
    polls_this_hour: int
    """Requests every process spent from its budget in the last hour (the shared ledger)."""
    poll_budget: int
    """Requests an hour allowed for it."""
    exports_left_today: int
    """Exports left under Graph's daily limit (last 24 h)."""
    throttled_until: float | None
    """Epoch seconds until which Graph's throttling holds its requests back, or None."""
    unfinished: int
    """Submitting, tracking or unconfirmed operations."""
    failed: int
    """Operations Graph says failed."""
    oldest_running_since: float | None
    """When the oldest unfinished operation was recorded (epoch seconds), or None."""
    last_error: str = ""
    """The last sign-in or polling error (redacted), or ''."""

    def to_json(self) -> dict[str, Any]:
        """The pulse as one JSON object (``ops --summary --json``), with exactly ``PULSE_FIELDS``."""
        return asdict(self)


@dataclass
class TenantHealth:
    """Sign-in state, error count and last error of one tenant, and whether it is set aside."""

    signed_in: bool = False
    errors: int = 0
    """Failures in a row (0 after a success)."""
    last_error: str = ""
    set_aside_until: float | None = None
    """While set aside: when it may be tried again (epoch seconds)."""
    sign_in_failed: bool = False

    def failed(self, error: str, now: float, *, sign_in: bool = False) -> None:
        """Count a failure; the ``SET_ASIDE_AFTER``-th in a row (or any sign-in failure) sets it aside."""
        from console.redact import redact

        self.errors += 1
        self.last_error = redact(error)
        if sign_in:
            self.signed_in = False
            self.sign_in_failed = True
        if sign_in or self.errors >= SET_ASIDE_AFTER:
            self.set_aside_until = now + self.backoff()

    def succeeded(self, *, sign_in: bool = False) -> None:
        """A success: the count starts again; a sign-in also ends the set-aside."""
        self.errors = 0
        if sign_in:
            self.signed_in = True
            self.sign_in_failed = False
            self.set_aside_until = None

    def backoff(self) -> float:
        """How long it is set aside after this many failures: doubling, capped."""
        steps = max(0, self.errors - 1)
        return float(min(SET_ASIDE_CAP, SET_ASIDE_START * (2 ** min(steps, 16))))

    def set_aside(self, now: float) -> bool:
        """Whether it is set aside now."""
        return self.set_aside_until is not None and now < self.set_aside_until

    def may_retry(self, now: float) -> bool:
        """Whether it may be tried again now (never in a tight loop: only after the back-off)."""
        return not self.set_aside(now)


def count_operations(views: Iterable[OperationView]) -> tuple[int, int, float | None]:
    """Unfinished, failed, and when the oldest unfinished was recorded (or None), of these views."""
    unfinished = failed = 0
    oldest: float | None = None
    for view in views:
        if matches_status(view, "unfinished"):
            unfinished += 1
            if view.state in OPEN_STATES and (oldest is None or view.created_at < oldest):
                oldest = view.created_at
        elif matches_status(view, "failed"):
            failed += 1
    return unfinished, failed, oldest


def pulse_state(health: TenantHealth, throttled_until: float | None, now: float) -> str:
    """The pulse's short state word."""
    if health.set_aside(now):
        return SIGN_IN_FAILED if health.sign_in_failed else SET_ASIDE
    if health.sign_in_failed:
        return SIGN_IN_FAILED
    if throttled_until is not None and throttled_until > now:
        return THROTTLED
    return OK


@dataclass(frozen=True)
class JournalFigures:
    """A tenant's figures as the journal holds them (every process's rows, ledger and quota): what
    ``ops --summary`` and the console's pulse strip both show, computed by ``journal_figures`` alone."""

    polls_this_hour: int
    exports_left_today: int
    """-1 while not read yet."""
    unfinished: int
    failed: int
    oldest_running_since: float | None


def journal_figures(
    views: Iterable[OperationView], *, polls_this_hour: int, exports_used_today: int | None
) -> JournalFigures:
    """The one computation of a tenant's journal figures, for ``ops --summary`` and the pulse strip alike.

    Args:
        views: its operations (a live engine's, or the journal's rows: the same operations).
        polls_this_hour: requests its ledger counts in the last hour (every process).
        exports_used_today: its exports of the last 24 hours (None: not read yet).
    """
    unfinished, failed, oldest = count_operations(views)
    left = -1 if exports_used_today is None else max(0, EXPORTS_PER_TENANT_PER_DAY - exports_used_today)
    return JournalFigures(polls_this_hour, left, unfinished, failed, oldest)


def read_journal_figures(
    journal: OperationJournal, tenant_key: str | None, now: float, views: Sequence[OperationView] | None = None
) -> JournalFigures:
    """``journal_figures`` read from the journal: its ledger, its exports of the day, and its rows (or ``views``).

    ``tenant_key`` None (not known yet): every figure zero.
    """
    if tenant_key is None:
        return journal_figures((), polls_this_hour=0, exports_used_today=0)
    used = sum(journal.exports_since(tenant_key, now - DAY).values())
    spent = journal.requests_in_last_hour(tenant_key, now)
    if views is None:
        views = [row.view() for row in journal.rows(tenant_key)]
    return journal_figures(views, polls_this_hour=spent, exports_used_today=used)


def tenant_pulse(
    name: str,
    figures: JournalFigures,
    *,
    poll_budget: int,
    signed_in: bool,
    state: str,
    throttled_until: float | None,
    last_error: str,
) -> TenantPulse:
    """A tenant's pulse: the journal's figures, and what only the live side knows (sign-in, state, throttling)."""
    return TenantPulse(
        tenant=name,
        signed_in=signed_in,
        state=state,
        polls_this_hour=figures.polls_this_hour,
        poll_budget=poll_budget,
        exports_left_today=figures.exports_left_today,
        throttled_until=throttled_until,
        unfinished=figures.unfinished,
        failed=figures.failed,
        oldest_running_since=figures.oldest_running_since,
        last_error=last_error,
    )


def pulse_from_journal(
    journal: OperationJournal,
    tenant_key: str | None,
    name: str,
    *,
    now: float,
    poll_budget: int,
    health: TenantHealth | None = None,
    throttled_until: float | None = None,
    views: Sequence[OperationView] | None = None,
) -> TenantPulse:
    """A tenant's pulse from the journal (every process's rows, ledger and quota), without signing in.

    Args:
        journal: the shared journal.
        tenant_key: the tenant's key in the journal (None: not known yet, figures are zero).
        name: the saved tenant's name.
        now: epoch seconds.
        poll_budget: its requests an hour.
        health: its sign-in state and errors (None: not signed in by this process, no error).
        throttled_until: when Graph's throttling ends for it (None: not throttled).
        views: its operations when the caller holds them (an engine's), else read from the journal.
    """
    health = health or TenantHealth()
    if throttled_until is not None and throttled_until <= now:
        throttled_until = None
    return tenant_pulse(
        name,
        read_journal_figures(journal, tenant_key, now, views),
        poll_budget=poll_budget,
        signed_in=health.signed_in,
        state=pulse_state(health, throttled_until, now),
        throttled_until=throttled_until,
        last_error=health.last_error,
    )


def journal_tenant_keys(journal: OperationJournal) -> list[str]:
    """Every tenant key the journal has operations of."""
    return [str(key) for (key,) in journal.connection.fetch("SELECT DISTINCT tenant_key FROM operations")]


def tenants_with_unfinished(journal: OperationJournal) -> set[str]:
    """The tenant keys with unfinished (submitting, tracking or unconfirmed) operations."""
    found: set[str] = set()
    for key in journal_tenant_keys(journal):
        if count_operations(row.view() for row in journal.rows(key))[0]:
            found.add(key)
    return found


@dataclass
class Member:
    """One tenant of the fleet: its name, key, engine (None until signed in) and health."""

    name: str
    tenant_key: str | None = None
    engine: OperationsEngine | None = None
    health: TenantHealth = field(default_factory=TenantHealth)
    poll_budget: int = 0


class Fleet:
    """One engine per tenant, with each tenant's health: what both front ends hold for several tenants.

    Args:
        clock: where time comes from (set-aside back-offs, pulses).
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._members: dict[str, Member] = {}

    def __iter__(self) -> Iterator[Member]:
        return iter(self._members.values())

    def __len__(self) -> int:
        return len(self._members)

    @property
    def names(self) -> list[str]:
        """The tenants' names, in the order they were added."""
        return list(self._members)

    def member(self, name: str) -> Member:
        """The member named ``name`` (KeyError when there is none)."""
        return self._members[name]

    def add(self, name: str, engine: OperationsEngine, *, poll_budget: int | None = None) -> Member:
        """A signed-in tenant and its engine (its health: signed in, no error)."""
        member = self._members.get(name) or Member(name)
        member.engine = engine
        member.tenant_key = engine.tenant_key
        member.poll_budget = poll_budget if poll_budget is not None else engine.budget.per_hour
        member.health.succeeded(sign_in=True)
        self._members[name] = member
        return member

    def sign_in_failed(self, name: str, error: str, *, poll_budget: int = 0, tenant_key: str | None = None) -> Member:
        """A tenant whose sign-in failed: named, set aside (with its back-off), its operations left alone."""
        member = self._members.get(name) or Member(name, tenant_key=tenant_key, poll_budget=poll_budget)
        member.health.failed(error, self.clock.now(), sign_in=True)
        self._members[name] = member
        return member

    def polling_failed(self, name: str, error: str) -> None:
        """A polling failure of a tenant (a 401/403, the ledger): counted; repeated ones set it aside."""
        self._members[name].health.failed(error, self.clock.now())

    def active(self) -> list[Member]:
        """The members with an engine that are not set aside now."""
        now = self.clock.now()
        return [m for m in self._members.values() if m.engine is not None and not m.health.set_aside(now)]

    def set_aside(self) -> list[Member]:
        """The members set aside now (or never signed in)."""
        now = self.clock.now()
        return [m for m in self._members.values() if m.engine is None or m.health.set_aside(now)]

    def pulse(self, name: str, journal: OperationJournal) -> TenantPulse:
        """The pulse of one tenant: the journal's figures plus what its engine knows (throttling)."""
        member = self._members[name]
        engine = member.engine
        throttled: float | None = None
        views: list[OperationView] | None = None
        if engine is not None:
            gate = float(getattr(engine.client.pacer, "gate_until", 0.0) or 0.0)
            throttled = gate if gate > self.clock.now() else None
            if engine.running:
                views = engine.operations()
        return pulse_from_journal(
            journal,
            member.tenant_key,
            name,
            now=self.clock.now(),
            poll_budget=member.poll_budget,
            health=member.health,
            throttled_until=throttled,
            views=views,
        )

    def pulses(self, journal: OperationJournal) -> list[TenantPulse]:
        """Every tenant's pulse, in the order they were added."""
        return [self.pulse(name, journal) for name in self._members]
