from __future__ import annotations

import random

import pytest

from console.graph.retry import MAX_RETRY_AFTER, backoff_delay, is_absurd, parse_retry_after, retry_after_delta

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60", 60.0),
        ("2.128", 2.128),  # Microsoft's own fractional sample
        (60, 60.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("-5", 0.0),  # negative: never "poll in the past"
        ("999999", MAX_RETRY_AFTER),  # absurd: clamped
        ("abc", None),
        ("", None),
        (None, None),
        (True, None),
        ("nan", None),
    ],
)
def test_delta_seconds(value: object, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_http_date_is_relative_to_now() -> None:
    from email.utils import formatdate

    header = formatdate(NOW + 30, usegmt=True)
    assert parse_retry_after(header, NOW) == pytest.approx(30.0)
    past = formatdate(NOW - 30, usegmt=True)
    assert parse_retry_after(past, NOW) == 0.0


def test_backoff_grows_is_jittered_and_capped() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, start=3, cap=180, rng=rng) for n in range(1, 12)]
    assert 1.5 <= delays[0] <= 3
    assert all(d <= 180 for d in delays)
    assert delays[-1] >= 90  # reached the cap region
    assert len({round(d, 6) for d in delays}) == len(delays)  # jitter: no two identical


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nan", None),
        (float("nan"), None),
        ("inf", float("inf")),  # absurd: the client reports it as that request's error
        ("-inf", 0.0),
        ("1e9", 1e9),
        (-3, 0.0),
        ("7200", 7200.0),
        ("Mon, 99 Foo 2026 25:61:00 GMT", None),  # a broken HTTP-date is no Retry-After
    ],
)
def test_retry_after_delta_keeps_absurd_values_visible(value: object, expected: float | None) -> None:
    assert retry_after_delta(value, NOW) == expected


def test_absurd_means_above_the_hour() -> None:
    assert not is_absurd(None) and not is_absurd(3600.0)
    assert is_absurd(3600.5) and is_absurd(float("inf"))
    assert parse_retry_after("1e9", NOW) == MAX_RETRY_AFTER
    assert parse_retry_after("inf", NOW) == MAX_RETRY_AFTER


def test_far_future_http_date_is_absurd() -> None:
    assert is_absurd(retry_after_delta("Fri, 01 Jan 2100 00:00:00 GMT", NOW))
