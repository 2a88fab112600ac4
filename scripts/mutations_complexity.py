"""Mutations guarding the table-driven and split code of issue 16's complexity step (C901 at 12)."""

from __future__ import annotations

from typing import Any

_FAULTS = "tests/sim/test_faults.py"
_BLOB = "tests/sim/test_blob_standin.py"
_SERVER = "tests/sim/test_server.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "complexity: a knob's range rule is not checked",
        "console/sim/knobs.py",
        "        if rule is not None and not rule[0](value):",
        "        if False:",
        (f"{_FAULTS}::test_apply_knobs_coerces_and_validates",),
    ),
    (
        "complexity: simulate's valued options set no knob",
        "console/sim/knobs.py",
        "            knobs.update(dict.fromkeys(names, value))",
        "            pass",
        (f"{_FAULTS}::test_simulate_arguments",),
    ),
    (
        "complexity: simulate's switches set no knob",
        "console/sim/knobs.py",
        "        if getattr(args, option, False):\n            knobs[name] = value",
        "        if False:\n            knobs[name] = value",
        (f"{_FAULTS}::test_simulate_arguments",),
    ),
    (
        "complexity: the Blob stand-in lists a container with a read-only SAS",
        "console/sim/blob.py",
        '        return "l"',
        '        return "r"',
        (f"{_BLOB}::test_missing_letter_is_permission_mismatch",),
    ),
    (
        "complexity: the simulator's server closes a keep-alive connection after one answer",
        "console/sim/server.py",
        "        await writer.drain()\n        return keep_alive",
        "        await writer.drain()\n        return False",
        (f"{_SERVER}::test_keep_alive_serves_many_requests_on_one_connection",),
    ),
]
