"""The console's one error family: every failure the project raises on purpose is a ``ConsoleError``.

A ``ConsoleError`` carries a message (one sentence an admin can act on, already free of secrets),
a title (what kind of failure, for a toast's heading) and the process exit code it means. The
families below it:

* ``UsageError`` (exit 2): bad options or input, refused before anything was sent (config,
  templates, the CA bundle, status words, case rules, conflicting exports, the CLI's own checks);
* ``console.graph.errors.GraphError`` (exit 1, 2 or 3 per class) and the sign-in errors of
  ``console.auth.errors`` below it (exit 3);
* the journal's, the budget ledger's and the storage pool's errors (exit 1).

Only this family maps to an exit code other than 1 (``console.cli.exitcodes``): any other
exception is a bug and says so. This module is on the ground floor beside ``console.text``: it
imports nothing from the console (``lint-imports`` keeps it so), so every floor can derive from it.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INTERRUPTED = 130
"""Ctrl+C, SIGTERM or SIGHUP (the SSH session went away): the contract's one "interrupted" code."""


class ConsoleError(Exception):
    """A failure the console expects and explains: a message, a title and an exit code.

    Args:
        message: the sentence (callers pass text already free of secrets; it is shown escaped).
    """

    title: ClassVar[str] = "Failed"
    """What kind of failure this is, in two or three words (a toast's heading)."""
    exit_code: ClassVar[int] = EXIT_FAILED
    """The process exit code the CLI ends with for this failure."""

    def __init_subclass__(cls, *, title: str | None = None, exit_code: int | None = None) -> None:
        """A family says its title and exit code in its header: ``class NotFound(GraphError, title="Not found")``.

        Either left out is the parent's.
        """
        super().__init_subclass__()
        if title is not None:
            cls.title = title
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message
        """The sentence, as given."""


class UsageError(ConsoleError, title="Input refused", exit_code=EXIT_USAGE):
    """Bad options or input, refused before anything was sent: a one-line message and exit code 2.

    ``console.wiring.UsageError`` and ``console.cli.exitcodes.UsageProblem`` are this class.
    """
