"""Exit codes of the headless commands, derived from typed values (never from class names).

A failure's code is its family's: every ``console.errors.ConsoleError`` declares its ``exit_code``
(``UsageError`` 2, the sign-in and permission errors 3, the rest 1); any other exception is a bug (1).

The contract: 0 all good (with ``--wait``: all complete), 1 an export failed or errored (for
``watch``: unconfirmed exports remain), 2 usage or input error, 3 authentication or permission
error, 130 interrupted (Ctrl+C, SIGTERM, or SIGHUP when the SSH session went away).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from console.errors import EXIT_AUTH, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ConsoleError, UsageError

if TYPE_CHECKING:  # the journal commands import this module and need no engine types at run time
    from console.ops.events import SubmitOutcome

__all__ = ["EXIT_AUTH", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageProblem"]

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "all good (with `--wait`: every export complete)"),
    (
        EXIT_FAILED,
        "an export failed or errored, unconfirmed exports remain (`watch`), Graph could not be reached "
        "(after the retries announced on stderr) or answered wrongly (a profile list that loops: what was "
        "read is printed), or an unexpected error (rerun with `--debug`)",
    ),
    (EXIT_USAGE, "usage or input error: nothing was sent"),
    (EXIT_AUTH, "authentication or permission error"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl+C, SIGTERM, SIGHUP): the journal is intact, `watch` resumes"),
)
"""Every exit code and what it means: the source of ``--help`` and of the README's table."""

EXIT_CODES_HELP = "exit codes:\n" + "\n".join(f"  {code:<4} {text.replace('`', '')}" for code, text in EXIT_CODES)
"""The exit codes as every command's ``--help`` ends."""


def exit_codes_markdown() -> str:
    """The README's table (between ``<!-- exit-codes:start -->`` and ``<!-- exit-codes:end -->``)."""
    lines = ["| code | meaning |", "|---|---|", *(f"| {code} | {text} |" for code, text in EXIT_CODES)]
    return "\n".join(lines)


UsageProblem = UsageError
"""Bad options or input found by the CLI itself: the one ``console.errors.UsageError`` under the CLI's
name (the command modules raise it by this name)."""


def worst(codes: Iterable[int]) -> int:
    """The exit code that says the most: 3 (sign-in) over 2 (input) over 1 (failed) over 0."""
    rank = {EXIT_OK: 0, EXIT_FAILED: 1, EXIT_USAGE: 2, EXIT_AUTH: 3}
    chosen = EXIT_OK
    for code in codes:
        if rank.get(code, 1) > rank.get(chosen, 1):
            chosen = code
    return chosen


def exit_code_for_exception(exc: BaseException) -> int:
    """The exit code for a failure: its family's declared ``exit_code`` (``ConsoleError`` and below), 130 for
    Ctrl+C, 1 for everything else (a bug must not pass for a usage error, issue 14)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, ConsoleError):
        return int(exc.exit_code)
    return EXIT_FAILED


def is_expected(exc: BaseException) -> bool:
    """True for the project's own failures (one line on stderr); False for a bug (a hint to rerun with --debug)."""
    return isinstance(exc, ConsoleError | KeyboardInterrupt)


DEBUG_HINT = "this looks like a bug: rerun with --debug to write the details to a debug log"
"""What follows the one line of an unexpected failure (the traceback goes to the debug log only)."""


def outcome_exit_code(outcome: SubmitOutcome) -> int:
    """An outcome's exit code: the exception it carries decides, else the code the engine gave it."""
    if outcome.exception is not None and isinstance(outcome.exception, ConsoleError):
        return exit_code_for_exception(outcome.exception)
    if outcome.exit_code:
        return outcome.exit_code
    return EXIT_FAILED if outcome.error else EXIT_OK


class _Viewlike(Protocol):
    @property
    def state(self) -> str: ...

    @property
    def status(self) -> str | None: ...


def exit_code_for_views(views: Sequence[_Viewlike], *, waited: bool) -> int:
    """1 when any export failed, was rejected, errored, is unconfirmed (or, after waiting, still runs)."""
    for view in views:
        if view.state in ("rejected", "unconfirmed", "error", "intent"):
            return EXIT_FAILED
        if view.state == "final" and view.status != "complete":
            return EXIT_FAILED
        if waited and view.state == "tracking":
            return EXIT_FAILED
    return EXIT_OK
