"""Mutations guarding issue 14's journal items (processes meeting, full disk, signal flush)."""

from __future__ import annotations

from typing import Any

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "a second connection re-opens the journal file and drops the process's locks",
        "console/ops/journal_db.py",
        "        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)",
        "        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)",
        (
            "tests/ops/test_journal.py::test_a_second_connection_in_one_process_keeps_the_wal_of_the_first",
            "tests/e2e/test_meeting.py::test_every_headless_command_beside_an_open_console_leaves_its_journal_whole",
        ),
    ),
    (
        "a budget ledger that cannot be written is asked for ever",
        "console/ops/budget.py",
        "                if self.ledger_failures >= LEDGER_ATTEMPTS:",
        "                if False:",
        (
            "tests/ops/test_journal_failures.py::test_a_ledger_that_cannot_be_written_gives_up_after_bounded_tries_saying_why",
            "tests/ops/test_journal_failures.py::test_a_full_disk_while_polling_ends_the_wait_with_the_reason",
        ),
    ),
    (
        "polling stopped by a full disk never lets the wait end",
        "console/ops/engine_core.py",
        "        if self.posts_in_flight == 0 and (self._polling_stopped or (not self._tracked and others == 0)):",
        "        if self.posts_in_flight == 0 and (not self._tracked and others == 0):",
        ("tests/ops/test_journal_failures.py::test_a_full_disk_while_polling_ends_the_wait_with_the_reason",),
    ),
    (
        "exports sent on after the journal could not record one",
        "console/ops/engine_submit.py",
        "        if self._submit_failure is not None:\n            # The journal cannot record",
        "        if False:\n            # The journal cannot record",
        (
            "tests/ops/test_journal_failures.py::test_exports_graph_accepted_but_the_journal_could_not_record_are_kept_and_no_more_are_sent",
        ),
    ),
    (
        "an accepted export the journal could not record is forgotten",
        "console/ops/engine_submit.py",
        "            self._unjournaled[row.key] = row",
        "            pass",
        (
            "tests/ops/test_journal_failures.py::test_exports_graph_accepted_but_the_journal_could_not_record_are_kept_and_no_more_are_sent",
        ),
    ),
    (
        "a stop signal cancels the polls in flight (their answers never journalled)",
        "console/ops/engine.py",
        "        await self._let_polls_land()\n",
        "",
        (
            "tests/e2e/test_meeting.py::test_a_stop_signal_journals_the_last_poll_answer_and_the_next_process_waits_for_it[1]",
        ),
    ),
    (
        "accepted exports the journal could not record are not printed",
        "console/cli/run.py",
        "    if not lost:\n        return False",
        "    if True:\n        return False",
        ("tests/e2e/test_meeting.py::test_a_full_disk_under_export_wait_ends_and_prints_every_export_graph_accepted",),
    ),
    (
        "journal split: reading the journal imports the storage slice (httpx)",
        "console/ops/events.py",
        "if TYPE_CHECKING:  # the storage slice imports httpx: a read of the journal never needs it\n",
        "if True:\n",
        ("tests/ops/test_journal_reads.py::test_reading_the_journal_imports_neither_the_storage_slice_nor_asyncio",),
    ),
    (
        "journal split: the ledger imports the budget (asyncio) at import",
        "console/ops/journal_ledger.py",
        "if TYPE_CHECKING:  # the budget brings asyncio: a read of the journal never needs it\n",
        "if True:\n",
        ("tests/ops/test_journal_reads.py::test_reading_the_journal_imports_neither_the_storage_slice_nor_asyncio",),
    ),
    (
        "ops listing: the storage error it explains is another's",
        "console/cli/journal_listing.py",
        '_ALREADY_USED = "StorageLocationAlreadyUsed"',
        '_ALREADY_USED = "StorageLocationUsed"',
        ("tests/ops/test_journal_reads.py::test_the_listing_knows_the_one_storage_error_it_explains",),
    ),
]
