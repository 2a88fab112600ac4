"""The storage-location input: a SAS signature is masked as soon as it is entered.

The ``sig=`` value of a SAS URL is a secret (../shared/graph-api.md). From its first
character on, whether pasted or typed, the input shows ``sig=***`` and keeps the real
value only in memory for the submission (``location``).
"""

from __future__ import annotations

import re

from textual import events
from textual.widgets import Input

MASK = "***"
"""What the input shows instead of the signature."""
_SIG = re.compile(r"([?&;]sig=)([^&#\s]*)", re.IGNORECASE)


class StorageLocationInput(Input):
    """An Input whose SAS signature is never shown once entered."""

    def __init__(self, *, placeholder: str = "", id: str | None = None, classes: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, classes=classes, select_on_focus=False)
        self._signature = ""

    @property
    def location(self) -> str:
        """The storage location as typed, with the real signature (never display this)."""
        shown = self.value
        match = _SIG.search(shown)
        if match and self._signature and match.group(2) == MASK:
            return shown[: match.start(2)] + self._signature + shown[match.end(2) :]
        return shown

    @property
    def has_signature(self) -> bool:
        """A signature is held (and masked)."""
        return bool(self._signature)

    @property
    def signature_length(self) -> int:
        """How many characters the hidden signature holds (shown, so typing into it is seen; never its text)."""
        return len(self._signature)

    def replace(self, text: str, start: int, end: int) -> None:
        signature_before = self._signature
        shown = self.value
        start, end = sorted((max(0, start), min(len(shown), end)))
        new_shown = f"{shown[:start]}{text}{shown[end:]}"
        cursor = start + len(text)
        match = _SIG.search(new_shown)
        if match is None or not match.group(2):
            self._signature = ""
        elif match.group(2) != MASK:
            value_start, value_end = match.span(2)
            value = match.group(2)
            typed_on = value[len(MASK) :] if value.startswith(MASK) else ""
            if self._signature and typed_on and "*" not in typed_on:
                # Typing on after the mask: the new characters belong to the signature, never shown.
                self._signature += typed_on
                new_shown = new_shown[:value_start] + MASK + new_shown[value_end:]
                if cursor >= value_end:
                    cursor -= len(typed_on)
                else:
                    cursor = min(cursor, value_start + len(MASK))
            elif self._signature and "*" in value:
                # The masked signature was edited: it can't be trusted any more; paste it again.
                new_shown = new_shown[:value_start] + new_shown[value_end:]
                cursor = min(cursor, value_start) if cursor <= value_end else cursor - len(value)
                self._signature = ""
            else:
                # Pasted or typed: masked from the first character on.
                new_shown, cursor = self._mask(new_shown, value_start, value_end, cursor)
        new_shown, cursor = self._mask_further(new_shown, cursor)
        super().replace(new_shown, 0, len(shown))
        self.cursor_position = min(cursor, len(self.value))
        if new_shown == shown and self._signature != signature_before:
            # Only the hidden part changed: say so (the form shows its length and checks it again).
            self.post_message(self.Changed(self, self.value))

    def _mask(self, shown: str, value_start: int, value_end: int, cursor: int) -> tuple[str, int]:
        self._signature = shown[value_start:value_end]
        return _masked(shown, value_start, value_end, cursor)

    def _mask_further(self, shown: str, cursor: int) -> tuple[str, int]:
        """A second ``sig=`` (a SAS pasted after another) is never shown either: the newest one is kept."""
        for match in reversed(list(_SIG.finditer(shown))[1:]):
            value = match.group(2)
            if not value or value == MASK:
                continue
            typed_on = value[len(MASK) :] if value.startswith(MASK) else ""
            self._signature = self._signature + typed_on if typed_on else value
            shown, cursor = _masked(shown, *match.span(2), cursor)
        return shown, cursor

    def mask_now(self) -> None:
        """Mask a signature that was typed but not yet masked (on blur and before submitting)."""
        shown = self.value
        match = _SIG.search(shown)
        if match and match.group(2) and match.group(2) != MASK:
            masked, cursor = self._mask(shown, *match.span(2), self.cursor_position)
            self.value = masked
            self.cursor_position = cursor

    def on_blur(self, event: events.Blur) -> None:
        # The public hook: Textual also runs Input's own _on_blur (overriding it ran that twice).
        self.mask_now()


def _masked(shown: str, start: int, end: int, cursor: int) -> tuple[str, int]:
    """``shown`` with ``MASK`` for its characters ``start:end``, and where the cursor stands then."""
    if cursor >= end:
        cursor -= (end - start) - len(MASK)
    elif cursor > start:
        cursor = start + len(MASK)
    return shown[:start] + MASK + shown[end:], cursor
