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
* ``run``: ``main``, the signals, the mapping of failures to one line and a code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["EXIT_AUTH", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

_LAZY = {
    "EXIT_AUTH": "console.cli.exitcodes",
    "EXIT_FAILED": "console.cli.exitcodes",
    "EXIT_INTERRUPTED": "console.cli.exitcodes",
    "EXIT_OK": "console.cli.exitcodes",
    "EXIT_USAGE": "console.cli.exitcodes",
    "build_parser": "console.cli.parser",
}
"""Names imported when first used: ``export-console --version`` loads none of the commands' modules."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``export-console`` and ``python -m console`` (``console.cli.run.main``)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # answered before anything heavy is imported
        from console import __version__

        print(f"export-console {__version__}")
        return 0
    from console.cli.run import main as run_main

    return run_main(argv)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
