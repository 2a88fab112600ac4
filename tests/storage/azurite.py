"""Azurite (Microsoft's Blob storage emulator) for the storage tests: start, stop, and SAS URLs.

SAS tokens are computed here with the emulator's published development key (HMAC-SHA256), as
Microsoft documents for service and account SAS; no SDK needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx

ACCOUNT = "devstoreaccount1"
"""Azurite's well-known development account."""
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""Its published key (public, documented by Microsoft: not a secret)."""
VERSION = "2021-08-06"
ROOT = Path(__file__).resolve().parents[2]


def find_azurite() -> str | None:
    """The ``azurite-blob`` executable: ``$AZURITE_BLOB`` ("none": pretend it is missing), the one
    .ci/azurite.sh installed, else on PATH."""
    override = os.environ.get("AZURITE_BLOB")
    if override is not None:
        return None if override.strip().lower() in ("", "none") else override
    local = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    return shutil.which("azurite-blob")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign(text: str) -> str:
    digest = hmac.new(base64.b64decode(KEY), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def container_sas(container: str, permissions: str, *, expiry: datetime | None = None, start: str = "") -> str:
    """A service SAS query for one container (sr=c), signed with the development key."""
    se = _iso(expiry or datetime.now(UTC) + timedelta(days=2))
    resource = f"/blob/{ACCOUNT}/{container}"
    # Service SAS string-to-sign for sv 2020-12-06 and later (Microsoft's "Create a service SAS").
    fields = [permissions, start, se, resource, "", "", "", VERSION, "c", "", "", "", "", "", "", ""]
    sig = _sign("\n".join(fields))
    query = {"sv": VERSION, "sr": "c", "sp": permissions, "se": se, "sig": sig}
    if start:
        query["st"] = start
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())


def account_sas(permissions: str = "rwdlacup", resource_types: str = "sco") -> str:
    """An account SAS query (ss=b) signed with the development key: creates containers, writes anywhere."""
    se = _iso(datetime.now(UTC) + timedelta(days=2))
    # Account SAS string-to-sign for sv 2020-12-06 and later (Microsoft's "Create an account SAS").
    fields = [ACCOUNT, permissions, "b", resource_types, "", se, "", "", VERSION, ""]
    sig = _sign("\n".join(fields) + "\n")
    query = {"sv": VERSION, "ss": "b", "srt": resource_types, "sp": permissions, "se": se, "sig": sig}
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())


@dataclass
class Azurite:
    """A running Azurite blob service on loopback."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def location(self, container: str, permissions: str = "racwl", **kwargs: object) -> str:
        """A container SAS URL (what an admin would give ``--storage-location``)."""
        return f"{self.account_url}/{container}?{container_sas(container, permissions, **kwargs)}"  # type: ignore[arg-type]

    def create_container(self, container: str) -> None:
        response = httpx.put(f"{self.account_url}/{container}?restype=container&{account_sas()}", timeout=10)
        assert response.status_code == 201, response.text

    def put_blob(self, container: str, name: str, data: bytes = b"{}") -> None:
        response = httpx.put(
            f"{self.account_url}/{container}/{quote(name)}?{account_sas()}",
            content=data,
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": VERSION},
            timeout=10,
        )
        assert response.status_code == 201, response.text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_azurite(executable: str, workdir: Path) -> Azurite:
    """Start Azurite on a free loopback port, in memory, and wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=workdir,
        env={**os.environ, "NO_COLOR": "1"},
    )
    running = Azurite(process, port)
    deadline = time.monotonic() + 60  # readiness wait only; no test asserts on time
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"azurite exited with {process.returncode}: {err[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return running
        except OSError:
            time.sleep(0.1)
    running.stop()
    raise RuntimeError("azurite did not start listening within 60 s")
