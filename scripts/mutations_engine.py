"""Mutations guarding the engine in parts (issue 16, item 1): the answers, the poll queue, one engine per tenant."""

from __future__ import annotations

from typing import Any

ANSWERS = "tests/ops/test_answers.py::"
QUEUE = "tests/ops/test_poll_queue.py::"
TENANTS = "tests/ops/test_tenants.py::test_two_tenants_in_one_process_each_keep_their_own_operations_and_budget"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "engine parts: two tenants spend from one ledger",
        "console/ops/engine_link.py",
        "            self._tenant_key,\n            link.process_id,",
        '            "",\n            link.process_id,',
        (TENANTS,),
    ),
    (
        "engine parts: a finished operation keeps its record",
        "console/ops/engine_core.py",
        "        self._tracked.pop(row.key, None)\n        self._polls.discard(row.key)",
        "        self._polls.discard(row.key)",
        (TENANTS,),
    ),
    (
        "engine parts: a permanent 4xx given up one try late",
        "console/ops/answers.py",
        "        if streak >= PERMANENT_ERROR_LIMIT:",
        "        if streak > PERMANENT_ERROR_LIMIT:",
        (ANSWERS + "test_a_permanent_4xx_is_tried_a_bounded_number_of_times_then_kept_as_the_error",),
    ),
    (
        "engine parts: an unknown status backs off without a cap",
        "console/ops/answers.py",
        "    backoff = min(UNKNOWN_STATUS_MAX_INTERVAL, MIN_POLL_INTERVAL * 2 ** min(count, 12))",
        "    backoff = MIN_POLL_INTERVAL * 2 ** min(count, 12)",
        (ANSWERS + "test_an_unknown_status_is_polled_backing_off_then_given_up_with_a_reason",),
    ),
    (
        "engine parts: a 401/403 ends the error streak",
        "console/ops/answers.py",
        "        return Step(streaks, retry_after=exc.retry_after, floor=AUTH_RETRY_INTERVAL, fatal=True)",
        "        return Step(Streaks(), retry_after=exc.retry_after, floor=AUTH_RETRY_INTERVAL, fatal=True)",
        (ANSWERS + "test_a_401_or_403_is_fatal_and_waits_the_sign_in_interval",),
    ),
    (
        "engine parts: a 429's Retry-After ignored",
        "console/ops/answers.py",
        "    return exc.retry_after if exc.retry_after is not None else 0.0",
        "    return 0.0",
        (ANSWERS + "test_a_429_waits_its_retry_after_and_the_growing_back_off",),
    ),
    (
        "engine parts: a re-pushed operation polled at its old time",
        "console/ops/poll_queue.py",
        "            if self._due.get(key) == due:",
        "            if key in self._due:",
        (QUEUE + "test_pushing_a_key_again_replaces_its_time_and_discard_drops_it",),
    ),
    (
        "engine parts: the poll queue takes an item early",
        "console/ops/poll_queue.py",
        "            if head is not None and head[0] <= now:",
        "            if head is not None:",
        (QUEUE + "test_nothing_is_taken_before_its_due_time",),
    ),
]
