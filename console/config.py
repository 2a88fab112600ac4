"""Saved tenants (``config.toml``), typed.

``config.toml`` lives in the platformdirs config dir (``Paths.config_file``;
under ``--state-dir`` when given) and holds one ``[tenants.NAME]`` table per
saved tenant::

    default_tenant = "contoso"          # optional: used when --tenant is not given

    [tenants.contoso]
    tenant = "contoso.onmicrosoft.com"  # tenant id (GUID) or a verified domain
    client_id = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
    cloud = "global"                    # global | usgov | dod | china
    method = "device_code"              # device_code | client_secret | certificate | token_env
    client_secret_env = "CONTOSO_SECRET"
    token_env = "CONTOSO_TOKEN"         # token_env: the variable holding a Graph access token
    certificate_path = "/home/admin/.keys/contoso.pem"
    thumbprint = "A1B2..."
    authority = "https://login.example.test/contoso"   # optional override
    graph_url = "https://graph.example.test/beta"      # optional override (the --graph-url rules:
                                                       # https, or http://127.0.0.1:PORT/beta on loopback)
    poll_budget = 2000                  # optional: requests an hour for this tenant (1 to 10,000);
                                        # an explicit --poll-budget overrides it

A client secret never goes into this file, only the *name* of the environment
variable that holds it. Login hosts and Graph hosts come from the clouds table
in ``../shared/graph-api.md``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from console.errors import UsageError
from console.paths import Paths
from console.private import write_private_file

DEFAULT_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
"""The public "Microsoft Graph Command Line Tools" client that Graph PowerShell uses."""

DELEGATED_PERMISSIONS = ("CrossTenantUserProfileSharing.Read.All", "User.Export.All", "User.Read.All")
"""Delegated permissions: list/get/export, and polling ``dataPolicyOperations`` (graph-api.md)."""


class ConfigError(UsageError, ValueError):
    """``config.toml`` is unreadable or a saved tenant is incomplete; the message says which key."""

    title = "Configuration error"


def _url_or(override: str | None, default: str) -> str:
    """An overriding URL without its trailing slash, else ``default``."""
    return override.rstrip("/") if override else default


@dataclass(frozen=True)
class Cloud:
    """One Microsoft cloud: where to sign in and where Graph lives."""

    name: str
    """Key used in ``config.toml`` (``global``, ``usgov``, ``dod``, ``china``)."""
    login_url: str
    """The login authority host, ``https://`` and no path."""
    graph_host: str
    """The Graph endpoint, ``https://`` and no path; also the token resource."""
    shared_profiles: bool
    """Whether the inboundSharedUserProfile APIs exist there (global only, graph-api.md)."""


CLOUDS: Mapping[str, Cloud] = {
    "global": Cloud("global", "https://login.microsoftonline.com", "https://graph.microsoft.com", True),
    "usgov": Cloud("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us", False),
    "dod": Cloud("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us", False),
    # graph-api.md: Entra's page says login.partner.microsoftonline.cn; both are MSAL-known hosts.
    "china": Cloud("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", False),
}
"""The clouds table of ``../shared/graph-api.md``."""


class SignInMethod(StrEnum):
    """How a saved tenant signs in."""

    DEVICE_CODE = "device_code"
    """Delegated: an admin enters a code on any browser (works over SSH)."""
    CLIENT_SECRET = "client_secret"
    """App-only: the app registration's client secret."""
    CERTIFICATE = "certificate"
    """App-only: a PEM private key whose certificate is registered on the app."""
    TOKEN_ENV = "token_env"
    """A Graph access token got elsewhere (``az account get-access-token``), read from an environment variable."""

    @property
    def app_only(self) -> bool:
        """True for the client-credentials methods (no user, no role needed)."""
        return self in (SignInMethod.CLIENT_SECRET, SignInMethod.CERTIFICATE)

    @property
    def silent(self) -> bool:
        """True when signing in never prompts (a secret, a certificate, a token from the environment)."""
        return self is not SignInMethod.DEVICE_CODE


_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


_TENANT_KEYS = frozenset(
    {
        "tenant",
        "client_id",
        "cloud",
        "method",
        "client_secret_env",
        "token_env",
        "certificate_path",
        "thumbprint",
        "authority",
        "graph_url",
        "allow_removal",
        "read_only",
        "poll_budget",
    }
)
"""The keys a ``[tenants.NAME]`` table may hold."""


@dataclass(frozen=True)
class SavedTenant:
    """One ``[tenants.NAME]`` table."""

    name: str
    """The table name, what ``--tenant NAME`` picks; also names the token cache file."""
    tenant: str
    """Tenant id (GUID) or a verified domain such as ``contoso.onmicrosoft.com``."""
    client_id: str = DEFAULT_CLIENT_ID
    """App registration (client) id; defaults to Microsoft Graph Command Line Tools."""
    cloud: str = "global"
    """A key of ``CLOUDS``."""
    method: SignInMethod = SignInMethod.DEVICE_CODE
    """How to sign in."""
    client_secret_env: str | None = None
    """Name of the environment variable holding the client secret (never the secret itself)."""
    certificate_path: str | None = None
    """PEM file with the private key (and ideally the certificate) for ``certificate``."""
    thumbprint: str | None = None
    """SHA-1 thumbprint (hex) of the registered certificate; computed from the PEM when absent."""
    authority: str | None = None
    """Full https authority URL replacing the cloud's login host and tenant; turns instance discovery off."""
    graph_url: str | None = None
    """Graph base URL replacing ``{cloud graph host}/beta``, under the ``--graph-url`` rules (https; plain http on loopback)."""
    allow_removal: bool = False
    """Whether ``remove`` (removePersonalData: destructive, issue 19) may be sent for this tenant; off by default."""
    read_only: bool = False
    """Nothing that changes anything is sent for this tenant (export, removal), as ``--read-only``; watching
    and reporting go on."""
    token_env: str | None = None
    """For ``token_env``: the name of the environment variable holding the access token (never the token)."""
    poll_budget: int | None = None
    """Requests an hour for this tenant (1 to ``POLL_BUDGET_MAX``) in place of the default; an explicit
    ``--poll-budget`` overrides it (``poll_budget_for``)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the fields make sense together.

        Raises:
            ConfigError: naming the table and key that is wrong.
        """
        where = f"[tenants.{self.name}]"
        if not _NAME_RE.match(self.name):
            raise ConfigError(f"{where}: a tenant name uses letters, digits, '-', '_' or '.' (at most 64)")
        if not self.tenant.strip():
            raise ConfigError(f"{where}: 'tenant' is empty: give the tenant id or a verified domain")
        if not self.client_id.strip():
            raise ConfigError(f"{where}: 'client_id' is empty")
        if self.cloud not in CLOUDS:
            raise ConfigError(f"{where}: cloud {self.cloud!r} is not one of {', '.join(CLOUDS)}")
        if self.method is SignInMethod.CERTIFICATE and not self.certificate_path:
            raise ConfigError(f"{where}: method 'certificate' needs 'certificate_path' (a PEM private key)")
        self._validate_token_env(where)
        _poll_budget(where, {"poll_budget": self.poll_budget})
        if self.authority is not None:
            parts = urlsplit(self.authority)
            if parts.scheme != "https" or not parts.hostname:
                raise ConfigError(f"{where}: 'authority' must be a full https:// URL, not {self.authority!r}")
        if self.graph_url is not None:
            # The same rule as --graph-url (one set of option rules): https, or http on loopback only, so
            # a saved tenant can point at ``export-console simulate`` on http://127.0.0.1:PORT/beta.
            from console.graph.client import validate_graph_url

            try:
                validate_graph_url(self.graph_url)
            except ValueError as exc:
                raise ConfigError(f"{where}: 'graph_url': {str(exc).replace('--graph-url ', '', 1)}") from None
        if self.authority is not None and urlsplit(self.authority).path.strip("/") == "":
            raise ConfigError(f"{where}: 'authority' needs the tenant in its path, e.g. https://login.example/TENANT")

    def _validate_token_env(self, where: str) -> None:
        """``method = "token_env"`` needs ``token_env``, a variable's name (not a token); other methods none.

        Raises:
            ConfigError: naming the table and the key.
        """
        if self.method is SignInMethod.TOKEN_ENV:
            if not self.token_env:
                raise ConfigError(
                    f"{where}: method 'token_env' needs 'token_env' (the name of the environment variable "
                    "holding the access token)"
                )
            if not _VARIABLE_RE.match(self.token_env):
                raise ConfigError(
                    f"{where}: 'token_env' must be the name of an environment variable (letters, digits, "
                    "'_'), not the token itself"
                )
        elif self.token_env:
            raise ConfigError(f"{where}: 'token_env' is used only with method 'token_env', not {self.method.value!r}")

    @property
    def cloud_info(self) -> Cloud:
        """The cloud's hosts."""
        return CLOUDS[self.cloud]

    @property
    def authority_url(self) -> str:
        """The MSAL authority: the override, or ``{cloud login host}/{tenant}``."""
        return _url_or(self.authority, f"{self.cloud_info.login_url}/{self.tenant.strip()}")

    @property
    def instance_discovery(self) -> bool | None:
        """MSAL's ``instance_discovery``: off for an overridden authority, MSAL's default otherwise."""
        return False if self.authority else None

    @property
    def graph_base_url(self) -> str:
        """The Graph base URL the client uses: the override, or ``{cloud graph host}/beta``."""
        return _url_or(self.graph_url, f"{self.cloud_info.graph_host}/beta")

    @property
    def graph_resource(self) -> str:
        """The token resource (audience): always the cloud's Graph host, whatever ``graph_url`` says."""
        return self.cloud_info.graph_host

    @property
    def delegated_scopes(self) -> list[str]:
        """Delegated scopes on the cloud's Graph resource (graph-api.md, Clouds)."""
        return [f"{self.graph_resource}/{p}" for p in DELEGATED_PERMISSIONS]

    @property
    def app_scopes(self) -> list[str]:
        """App-only scope: ``{graph host}/.default``."""
        return [f"{self.graph_resource}/.default"]

    @property
    def scopes(self) -> list[str]:
        """The scopes for this tenant's method."""
        return self.app_scopes if self.method.app_only else self.delegated_scopes

    @property
    def shared_profiles_available(self) -> bool:
        """False in a national cloud: say so plainly instead of failing obscurely (graph-api.md)."""
        return self.cloud_info.shared_profiles

    @classmethod
    def from_table(cls, name: str, table: Mapping[str, Any]) -> SavedTenant:
        """Parse one ``[tenants.NAME]`` table.

        Raises:
            ConfigError: a key is missing, unknown or of the wrong type.
        """
        where = f"[tenants.{name}]"
        known = _TENANT_KEYS
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
        flags = {key: table.get(key, False) for key in ("allow_removal", "read_only")}
        for key, flag in flags.items():
            if not isinstance(flag, bool):
                raise ConfigError(f"{where}: '{key}' must be true or false")
        poll_budget = _poll_budget(where, table)
        values: dict[str, str] = {}
        for key, value in table.items():
            if key in flags or key == "poll_budget":
                continue
            if not isinstance(value, str):
                raise ConfigError(f"{where}: '{key}' must be a string")
            values[key] = value
        if "tenant" not in values:
            raise ConfigError(f"{where}: 'tenant' is missing (a tenant id or verified domain)")
        method_text = values.get("method", SignInMethod.DEVICE_CODE.value)
        try:
            method = SignInMethod(method_text)
        except ValueError:
            choices = ", ".join(m.value for m in SignInMethod)
            raise ConfigError(f"{where}: method {method_text!r} is not one of {choices}") from None
        return cls(
            name=name,
            tenant=values["tenant"],
            client_id=values.get("client_id") or DEFAULT_CLIENT_ID,
            cloud=values.get("cloud", "global"),
            method=method,
            client_secret_env=values.get("client_secret_env") or None,
            token_env=values.get("token_env") or None,
            certificate_path=values.get("certificate_path") or None,
            thumbprint=values.get("thumbprint") or None,
            authority=values.get("authority") or None,
            graph_url=values.get("graph_url") or None,
            allow_removal=flags["allow_removal"],
            read_only=flags["read_only"],
            poll_budget=poll_budget,
        )

    def to_table(self) -> dict[str, str | bool | int]:
        """The ``[tenants.NAME]`` table, without keys left at None (``allow_removal`` only when true)."""
        table: dict[str, str | bool | int | None] = {
            "tenant": self.tenant,
            "client_id": self.client_id,
            "cloud": self.cloud,
            "method": self.method.value,
            "client_secret_env": self.client_secret_env,
            "token_env": self.token_env,
            "certificate_path": self.certificate_path,
            "thumbprint": self.thumbprint,
            "authority": self.authority,
            "graph_url": self.graph_url,
            "allow_removal": True if self.allow_removal else None,
            "read_only": True if self.read_only else None,
            "poll_budget": self.poll_budget,
        }
        return {k: v for k, v in table.items() if v is not None}


POLL_BUDGET_MAX = 10_000
"""The most requests an hour a saved tenant's ``poll_budget`` may ask for (Graph's limit per tenant)."""


def _poll_budget(where: str, table: Mapping[str, Any]) -> int | None:
    """A ``[tenants.NAME]`` table's ``poll_budget`` (None when absent).

    Raises:
        ConfigError: not a whole number from 1 to ``POLL_BUDGET_MAX``.
    """
    value = table.get("poll_budget")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= POLL_BUDGET_MAX:
        raise ConfigError(
            f"{where}: 'poll_budget' must be a whole number of requests an hour from 1 to {POLL_BUDGET_MAX:,}, "
            f"not {value!r}"
        )
    return value


def poll_budget_for(saved: SavedTenant | None, given: int | None, default: int) -> int:
    """A tenant's requests an hour: ``--poll-budget`` when given, else its saved ``poll_budget``, else ``default``."""
    if given is not None:
        return given
    if saved is not None and saved.poll_budget is not None:
        return saved.poll_budget
    return default


@dataclass(frozen=True)
class Config:
    """Everything in ``config.toml``."""

    tenants: Mapping[str, SavedTenant] = field(default_factory=dict)
    """Saved tenants by name."""
    default_tenant: str | None = None
    """Used when ``--tenant`` is not given and more than one tenant is saved."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other top-level keys and tables, kept as read so that saving does not drop them."""

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Config:
        """Read ``config.toml``; a missing file is an empty config.

        Raises:
            ConfigError: the file is not valid TOML or a table is wrong.
        """
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            return cls()
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """Build from parsed TOML.

        Raises:
            ConfigError: a table is wrong.
        """
        tables = data.get("tenants", {})
        if not isinstance(tables, dict):
            raise ConfigError("'tenants' must be a table of [tenants.NAME] tables")
        tenants: dict[str, SavedTenant] = {}
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ConfigError(f"tenants.{name} must be a table")
            tenants[name] = SavedTenant.from_table(name, table)
        default = data.get("default_tenant")
        if default is not None and not isinstance(default, str):
            raise ConfigError("'default_tenant' must be a string")
        extra = {k: v for k, v in data.items() if k not in ("tenants", "default_tenant")}
        return cls(tenants=tenants, default_tenant=default, extra=extra)

    def tenant(self, name: str | None = None) -> SavedTenant:
        """The tenant ``--tenant NAME`` picks; without a name, the default or the only one.

        Raises:
            ConfigError: no such tenant, or no name given and the choice is ambiguous.
        """
        if name is None:
            name = self.default_tenant
            if name is None:
                if len(self.tenants) == 1:
                    return next(iter(self.tenants.values()))
                if not self.tenants:
                    raise ConfigError("no saved tenant: add one to config.toml or pass --token-env")
                raise ConfigError(
                    f"several saved tenants ({', '.join(sorted(self.tenants))}): pick one with --tenant NAME"
                )
        try:
            return self.tenants[name]
        except KeyError:
            known = ", ".join(sorted(self.tenants)) or "none"
            raise ConfigError(f"no saved tenant named {name!r} (saved: {known})") from None

    def with_tenant(self, tenant: SavedTenant) -> Config:
        """A copy with ``tenant`` added or replaced."""
        return replace(self, tenants={**self.tenants, tenant.name: tenant})

    def to_toml(self) -> str:
        """The TOML text (comments in a hand-edited file are not kept)."""
        data: dict[str, Any] = dict(self.extra)
        if self.default_tenant is not None:
            data["default_tenant"] = self.default_tenant
        data["tenants"] = {name: t.to_table() for name, t in self.tenants.items()}
        return tomli_w.dumps(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (temp file in the same directory, then rename), mode 0600."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_file(target, self.to_toml().encode("utf-8"))


def load_config(paths: Paths) -> Config:
    """Read ``paths.config_file``.

    Raises:
        ConfigError: the file is wrong.
    """
    return Config.load(paths.config_file)


def save_tenant(paths: Paths, tenant: SavedTenant, *, make_default: bool = False) -> Config:
    """Add or replace one saved tenant in ``config.toml`` and return the new config.

    Raises:
        ConfigError: the existing file is wrong (it is then left untouched).
    """
    config = load_config(paths).with_tenant(tenant)
    if make_default:
        config = replace(config, default_tenant=tenant.name)
    config.save(paths.config_file)
    return config
