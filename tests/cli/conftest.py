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
from collections.abc import Iterator
from typing import Any

import pytest

from console.sim.server import LoopbackServer
from console.sim.tenant import SimulatedTenant

SAS_QUERY = "sv=2022-11-02&sr=c&sp=rwlc&se=2099-01-01T00:00:00Z&sig=CLISECRETSIGNATURE99"
SAS = f"https://acct.blob.core.windows.net/exports?{SAS_QUERY}"
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
