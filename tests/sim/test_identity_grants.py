"""The simulated token endpoint's grant routing: which grants it knows, and the app looked up once for each."""

from __future__ import annotations

import httpx

from console.sim.identity import DEFAULT_PUBLIC_CLIENT_ID, SimulatedIdentity
from console.sim.tokens import TokenStore

TENANT = "5f1c7e2a-9b3d-4c8e-a6f0-2d4b8e1c3a7f"
TOKEN_PATH = f"https://login.x.invalid/{TENANT}/oauth2/v2.0/token"


def identity() -> SimulatedIdentity:
    clock = [1_800_000_000.0]
    return SimulatedIdentity(
        tokens=TokenStore(clock=lambda: clock[0]),
        tenant_id=TENANT,
        tenant_domain="contoso.onmicrosoft.com",
        clock=lambda: clock[0],
    )


def token(sim: SimulatedIdentity, form: dict[str, str]) -> httpx.Response:
    response = sim.handle(httpx.Request("POST", TOKEN_PATH, data=form))
    assert response is not None
    return response


def test_a_grant_the_endpoint_does_not_know_is_refused_with_aadsts70003_even_for_a_known_app() -> None:
    sim = identity()
    response = token(sim, {"grant_type": "password", "client_id": DEFAULT_PUBLIC_CLIENT_ID, "username": "a@b"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unsupported_grant_type" and body["error_codes"] == [70003]
    assert "'password'" in body["error_description"]
    assert [(c.endpoint, c.grant_type, c.error) for c in sim.calls] == [("token", "password", "unsupported_grant_type")]


def test_an_unknown_app_is_named_for_device_code_and_client_credentials_but_not_asked_of_a_refresh() -> None:
    sim = identity()
    for grant_type in ("urn:ietf:params:oauth:grant-type:device_code", "client_credentials"):
        response = token(sim, {"grant_type": grant_type, "client_id": "not-registered", "device_code": "x"})
        assert response.status_code == 400 and response.json()["error_codes"] == [700016]
        assert "'not-registered'" in response.json()["error_description"]
    refresh = token(sim, {"grant_type": "refresh_token", "client_id": "not-registered", "refresh_token": "r"})
    assert refresh.status_code == 400 and refresh.json()["error_codes"] == [50173]  # an unknown refresh token
