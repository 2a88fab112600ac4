"""App-only sign-in (client secret, certificate) end to end with real MSAL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from console.auth.errors import InvalidClientCredential, MissingClientCredential
from console.auth.headless import sign_in_saved_tenant
from console.config import SavedTenant, SignInMethod
from console.graph.client import GraphClient
from console.paths import Paths
from console.sim.tenant import SimulatedTenant

from .conftest import APP_ID, SECRET, saved


def _certificate(common_name: str) -> tuple[bytes, bytes, str]:
    """(private key PEM, certificate PEM, SHA-1 thumbprint hex) of a self-signed RSA certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.fingerprint(hashes.SHA1()).hex().upper()


@pytest.fixture(scope="module")
def cert_material() -> tuple[bytes, bytes, str]:
    return _certificate("export-console test")


@pytest.fixture(scope="module")
def other_cert() -> tuple[bytes, bytes, str]:
    return _certificate("not registered")


async def _count(sim: SimulatedTenant, provider: Any) -> int:
    async with GraphClient(saved(sim).graph_base_url, provider, transport=sim.transport()) as client:
        return sum([len(page) async for page in client.list_profiles()])


def client_credential_calls(sim: SimulatedTenant) -> int:
    return sum(1 for c in sim.identity.calls if c.grant_type == "client_credentials")


async def test_client_secret_from_env_end_to_end_and_cache_holds_no_secret(
    tenant_sim: SimulatedTenant,
    app_secret: SavedTenant,
    make_signin: Any,
    paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    monkeypatch.setenv("CONTOSO_SECRET", SECRET)
    signin = make_signin(app_secret)
    account = await signin.client_secret()
    assert account.username == f"app {APP_ID}" and account.method is SignInMethod.CLIENT_SECRET
    assert account.warnings == ()
    assert await _count(tenant_sim, signin.provider) == 5

    cache_file = paths.token_cache_file("contoso")
    assert cache_file.stat().st_mode & 0o777 == 0o600
    text = cache_file.read_text()
    assert "AccessToken" in text and SECRET not in text
    assert SECRET not in repr(signin) and SECRET not in repr(signin.provider)
    assert SECRET not in caplog.text
    assert SECRET not in paths.config_file.read_text() if paths.config_file.exists() else True


async def test_typed_secret_is_used_and_restart_reuses_the_cached_token(
    tenant_sim: SimulatedTenant, app_secret: SavedTenant, make_signin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTOSO_SECRET", raising=False)
    await make_signin(app_secret).client_secret(SECRET)
    assert client_credential_calls(tenant_sim) == 1

    monkeypatch.setenv("CONTOSO_SECRET", SECRET)
    restarted = make_signin(app_secret)
    assert await restarted.try_silent() is not None
    assert client_credential_calls(tenant_sim) == 1  # served from the token cache


async def test_wrong_secret_gives_the_clear_error_without_the_secret(app_secret: SavedTenant, make_signin: Any) -> None:
    wrong = "wrong-secret-value-42"
    with pytest.raises(InvalidClientCredential) as caught:
        await make_signin(app_secret).client_secret(wrong)
    text = str(caught.value)
    assert "[AADSTS7000215]" in text and "Value (not its Secret ID)" in text
    assert wrong not in text and wrong not in repr(caught.value) and wrong not in caught.value.detail


async def test_expired_secret(tenant_sim: SimulatedTenant, app_secret: SavedTenant, make_signin: Any) -> None:
    tenant_sim.identity.expire_secret(APP_ID, SECRET)
    with pytest.raises(InvalidClientCredential) as caught:
        await make_signin(app_secret).client_secret(SECRET)
    assert caught.value.aadsts == "AADSTS7000222" and "expired" in str(caught.value)


async def test_missing_secret_names_the_variable(
    app_secret: SavedTenant, make_signin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTOSO_SECRET", raising=False)
    with pytest.raises(MissingClientCredential, match="CONTOSO_SECRET"):
        await make_signin(app_secret).client_secret()
    assert await make_signin(app_secret).try_silent() is None


async def test_app_only_401_refreshes_once_with_a_new_client_credentials_request(
    tenant_sim: SimulatedTenant, app_secret: SavedTenant, make_signin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTOSO_SECRET", SECRET)
    signin = make_signin(app_secret)
    await signin.client_secret()
    async with GraphClient(app_secret.graph_base_url, signin.provider, transport=tenant_sim.transport()) as client:
        await client.get_profile(tenant_sim.graph.profiles[0].user_id)
        tenant_sim.tokens.expire_all()
        await client.get_profile(tenant_sim.graph.profiles[1].user_id)
    assert signin.provider.refreshes == 1
    assert client_credential_calls(tenant_sim) == 2


@pytest.mark.parametrize("with_thumbprint", [True, False], ids=["thumbprint", "certificate-in-pem"])
async def test_certificate_end_to_end(
    tenant_sim: SimulatedTenant,
    make_signin: Any,
    tmp_path: Path,
    cert_material: tuple[bytes, bytes, str],
    with_thumbprint: bool,
) -> None:
    key_pem, cert_pem, thumbprint = cert_material
    tenant_sim.identity.register_app(APP_ID, certificate_pem=cert_pem)
    pem_file = tmp_path / "app.pem"
    pem_file.write_bytes(key_pem + (b"" if with_thumbprint else cert_pem))
    tenant = saved(
        tenant_sim,
        client_id=APP_ID,
        method=SignInMethod.CERTIFICATE,
        certificate_path=str(pem_file),
        thumbprint=thumbprint if with_thumbprint else None,
    )
    signin = make_signin(tenant)
    account = await signin.certificate()
    assert account.method is SignInMethod.CERTIFICATE
    assert await _count(tenant_sim, signin.provider) == 5


async def test_unregistered_certificate_is_refused_clearly(
    tenant_sim: SimulatedTenant, make_signin: Any, tmp_path: Path, other_cert: tuple[bytes, bytes, str]
) -> None:
    key_pem, cert_pem, thumbprint = other_cert
    pem_file = tmp_path / "other.pem"
    pem_file.write_bytes(key_pem + cert_pem)
    tenant = saved(
        tenant_sim,
        client_id=APP_ID,
        method=SignInMethod.CERTIFICATE,
        certificate_path=str(pem_file),
        thumbprint=thumbprint,
    )
    with pytest.raises(InvalidClientCredential) as caught:
        await make_signin(tenant).certificate()
    assert caught.value.aadsts == "AADSTS700027" and "thumbprint" in str(caught.value)


async def test_missing_certificate_file(tenant_sim: SimulatedTenant, make_signin: Any, tmp_path: Path) -> None:
    tenant = saved(
        tenant_sim,
        client_id=APP_ID,
        method=SignInMethod.CERTIFICATE,
        certificate_path=str(tmp_path / "absent.pem"),
        thumbprint="AB" * 20,
    )
    with pytest.raises(MissingClientCredential, match="certificate_path"):
        await make_signin(tenant).certificate()


async def test_headless_app_only_prints_nothing(
    tenant_sim: SimulatedTenant,
    app_secret: SavedTenant,
    paths: Paths,
    http_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTOSO_SECRET", SECRET)
    printed: list[str] = []
    provider = (
        await sign_in_saved_tenant(app_secret, paths, interactive_prompt=printed.append, http_client=http_client)
    ).provider
    assert printed == []
    assert await _count(tenant_sim, provider) == 5


async def test_wrong_tenant_for_an_app_only_sign_in(tenant_sim: SimulatedTenant, make_signin: Any) -> None:
    from console.auth.errors import WrongTenant

    tenant = saved(
        tenant_sim,
        tenant="fabrikam.example",
        authority="https://login.test.invalid/fabrikam.example",
        client_id=APP_ID,
        method=SignInMethod.CLIENT_SECRET,
    )
    with pytest.raises(WrongTenant) as caught:
        await make_signin(tenant).client_secret(SECRET)
    assert caught.value.aadsts == "AADSTS90002" and SECRET not in str(caught.value)


async def test_silent_app_only_with_a_wrong_secret_keeps_the_reason(
    app_secret: SavedTenant, make_signin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTOSO_SECRET", "not-the-secret")
    signin = make_signin(app_secret)
    assert await signin.try_silent() is None
    assert isinstance(signin.last_silent_failure, InvalidClientCredential)
