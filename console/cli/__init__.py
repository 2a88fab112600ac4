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

from console.cli.exitcodes import EXIT_AUTH, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from console.cli.parser import build_parser
from console.cli.run import main

__all__ = ["EXIT_AUTH", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]
