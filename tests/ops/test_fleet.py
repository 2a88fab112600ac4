"""``console.ops.fleet``: each tenant's health (set aside with a back-off, never retried in a tight loop)
and its pulse, computed from the shared journal (every process's rows, ledger and quota)."""

from __future__ import annotations

from pathlib import Path

from console.clock import ManualClock
from console.graph.models import DataPolicyOperation
from console.ops.fleet import (
    PULSE_FIELDS,
    SET_ASIDE_AFTER,
    SET_ASIDE_START,
    Fleet,
    TenantHealth,
    pulse_from_journal,
    tenants_with_unfinished,
)
from console.ops.journal import OperationJournal

T0 = 1_800_000_000.0


def test_repeated_failures_set_a_tenant_aside_with_a_growing_back_off() -> None:
    health = TenantHealth(signed_in=True)
    for _ in range(SET_ASIDE_AFTER - 1):
        health.failed("503 from Graph", T0)
    assert not health.set_aside(T0) and health.may_retry(T0)
    health.failed("503 from Graph", T0)
    assert health.set_aside(T0) and not health.may_retry(T0 + SET_ASIDE_START - 1)
    first = health.set_aside_until
    health.failed("503 again", T0)
    assert health.set_aside_until is not None and first is not None and health.set_aside_until > first
    assert health.may_retry(T0 + 3600 + 1)
    health.succeeded(sign_in=True)
    assert health.errors == 0 and health.may_retry(T0)


def test_a_failed_sign_in_is_set_aside_at_once_and_its_error_is_redacted() -> None:
    clock = ManualClock(T0)
    fleet = Fleet(clock)
    member = fleet.sign_in_failed("beta", "401 for https://x.blob.core.windows.net/c?sig=SECRETSIG1", poll_budget=50)
    assert member.health.set_aside(clock.now()) and "SECRETSIG1" not in member.health.last_error
    assert [m.name for m in fleet.set_aside()] == ["beta"] and fleet.active() == []
    clock.advance(SET_ASIDE_START + 1)
    assert member.health.may_retry(clock.now())


def test_the_pulse_counts_one_tenant_only(tmp_path: Path) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    try:
        for n in range(3):
            journal.record_intent("tenant-a", f"user-{n}", "https://acct/c", T0 + n)
        journal.record_intent("tenant-b", "user-9", "https://acct/c", T0 + 5)
        journal.recover_intents("tenant-b", T0 + 6)
        (row,) = journal.rows("tenant-b")
        failed = DataPolicyOperation(
            id="op-1",
            status="failed",
            progress=None,
            storage_location="https://acct/c",
            user_id="user-9",
            submitted=None,
            completed=None,
        )
        journal.confirm(row.key, failed, "https://graph/op-1", note="found", author="test", at=T0 + 7)
        a = pulse_from_journal(journal, "tenant-a", "alpha", now=T0 + 10, poll_budget=100)
        b = pulse_from_journal(journal, "tenant-b", "beta", now=T0 + 10, poll_budget=100)
        assert tuple(a.to_json()) == PULSE_FIELDS
        assert (a.tenant, a.unfinished, a.failed, a.oldest_running_since) == ("alpha", 3, 0, T0)
        assert (b.unfinished, b.failed, b.oldest_running_since) == (0, 1, None)
        assert a.exports_left_today == 997 and b.exports_left_today == 999
        assert a.state == "ok" and not a.signed_in
        assert tenants_with_unfinished(journal) == {"tenant-a"}
        health = TenantHealth()
        health.failed("AADSTS700016", T0, sign_in=True)
        aside = pulse_from_journal(journal, "tenant-a", "alpha", now=T0 + 1, poll_budget=100, health=health)
        assert aside.state == "sign-in failed" and aside.last_error == "AADSTS700016"
        throttled = pulse_from_journal(journal, "tenant-a", "alpha", now=T0, poll_budget=100, throttled_until=T0 + 30)
        assert throttled.state == "throttled" and throttled.throttled_until == T0 + 30
    finally:
        journal.close()


def test_the_pulses_exports_left_today_count_the_last_24_hours_not_12(tmp_path: Path) -> None:
    journal = OperationJournal(tmp_path / "journal.sqlite3")
    try:
        now = T0 + 25 * 3600
        journal.record_intent("tenant-a", "user-yesterday", "https://acct/c", now - 25 * 3600)  # a day ago: not counted
        journal.record_intent("tenant-a", "user-this-morning", "https://acct/c", now - 13 * 3600)
        journal.record_intent("tenant-a", "user-now", "https://acct/c", now - 60)
        pulse = pulse_from_journal(journal, "tenant-a", "alpha", now=now, poll_budget=100)
        assert pulse.exports_left_today == 998
    finally:
        journal.close()
