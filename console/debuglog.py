"""The ``--debug`` log: a rotating file, private to the user, with every secret masked.

Support follows one operation through it: request-ids, client-request-ids, throttling and budget
decisions are logged by the ``console.*`` loggers at DEBUG. Every record's message and arguments
(and the formatted line, exception text included) go through ``console.redact.redact`` before they
are written, so a SAS signature or a bearer token never reaches the file. The CLI calls
``setup_debug_log`` for ``--debug``; the console (TUI) calls the same function.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from console.private import open_private_file
from console.redact import redact

APP_NAME = "export-console"
LOG_FILE = "export-console-debug.log"
MAX_BYTES = 5 * 1024 * 1024
"""Rotate after this many bytes."""
BACKUPS = 3
"""Rotated files kept (``.1`` to ``.3``): at most 20 MB of log in all."""
LOGGERS = ("console",)
"""Loggers set to DEBUG; ``httpx`` is added at INFO (one line per request, URL masked)."""
FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s [%(process)d]: %(message)s"


def log_dir(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<state-dir>/logs`` when a state dir is chosen (option or environment), else platformdirs' log dir."""
    from console.paths import STATE_DIR_ENV

    chosen = state_dir or os.environ.get(STATE_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser() / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME))


class RedactingFilter(logging.Filter):
    """Masks secrets in every record's message and arguments (the record is rewritten, then passed on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """Masks secrets in the whole formatted line, exception and stack text included."""

    converter = __import__("time").gmtime

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files (and rotated files) are created 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        return open_private_file(self.baseFilename, append=True, encoding=self.encoding, errors=self.errors)


_installed: dict[Path, logging.Handler] = {}


def setup_debug_log(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """Send the ``console.*`` loggers, at DEBUG, to a rotating, redacted file; returns its path.

    Calling it again for the same file does nothing more (one handler per file).
    """
    directory = log_dir(state_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / LOG_FILE
    if path in _installed:
        return path
    handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%S"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.level == logging.NOTSET or httpx_logger.level > logging.INFO:
        httpx_logger.setLevel(logging.INFO)
    httpx_logger.addHandler(handler)
    _installed[path] = handler
    logging.getLogger(__name__).debug("debug log opened (pid %d)", os.getpid())
    return path


def close_debug_logs() -> None:
    """Detach and close every handler ``setup_debug_log`` installed (tests, and the end of a run)."""
    for handler in _installed.values():
        for name in (*LOGGERS, "httpx"):
            logging.getLogger(name).removeHandler(handler)
        handler.close()
    _installed.clear()
