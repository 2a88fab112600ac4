"""The storage rules of a batch (issue 14.3, issue 22 behaviour 9): what Graph cannot write to is refused.

``plan_batch`` is the one rule function under the CLI and the console's form; each refusal names its rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from console.redact import has_signature, redact
from console.storage.rules import plan_batch
from console.text import terminal_safe
from console.tui.export_model import Person, plan_locations
from tests.hostile import leaks

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
SIG = "RULESSECRETSIG42"
GOOD_QUERY = f"sv=2022-11-02&ss=b&srt=co&sp=rcwl&se=2027-01-01T00:00:00Z&sig={SIG}"
HOST = "https://acct.blob.core.windows.net"
PAIRS = [("11111111-aaaa-4aaa-8aaa-000000000001", "ann@contoso.com")]


def refusal(location: str, pairs: list[tuple[str, str]] = PAIRS) -> str:
    plan = plan_batch(location, pairs, now=NOW)
    assert plan.refused and plan.errors, f"accepted: {redact(location)[:120]}"
    assert not plan.locations
    text = " ".join(plan.errors)
    assert SIG not in text
    return text


REFUSED = {
    "no sp": (f"{HOST}/exports?sv=2022-11-02&se=2027-01-01T00:00:00Z&sig={SIG}", "(sp)"),
    "no sig": (f"{HOST}/exports?sv=2022-11-02&sp=rcwl&se=2027-01-01T00:00:00Z", "signature (sig)"),
    "sig only in a fragment": (f"{HOST}/exports?sv=2022-11-02&sp=rcwl&se=2027-01-01#sig={SIG}", "fragment"),
    "sig in a path segment": (f"{HOST}/exports/sig={SIG}?sv=2022-11-02&sp=rcwl&se=2027-01-01", "exactly one container"),
    "st in the future": (f"{HOST}/exports?{GOOD_QUERY}&st=2026-12-02T00:00:00Z", "(st)"),
    "a blob SAS": (f"{HOST}/exports?{GOOD_QUERY}&sr=b", "sr=b"),
    "example.com": (f"https://example.com/exports?{GOOD_QUERY}", "not an Azure Blob endpoint"),
    "an IP address": (f"https://1.2.3.4/exports?{GOOD_QUERY}", "not an Azure Blob endpoint"),
    "Azure Files": (f"https://acct.file.core.windows.net/exports?{GOOD_QUERY}", "not an Azure Blob endpoint"),
    "a longer host": (
        f"https://acct.blob.core.windows.net.evil.invalid/exports?{GOOD_QUERY}",
        "not an Azure Blob endpoint",
    ),
    "a Cyrillic lookalike": (f"https://acct.blob.c\u043ere.windows.net/exports?{GOOD_QUERY}", "plain ASCII"),
    "no container": (f"{HOST}?{GOOD_QUERY}", "exactly one container"),
    "a nested path": (f"{HOST}/exports/sub?{GOOD_QUERY}", "exactly one container"),
    "100,000 characters": (f"{HOST}/exports?{GOOD_QUERY}&x={'a' * 100_000}", "at most 2,048"),
    "a control character": (f"{HOST}/exp\x1borts?{GOOD_QUERY}", "control character"),
    "plain http to Azure": (f"http://acct.blob.core.windows.net/exports?{GOOD_QUERY}", "https"),
    "http to another host": (f"http://files.example/acct/exports?{GOOD_QUERY}", "https"),
    "an account name too short": (f"https://ab.blob.core.windows.net/exports?{GOOD_QUERY}", "Azure Blob endpoint"),
    "a port": (f"https://acct.blob.core.windows.net:8443/exports?{GOOD_QUERY}", "port"),
    "a bad container name": (f"{HOST}/Exports?{GOOD_QUERY}", "container name"),
    "an emulator without its account": (f"http://127.0.0.1:10000/exports?{GOOD_QUERY}", "<account>/<container>"),
    "a percent-encoded fullwidth sig": (f"{HOST}/exports?sv=1&sp=rcwl&se=2027-01-01&%EF%BD%93ig={SIG}", "ASCII"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_locations_graph_cannot_write_to_are_refused_naming_the_rule(case: str) -> None:
    location, rule = REFUSED[case]
    assert rule in refusal(location)


@pytest.mark.parametrize(
    "location",
    [
        f"{HOST}/exports?{GOOD_QUERY}",
        f"{HOST}/dsr-{{userId}}?{GOOD_QUERY}",
        f"http://127.0.0.1:10000/devstoreaccount1/dsr-{{userId}}?{GOOD_QUERY}",
        f"{HOST}/exports/?{GOOD_QUERY}",
        "MyStorageAccount",
        f"{HOST}/exports?sv=2022-11-02&si=policy1&sr=c&sig={SIG}",
    ],
)
def test_locations_graph_can_write_to_pass(location: str) -> None:
    plan = plan_batch(location, PAIRS, now=NOW)
    assert not plan.errors and len(plan.locations) == 1


def test_a_template_resolving_two_users_to_one_container_is_refused() -> None:
    pairs = [("u-1", "Ann.Lee@contoso.com"), ("u-2", "ann-lee@contoso.com")]
    text = refusal(f"{HOST}/dsr-{{upn}}?{GOOD_QUERY}", pairs)
    assert "same container" in text and "ann-lee@contoso.com" in text
    text = refusal(f"{HOST}/dsr-{{date}}?{GOOD_QUERY}", pairs)
    assert "same container" in text


def test_a_container_is_one_whatever_its_case_or_trailing_slash() -> None:
    pairs = [("u-1", "a@contoso.com"), ("U-1", "b@contoso.com")]
    assert "same container" in refusal(f"{HOST}/dsr-{{userId}}?{GOOD_QUERY}", pairs)


def test_the_console_form_refuses_with_the_cli_rule_words() -> None:
    people = [Person(user_id=u, user_principal_name=upn) for u, upn in PAIRS]
    for location, _rule in REFUSED.values():
        form = plan_locations(location, people, now=NOW)
        assert form.blocked
        assert form.errors == plan_batch(location, PAIRS, now=NOW).errors


@pytest.mark.parametrize("name", ["\uff53ig", "SIG", "%73ig", "s%69g", "%EF%BD%93ig", "\uff53\uff49\uff47"])
def test_every_spelling_of_sig_is_a_signature_and_masked(name: str) -> None:
    text = f"{HOST}/exports?sv=1&{name}={SIG}&sp=rcwl"
    assert has_signature(text)
    assert SIG not in redact(text)


def test_a_fullwidth_sig_location_is_refused_and_never_echoed() -> None:
    text = refusal(f"{HOST}/exports?sv=1&sp=rcwl&se=2027-01-01&\uff53ig={SIG}")
    assert "ASCII" in text


def test_a_sas_value_quoted_in_a_refusal_is_written_by_the_one_terminal_safe_rule() -> None:
    """Issue 14, item 2: an ``se`` holding escapes is quoted as ``console.text.terminal_safe`` writes it."""
    expiry = "2027\u202e\x9b31m-01-01"
    text = refusal(f"{HOST}/exports?sv=2022-11-02&sp=rcwl&se={quote(expiry)}&sig={SIG}")
    assert repr(terminal_safe(expiry)) in text
    assert leaks(text) == []
