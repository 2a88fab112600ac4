"""MSAL's two applications for one saved tenant, and how a call to them is made and explained.

``SignIn`` (``console.auth.signin``) drives the flows; this holds what every flow shares: the public
(delegated) and confidential (app-only) ``msal`` applications over the tenant's private token cache,
one way to call MSAL (in a thread, the cache persisted after each call, a network failure as one
sentence) and one way to turn MSAL's error answer into a ``SignInError``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import msal  # msal ships no type hints
import requests

from console.auth.cache import PrivateTokenCache
from console.auth.errors import MissingClientCredential, SignInError, WrongTenant, explain
from console.auth.transport import VerifiedSession
from console.config import DELEGATED_PERMISSIONS, SavedTenant

log = logging.getLogger(__name__)

T = TypeVar("T")


class MsalApps:
    """The tenant's MSAL applications, built on first use over ``cache``.

    Args:
        tenant: the saved tenant (authority, client id, method).
        cache: the tenant's token cache (persisted after every call).
        http_client: a requests-like client for MSAL, or None for ``VerifiedSession`` (console/tls.py).
    """

    def __init__(self, tenant: SavedTenant, cache: PrivateTokenCache, http_client: Any = None) -> None:
        self.tenant = tenant
        """The saved tenant."""
        self._cache = cache
        self._http_client = http_client
        self.public: msal.PublicClientApplication | None = None
        """The delegated (device-code) application, once built."""
        self.confidential: msal.ConfidentialClientApplication | None = None
        """The app-only application of the last credential, once built."""

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking MSAL call in a thread, then persist the cache if MSAL changed it."""

        def call() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                try:
                    self._cache.save()
                except OSError as exc:
                    log.warning(
                        "token cache %s not saved (%s): the next start will ask to sign in again",
                        self._cache.path,
                        exc.strerror,
                    )

        try:
            return await asyncio.to_thread(call)
        except (requests.RequestException, httpx.TransportError) as exc:
            raise SignInError(
                f"Cannot reach the sign-in service at {self.tenant.authority_url} ({type(exc).__name__}): check the "
                "network, proxy and CA bundle (SSL_CERT_FILE, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE).",
                error="network",
            ) from None

    def _app_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "authority": self.tenant.authority_url,
            "token_cache": self._cache.cache,
            "instance_discovery": self.tenant.instance_discovery,
        }
        if self._http_client is not None:
            kwargs["http_client"] = self._http_client
        else:
            kwargs["http_client"] = VerifiedSession()  # the one CA-bundle rule (console/tls.py)
        return kwargs

    def explain(self, result: dict[str, Any]) -> SignInError:
        permissions = (
            ", ".join(DELEGATED_PERMISSIONS) if not self.tenant.method.app_only else "its application permissions"
        )
        return explain(
            result,
            name=self.tenant.name,
            tenant=self.tenant.tenant,
            client_id=self.tenant.client_id,
            cloud=self.tenant.cloud,
            permissions=permissions,
        )

    def _discovery_failed(self, exc: ValueError) -> SignInError:
        """MSAL raises ValueError when the tenant's discovery document is refused (unknown tenant)."""
        text = f"{exc} {exc.__context__ or ''}"
        match = re.search(r"AADSTS(\d+)", text)
        if match:
            return self.explain({"error": "invalid_tenant", "error_codes": [int(match.group(1))]})
        return WrongTenant(
            f"Tenant {self.tenant.tenant} was not found at {self.tenant.authority_url}: check 'tenant', 'cloud' and "
            "'authority' in config.toml.",
            error="invalid_tenant",
        )

    async def public_app(self) -> msal.PublicClientApplication:
        if self.public is None:
            try:
                self.public = await self.run(msal.PublicClientApplication, self.tenant.client_id, **self._app_kwargs())
            except ValueError as exc:
                raise self._discovery_failed(exc) from None
        return self.public

    async def confidential_app(self, credential: Any) -> msal.ConfidentialClientApplication:
        try:
            self.confidential = await self.run(
                msal.ConfidentialClientApplication,
                self.tenant.client_id,
                client_credential=credential,
                **self._app_kwargs(),
            )
        except ValueError as exc:
            if "authority" in str(exc).lower() or "tenant" in str(exc).lower():
                raise self._discovery_failed(exc) from None
            raise MissingClientCredential(
                f"The certificate for {self.tenant.name} cannot be used ({type(exc).__name__}): "
                "'certificate_path' must be an unencrypted PEM private key, with 'thumbprint' or the certificate "
                "in the same file."
            ) from None
        except TypeError:
            raise MissingClientCredential(
                f"The private key in {self.tenant.certificate_path} is encrypted: export it without a passphrase "
                "into a file only you can read."
            ) from None
        return self.confidential
