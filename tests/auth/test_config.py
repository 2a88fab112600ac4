"""config.toml: saved tenants, clouds, overrides, writing it back."""

from __future__ import annotations

import stat
import tomllib

import pytest

from console.config import (
    CLOUDS,
    DEFAULT_CLIENT_ID,
    Config,
    ConfigError,
    SavedTenant,
    SignInMethod,
    load_config,
    save_tenant,
)
from console.paths import Paths

FULL = """
default_tenant = "contoso"

[tenants.contoso]
tenant = "contoso.onmicrosoft.com"
method = "device_code"

[tenants.gov]
tenant = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
cloud = "usgov"
method = "client_secret"
client_secret_env = "GOV_SECRET"

[tenants.private]
tenant = "fabrikam.com"
cloud = "global"
method = "certificate"
certificate_path = "/keys/fabrikam.pem"
thumbprint = "A1B2C3"
authority = "https://login.private.example/fabrikam.com"
graph_url = "https://graph.private.example/beta"
"""


def test_loads_every_key_and_resolves_clouds(paths: Paths) -> None:
    paths.config_file.write_text(FULL)
    config = load_config(paths)
    contoso = config.tenant()
    assert contoso.name == "contoso" and contoso.client_id == DEFAULT_CLIENT_ID
    assert contoso.authority_url == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert contoso.graph_base_url == "https://graph.microsoft.com/beta"
    assert contoso.scopes == [
        "https://graph.microsoft.com/CrossTenantUserProfileSharing.Read.All",
        "https://graph.microsoft.com/User.Export.All",
        "https://graph.microsoft.com/User.Read.All",
    ]
    assert contoso.instance_discovery is None and contoso.shared_profiles_available

    gov = config.tenant("gov")
    assert gov.method is SignInMethod.CLIENT_SECRET and gov.client_secret_env == "GOV_SECRET"
    assert gov.authority_url == "https://login.microsoftonline.us/11111111-2222-3333-4444-555555555555"
    assert gov.graph_base_url == "https://graph.microsoft.us/beta"
    assert gov.scopes == ["https://graph.microsoft.us/.default"]
    assert not gov.shared_profiles_available

    private = config.tenant("private")
    assert private.authority_url == "https://login.private.example/fabrikam.com"
    assert private.instance_discovery is False
    assert private.graph_base_url == "https://graph.private.example/beta"
    assert private.scopes == ["https://graph.microsoft.com/.default"]


@pytest.mark.parametrize(
    "cloud,login,graph",
    [
        ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ],
)
def test_clouds_table(cloud: str, login: str, graph: str) -> None:
    tenant = SavedTenant(name="t", tenant="t.example", cloud=cloud)
    assert tenant.authority_url == f"{login}/t.example"
    assert tenant.graph_base_url == f"{graph}/beta"
    assert CLOUDS[cloud].graph_host == graph


def test_save_tenant_round_trips_and_keeps_other_settings(paths: Paths) -> None:
    paths.config_file.write_text('theme = "dark"\n[ui]\nrefresh = 2\n')
    tricky = SavedTenant(
        name="odd.name-1",
        tenant='we"ird\\tenant',
        method=SignInMethod.CERTIFICATE,
        certificate_path="C:\\keys\\a.pem",
        thumbprint="AB:CD",
    )
    save_tenant(paths, tricky, make_default=True)
    save_tenant(paths, SavedTenant(name="second", tenant="second.example"))
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    config = load_config(paths)
    assert config.tenant("odd.name-1") == tricky
    assert config.tenant().name == "odd.name-1"
    assert config.extra == {"theme": "dark", "ui": {"refresh": 2}}
    assert "secret" not in paths.config_file.read_text().lower()


def test_the_saved_file_is_read_back_identically() -> None:
    data = {"a": 'x\ny\t"z"\u0001', "n": 3, "f": 1.5, "b": True, "l": ["p", 2], "t": {"k y": {"v": "w"}, "empty": {}}}
    tenant = SavedTenant(name="odd.name-1", tenant="t.example")
    written = tomllib.loads(Config(tenants={tenant.name: tenant}, default_tenant=tenant.name, extra=data).to_toml())
    assert written == {**data, "default_tenant": "odd.name-1", "tenants": {"odd.name-1": tenant.to_table()}}


@pytest.mark.parametrize(
    "toml,message",
    [
        ('[tenants.x]\nclient_id = "c"\n', "'tenant' is missing"),
        ('[tenants.x]\ntenant = "t"\ncloud = "mars"\n', "cloud 'mars'"),
        ('[tenants.x]\ntenant = "t"\nmethod = "password"\n', "method 'password'"),
        ('[tenants.x]\ntenant = "t"\nmethod = "certificate"\n', "certificate_path"),
        ('[tenants.x]\ntenant = "t"\nauthority = "http://login.example/t"\n', "https"),
        ('[tenants.x]\ntenant = "t"\nclient_secret = "oops"\n', "unknown key(s) client_secret"),
        ("[tenants.x\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key(paths: Paths, toml: str, message: str) -> None:
    paths.config_file.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(paths)


def test_picking_a_tenant() -> None:
    assert load_or_empty().tenants == {}
    with pytest.raises(ConfigError, match="no saved tenant"):
        Config().tenant()
    two = (
        Config()
        .with_tenant(SavedTenant(name="a", tenant="a.example"))
        .with_tenant(SavedTenant(name="b", tenant="b.example"))
    )
    with pytest.raises(ConfigError, match="--tenant NAME"):
        two.tenant()
    with pytest.raises(ConfigError, match="saved: a, b"):
        two.tenant("c")


def load_or_empty() -> Config:
    return Config.load("/nonexistent/config.toml")
