"""The README says what the code does: its key table is generated from the bindings, the quick start
is the two commands that work on a stock Python, and every command it names exists."""

from __future__ import annotations

import argparse
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def block(name: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"\n<!-- {name}:end -->"
    assert start in README and end in README, f"README has no {name} block"
    return README.split(start, 1)[1].split(end, 1)[0]


def test_the_readme_key_table_is_the_bindings_of_the_code() -> None:
    from console.tui.app import help_sections
    from console.tui.screens.help import keys_markdown

    expected = keys_markdown(*help_sections())
    assert block("keys") == expected, "regenerate with: python -m console.tui.keys_table"


def test_the_quick_start_is_two_commands_that_need_no_system_pip() -> None:
    quick = README.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in quick.splitlines() if line.strip()]
    assert len(commands) == 2
    demo, tests = commands
    # PEP 668: never pip into the system interpreter; the bootstrap makes .venv first.
    assert demo.startswith("python3 scripts/bootstrap.py && .venv/bin/export-console --demo")
    assert tests == "bash .ci/run"
    assert (Path(__file__).resolve().parents[1] / "scripts" / "bootstrap.py").exists()
    assert "Python 3.11" in README


def test_every_command_in_the_readme_synopsis_exists() -> None:
    from console.cli.parser import build_parser

    parser = build_parser()
    synopsis = README.split("## Command line", 1)[1].split("```", 2)[1]
    names = {line.split()[0] for line in synopsis.splitlines()[2:] if line.startswith("  ") and line.split()}
    names.discard("[--case")
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert names <= set(commands.choices), names - set(commands.choices)
