"""The poll queue on its own: earliest first, a landing poll before the others, never an item before its time."""

from __future__ import annotations

from console.ops.poll_queue import PollQueue


def test_nothing_is_taken_before_its_due_time() -> None:
    queue = PollQueue()
    queue.push(1, 100.0)
    queue.push(2, 50.0, landing=True)
    assert queue.earliest() == 50.0
    assert queue.take_due(49.999) is None
    assert queue.take_due(50.0) == 2
    assert queue.take_due(99.0) is None
    assert queue.take_due(100.0) == 1
    assert queue.earliest() is None and len(queue) == 0


def test_a_due_landing_poll_goes_before_an_earlier_ordinary_one() -> None:
    queue = PollQueue()
    queue.push(1, 10.0)
    queue.push(2, 20.0, landing=True)
    assert queue.take_due(30.0) == 2
    assert queue.take_due(30.0) == 1


def test_pushing_a_key_again_replaces_its_time_and_discard_drops_it() -> None:
    queue = PollQueue()
    queue.push(1, 10.0)
    queue.push(1, 70.0)  # a Retry-After moved it later: the old entry must not fire
    assert queue.take_due(10.0) is None
    assert queue.earliest() == 70.0 and 1 in queue
    queue.push(2, 5.0)
    queue.discard(2)
    assert queue.take_due(60.0) is None
    assert queue.take_due(70.0) == 1
