"""The export form's decisions without Textual: the proposed template, the plan, the preview lines."""

from __future__ import annotations

from console.tui.export_model import (
    Person,
    names_text,
    outcome_reason,
    plan_locations,
    propose_template,
    short_location,
)

NOW = 1_800_000_000.0
QUERY = "sv=2024-01-01&sr=c&sp=rcwl&se=2027-06-01T00:00:00Z&sig=S3cr3t"
PEOPLE = [
    Person(
        f"0000000{i}-aaaa-4bbb-8ccc-00000000000{i}",
        display_name=f"Person {i}",
        user_principal_name=f"p{i}@fabrikam.com",
    )
    for i in range(4)
]


def test_the_proposed_template_keeps_account_and_sas_and_varies_the_container() -> None:
    assert (
        propose_template(f"https://acct.blob.core.windows.net/exports?{QUERY}")
        == f"https://acct.blob.core.windows.net/exports-{{userId}}?{QUERY}"
    )
    # a blob path under the container would not make new containers: only the container varies
    assert propose_template(f"https://acct.blob.core.windows.net/exports/sub/dir?{QUERY}").startswith(
        "https://acct.blob.core.windows.net/exports-{userId}?"
    )
    # Azurite on loopback: the account is the first path segment
    assert (
        propose_template("http://127.0.0.1:10000/devstoreaccount1/exports?sig=x")
        == "http://127.0.0.1:10000/devstoreaccount1/exports-{userId}?sig=x"
    )
    long = "a" * 40
    proposed = propose_template(f"https://acct.blob.core.windows.net/{long}?{QUERY}")
    assert len(proposed.split("/")[3].split("?")[0].replace("{userId}", "x" * 36)) <= 63


def test_nothing_is_proposed_for_a_template_an_account_name_or_no_container() -> None:
    assert propose_template(f"https://acct.blob.core.windows.net/dsr-{{userId}}?{QUERY}") == ""
    assert propose_template("MyStorageAccount") == ""
    assert propose_template(f"https://acct.blob.core.windows.net/?{QUERY}") == ""


def test_a_template_gives_one_location_each_and_a_masked_preview() -> None:
    plan = plan_locations(f"https://acct.blob.core.windows.net/dsr-{{userId}}?{QUERY}", PEOPLE, now=NOW)
    assert not plan.blocked
    assert len(set(plan.locations)) == len(PEOPLE)
    assert all(loc.endswith("sig=S3cr3t") for loc in plan.locations)
    assert len(plan.preview) == 3 and all("S3cr3t" not in line for line in plan.preview)
    assert short_location(plan.preview[0]) == f"/dsr-{PEOPLE[0].user_id}?…"


def test_a_fixed_location_for_several_people_warns_with_graphs_rule_and_a_proposal() -> None:
    plan = plan_locations(f"https://acct.blob.core.windows.net/exports?{QUERY}", PEOPLE, now=NOW)
    assert not plan.blocked
    assert any("one export per storage location" in w for w in plan.warnings)
    assert plan.proposal.endswith(f"/exports-{{userId}}?{QUERY}")


def test_sas_errors_block_and_never_show_the_signature() -> None:
    expired = plan_locations(
        f"https://acct.blob.core.windows.net/exports?{QUERY}".replace("2027-06-01", "2026-01-01"), PEOPLE[:1], now=NOW
    )
    assert expired.blocked and expired.errors
    assert all("S3cr3t" not in e for e in expired.errors)
    assert plan_locations("", PEOPLE[:1], now=NOW).blocked
    assert plan_locations("ftp://x", PEOPLE[:1], now=NOW).blocked


def test_a_reused_location_is_explained_with_the_fix_and_names_are_listed() -> None:
    reason = outcome_reason("Storage destination has already been used for an export.", "StorageLocationAlreadyUsed")
    assert "RequestInfo.json" in reason and "template" in reason
    assert outcome_reason(f"bad location https://a/b?{QUERY}").count("S3cr3t") == 0
    assert names_text(PEOPLE, 2) == "Person 0, Person 1 … and 2 more"
    assert Person("id\x1b[31m").label == "id\\x1b[31m"
