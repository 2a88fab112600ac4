"""The real network path: MSAL's own requests session, HTTPS on loopback, a test CA from the environment."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from console.auth.errors import SignInError
from console.auth.headless import sign_in_saved_tenant
from console.graph.client import GraphClient
from console.paths import Paths
from console.sim.tenant import SimulatedTenant
from console.tls import CA_BUNDLE_VARIABLES

from .conftest import saved


class _Handler(BaseHTTPRequestHandler):
    tenant: SimulatedTenant

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "host")}
        request = httpx.Request(
            self.command, f"https://{self.headers['Host']}{self.path}", headers=headers, content=body
        )
        response = self.server.tenant.handle(request)  # type: ignore[attr-defined]
        payload = response.read()
        self.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_login(tenant_sim: SimulatedTenant, ca: trustme.CA) -> Iterator[str]:
    """``https://127.0.0.1:PORT``: the simulated identity over TLS with a trustme certificate."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.tenant = tenant_sim  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
async def test_device_code_over_tls_with_the_ca_bundle_from_the_environment(
    tenant_sim: SimulatedTenant,
    tls_login: str,
    ca: trustme.CA,
    tmp_path: Path,
    paths: Paths,
    clock: Any,
    no_ca_env: None,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    bundle = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv(variable, str(bundle))
    tenant_sim.identity.auto_approve_after = 0.0
    tenant = saved(tenant_sim, authority=f"{tls_login}/{tenant_sim.tenant_id}")
    printed: list[str] = []

    provider = (await sign_in_saved_tenant(tenant, paths, interactive_prompt=printed.append, clock=clock)).provider

    assert "enter the code" in printed[0] and tls_login in printed[0]
    assert {c.endpoint for c in tenant_sim.identity.calls} == {"discovery", "devicecode", "token"}
    async with GraphClient(tenant.graph_base_url, provider, transport=tenant_sim.transport()) as client:
        assert sum([len(p) async for p in client.list_profiles()]) == 5

    printed.clear()  # a restart over the network signs in silently
    await sign_in_saved_tenant(tenant, paths, interactive_prompt=printed.append, clock=clock)
    assert printed == []


async def test_an_untrusted_certificate_is_a_clear_error(
    tenant_sim: SimulatedTenant, tls_login: str, paths: Paths, no_ca_env: None
) -> None:
    tenant = saved(tenant_sim, authority=f"{tls_login}/{tenant_sim.tenant_id}")
    with pytest.raises(SignInError, match="SSL_CERT_FILE, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE"):
        await sign_in_saved_tenant(tenant, paths, interactive_prompt=lambda _m: None)
    assert tenant_sim.identity.calls == []


async def test_ssl_cert_file_wins_over_requests_ca_bundle(
    tenant_sim: SimulatedTenant,
    tls_login: str,
    ca: trustme.CA,
    tmp_path: Path,
    paths: Paths,
    clock: Any,
    no_ca_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one rule (console/tls.py): SSL_CERT_FILE first, even when REQUESTS_CA_BUNDLE names another CA."""
    good = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(good))
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    tenant_sim.identity.auto_approve_after = 0.0
    tenant = saved(tenant_sim, authority=f"{tls_login}/{tenant_sim.tenant_id}")

    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(good))
    with pytest.raises(SignInError, match="CA bundle"):
        await sign_in_saved_tenant(tenant, paths, interactive_prompt=lambda _m: None, clock=clock)

    monkeypatch.setenv("SSL_CERT_FILE", str(good))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other))
    provider = (await sign_in_saved_tenant(tenant, paths, interactive_prompt=lambda _m: None, clock=clock)).provider
    assert await provider.get_token()
