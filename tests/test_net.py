"""console/net.py: one rule for "this machine", and every place that allows plain http follows it."""

from __future__ import annotations

import pytest

from console.graph.client import validate_graph_url
from console.net import is_loopback
from console.storage import validate_storage_location

LOOPBACK = ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]", " 127.0.0.1 "]
"""Hosts that are this machine."""
ELSEWHERE = [
    "",
    None,
    "localhost.evil.example",
    "evil.localhost",
    "127.0.0.1.nip.io",
    "127.example",
    "10.0.0.1",
    "::2",
    "0.0.0.0",
]
"""Hosts that are not (a name that only looks local is resolved elsewhere)."""


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ELSEWHERE)
def test_hosts_that_only_look_local(host: str | None) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "[::1]"])
def test_the_graph_url_and_the_storage_location_allow_http_on_the_same_hosts(host: str) -> None:
    assert validate_graph_url(f"http://{host}:8765/beta") == f"http://{host}:8765/beta"
    location = f"http://{host}:10000/devstoreaccount1/exports?sv=2024-05-04&sp=rcwl&sig=x"
    assert validate_storage_location(location) == location


@pytest.mark.parametrize("host", ["evil.localhost", "127.0.0.1.nip.io"])
def test_the_graph_url_and_the_storage_location_refuse_http_elsewhere(host: str) -> None:
    with pytest.raises(ValueError, match="http"):
        validate_graph_url(f"http://{host}:8765/beta")
    with pytest.raises(ValueError):
        validate_storage_location(f"http://{host}:10000/devstoreaccount1/exports?sv=2024-05-04&sp=rcwl&sig=x")
