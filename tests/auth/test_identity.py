"""The simulated identity on its own: paths, tenants, grants and Entra's error envelope."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from console.sim.identity import DEFAULT_PUBLIC_CLIENT_ID, SimulatedIdentity
from console.sim.tokens import TokenStore

TENANT = "5f1c7e2a-9b3d-4c8e-a6f0-2d4b8e1c3a7f"


def identity() -> SimulatedIdentity:
    clock = [1_800_000_000.0]
    return SimulatedIdentity(
        tokens=TokenStore(clock=lambda: clock[0]),
        tenant_id=TENANT,
        tenant_domain="contoso.onmicrosoft.com",
        clock=lambda: clock[0],
    )


def post(sim: SimulatedIdentity, path: str, form: dict[str, str]) -> httpx.Response:
    response = sim.handle(httpx.Request("POST", f"https://login.x.invalid{path}", data=form))
    assert response is not None
    return response


def test_discovery_points_back_at_the_host_asked_and_knows_the_domain() -> None:
    sim = identity()
    response = sim.handle(
        httpx.Request("GET", "https://127.0.0.1:8443/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    )
    assert response is not None and response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == f"https://127.0.0.1:8443/{TENANT}/oauth2/v2.0/token"
    assert config["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")


def test_unknown_tenant_and_unknown_path() -> None:
    sim = identity()
    response = sim.handle(httpx.Request("GET", "https://l.invalid/fabrikam.com/v2.0/.well-known/openid-configuration"))
    assert response is not None and response.status_code == 400
    assert response.json()["error_codes"] == [90002] and "AADSTS90002" in response.json()["error_description"]
    assert sim.handle(httpx.Request("GET", "https://l.invalid/beta/me")) is None
    assert sim.handle(httpx.Request("GET", "https://l.invalid/")) is None


def test_device_code_then_refresh_tokens_are_accepted_by_the_store() -> None:
    sim = identity()
    code = post(
        sim,
        f"/{TENANT}/oauth2/v2.0/devicecode",
        {"client_id": DEFAULT_PUBLIC_CLIENT_ID, "scope": "https://graph.microsoft.com/User.Read.All openid"},
    )
    flow = code.json()
    grant = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": DEFAULT_PUBLIC_CLIENT_ID,
        "device_code": flow["device_code"],
    }
    pending = post(sim, f"/{TENANT}/oauth2/v2.0/token", grant)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    sim.approve(flow["user_code"])
    tokens = post(sim, f"/{TENANT}/oauth2/v2.0/token", grant).json()
    claims = sim.tokens.validate(tokens["access_token"])
    assert claims is not None and claims["scp"] == "User.Read.All" and claims["tid"] == TENANT
    assert tokens["scope"] == "https://graph.microsoft.com/User.Read.All"
    assert post(sim, f"/{TENANT}/oauth2/v2.0/token", grant).json()["error"] == "invalid_grant"  # redeemed once

    refreshed = post(
        sim,
        f"/{TENANT}/oauth2/v2.0/token",
        {
            "grant_type": "refresh_token",
            "client_id": DEFAULT_PUBLIC_CLIENT_ID,
            "refresh_token": tokens["refresh_token"],
        },
    ).json()
    assert sim.tokens.validate(refreshed["access_token"]) is not None
    sim.revoke_refresh_tokens()
    revoked = post(
        sim,
        f"/{TENANT}/oauth2/v2.0/token",
        {
            "grant_type": "refresh_token",
            "client_id": DEFAULT_PUBLIC_CLIENT_ID,
            "refresh_token": tokens["refresh_token"],
        },
    ).json()
    assert revoked["error_codes"] == [50173]
    assert sim.tokens.validate("forged.token.value") is None


def test_client_credentials_needs_default_scope_and_never_records_secrets() -> None:
    sim = identity()
    sim.register_app("app", secret="hunter2-secret")
    ok = post(
        sim,
        f"/{TENANT}/oauth2/v2.0/token",
        {
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "hunter2-secret",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    claims = sim.tokens.validate(ok.json()["access_token"])
    assert ok.status_code == 200 and claims is not None and claims["roles"]
    bad_scope = post(
        sim,
        f"/{TENANT}/oauth2/v2.0/token",
        {
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "hunter2-secret",
            "scope": "User.Read",
        },
    )
    assert bad_scope.json()["error"] == "invalid_scope"
    assert "hunter2" not in repr(sim.apps["app"]) and "hunter2" not in repr(sim.calls)
    assert "hunter2" not in json.dumps(bad_scope.json())


def test_auth_and_sim_never_import_textual() -> None:
    code = (
        "import sys, console.auth.signin, console.auth.headless, console.config, "
        "console.sim.identity; sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
