"""The one rule for "this machine": the only hosts plain http may reach (a ground-floor module).

The Graph URL check (``--graph-url``), the storage location rules (Azurite on loopback) and the
simulator's delivery all ask ``is_loopback``; none keeps a rule of its own.
"""

from __future__ import annotations

import functools
import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and a loopback address (``127.0.0.0/8``, ``::1``; brackets and case ignored).

    A name that merely ends in ``localhost`` or starts with ``127.`` without being an address is not
    loopback: the resolver, not the name, would decide where it goes.
    """
    return _is_loopback(host or "")


@functools.lru_cache(maxsize=256)
def _is_loopback(host: str) -> bool:
    """``is_loopback``, remembered per host (asked for every request and storage location)."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
