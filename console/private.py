"""The one private-file writer: every file the console writes for the admin alone is created 0600.

Two shapes, one rule:

* ``write_private_file(target, content)``: the whole content at once, atomically (a temp file created
  0600 in the same directory, then ``os.replace``): the config and the token caches, which a crash
  must never leave half-written;
* ``open_private_file(path)``: a stream (reports, the debug log), created 0600; a regular file that
  already exists is made 0600 as well before anything is written into it.

The journal's database is not written here: SQLite owns that file (``console.ops.journal``).
A ground-floor module: it imports nothing of the console.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Literal, TextIO

__all__ = ["PRIVATE_MODE", "open_private_file", "write_private_file"]

PRIVATE_MODE = 0o600
"""Read and write for the owner, nothing for anyone else."""


def write_private_file(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` atomically with mode 0600 from creation (never chmod-ed after).

    Raises:
        OSError: the file cannot be written (``target`` is then unchanged and no temp file is left).
    """
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_TRUNC | getattr(os, "O_BINARY", 0), PRIVATE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def open_private_file(
    path: str | os.PathLike[str],
    *,
    append: bool = False,
    encoding: str | None = "utf-8",
    errors: str | None = None,
    newline: str | None = None,
) -> TextIO:
    """Open ``path`` for writing text, created 0600 (truncated, or appended to with ``append``).

    A regular file that already exists is made 0600 too (its old mode may have let others read what
    is written now); a device such as ``/dev/null`` is left as it is.

    Raises:
        OSError: the file cannot be opened or made private.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    mode: Literal["a", "w"] = "a" if append else "w"
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, PRIVATE_MODE)
        return os.fdopen(fd, mode, encoding=encoding, errors=errors, newline=newline)
    except BaseException:
        os.close(fd)
        raise
