"""The one redaction function: a SAS signature or a bearer token never survives, whatever the spelling."""

from __future__ import annotations

import base64
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.redact import REDACTED, has_signature, redact
from console.storage import has_signature as storage_has_signature
from console.storage import redact as storage_redact

SECRET = "Zm9vYmFyU2VjcmV0S2V5+/xyz=="


def _decodings(text: str) -> list[str]:
    """The text and every percent/JSON decoding of it: a secret must not appear in any."""
    out = [text]
    for _ in range(6):
        nxt = unquote(out[-1]).replace("\\u0026", "&").replace("\\u003d", "=").replace("\\/", "/")
        if nxt == out[-1]:
            break
        out.append(nxt)
    return out


def _leaks(secret: str, text: str) -> bool:
    return any(secret in view for view in _decodings(text))


@pytest.mark.parametrize(
    "text",
    [
        f"https://acct.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=cw&se=2026-12-31&sig={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c?SIG={quote(SECRET, safe='')}&sv=1",
        f"https://acct.blob.core.windows.net/c?Sig={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c?%73ig={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c?s%69g={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c?%53%49%47={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c?sv=1#sig={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c;sig={quote(SECRET, safe='')}",
        f"https://acct.blob.core.windows.net/c/sig={quote(SECRET, safe='')}/more",
        f"https://acct.blob.core.windows.net/c?sv=1&sig={SECRET}&se=2",
        f"Invalid storage location 'https://acct.blob.core.windows.net/c?sv=1&sig={SECRET}'. Check the SAS.",
        f'{{"error":{{"message":"https://a.blob.core.windows.net/c?sv=1\\u0026sig={SECRET}\\u0026se=2"}}}}',
        "next=" + quote(f"https://a.blob.core.windows.net/c?sv=1&sig={SECRET}&se=2", safe=""),
        "next=" + quote(quote(f"https://a.blob.core.windows.net/c?sv=1&sig={SECRET}&se=2", safe=""), safe=""),
        f"Location: https://graph.demo.invalid/v1.0/dataPolicyOperations/1?sig={SECRET}",
    ],
)
def test_sas_signature_is_masked_in_every_spelling(text: str) -> None:
    out = redact(text)
    assert not _leaks(SECRET, out), out
    assert REDACTED in out
    assert has_signature(text)
    assert redact(out) == out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://a/c?sv=1&sig=abc&se=2", "https://a/c?sv=1&sig=***&se=2"),
        ("https://a/c?%73ig=abc&x=1", "https://a/c?%73ig=***&x=1"),
        ("https://a/c/sig=xyz/rest", "https://a/c/sig=***/rest"),
        ("https://a/c#sig=abc", "https://a/c#sig=***"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln ok", "token *** ok"),
    ],
)
def test_masks_only_the_value(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://acct.blob.core.windows.net/c?sv=1&se=2",
        "xsig=abc",
        "design=abc",
        "MyStorageAccount",
        "",
        "plain text with sig but no equals",
    ],
)
def test_leaves_text_without_a_secret_alone(text: str) -> None:
    assert redact(text) == text
    assert not has_signature(text)


def test_empty_signature_still_counts_as_a_signature() -> None:
    assert has_signature("https://a/c?sv=1&sig=")
    assert redact("https://a/c?sv=1&sig=") == "https://a/c?sv=1&sig="


def test_storage_reexports_the_one_function() -> None:
    assert storage_redact is redact
    assert storage_has_signature is has_signature


def test_other_token_parameters_are_masked() -> None:
    out = redact("https://login/x?code=1&access_token=tok123&refresh_token=ref456&client_secret=sec789")
    assert "tok123" not in out and "ref456" not in out and "sec789" not in out


# --- property tests -------------------------------------------------------------------------------

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@st.composite
def secrets(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=_B64, min_size=8, max_size=60))
    return "Q7x" + body


@st.composite
def encoded_names(draw: st.DrawFn) -> str:
    """``sig`` in any case, each letter possibly percent-encoded (upper or lower hex), maybe twice."""
    out = []
    for letter in "sig":
        ch = draw(st.sampled_from([letter, letter.upper()]))
        how = draw(st.sampled_from(["plain", "pct", "pct-lower", "pct2"]))
        if how == "pct":
            out.append(f"%{ord(ch):02X}")
        elif how == "pct-lower":
            out.append(f"%{ord(ch):02x}")
        elif how == "pct2":
            out.append(f"%25{ord(ch):02X}")
        else:
            out.append(ch)
    return "".join(out)


_free_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=400, deadline=None)
@given(
    secret=secrets(),
    name=encoded_names(),
    delimiter=st.sampled_from(["?", "&", ";", "#", "/", "?sv=1&", "#x=1&"]),
    encode_value=st.booleans(),
    wrap=st.sampled_from(["none", "quote", "quote2", "json"]),
    before=_free_text,
    after=st.sampled_from(["", "&se=2026-12-31", "#frag", " and more text", "/next", "'", '"}', "\n"]),
    prefix=_free_text,
)
def test_property_signature_never_survives(
    secret: str, name: str, delimiter: str, encode_value: bool, wrap: str, before: str, after: str, prefix: str
) -> None:
    value = quote(secret, safe="") if (encode_value or delimiter == "/") else secret
    url = f"https://acct.blob.core.windows.net/c{delimiter}{name}={value}{after}"
    if wrap == "quote":
        url = quote(url, safe="")
    elif wrap == "quote2":
        url = quote(quote(url, safe=""), safe="")
    elif wrap == "json":
        url = url.replace("&", "\\u0026").replace("/", "\\/")
    text = f"{prefix} {url} {before}"
    out = redact(text)
    assert not _leaks(secret, out), (text, out)
    assert redact(out) == out
    assert has_signature(text)


@settings(max_examples=300, deadline=None)
@given(
    token=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/", min_size=8),
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER"]),
    sep=st.sampled_from([" ", "  ", "\t"]),
    before=_free_text,
)
def test_property_bearer_token_never_survives(token: str, scheme: str, sep: str, before: str) -> None:
    token = "T0k" + token
    out = redact(f"{before} Authorization: {scheme}{sep}{token}\n")
    assert token not in out
    assert redact(out) == out


@settings(max_examples=200, deadline=None)
@given(
    header=st.binary(min_size=4, max_size=40),
    payload=st.binary(min_size=4, max_size=120),
    sig=st.binary(min_size=8, max_size=40),
)
def test_property_jwt_never_survives(header: bytes, payload: bytes, sig: bytes) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    jwt = "eyJ" + b64(b'{"' + header)[3:] + "." + b64(payload) + "." + b64(sig)
    out = redact(f"got token {jwt} from cache")
    assert b64(payload) not in out or len(b64(payload)) < 6
    assert "eyJ" not in out


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_property_idempotent_on_any_text(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="sigSIG%3D73=&#;/?\\u0026abc*", max_size=40))
def test_property_idempotent_on_adversarial_text(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_logging_filter_masks_message_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from console.redact import RedactingFilter, install_log_redaction

    install_log_redaction("tests.redact.demo")
    install_log_redaction("tests.redact.demo")  # idempotent
    logger = logging.getLogger("tests.redact.demo")
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1
    with caplog.at_level(logging.DEBUG, logger="tests.redact.demo"):
        logger.info("HTTP Request: %s %s", "GET", f"https://a.blob.core.windows.net/c?sv=1&sig={SECRET}")
        logger.warning("token Bearer %s", "abc.def.ghi")
    assert not _leaks(SECRET, caplog.text) and "abc.def.ghi" not in caplog.text
    assert "sig=***" in caplog.text
