"""The one CA-bundle rule, for every TLS connection the console makes (Graph, sign-in, storage).

Behind a TLS-inspecting proxy an admin points the console at the proxy's CA with an environment
variable. Three names are in use by different tools; the first one set (non-empty) wins:

1. ``SSL_CERT_FILE``      (OpenSSL, Python's ``ssl``, httpx)
2. ``REQUESTS_CA_BUNDLE`` (requests, hence MSAL's sign-in)
3. ``CURL_CA_BUNDLE``     (curl; requests reads it too)

None set: the default trust store of the library (certifi for httpx and requests). The same
precedence holds for the Graph client and storage (``verification()``, an ``ssl.SSLContext``) and
for MSAL's ``requests`` session (``requests_verify()``, a path), so the three can never disagree.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping

from console.errors import UsageError

__all__ = ["CA_BUNDLE_VARIABLES", "CABundleError", "ca_bundle", "requests_verify", "ssl_context", "verification"]

CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""Checked in this order; the first non-empty one names the CA bundle."""


class CABundleError(UsageError, ValueError):
    """The CA bundle an environment variable names cannot be used (a sentence naming the variable)."""

    title = "CA bundle unusable"


def ca_bundle(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(variable, path)`` of the CA bundle the environment names, or None for the default trust store."""
    env = os.environ if environ is None else environ
    for variable in CA_BUNDLE_VARIABLES:
        value = env.get(variable, "").strip()
        if value:
            return variable, value
    return None


def verification(environ: Mapping[str, str] | None = None) -> ssl.SSLContext | bool:
    """httpx's ``verify=``: an SSL context trusting the named bundle, else True (the default store).

    The context is built once per CA rule and reused (``_context``): loading a bundle costs about
    23 ms of CPU, far too much for every request.

    Raises:
        CABundleError: the named file (or directory) cannot be read as CA certificates.
    """
    chosen = ca_bundle(environ)
    if chosen is None:
        return True
    return _context(*chosen)


def ssl_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """One SSL context per process and CA rule: the named bundle's, else the default store's (certifi).

    Storage keeps one client per account for the process (``console.storage.pool``); each builds
    its connections from this context, so the bundle is read once.

    Raises:
        CABundleError: the named file (or directory) cannot be read as CA certificates.
    """
    chosen = ca_bundle(environ)
    return _context(*chosen) if chosen is not None else _context("", "")


@functools.lru_cache(maxsize=8)
def _context(variable: str, path: str) -> ssl.SSLContext:
    """The context for one CA rule (``("", "")``: the default store), built once."""
    if not variable:
        import certifi  # httpx depends on it

        return ssl.create_default_context(cafile=certifi.where())
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise CABundleError(
            f"{variable}={path} cannot be used as a CA bundle ({reason}): point it at a PEM file of CA "
            "certificates, or unset it"
        ) from None


def requests_verify(environ: Mapping[str, str] | None = None) -> str | bool:
    """``requests``' (MSAL's) ``verify=``: the path of the named bundle, else True (certifi)."""
    chosen = ca_bundle(environ)
    return chosen[1] if chosen else True
