"""Deadline arithmetic of data-subject request cases (console/ops/cases.py): EU Regulation 1182/71 month ends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from console.ops.cases import (
    CLOSED,
    OPEN,
    OVERDUE,
    CaseError,
    add_months,
    case_state,
    check_due,
    days_left,
    default_due,
    latest_due,
    parse_date,
    utc_date,
)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-01-15", "2026-02-15"),
        ("2026-01-28", "2026-02-28"),
        ("2026-01-29", "2026-02-28"),
        ("2026-01-30", "2026-02-28"),
        ("2026-01-31", "2026-02-28"),
        ("2028-01-31", "2028-02-29"),  # leap year
        ("2028-01-29", "2028-02-29"),
        ("2100-01-31", "2100-02-28"),  # not a leap year (divisible by 100)
        ("2000-01-31", "2000-02-29"),  # a leap year (divisible by 400)
        ("2026-03-31", "2026-04-30"),
        ("2026-05-31", "2026-06-30"),
        ("2026-08-31", "2026-09-30"),
        ("2026-10-31", "2026-11-30"),
        ("2026-12-31", "2027-01-31"),  # over the year end
        ("2026-12-01", "2027-01-01"),
        ("2028-02-29", "2028-03-29"),
        ("2026-02-28", "2026-03-28"),
        ("2026-07-31", "2026-08-31"),
    ],
)
def test_due_is_one_calendar_month_later_or_the_months_last_day(received: str, due: str) -> None:
    assert default_due(date.fromisoformat(received)) == date.fromisoformat(due)


@pytest.mark.parametrize(
    ("received", "latest"),
    [
        ("2026-01-15", "2026-04-15"),
        ("2026-11-30", "2027-02-28"),
        ("2027-11-30", "2028-02-29"),  # leap year
        ("2026-11-29", "2027-02-28"),
        ("2026-12-31", "2027-03-31"),
        ("2026-01-31", "2026-04-30"),
        ("2026-03-31", "2026-06-30"),
        ("2026-10-31", "2027-01-31"),
    ],
)
def test_an_extension_reaches_at_most_three_calendar_months(received: str, latest: str) -> None:
    assert latest_due(date.fromisoformat(received)) == date.fromisoformat(latest)


def test_add_months_from_a_31st_always_ends_on_the_months_last_day() -> None:
    start = date(2024, 1, 31)
    for months in range(60):
        moved = add_months(start, months)
        assert (moved.year * 12 + moved.month) - (2024 * 12 + 1) == months
        assert (moved + timedelta(days=1)).day == 1  # the day after is the 1st: the month's last day


def test_check_due_refuses_before_receipt_and_past_three_months() -> None:
    received = date(2026, 1, 31)
    check_due(received, received)
    check_due(received, date(2026, 4, 30))
    with pytest.raises(CaseError, match="before the request was received"):
        check_due(received, date(2026, 1, 30))
    with pytest.raises(CaseError, match="three months"):
        check_due(received, date(2026, 5, 1))


def test_days_left_and_the_overdue_state_use_calendar_dates() -> None:
    due = date(2026, 12, 31)
    assert days_left(due, date(2026, 12, 1)) == 30
    assert days_left(due, due) == 0
    assert days_left(due, date(2027, 1, 2)) == -2
    assert case_state(OPEN, due, due) == OPEN  # due today is not yet overdue
    assert case_state(OPEN, due, date(2027, 1, 1)) == OVERDUE
    assert case_state(CLOSED, due, date(2027, 1, 1)) == CLOSED


def test_utc_date_is_the_utc_calendar_day_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        assert utc_date(1_798_761_599.0) == date(2026, 12, 31)  # 2026-12-31T23:59:59Z
        assert utc_date(1_798_761_600.0) == date(2027, 1, 1)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize(
    "text", ["2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", "tomorrow", "", "2026-01-01T00:00"]
)
def test_parse_date_refuses_what_is_not_a_calendar_date(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(text)
