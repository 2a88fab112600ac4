"""The SAS pre-check: every rule, no network, no signature in any message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.storage import (
    GRAPH_ALREADY_USED_MESSAGE,
    STORAGE_LOCATION_ALREADY_USED,
    SasFinding,
    check_location,
    explain_storage_error,
    parse_query,
    validate_storage_location,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
SIG = "c2VjcmV0U2lnbmF0dXJl%2B%2F%3D"
BASE = "https://acct.blob.core.windows.net/exports"


def sas(**params: str) -> str:
    fields = {"sv": "2022-11-02", "sr": "c", "sp": "racwl", "se": "2026-12-10T00:00:00Z", "sig": SIG}
    fields.update(params)
    return BASE + "?" + "&".join(f"{k}={v}" for k, v in fields.items() if v is not None)


def by_param(findings: list[SasFinding]) -> dict[str, SasFinding]:
    return {f.parameter: f for f in findings}


def test_a_good_sas_has_no_finding() -> None:
    assert check_location(sas(), now=NOW) == []


def test_expired_is_an_error_naming_se() -> None:
    found = by_param(check_location(sas(se="2026-11-30T00:00:00Z"), now=NOW))
    assert found["se"].level == "error"
    assert "expired" in found["se"].message and "(se)" in found["se"].message
    assert "new SAS" in found["se"].message


def test_expiry_within_a_day_is_a_warning() -> None:
    found = by_param(check_location(sas(se="2026-12-02T06:00:00Z"), now=NOW))
    assert found["se"].level == "warning"
    assert "18.0 h" in found["se"].message


def test_expiry_just_over_a_day_is_fine() -> None:
    assert check_location(sas(se="2026-12-02T12:01:00Z"), now=NOW) == []


@pytest.mark.parametrize("sp", ["r", "rl", "rdl", "", "l"])
def test_permissions_without_create_or_write_are_an_error(sp: str) -> None:
    found = by_param(check_location(sas(sp=sp), now=NOW))
    assert found["sp"].level == "error"
    assert "create (c)" in found["sp"].message and "write (w)" in found["sp"].message


@pytest.mark.parametrize("sp", ["c", "w", "cw", "racwdl", "RACWL"])
def test_permissions_with_create_or_write_pass(sp: str) -> None:
    assert "sp" not in by_param(check_location(sas(sp=sp), now=NOW))


def test_empty_signature_is_an_error() -> None:
    found = by_param(check_location(sas(sig=""), now=NOW))
    assert found["sig"].level == "error"


def test_start_in_the_future_is_an_error() -> None:
    found = by_param(check_location(sas(st="2026-12-01T15:00:00Z"), now=NOW))
    assert found["st"].level == "error"
    assert "(st)" in found["st"].message


def test_start_after_expiry_is_an_error() -> None:
    found = by_param(check_location(sas(st="2026-12-11T00:00:00Z"), now=NOW))
    assert found["st"].level == "error"


def test_unreadable_expiry_is_an_error() -> None:
    found = by_param(check_location(sas(se="tomorrow"), now=NOW))
    assert found["se"].level == "error"


def test_names_in_any_case_and_encoding_are_parsed() -> None:
    location = BASE + f"?SV=1&%53P=rl&S%45=2026-11-01&Sig={SIG}"
    found = by_param(check_location(location, now=NOW))
    assert found["sp"].level == "error"
    assert found["se"].level == "error"


def test_percent_encoded_expiry_value_is_decoded() -> None:
    assert check_location(sas(se="2026-12-10T00%3A00%3A00Z"), now=NOW) == []


def test_repeated_parameter_is_an_error() -> None:
    location = sas() + "&se=2030-01-01"
    found = [f for f in check_location(location, now=NOW) if f.parameter == "se"]
    assert any(f.level == "error" and "2 times" in f.message for f in found)


def test_fixed_location_for_many_targets_names_the_rule() -> None:
    found = by_param(check_location(sas(), now=NOW, targets=5))
    assert found["storageLocation"].level == "warning"
    message = found["storageLocation"].message
    assert "one export per storage location" in message
    assert "{userId}" in message and "4 of these 5" in message


def test_template_for_many_targets_has_no_rule_warning() -> None:
    location = sas().replace("/exports?", "/dsr-{userId}?").replace("sr=c", "srt=co&ss=b")
    assert check_location(location, now=NOW, targets=5) == []


def test_template_with_container_sas_warns_about_the_signature_scope() -> None:
    location = sas().replace("/exports?", "/dsr-{userId}?")
    found = by_param(check_location(location, now=NOW, targets=5))
    assert found["sr"].level == "warning"


def test_blob_sas_is_refused() -> None:
    assert by_param(check_location(sas(sr="b"), now=NOW))["sr"].level == "error"


def test_account_name_stays_allowed() -> None:
    assert check_location("MyStorageAccount", now=NOW) == []


def test_other_https_hosts_are_refused() -> None:
    found = check_location("https://files.example.com/drop?token=1", now=NOW)
    assert found[0].level == "error" and "not an Azure Blob endpoint" in found[0].message


@pytest.mark.parametrize(
    "location",
    ["", "ftp://x/y", "http://acct.blob.core.windows.net/c", "not a name!", "https://[::1/c", "https://h:99999/c"],
)
def test_bad_shapes_are_errors(location: str) -> None:
    found = check_location(location, now=NOW)
    assert found and found[0].level == "error" and found[0].parameter == "storageLocation"


def test_loopback_http_is_allowed_for_an_emulator() -> None:
    assert validate_storage_location("http://127.0.0.1:10000/devstoreaccount1/cont?sig=x")


def test_errors_come_first() -> None:
    found = check_location(sas(se="2026-12-02T00:00:00Z", sp="rl"), now=NOW, targets=3)
    levels = [f.level for f in found]
    assert levels == sorted(levels, key=lambda lv: lv != "error")


def test_parse_query_keeps_repeats_and_decodes() -> None:
    assert parse_query("a=1&A=2&%62=x%20y&flag") == {"a": ["1", "2"], "b": ["x y"], "flag": [""]}


def test_explain_already_used_has_graphs_words_and_the_fix() -> None:
    text = explain_storage_error(STORAGE_LOCATION_ALREADY_USED, GRAPH_ALREADY_USED_MESSAGE)
    assert GRAPH_ALREADY_USED_MESSAGE in text
    assert "dsr-{userId}" in text
    assert "RequestInfo.json" in text and "one export per storage location" in text


def test_explain_already_used_by_words_when_code_missing_and_redacts() -> None:
    message = f"Storage destination has already been used for an export. Location {sas()}"
    text = explain_storage_error("", message)
    assert "c2VjcmV0" not in text and "dsr-{userId}" in text


def test_explain_other_error_is_redacted() -> None:
    assert "c2VjcmV0" not in explain_storage_error("BadRequest", f"bad location {sas()}")


@settings(max_examples=300, deadline=None)
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(["sv", "se", "st", "sp", "sr", "SIG", "sig", "%73ig", "x", "SE", "Sp"]),
            st.text(alphabet="abcdefrwlc0123456789-:TZ%+/=&#", max_size=25),
        ),
        max_size=8,
    ),
    targets=st.integers(min_value=0, max_value=5),
)
def test_property_never_crashes_never_leaks(query: list[tuple[str, str]], targets: int) -> None:
    secret = "Q7xSECRETSIGNATURE"
    location = BASE + "?" + "&".join(f"{k}={v}" for k, v in query) + f"&sig={secret}"
    for finding in check_location(location, now=NOW, targets=targets):
        assert secret not in finding.message
        assert finding.level in ("error", "warning")
        assert finding.parameter


@settings(max_examples=400, deadline=None)
@given(
    scheme=st.sampled_from(["https://", "http://", "ftp://", "", "HTTPS://"]),
    middle=st.text(max_size=30),
    targets=st.integers(min_value=1, max_value=3),
)
def test_property_shape_errors_are_value_errors_without_the_secret(scheme: str, middle: str, targets: int) -> None:
    location = f"{scheme}{middle}?sv=1&sig=Q7xSECRETSIGNATURE"
    try:
        validate_storage_location(location)
    except ValueError as exc:
        assert "Q7xSECRET" not in str(exc)
    for finding in check_location(location, now=NOW, targets=targets):
        assert "Q7xSECRET" not in finding.message


@pytest.mark.parametrize(("extra", "parameter"), [("ss=qt&srt=co", "ss"), ("ss=b&srt=sc", "srt")])
def test_account_sas_that_cannot_write_blobs_is_an_error(extra: str, parameter: str) -> None:
    location = BASE + f"?sv=2022-11-02&{extra}&sp=rcwl&se=2026-12-10T00:00:00Z&sig={SIG}"
    assert by_param(check_location(location, now=NOW))[parameter].level == "error"


def test_account_sas_for_blob_objects_passes() -> None:
    location = BASE + f"?sv=2022-11-02&ss=b&srt=sco&sp=rcwl&se=2026-12-10T00:00:00Z&sig={SIG}"
    assert check_location(location, now=NOW) == []
