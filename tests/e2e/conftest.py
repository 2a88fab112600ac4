"""Fixtures of the end-to-end suite: a simulator subprocess per test, a state dir, a dead storage port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import Console, Sim, reserve_dead_port


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: an end-to-end case that takes tens of seconds (still run by CI)")


@pytest.fixture
def dead_port() -> Iterator[int]:
    sock: socket.socket = reserve_dead_port()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    simulator = Sim(tmp_path)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.close()


@pytest.fixture
def console(sim: Sim, tmp_path: Path) -> Iterator[Console]:
    state = tmp_path / "e2e-state"
    state.mkdir()
    runner = Console(sim, state)
    try:
        yield runner
    finally:
        runner.close()
