"""Storage connections for the life of the process: one client per storage host, a breaker per host.

Every pre-flight and delivery check goes through a ``StoragePool`` (issue 15):

* one ``httpx.AsyncClient`` per origin (``scheme://host:port``), kept while the event loop runs, so
  connections are reused and the TLS context is built once (``console.tls.ssl_context``, cached per
  CA rule) instead of once per request (about 23 ms of CPU on the event loop each time);
* bounded concurrency: at most ``CONCURRENCY`` storage requests in flight, whoever asks;
* a breaker per host: the first check of a host goes alone; when it (or any later one) cannot
  connect or times out, the host is *down* for ``COOLDOWN`` seconds and every other check of it is
  skipped at once (``HostDown``), counted, and said once as one finding ("storage account X
  unreachable: N checks skipped"), instead of each being tried and timed out.

Nothing here knows about Graph or the UI; the bearer token never reaches storage (SAS only).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import httpx

from console.errors import ConsoleError
from console.http_client import CookielessClient

__all__ = [
    "CONCURRENCY",
    "COOLDOWN",
    "HostDown",
    "StoragePool",
    "close_storage_pools",
    "storage_pool",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

CONCURRENCY: Final = 8
"""Storage requests in flight at once (pre-flight and delivery checks together)."""
COOLDOWN: Final = 300.0
"""Seconds a host that failed stays down before one check may try it again."""
TIMEOUT: Final = 10.0
"""Seconds for a storage request."""
CONNECT_TIMEOUT: Final = 3.0
"""Seconds to connect to storage (a host that does not answer is down, and said so, quickly)."""
API_VERSION: Final = "2021-08-06"
"""``x-ms-version`` sent on every storage request (Azurite and Azure both serve it)."""


class HostDown(ConsoleError):
    """A check skipped because its storage host is down (the breaker is open)."""

    title = "Storage unreachable"

    def __init__(self, account: str, reason: str) -> None:
        super().__init__(f"storage account {account} unreachable ({reason}): check skipped")
        self.account = account
        self.reason = reason


@dataclass
class _Host:
    account: str
    probe: asyncio.Lock = field(default_factory=asyncio.Lock)
    up: bool = False
    down_until: float = 0.0
    reason: str = ""
    failed: int = 0
    skipped: int = 0
    reported: int = -1
    """``skipped`` when the host's finding was last taken (-1: never)."""

    def is_down(self, now: float) -> bool:
        return now < self.down_until


class StoragePool:
    """Clients, breakers and the concurrency gate of one event loop (see the module's docstring).

    Args:
        transport: an httpx transport for every client (the demo's blob stand-in, tests), None for the network.
        concurrency: storage requests in flight at once.
        timeout: seconds for each request; ``connect_timeout`` for connecting.
        cooldown: seconds a failed host stays down.
        clock: monotonic seconds (tests may pass their own).
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        concurrency: int = CONCURRENCY,
        timeout: float = TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        cooldown: float = COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, connect_timeout))
        self._concurrency = max(1, concurrency)
        self._gate = asyncio.Semaphore(self._concurrency)
        self._cooldown = cooldown
        self._clock = clock
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._hosts: dict[str, _Host] = {}
        self.requests = 0
        """Checks that reached a client (for tests and benchmarks)."""

    def _client(self, origin: str) -> httpx.AsyncClient:
        client = self._clients.get(origin)
        if client is None:
            verify: Any = True
            if self._transport is None:
                from console.tls import ssl_context

                verify = ssl_context()
            client = CookielessClient(
                transport=self._transport,
                timeout=self._timeout,
                verify=verify,
                follow_redirects=False,
                headers={"x-ms-version": API_VERSION},
                limits=httpx.Limits(max_connections=self._concurrency, max_keepalive_connections=self._concurrency),
            )
            self._clients[origin] = client
        return client

    def _host(self, origin: str, account: str) -> _Host:
        host = self._hosts.get(origin)
        if host is None:
            host = self._hosts[origin] = _Host(account or origin)
        return host

    async def run(self, origin: str, account: str, call: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        """Run one check's requests against ``origin`` through its breaker and the concurrency gate.

        Raises:
            HostDown: the host is down: nothing was sent.
            httpx.TransportError: this check found the host down (it is now, for ``cooldown`` s).
        """
        host = self._host(origin, account)
        self._skip_if_down(host)
        if not host.up:
            async with host.probe:  # the first check of a host goes alone: if it fails, the rest skip at once
                self._skip_if_down(host)
                if not host.up:
                    return await self._attempt(origin, host, call)
        return await self._attempt(origin, host, call)

    def _skip_if_down(self, host: _Host) -> None:
        if host.is_down(self._clock()):
            host.skipped += 1
            raise HostDown(host.account, host.reason)

    async def _attempt(self, origin: str, host: _Host, call: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        async with self._gate:
            self._skip_if_down(host)
            self.requests += 1
            try:
                result = await call(self._client(origin))
            except httpx.TransportError as exc:
                if not host.is_down(self._clock()):
                    host.up = False
                    host.failed += 1
                    host.reason = type(exc).__name__
                    host.down_until = self._clock() + self._cooldown
                    log.info("storage account %s unreachable (%s): its checks are skipped", host.account, host.reason)
                raise
            host.up = True
            return result

    def unreachable(self) -> list[str]:
        """One finding per host that is or was down since last asked, with the checks it skipped."""
        notes: list[str] = []
        for host in self._hosts.values():
            if host.failed and host.reported != host.skipped:
                host.reported = host.skipped
                notes.append(
                    f"storage account {host.account} unreachable ({host.reason}): {host.skipped} "
                    f"check{'' if host.skipped == 1 else 's'} skipped"
                )
        return notes

    async def aclose(self) -> None:
        """Close every client (their connections)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, StoragePool]] = weakref.WeakKeyDictionary()


def storage_pool(transport: httpx.AsyncBaseTransport | None = None) -> StoragePool:
    """The running event loop's pool for ``transport`` (None: the network), made on first use."""
    loop = asyncio.get_running_loop()
    pools = _pools.setdefault(loop, {})
    key = id(transport)  # the pool holds the transport, so its id stays its own while the pool lives
    pool = pools.get(key)
    if pool is None:
        pool = pools[key] = StoragePool(transport)
    return pool


async def close_storage_pools() -> None:
    """Close the running event loop's pools (at the end of a command; the console at exit)."""
    pools = _pools.pop(asyncio.get_running_loop(), {})
    for pool in pools.values():
        await pool.aclose()
