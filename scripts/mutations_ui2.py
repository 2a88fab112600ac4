"""The console's habits (issue 17 items 6-11, 16, 17): event log, footers, status line, one vocabulary,
names, CLI progress, the demo's seed, sort/copy/negate/help search.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_SEED = "tests/test_demo_seed.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "ui2: the demo seeds once per journal",
        "console/wiring.py",
        "if any(view.case == DEMO_CASE for view in engine.operations()):",
        "if False:",
        (f"{_SEED}test_restarting_the_demo_three_times_keeps_the_twelve_exports_it_seeded",),
    ),
]
