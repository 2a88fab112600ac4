"""Moved to ``console.wiring`` (the one composition root); this shim re-exports it until the lead removes it."""

from __future__ import annotations

from console.wiring import *  # noqa: F403
from console.wiring import (
    DEMO_EXPORT_DURATION,
    DEMO_PROFILES,
    DEMO_RETRY_AFTER,
    ConnectionOptions,
    JournalOnly,
    Services,
    UsageError,
    adopt_journal_operations,
    check_options,
    journal_for,
    make_demo_tenant,
    open_journal_only,
    open_services,
    resolve_paths,
)

__all__ = [
    "DEMO_EXPORT_DURATION",
    "DEMO_PROFILES",
    "DEMO_RETRY_AFTER",
    "ConnectionOptions",
    "JournalOnly",
    "Services",
    "UsageError",
    "adopt_journal_operations",
    "check_options",
    "journal_for",
    "make_demo_tenant",
    "open_journal_only",
    "open_services",
    "resolve_paths",
]
