"""Option-adding helpers the subcommands share (``console.cli.parser``, ``console.cli.remove_commands``)."""

from __future__ import annotations

import argparse


def add_flags(parser: argparse.ArgumentParser, *flags: tuple[str, str]) -> None:
    """On/off options (``store_true``, off by default), each ``(name, help)``, in the order given."""
    for name, help_text in flags:
        parser.add_argument(name, action="store_true", help=help_text)


def json_flag(each: str) -> tuple[str, str]:
    """``--json`` for ``add_flags``: the command prints JSON Lines, one object per ``each``."""
    return ("--json", f"JSON Lines: one object per {each}")
