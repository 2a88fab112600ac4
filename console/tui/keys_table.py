"""Print the README's key table (``python -m console.tui.keys_table``), generated from the bindings."""

from __future__ import annotations

from console.tui.app import help_sections
from console.tui.screens.help import keys_markdown

if __name__ == "__main__":
    print(keys_markdown(*help_sections()))
