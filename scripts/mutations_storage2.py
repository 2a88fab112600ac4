"""Mutations guarding the export pipeline and the CLI's costs at scale (issue 15, second pass).

Same tuple format as ``scripts/mutations.py`` (which loads this file).
"""

from __future__ import annotations

from typing import Any

CLI = "tests/cli/test_storage_cli.py::"
POOL = "tests/storage/test_pool.py::"
PIPE = f"{CLI}test_the_first_post_leaves_before_every_container_is_checked"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "storage2: every container checked before the first POST",
        "console/ops/engine_submit.py",
        "        ahead = asyncio.Semaphore(max(1, window))\n",
        "        items = [i for i in items if precheck is None or await precheck(i)]\n        precheck = None\n"
        "        ahead = asyncio.Semaphore(max(1, window))\n",
        (PIPE,),
    ),
    (
        "storage2: a target the pre-flight refused is POSTed",
        "console/ops/engine_submit.py",
        "                if not await precheck(item):\n                    return None\n",
        "                if not await precheck(item) and False:\n                    return None\n",
        (PIPE, f"{CLI}test_preflight_keeps_back_a_user_whose_container_is_missing"),
    ),
    (
        "storage2: every location refused still exits as if something was sent",
        "console/cli/commands.py",
        "    if not outcomes and refused:\n",
        "    if False:\n",
        (f"{CLI}test_nothing_sent_when_every_container_is_refused_exits_2",),
    ),
    (
        "storage2: an operation id another row tracks is tracked twice",
        "console/ops/engine_submit.py",
        "                existing = journal.retrying(lambda: journal.tracked_elsewhere(self.tenant_key, operation_id, row.key))",
        "                existing = None",
        ("tests/ops/test_engine.py::test_an_operation_id_the_journal_already_tracks_is_not_tracked_twice",),
    ),
    (
        "storage2: the pipeline checks a location asked twice twice",
        "console/storage/rules.py",
        "        known = self._verdicts.get(location)\n",
        "        known = None\n",
        (f"{POOL}test_a_pipeline_checks_a_location_once_and_says_each_finding_once",),
    ),
    (
        "storage2: one waiter cancelled cancels the shared check",
        "console/storage/rules.py",
        "            answer = await asyncio.shield(known)\n",
        "            answer = await known\n",
        (f"{POOL}test_a_pipeline_checks_a_location_once_and_says_each_finding_once",),
    ),
]
