"""Location templates: one container per profile, names safe for Azure, the breaking profile named."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.storage import (
    TemplateError,
    container_safe,
    is_template,
    preview_locations,
    resolve_location,
    resolve_locations,
    valid_container_name,
)
from console.text import terminal_safe
from tests.hostile import ESCAPES, leaks

EVIL = "".join(ESCAPES.values())

T = "https://acct.blob.core.windows.net/dsr-{userId}?sv=1&srt=co&sp=cw&se=2027-01-01&sig=SeCrEt"
UID = "0A1B2C3D-4E5F-4071-8899-AABBCCDDEEFF"
CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")


def test_user_id_is_lowercased_into_the_container() -> None:
    out = resolve_location(T, user_id=UID)
    assert out.startswith("https://acct.blob.core.windows.net/dsr-0a1b2c3d-4e5f-4071-8899-aabbccddeeff?")
    assert out.endswith("sig=SeCrEt")


def test_upn_and_date_are_made_safe() -> None:
    out = resolve_location(
        "https://acct.blob.core.windows.net/{upn}-{date}?sig=x",
        user_id=UID,
        upn="José.O'Neil__Lee@Contoso.COM",
        day=date(2026, 12, 1),
    )
    assert out == "https://acct.blob.core.windows.net/jose-o-neil-lee-contoso-com-2026-12-01?sig=x"


def test_fixed_location_is_returned_unchanged() -> None:
    fixed = "https://acct.blob.core.windows.net/one?sig=x"
    assert not is_template(fixed)
    assert resolve_location(fixed, user_id=UID) == fixed


def test_too_long_container_names_the_profile() -> None:
    upn = "a" * 70 + "@contoso.com"
    with pytest.raises(TemplateError) as caught:
        resolve_location("https://acct.blob.core.windows.net/{upn}?sig=x", user_id=UID, upn=upn)
    assert caught.value.profiles == (f"{upn} ({UID})",)
    assert upn in str(caught.value) and "3-63" in str(caught.value)


def test_empty_upn_names_the_profile() -> None:
    with pytest.raises(TemplateError) as caught:
        resolve_location("https://acct.blob.core.windows.net/x-{upn}?sig=x", user_id=UID, upn="")
    assert caught.value.profiles == (UID,)


def test_short_container_is_refused() -> None:
    with pytest.raises(TemplateError):
        resolve_location("https://acct.blob.core.windows.net/{upn}?sig=x", user_id=UID, upn="a@")


def test_placeholder_in_query_or_host_is_refused() -> None:
    with pytest.raises(TemplateError, match="query"):
        resolve_location("https://acct.blob.core.windows.net/c?sig={userId}", user_id=UID)
    with pytest.raises(TemplateError, match="host"):
        resolve_location("https://{userId}.blob.core.windows.net/c?sig=x", user_id=UID)


def test_unknown_placeholder_is_refused() -> None:
    with pytest.raises(TemplateError, match="unknown placeholder"):
        resolve_location("https://acct.blob.core.windows.net/{userid}?sig=x", user_id=UID)


def test_error_text_never_holds_the_signature() -> None:
    with pytest.raises(TemplateError) as caught:
        resolve_location("https://acct.blob.core.windows.net/{upn}?sig=SeCrEt", user_id=UID, upn="")
    assert "SeCrEt" not in str(caught.value)


def test_resolve_many_reports_every_bad_profile_and_collisions() -> None:
    with pytest.raises(TemplateError) as caught:
        resolve_locations(
            "https://acct.blob.core.windows.net/x-{upn}?sig=x",
            [("1", "a.b@c"), ("2", "a-b@c"), ("3", ""), ("4", "ok@c")],
        )
    assert set(caught.value.profiles) == {"a.b@c (1)", "a-b@c (2)", "3"}


def test_resolve_many_gives_distinct_locations() -> None:
    out = resolve_locations(T, [("A1B", ""), ("C2D", "")])
    assert len(set(out)) == 2


def test_loopback_emulator_container_is_the_second_segment() -> None:
    out = resolve_location("http://127.0.0.1:10000/devstoreaccount1/dsr-{userId}?sig=x", user_id="AB1")
    assert "/devstoreaccount1/dsr-ab1?" in out


def test_control_characters_in_names_are_escaped_in_messages() -> None:
    with pytest.raises(TemplateError) as caught:
        resolve_location("https://acct.blob.core.windows.net/{upn}?sig=x", user_id="u\x1b[31m", upn="\x1b]")
    assert "\x1b" not in str(caught.value)


def test_preview_masks_the_signature() -> None:
    shown = preview_locations(T, [(UID, ""), ("B", ""), ("C", ""), ("D", "")])
    assert len(shown) == 3 and all("SeCrEt" not in s and "sig=***" in s for s in shown)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_property_container_safe_is_safe(text: str) -> None:
    safe = container_safe(text)
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", safe)


@settings(max_examples=500, deadline=None)
@given(
    upn=st.text(max_size=90),
    user_id=st.text(min_size=1, max_size=50),
    prefix=st.sampled_from(["", "dsr-", "x"]),
    with_date=st.booleans(),
)
def test_property_resolved_container_is_valid_or_the_profile_is_named(
    upn: str, user_id: str, prefix: str, with_date: bool
) -> None:
    template = f"https://acct.blob.core.windows.net/{prefix}{{upn}}{'-{date}' if with_date else ''}?sig=S1g"
    try:
        out = resolve_location(template, user_id=user_id, upn=upn, day=date(2026, 1, 2))
    except TemplateError as exc:
        assert exc.profiles and len(exc.profiles) == 1
        assert "S1g" not in str(exc)
        return
    container = out.split("/")[3].split("?")[0]
    assert CONTAINER.match(container), container
    assert valid_container_name(container)


@settings(max_examples=300, deadline=None)
@given(user_id=st.text(min_size=1, max_size=70))
def test_property_user_id_template_is_valid_or_named(user_id: str) -> None:
    try:
        out = resolve_location(T, user_id=user_id)
    except TemplateError as exc:
        assert exc.profiles
        return
    container = out.split("/")[3].split("?")[0]
    assert CONTAINER.match(container), container


def test_a_profile_named_in_a_message_is_written_by_the_one_terminal_safe_rule() -> None:
    """Issue 14, item 2: a UPN with every kind of escape is shown as ``console.text.terminal_safe`` shows it."""
    upn = f"eve{EVIL}@evil.example"
    with pytest.raises(TemplateError) as caught:
        resolve_location("https://acct.blob.core.windows.net/dsr-{upn}?sig=x", user_id=UID, upn=upn)
    assert leaks(str(caught.value)) == []
    assert terminal_safe(f"{upn} ({UID})")[:200] in caught.value.profiles
