"""`--tenant NAME` end to end: config.toml, real MSAL over TLS on loopback, the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from console.sim.tenant import SimulatedTenant
from tests.auth.test_tls_loopback import _Handler

APP_ID = "6d2c3a4e-0000-4000-8000-00000000beef"
SECRET = "s3cr3t-value-for-tests-only"


@pytest.fixture
def tls_tenant(tmp_path: Path) -> Iterator[tuple[SimulatedTenant, str, dict[str, str]]]:
    tenant = SimulatedTenant(profiles=7, retry_after=0.2, export_duration=0.6)
    tenant.identity.poll_interval = 1
    tenant.identity.auto_approve_after = 0.0
    tenant.identity.register_app(APP_ID, public_client_flows=False, secret=SECRET)
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.tenant = tenant  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"https://127.0.0.1:{server.server_address[1]}"
    env = {"REQUESTS_CA_BUNDLE": str(bundle), "NO_PROXY": "127.0.0.1,localhost", "LAB_SECRET": SECRET}
    env.pop("SSL_CERT_FILE", None)
    try:
        yield tenant, base, env
    finally:
        server.shutdown()
        server.server_close()


def write_config(state: Path, tenant: SimulatedTenant, base: str, method: str) -> None:
    state.mkdir(parents=True, exist_ok=True)
    client_id = APP_ID if method == "client_secret" else "14d82eec-204b-4c2f-b7e8-296a70dab67e"
    (state / "config.toml").write_text(
        "[tenants.lab]\n"
        f'tenant = "{tenant.tenant_domain}"\n'
        f'client_id = "{client_id}"\n'
        'cloud = "global"\n'
        f'method = "{method}"\n'
        'client_secret_env = "LAB_SECRET"\n'
        f'authority = "{base}/{tenant.tenant_id}"\n'
        f'graph_url = "{base}/beta"\n'
    )


def cli(state: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
    full.update(env)
    full["EXPORT_CONSOLE_STATE_DIR"] = str(state)
    return subprocess.run(
        [sys.executable, "-m", "console", "--tenant", "lab", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full,
    )


def test_client_secret_tenant_lists_and_exports(
    tls_tenant: tuple[SimulatedTenant, str, dict[str, str]], isolated_state: Path
) -> None:
    tenant, base, env = tls_tenant
    write_config(isolated_state, tenant, base, "client_secret")
    listed = cli(isolated_state, env, "profiles", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 7
    user = json.loads(listed.stdout.splitlines()[0])["userId"]
    exported = cli(isolated_state, env, "export", user, "--storage-location", "acct", "--wait", "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout.splitlines()[-1])["status"] == "complete"
    for cache in isolated_state.glob("token-cache-*"):
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        assert SECRET not in cache.read_text()
    assert SECRET not in (isolated_state / "config.toml").read_text()


def test_wrong_secret_exits_3_with_a_clear_sentence(
    tls_tenant: tuple[SimulatedTenant, str, dict[str, str]], isolated_state: Path
) -> None:
    tenant, base, env = tls_tenant
    write_config(isolated_state, tenant, base, "client_secret")
    done = cli(isolated_state, {**env, "LAB_SECRET": "WRONG-SECRET-XYZ-123"}, "profiles")
    assert done.returncode == 3
    assert "AADSTS7000215" in done.stderr and "Traceback" not in done.stderr
    assert "WRONG-SECRET-XYZ" not in done.stderr


def test_device_code_then_silent_restart(
    tls_tenant: tuple[SimulatedTenant, str, dict[str, str]], isolated_state: Path
) -> None:
    tenant, base, env = tls_tenant
    write_config(isolated_state, tenant, base, "device_code")
    first = cli(isolated_state, env, "profiles", "--json")
    assert first.returncode == 0, first.stderr
    assert "code" in first.stderr.lower()  # the device-code message went to stderr
    second = cli(isolated_state, env, "profiles", "--json")
    assert second.returncode == 0 and second.stderr == ""
    caches = list(isolated_state.glob("token-cache-*"))
    assert caches and all(stat.S_IMODE(c.stat().st_mode) == 0o600 for c in caches)


def test_unknown_tenant_name_is_a_usage_error(isolated_state: Path) -> None:
    isolated_state.mkdir(parents=True, exist_ok=True)
    done = cli(isolated_state, {}, "profiles")
    assert done.returncode == 2 and "lab" in done.stderr
