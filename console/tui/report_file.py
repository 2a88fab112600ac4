"""Where the console saves an evidence report, and the writing itself (no Textual; run in a thread).

The report reads the journal only (``console.report``), on its own ``OperationJournal`` so the
engine's writer is never blocked (SQLite WAL lets a reader in beside it). It is written to
the user's documents folder (platformdirs), or under ``--state-dir`` when one is given, so tests
and acceptance runs never touch a real home directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

import platformdirs

from console.paths import APP_NAME, STATE_DIR_ENV, Paths
from console.private import open_private_file

FORMATS = ("md", "csv", "json")
"""Report formats, told apart by the file's extension."""
Format = Literal["md", "csv", "json"]


def reports_dir(
    state_dir: str | os.PathLike[str] | None = None, *, journal: str | os.PathLike[str] | None = None
) -> Path:
    """Where reports go: ``~/Documents/export-console`` (platformdirs), else beside the journal.

    Under ``--state-dir`` (or ``EXPORT_CONSOLE_STATE_DIR``), or when the journal is not in the default
    data dir (a state dir given on the command line), reports go to ``<that dir>/reports``.
    """
    chosen = state_dir or os.environ.get(STATE_DIR_ENV)
    if chosen:
        return Paths.resolve(chosen).data_dir / "reports"
    default_data = Paths.resolve().data_dir
    if journal is not None and Path(journal).parent != default_data:
        return Path(journal).parent / "reports"
    try:
        documents = platformdirs.user_documents_dir()
    except Exception:  # no documents folder on a bare server: the data dir always exists
        documents = ""
    if documents and Path(documents).is_dir():
        return Path(documents) / APP_NAME
    return default_data / "reports"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60]


def propose_report_path(*, case: str | None, now: float, fmt: Format = "md", directory: Path | None = None) -> Path:
    """A new file name such as ``report-DSR-1-20270115-080000.md`` (never an existing file)."""
    folder = directory if directory is not None else reports_dir()
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    stem = "-".join(part for part in ("report", _safe(case or ""), stamp) if part)
    path = folder / f"{stem}.{fmt}"
    counter = 2
    while path.exists():
        path = folder / f"{stem}-{counter}.{fmt}"
        counter += 1
    return path


def format_of(path: Path) -> Format:
    """The format a path's extension asks for (Markdown unless .csv or .json).

    Raises:
        ValueError: an extension that is none of .md, .csv, .json (or none at all: Markdown).
    """
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("", "md", "markdown"):
        return "md"
    if suffix in FORMATS:
        return cast(Format, suffix)
    raise ValueError(f"save the report as .md, .csv or .json, not .{suffix}")


@dataclass(frozen=True)
class SavedReport:
    """What was written."""

    path: Path
    operations: int


def write_report(
    journal_path: str | os.PathLike[str],
    path: Path,
    *,
    keys: Iterable[int],
    tenant_key: str | None,
    case: str | None,
    now: float,
) -> SavedReport:
    """Write the report of journal rows ``keys`` to ``path`` (blocking: call it from a thread).

    The file is created private to the user (0600): it names people and where their data went.

    Raises:
        ValueError: an unknown extension.
        OSError: the file cannot be written (its text is shown to the admin).
    """
    from console.ops.journal import OperationJournal
    from console.report import iter_report_rows, render_report

    fmt = format_of(path)
    journal = OperationJournal(journal_path)
    try:
        rows = list(iter_report_rows(journal, keys=list(keys), tenant_key=tenant_key, now=now))
    finally:
        journal.close()
    text = render_report(rows, fmt, case=case, generated_at=now)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open_private_file(path, encoding="utf-8", newline="") as handle:
        handle.write(text)
    return SavedReport(path, len(rows))
