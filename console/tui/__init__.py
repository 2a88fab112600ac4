"""The Textual console: ``ConsoleApp`` and ``run_console`` (see ``entry.py``)."""
