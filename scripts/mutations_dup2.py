"""Mutations of issue 16's duplicate clean-up (dup2): code that moved keeps its guard."""

from __future__ import annotations

from typing import Any

_THROTTLE = "tests/graph/test_throttle.py"
_RECONCILE = "tests/ops/test_reconcile.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "dup2: the gate's backoff ignores PaceRules.gate_cap",
        "console/graph/throttle.py",
        "        delay = min(self.rules.gate_cap, self.rules.gate_start * 2 ** min(max(0, streak - 2), 32))",
        "        delay = self.rules.gate_start * 2 ** min(max(0, streak - 2), 32)",
        (f"{_THROTTLE}::test_a_failed_probe_escalates_and_a_new_probe_tests_again",),
    ),
    (
        "dup2: the pace never grows back (PaceRules.increase unused)",
        "console/graph/throttle.py",
        "            self.rate += self.rules.increase",
        "            self.rate += 0.0",
        (f"{_THROTTLE}::test_a_sporadic_429_cuts_the_pace_but_stops_nobody",),
    ),
    (
        "dup2: the pace is cut below PaceRules.min_rate",
        "console/graph/throttle.py",
        "        self.rate = max(self.rules.min_rate, base * self.rules.decrease)",
        "        self.rate = base * self.rules.decrease",
        (f"{_THROTTLE}::test_the_pace_is_never_cut_below_its_floor",),
    ),
    (
        "dup2: a confirmed export loses Graph's submittedDateTime",
        "console/ops/journal_operations.py",
        "        submitted_at, completed_at = iso(operation.submitted), iso(operation.completed)",
        "        submitted_at, completed_at = None, iso(operation.completed)",
        (f"{_RECONCILE}::test_one_match_confirms_the_export_which_is_then_polled_to_its_end",),
    ),
]
