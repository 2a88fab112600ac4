"""The pulse of each tenant (issue 18): one line of figures per tenant, without Textual.

``PulseBoard`` reads each tenant's engine (``polling_status()``, ``quota()``, ``requests_this_hour()``, its
operations) and gives one ``console.ops.fleet.TenantPulse`` per tenant: the figures by
``console.ops.fleet.journal_figures``, as ``ops --summary``'s;
``pulse_lines`` writes them for the strip, one line per tenant or, at 80x24, every tenant on one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from console.ops.events import OperationView, QuotaReport
from console.ops.fleet import TenantPulse, journal_figures, tenant_pulse
from console.tui.cells import running_label
from console.tui.services import Session
from console.tui.tenants import Sessions, tenant_key_of, tenant_name_of

COMPACT_SEPARATOR = " │ "
"""Between two tenants in the one-line strip."""


def _state(blocked: str, throttled_until: float | None) -> str:
    if blocked:
        lowered = blocked.lower()
        return "sign-in failed" if ("401" in lowered or "sign" in lowered or "token" in lowered) else "set aside"
    return "throttled" if throttled_until is not None else "ok"


def pulse_of(name: str, engine: Any, quota: QuotaReport | None, now: float, polls: int | None = None) -> TenantPulse:
    """One tenant's pulse: ``journal_figures`` of its engine's operations, its ledger's ``polls`` (else this
    process's) and ``quota``, plus what only the engine knows (a test's fake without ``polling_status``: idle)."""
    read = getattr(engine, "polling_status", None)
    status = read() if read is not None else None
    views = list(engine.operations())
    throttled = status.throttled_until if status is not None else None
    if throttled is not None and throttled <= now:
        throttled = None
    blocked = status.blocked if status is not None else ""
    errors = [view.last_error for view in views if view.last_error]
    if polls is None:
        polls = status.requests_this_hour if status is not None else 0
    used = quota.tenant_used if quota is not None else None
    return tenant_pulse(
        name,
        journal_figures(views, polls_this_hour=polls, exports_used_today=used),
        poll_budget=status.per_hour if status is not None else 0,
        signed_in=not blocked,
        state=_state(blocked, throttled),
        throttled_until=throttled,
        last_error=blocked or (errors[-1] if errors else ""),
    )


SIGNED_OUT = "signed out"
"""The state of a tenant signed out of in this console (its line stays, nothing is polled)."""


class _Left:
    """A tenant signed out of, as ``pulse_of`` reads it: its operations as they were, and its stopped
    engine's last polling status (its budget and the polls spent this hour)."""

    def __init__(self, table_engine: Any, session: Session) -> None:
        key = tenant_key_of(session)
        self._views = [v for v in getattr(table_engine, "left", {}).values() if v.tenant_key == key]
        self._engine = session.engine

    def operations(self) -> list[OperationView]:
        return self._views

    def polling_status(self) -> Any:
        read = getattr(self._engine, "polling_status", None)
        return read() if read is not None else None


class PulseBoard:
    """Every open tenant's pulse, with each tenant's exports left today as last read from the journal.

    Args:
        sessions: the open tenants.
        now: the console's clock.
    """

    def __init__(self, sessions: Sessions, now: Callable[[], float]) -> None:
        self.sessions = sessions
        self.now = now
        self.quotas: dict[str, QuotaReport] = {}
        """Each tenant's quota, by name (read again after every batch of operations)."""
        self.polls: dict[str, int] = {}
        """Each tenant's requests in its ledger this hour, by name (read with the quotas)."""

    def pulses(self) -> list[TenantPulse]:
        now = self.now()
        pulses = []
        for session in self.sessions:
            name = tenant_name_of(session)
            if name in self.sessions.signed_out:  # its operations as they were; nothing polled
                left = _Left(self.sessions.table_session.engine, session)
                pulse = pulse_of(name, left, self.quotas.get(name), now, self.polls.get(name))
                pulse = replace(pulse, signed_in=False, state=SIGNED_OUT, throttled_until=None, last_error="")
            else:
                pulse = pulse_of(name, session.engine, self.quotas.get(name), now, self.polls.get(name))
            pulses.append(pulse)
        return pulses

    async def read_quotas(self) -> None:
        """Read each tenant's exports left today (the journal is read on the engine's thread)."""
        for session in self.sessions.live:
            quota = getattr(session.engine, "quota", None)
            if quota is not None:
                self.quotas[tenant_name_of(session)] = await quota()
            ledger = getattr(session.engine, "requests_this_hour", None)
            if ledger is not None:
                self.polls[tenant_name_of(session)] = await ledger()


def _state_text(pulse: TenantPulse, now: float) -> str:
    if pulse.state == "throttled" and pulse.throttled_until is not None:
        return f"throttled {running_label(max(0.0, pulse.throttled_until - now))}"
    return pulse.state if pulse.signed_in or pulse.state != "ok" else "signed out"


def pulse_line(pulse: TenantPulse, now: float, name_width: int) -> str:
    """``contoso    ok  polls 12/10,000 this hour · 988 exports left today · 12 unfinished · 1 failed · oldest 4m``."""
    left = f"{pulse.exports_left_today:,}" if pulse.exports_left_today >= 0 else "…"
    parts = [
        f"{pulse.tenant:<{name_width}}  {_state_text(pulse, now):<14}",
        f"polls {pulse.polls_this_hour:,}/{pulse.poll_budget:,} this hour",
        f"{left} exports left today",
        f"{pulse.unfinished:,} unfinished",
        f"{pulse.failed:,} failed",
    ]
    if pulse.oldest_running_since is not None:
        parts.append(f"oldest {running_label(max(0.0, now - pulse.oldest_running_since))}")
    return " · ".join(parts)


_SHORT_STATES = {"throttled": "thr", "signed out": "out", "sign-in failed": "fail", "set aside": "aside"}
"""The state's word when even the short one-line strip does not fit."""

COMPACT_DETAIL = 3
"""The most a tenant says in the one-line strip; ``compact_items`` picks the most that fits."""


def compact_item(pulse: TenantPulse, now: float, detail: int = COMPACT_DETAIL) -> str:
    """``fabrikam throttled 40s 4▸ 1✗ 58/9k 988 left``: one tenant in the one-line strip (▸ unfinished,
    ✗ failed, then polls this hour against its budget and exports left today). A lower ``detail`` drops
    the exports left (2), then shortens the state's word (1: ``thr 40s``), then drops the polls (0)."""
    state = _state_text(pulse, now)
    if detail <= 1:
        word, _, rest = state.partition(" ") if pulse.state == "throttled" else (state, "", "")
        state = " ".join(part for part in (_SHORT_STATES.get(word, word), rest) if part)
    text = f"{pulse.tenant} {state} {pulse.unfinished}▸"
    if pulse.failed:
        text += f" {pulse.failed}✗"
    if detail >= 1:
        text += f" {pulse.polls_this_hour}/{_short(pulse.poll_budget)}"
    if detail >= 3 and pulse.exports_left_today >= 0:
        text += f" {pulse.exports_left_today:,} left"
    return text


def compact_items(pulses: Sequence[TenantPulse], now: float, width: int | None) -> list[str]:
    """Each tenant's part of the one-line strip, with the most detail at which they all fit on one line of
    ``width`` cells (the least detail when none does)."""
    for detail in range(COMPACT_DETAIL, 0, -1):
        items = [compact_item(pulse, now, detail) for pulse in pulses]
        line = COMPACT_SEPARATOR.join(items)
        if width is None or len(line) <= width:
            return items
    return [compact_item(pulse, now, 0) for pulse in pulses]


def _short(number: int) -> str:
    """``9k`` for 9,000, ``120`` for 120 (the one-line strip is tight at 80 columns)."""
    return f"{number // 1000}k" if number >= 1000 and number % 1000 == 0 else str(number)


def pulse_lines(pulses: Sequence[TenantPulse], now: float, *, compact: bool, width: int | None = None) -> list[str]:
    """The strip's text: one line per tenant, or (``compact``) every tenant on one line, with as much
    detail as ``width`` holds."""
    if compact:
        return [COMPACT_SEPARATOR.join(compact_items(pulses, now, width))]
    width = max((len(pulse.tenant) for pulse in pulses), default=0)
    return [pulse_line(pulse, now, width) for pulse in pulses]
