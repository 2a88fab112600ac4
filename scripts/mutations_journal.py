"""Mutations guarding issue 14's journal items (processes meeting, full disk, signal flush)."""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "a second connection re-opens the journal file and drops the process's locks",
        "console/ops/journal.py",
        "        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)",
        "        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)",
        ("tests/ops/test_journal.py::test_a_second_connection_in_one_process_keeps_the_wal_of_the_first",),
    ),
]
