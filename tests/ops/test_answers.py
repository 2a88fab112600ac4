"""Graph's answer to a poll -> the operation's next step: the pure rules, without the simulator."""

from __future__ import annotations

from console.graph import errors
from console.ops.answers import (
    AUTH_RETRY_INTERVAL,
    ERROR_BACKOFF_CAP,
    ERROR_BACKOFF_START,
    PERMANENT_ERROR_LIMIT,
    UNKNOWN_STATUS_MAX_INTERVAL,
    UNKNOWN_STATUS_POLL_LIMIT,
    Streaks,
    after_answer,
    after_failure,
)
from console.ops.events import ERROR, FINAL
from console.ops.schedule import MIN_POLL_INTERVAL


def test_a_final_status_ends_the_operation() -> None:
    for status in ("complete", "failed"):
        step = after_answer(status, 60.0, Streaks(errors=3))
        assert step.end == FINAL and step.streaks == Streaks()


def test_a_running_status_polls_again_at_its_retry_after_and_ends_every_streak() -> None:
    step = after_answer("running", 45.0, Streaks(errors=4, refusals=2, unknown=7))
    assert step.end is None and step.retry_after == 45.0 and step.floor == 0.0
    assert step.streaks == Streaks(), "a success starts the next failure's back-off short again"
    assert after_answer("notStarted", None, Streaks()).retry_after is None  # the documented default applies later


def test_an_unknown_status_is_polled_backing_off_then_given_up_with_a_reason() -> None:
    first = after_answer("paused", 30.0, Streaks(errors=2))
    assert first.end is None and first.retry_after == 30.0 and first.streaks == Streaks(unknown=1)
    assert first.floor == MIN_POLL_INTERVAL * 2
    floors = [after_answer("paused", 30.0, Streaks(unknown=n)).floor for n in range(1, 20)]
    assert floors == sorted(floors) and max(floors) == UNKNOWN_STATUS_MAX_INTERVAL
    last = after_answer("paused", 30.0, Streaks(unknown=UNKNOWN_STATUS_POLL_LIMIT - 1))
    assert last.end == ERROR and last.error is not None
    assert "'paused'" in last.error and f"{UNKNOWN_STATUS_POLL_LIMIT} polls" in last.error


def test_a_missing_operation_or_an_unusable_location_ends_it_in_error() -> None:
    for exc in (errors.NotFound("gone", status=404), errors.UnsafeRedirect("not Graph")):
        step = after_failure(exc, Streaks(errors=1), "text")
        assert step.end == ERROR and step.error is None and not step.fatal


def test_a_401_or_403_is_fatal_and_waits_the_sign_in_interval() -> None:
    for exc in (
        errors.AuthenticationError("expired", status=401),
        errors.PermissionDenied("no role", status=403, retry_after=10.0),
    ):
        step = after_failure(exc, Streaks(errors=2), "text")
        assert step.fatal and step.end is None
        assert step.floor == AUTH_RETRY_INTERVAL and step.retry_after == exc.retry_after
        assert step.streaks == Streaks(errors=2), "a 401/403 neither grows nor ends a streak"


def test_a_permanent_4xx_is_tried_a_bounded_number_of_times_then_kept_as_the_error() -> None:
    exc = errors.BadRequest("bad", status=400)
    streaks = Streaks()
    for n in range(1, PERMANENT_ERROR_LIMIT):
        step = after_failure(exc, streaks, "bad request")
        assert step.end is None and step.streaks.refusals == n
        assert step.retry_after == 0.0, "not the 60 s default under every retry"
        streaks = step.streaks
    last = after_failure(exc, streaks, "bad request")
    assert last.end == ERROR
    assert last.error == f"bad request (refused {PERMANENT_ERROR_LIMIT} times; stopped watching)"


def test_a_429_waits_its_retry_after_and_the_growing_back_off() -> None:
    exc = errors.Throttled("slow down", status=429, retry_after=120.0)
    step = after_failure(exc, Streaks(), "t")
    assert step.end is None and step.retry_after == 120.0 and step.streaks == Streaks(errors=1)
    assert ERROR_BACKOFF_START / 2 <= step.floor <= ERROR_BACKOFF_START


def test_a_5xx_or_network_failure_backs_off_exponentially_without_a_retry_after() -> None:
    streaks = Streaks(refusals=1)
    for n in range(1, 12):
        step = after_failure(errors.TransportFailure("reset"), streaks, "t")
        assert step.retry_after == 0.0 and step.streaks == Streaks(errors=n, refusals=1)
        ceiling = min(ERROR_BACKOFF_CAP, ERROR_BACKOFF_START * 2 ** (n - 1))
        assert ceiling / 2 <= step.floor <= ceiling
        streaks = step.streaks
    unavailable = after_failure(errors.ServiceUnavailable("busy", status=503, retry_after=7.0), Streaks(), "t")
    assert unavailable.retry_after == 7.0 and unavailable.end is None
