"""Mutations guarding the export path's journal trips (issue 15, the s600 pass).

Same tuple format as ``scripts/mutations.py`` (which loads this file).
"""

from __future__ import annotations

from typing import Any

PIPELINE = (
    "tests/ops/test_submit_pipeline.py::test_the_pipeline_commits_each_intent_before_its_post_and_checks_a_window_ahead"
)
PROMISES = "tests/ops/test_promises.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "s600: the pipeline checks every target at once (no window)",
        "console/ops/engine_submit.py",
        "        ahead = asyncio.Semaphore(max(1, window))\n",
        "        ahead = asyncio.Semaphore(10**6)\n",
        (PIPELINE,),
    ),
    (
        "s600: a grouped journal call that failed is reported as done",
        "console/ops/writer.py",
        "            outcomes.append((False, exc))",
        "            outcomes.append((True, None))",
        (f"{PROMISES}test_when_the_intent_cannot_be_written_nothing_is_posted",),
    ),
    (
        "s600: a refused target still gets an intent and a POST",
        "console/ops/engine_submit.py",
        "                if not await precheck(item):\n                    return None\n",
        "                if False:\n                    return None\n",
        (PIPELINE,),
    ),
]
