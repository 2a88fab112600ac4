"""Helpers for the CLI's subprocess tests: the simulated tenant on loopback, and nothing else on the network.

Every child process gets proxies pointing at a closed loopback port (loopback itself exempt), so a
request that would leave the machine (a storage pre-flight or delivery check to a real
``*.blob.core.windows.net``) fails at once instead of reaching Microsoft.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant

SAS_QUERY = "sv=2022-11-02&ss=b&srt=co&sp=rwlc&se=2099-01-01T00:00:00Z&sig=CLISECRETSIGNATURE99"
"""An account SAS: valid for every container a template names."""
SAS = "https://acct.blob.core.windows.net/exports?sv=2022-11-02&sr=c&sp=rwlc&se=2099-01-01T00:00:00Z&sig=CLISECRETSIGNATURE99"
"""A fixed location (one export only: Graph refuses a reused one)."""
TEMPLATE = f"https://acct.blob.core.windows.net/dsr-{{userId}}?{SAS_QUERY}"
"""One container per user."""
SECRET = "CLISECRETSIGNATURE99"

NO_ESCAPE = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"}}
    env.update(NO_ESCAPE)
    env.update(extra or {})
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(env),
        input=stdin,
    )


def lines(text: str) -> list[dict[str, Any]]:
    """Parse JSON Lines strictly (NaN/Infinity refused: they are not JSON)."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines() if line.strip()]


Served = tuple[SimulatedTenant, LoopbackServer, dict[str, str]]


@pytest.fixture
def served() -> Iterator[Served]:
    tenant = SimulatedTenant(profiles=120, page_size=50, retry_after=0.3, export_duration=1.5)
    with LoopbackServer(tenant) as server:
        env = {"SIM_TOKEN": tenant.issue_token(lifetime=3600)}
        yield tenant, server, env


def graph_args(server: LoopbackServer) -> list[str]:
    return ["--graph-url", server.graph_url, "--token-env", "SIM_TOKEN"]


def posts(tenant: SimulatedTenant) -> list[Any]:
    return [r for r in tenant.requests if r.method == "POST"]


def polls(tenant: SimulatedTenant) -> int:
    return sum(1 for r in tenant.requests if r.kind == "poll")


def wait_for_polls(tenant: SimulatedTenant, count: int) -> None:
    """Return once the tenant has answered ``count`` polls: a process in another state is waited for, not
    a time guessed (a busy machine starts a child process slowly). Gives up after a minute."""
    import time

    deadline = time.monotonic() + 60
    while polls(tenant) < count:
        assert time.monotonic() < deadline, f"the tenant never answered {count} polls"
        time.sleep(0.02)


class BlobServer:
    """The simulator's blob stand-in served on loopback, path-style as Azurite spells it
    (``http://127.0.0.1:PORT/{account}/{container}``), so a CLI subprocess can pre-flight against it."""

    ACCOUNT = "devacct"

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import httpx

        from console.sim.blob import BlobStore

        self.store = BlobStore()
        self.on_request: Callable[[], object] | None = None
        """Called before each blob request is answered (a test's hook between pre-flight and POST)."""
        self.on_each: Callable[[Any], object] | None = None
        """Called with each blob request (an ``httpx.Request``) before it is answered."""
        store = self.store
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                host = self.headers.get("Host") or "127.0.0.1"
                request = httpx.Request(
                    self.command, f"http://{host}{self.path}", headers=dict(self.headers), content=body
                )
                if owner.on_request is not None:
                    owner.on_request()
                if owner.on_each is not None:
                    owner.on_each(request)
                response = store.handle(request)
                data = response.read()
                self.send_response(response.status_code)
                for name, value in response.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _any

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/{self.ACCOUNT}"

    def template(self, prefix: str = "dsr-") -> str:
        return f"{self.base}/{prefix}{{userId}}?{SAS_QUERY}"

    def create(self, container: str) -> None:
        self.store.create_container(self.ACCOUNT, container)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def blob() -> Iterator[BlobServer]:
    server = BlobServer()
    try:
        yield server
    finally:
        server.close()
