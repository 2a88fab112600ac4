"""console/tls.py: one CA-bundle rule (SSL_CERT_FILE, then REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from console.tls import CA_BUNDLE_VARIABLES, CABundleError, ca_bundle, requests_verify, verification


def test_the_precedence_is_documented_and_applied(tmp_path: Path) -> None:
    assert CA_BUNDLE_VARIABLES == ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    env = {"CURL_CA_BUNDLE": "/c.pem", "REQUESTS_CA_BUNDLE": "/r.pem", "SSL_CERT_FILE": "/s.pem"}
    assert ca_bundle(env) == ("SSL_CERT_FILE", "/s.pem")
    assert ca_bundle({**env, "SSL_CERT_FILE": "  "}) == ("REQUESTS_CA_BUNDLE", "/r.pem")
    assert ca_bundle({"CURL_CA_BUNDLE": "/c.pem"}) == ("CURL_CA_BUNDLE", "/c.pem")
    assert requests_verify({**env, "SSL_CERT_FILE": ""}) == "/r.pem"
    assert ca_bundle({}) is None and requests_verify({}) is True and verification({}) is True


def test_verification_trusts_exactly_the_named_bundle(tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = verification({"SSL_CERT_FILE": str(bundle), "REQUESTS_CA_BUNDLE": "/nowhere.pem"})
    assert isinstance(context, ssl.SSLContext)
    assert len(context.get_ca_certs()) == 1


def test_an_unreadable_bundle_names_its_variable(tmp_path: Path) -> None:
    with pytest.raises(CABundleError, match="REQUESTS_CA_BUNDLE=.*missing.pem"):
        verification({"REQUESTS_CA_BUNDLE": str(tmp_path / "missing.pem")})
