"""The headless command line (and the way into the Textual console).

``export-console = console.cli:main`` and ``python -m console`` both call ``main``. The package:

* ``parser``: the argument parser (the contract's options; every command's help has an example
  and the exit codes);
* ``inputs``: the command line's own input, checked before sign-in (user ids, the storage
  location from argv, a variable or a file, the Graph URL);
* ``commands``: ``profiles``, ``export``, ``watch`` (they talk to Graph);
* ``journal_commands``: ``ops``, ``note``, ``report`` (the journal only);
* ``views`` and ``output``: what is printed (escaped text, valid JSON Lines);
* ``exitcodes``: the exit codes, from typed values;
* ``run``: the commands' ``main``, the signals, the mapping of failures to one line and a code.

This module stays light: ``main`` imports the rest inside its guard, so that Ctrl+C while the
console is still importing (Textual, httpx, MSAL take a moment) or an unexpected failure anywhere
ends in one line and the documented exit code, never a traceback (issue 14).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.cli.exitcodes import EXIT_AUTH, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
    from console.cli.parser import build_parser

__all__ = ["EXIT_AUTH", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

_INTERRUPTED = 130  # console.cli.exitcodes.EXIT_INTERRUPTED (tests/cli checks they agree)
_FAILED = 1  # console.cli.exitcodes.EXIT_FAILED
_LAZY = {"EXIT_AUTH", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE"}

INTERRUPTED_LINE = "export-console: interrupted"
"""The one line for Ctrl+C before a command started (nothing was sent, the journal untouched)."""


def _line(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr gone (SSH session closed) or closed
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``export-console`` and ``python -m console``: the command's exit code.

    Ctrl+C at any point gives one line and 130; a ``ConsoleError`` that escaped every command's own
    handling gives its sentence and its exit code; any other exception one line naming it, a hint to
    rerun with ``--debug``, and 1 (the traceback goes to the debug log only).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # answered before anything heavy is imported
        from console import __version__

        print(f"export-console {__version__}")
        return 0
    try:
        from console.cli.run import main as run_main

        return run_main(argv)
    except KeyboardInterrupt:
        _line(INTERRUPTED_LINE)
        return _INTERRUPTED
    except (SystemExit, GeneratorExit):
        raise
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the error family's one line and code; a bug: one line, never a traceback
        return _escaped(exc)


def _escaped(exc: Exception) -> int:
    """One line for a failure no command handled: the ``ConsoleError``'s sentence and exit code, or for
    anything else (a bug) its type, a hint to rerun with ``--debug``, and 1."""
    try:
        from console.cli.exitcodes import DEBUG_HINT, exit_code_for_exception, is_expected
        from console.redact import redact
        from console.text import terminal_safe

        text = terminal_safe(redact(str(exc))[:300])
        if is_expected(exc):
            _line(f"export-console: {text}")
            return exit_code_for_exception(exc)
        logging.getLogger("console.cli").debug("unexpected failure", exc_info=True)
        _line(f"export-console: unexpected error: {type(exc).__name__}: {text}; {DEBUG_HINT}")
    except KeyboardInterrupt:
        return _INTERRUPTED
    return _FAILED


def __getattr__(name: str) -> Any:
    """``build_parser`` and the exit codes on first use: nothing heavy is imported before ``main``'s guard."""
    if name == "build_parser":
        from console.cli.parser import build_parser

        return build_parser
    if name in _LAZY:
        from console.cli import exitcodes

        return getattr(exitcodes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
