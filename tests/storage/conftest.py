"""Fixtures for the storage tests: a real Blob service (Azurite) on loopback.

When Azurite is not installed (``bash .ci/azurite.sh`` installs it) the tests that need it skip
locally, but FAIL when the environment variable ``CI`` is set: CI can never skip them silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.azurite import Azurite, find_azurite, start_azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    executable = find_azurite()
    if executable is None:
        message = "Azurite is not installed: run `bash .ci/azurite.sh`"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: the storage tests may not be skipped)")
        pytest.skip(message)
    workdir: Path = tmp_path_factory.mktemp("azurite")
    running = start_azurite(executable, workdir)
    try:
        yield running
    finally:
        running.stop()
