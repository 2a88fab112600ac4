"""Esc and the key typed right after it, read from the terminal in one go, stay two keys.

Over SSH a burst often carries Esc and the next key in one read (``\\x1b/``, ``\\x1bj``, ``\\x1b2``). Textual's
terminal parser takes such a pair for an Alt combination: ``alt+j``, an unrelated key for some (``\\x1b2``
is ``™``), or the bare key with the Esc dropped (``\\x1b/`` is ``/``). The console binds no Alt key, so
an Esc that closed a form would be lost and the next key would land in the form it meant to leave.
``EscThenKeyParser`` reads such a pair as what the admin typed: Esc, then the key. Escape sequences
(CSI ``\\x1b[``, SS3 ``\\x1bO`` and the terminal's own reports) are left to Textual as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual._xterm_parser import XTermParser

SEQUENCE_STARTS = frozenset("[O]P_^\\")
"""A character after Esc that starts an escape sequence (CSI, SS3, OSC, DCS, APC, PM, ST): not a typed key."""


class EscThenKeyParser(XTermParser):
    """Textual's terminal parser, except that Esc followed by a printable character is Esc, then that key."""

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if len(sequence) == 2 and sequence[0] == "\x1b" and _typed(sequence[1]):
            # Esc and a key read together: the parser asks here before its wait for a longer sequence.
            yield events.Key("escape", "\x1b")
            yield from super()._sequence_to_key_events(sequence[1])
        else:
            yield from super()._sequence_to_key_events(sequence, alt)


def _typed(character: str) -> bool:
    return character.isprintable() and character not in SEQUENCE_STARTS


def install() -> None:
    """Make the Linux terminal driver read keys with ``EscThenKeyParser`` (the console's own app only)."""
    from textual.drivers import linux_driver

    setattr(linux_driver, "XTermParser", EscThenKeyParser)  # noqa: B010 - the driver looks the class up here
