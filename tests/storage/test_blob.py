"""Pre-flight and delivery with the in-process blob stand-in (no network): every verdict, no secret."""

from __future__ import annotations

import logging

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.sim.blob import BlobStore
from console.storage import Delivery, inspect_delivery, preflight
from console.storage.blob import container_address
from console.text import terminal_safe
from tests.hostile import ESCAPES, leaks

SIG = "S3cr3tSig%2Bnature%3D"
NOW = 1_800_000_000.0


def location(container: str = "dsr-1", sp: str = "racwl", account: str = "acct") -> str:
    return f"https://{account}.blob.core.windows.net/{container}?sv=2024-05-04&sr=c&sp={sp}&se=2030-01-01&sig={SIG}"


@pytest.fixture
def store() -> BlobStore:
    store = BlobStore(clock=lambda: NOW)
    store.create_container("acct", "dsr-1")
    return store


def no_secret(*texts: str) -> None:
    for text in texts:
        assert "S3cr3t" not in text and "TOPSECRET" not in text, text


async def test_ok_for_an_empty_container(store: BlobStore) -> None:
    assert await preflight(location(), transport=store.transport()) == preflight_ok()


def preflight_ok() -> object:
    from console.storage import Preflight

    return Preflight(ok=True)


async def test_missing_container_refused(store: BlobStore) -> None:
    result = await preflight(location("dsr-none"), transport=store.transport())
    assert (result.ok, result.code) == (False, "ContainerNotFound")


@pytest.mark.parametrize("sp", ["racwl", "rcw", "lcw", "rl"])
async def test_previous_export_refused(store: BlobStore, sp: str) -> None:
    store.put_blob("acct", "dsr-1", "RequestInfo.json", b"{}")
    result = await preflight(location(sp=sp), transport=store.transport())
    assert (result.ok, result.code) == (False, "RequestInfoPresent")
    no_secret(result.refused)


async def test_no_read_no_list_is_a_warning_without_any_request(store: BlobStore) -> None:
    transport = store.transport()
    result = await preflight(location(sp="cw"), transport=transport)
    assert result.ok and result.warning and transport.calls == 0


async def test_bad_signature_is_refused(store: BlobStore) -> None:
    store.signatures = {"the-right-one"}
    result = await preflight(location(), transport=store.transport())
    assert (result.ok, result.code) == (False, "AuthenticationFailed")
    no_secret(result.refused)


async def test_list_permission_missing_falls_back_to_head(store: BlobStore) -> None:
    """The SAS names r but storage refuses the listing: Head Blob still answers."""
    store.put_blob("acct", "dsr-1", "RequestInfo.json", b"{}")
    result = await preflight(location(sp="rcw"), transport=store.transport())
    assert result.code == "RequestInfoPresent"
    assert [r.method for r in store.requests] == ["HEAD"]


async def test_unreachable_is_a_warning(store: BlobStore) -> None:
    store.unreachable = True
    result = await preflight(location(), transport=store.transport())
    assert result.ok and result.code == "Unreachable" and "ConnectError" in result.warning


@pytest.mark.parametrize(
    "where", ["MyStorageAccount", "https://files.example.com/drop?sig=x", "https://acct.blob.core.windows.net/"]
)
async def test_not_a_container_url_is_not_checked(store: BlobStore, where: str) -> None:
    transport = store.transport()
    result = await preflight(where, transport=transport)
    assert result.ok and transport.calls == 0


async def test_plain_http_to_a_remote_host_is_refused(store: BlobStore) -> None:
    result = await preflight("http://acct.blob.core.windows.net/c?sig=x", transport=store.transport())
    assert not result.ok and "https" in result.refused


async def test_no_bearer_token_and_no_redirect_to_storage(store: BlobStore) -> None:
    await preflight(location(), transport=store.transport())
    await inspect_delivery(location(), transport=store.transport())
    assert store.requests and not any(r.had_authorization for r in store.requests)


async def test_redirects_are_not_followed() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})

    result = await preflight(location(), transport=httpx.MockTransport(answer))
    assert result.ok and result.warning and set(seen) == {"acct.blob.core.windows.net"}


async def test_hostile_xml_is_not_parsed() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EnumerationResults><Blobs/></EnumerationResults>'

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb)

    delivery = await inspect_delivery(location(), transport=httpx.MockTransport(answer), now=NOW)
    assert delivery.error and delivery.files == 0
    result = await preflight(location(), transport=httpx.MockTransport(answer))
    assert result.ok and result.warning


async def test_delivery_lists_files_bytes_and_request_info(store: BlobStore) -> None:
    store.put_blob("acct", "dsr-1", "RequestInfo.json", b"12345")
    store.put_blob("acct", "dsr-1", "u/profile.json", b"x" * 100)
    delivery = await inspect_delivery(location(), transport=store.transport(), now=NOW)
    assert delivery == Delivery(NOW, 2, 105, ("RequestInfo.json", "u/profile.json"), True)


async def test_delivery_pages_through_a_big_container(store: BlobStore) -> None:
    for i in range(5003):
        store.put_blob("acct", "dsr-1", f"f{i:05d}", b"ab")
    delivery = await inspect_delivery(location(), transport=store.transport(), now=NOW)
    assert (delivery.files, delivery.bytes, delivery.request_info, delivery.error) == (5003, 10006, False, "")
    assert len(delivery.names) == 200
    assert sum(1 for r in store.requests if r.method == "GET") == 2


async def test_delivery_without_list_permission_says_so(store: BlobStore) -> None:
    delivery = await inspect_delivery(location(sp="rcw"), transport=store.transport(), now=NOW)
    assert "list (l)" in delivery.error and delivery.files == 0


async def test_delivery_of_missing_container_names_the_code(store: BlobStore) -> None:
    delivery = await inspect_delivery(location("dsr-gone"), transport=store.transport(), now=NOW)
    assert "ContainerNotFound" in delivery.error


async def test_control_characters_in_blob_names_are_escaped(store: BlobStore) -> None:
    store.put_blob("acct", "dsr-1", "evil\x1b]0;title\x07", b"x")
    delivery = await inspect_delivery(location(), transport=store.transport(), now=NOW)
    assert "\x1b" not in delivery.names[0] and "\\x1b" in delivery.names[0]


async def test_blob_names_are_written_by_the_one_terminal_safe_rule(store: BlobStore) -> None:
    """Issue 14, item 2: a blob name with every kind of escape is shown as ``console.text.terminal_safe`` shows it."""
    name = f"evil{''.join(ESCAPES.values())}.json"
    store.put_blob("acct", "dsr-1", name, b"x")
    delivery = await inspect_delivery(location(), transport=store.transport(), now=NOW)
    assert delivery.names == (terminal_safe(name),)
    assert leaks(delivery.names[0]) == []


def test_delivery_json_round_trip() -> None:
    delivery = Delivery(NOW, 3, 42, ("RequestInfo.json", "a", "b"), True, "")
    data = delivery.to_json()
    assert data["checkedAt"] == "2027-01-15T08:00:00Z" and data["requestInfo"] is True
    assert Delivery.from_json(data) == delivery
    snake = {"checked_at": NOW, "files": 3, "bytes": 42, "names": ["RequestInfo.json", "a", "b"], "request_info": True}
    assert Delivery.from_json(snake) == delivery
    with pytest.raises(ValueError):
        Delivery.from_json({"files": "many"})


def test_container_address_forms() -> None:
    azure = container_address(location())
    assert azure is not None and azure.container_url == "https://acct.blob.core.windows.net/dsr-1"
    assert azure.permissions == frozenset("racwl")
    emulator = container_address("http://127.0.0.1:10000/devstoreaccount1/dsr-2?sig=x")
    assert emulator is not None and emulator.container_url == "http://127.0.0.1:10000/devstoreaccount1/dsr-2"
    assert emulator.permissions is None and emulator.may("l")
    for other in ("acct", "https://h/x?sig=1", "https://acct.blob.core.windows.net/dsr-{userId}?sig=x", "https://[::1"):
        assert container_address(other) is None


async def test_nothing_secret_in_logs(store: BlobStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store.put_blob("acct", "dsr-1", "RequestInfo.json", b"{}")
    texts = [repr(await preflight(location(), transport=store.transport()))]
    store.unreachable = True
    texts.append(repr(await preflight(location(), transport=store.transport())))
    texts.append(repr(await inspect_delivery(location(), transport=store.transport(), now=NOW)))
    no_secret(caplog.text, *texts, *(r.url for r in store.requests))


_odd = st.text(alphabet="abc-%/?&#=:[]@ \\\x00\x1b\u00e9", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    host=st.sampled_from(
        ["acct.blob.core.windows.net", "127.0.0.1:10000", "[::1]:1", "acct.blob.core.windows.net:99999"]
    ),
    path=_odd,
    query=_odd,
    status=st.sampled_from([200, 201, 301, 400, 403, 404, 409, 500, 503]),
    code=st.sampled_from(["", "ContainerNotFound", "BlobNotFound", "AuthenticationFailed", "Weird\x1b[31m"]),
    body=st.sampled_from(
        [
            b"",
            b"<x",
            b"<EnumerationResults><Blobs><Blob><Name>RequestInfo.json</Name></Blob></Blobs></EnumerationResults>",
            b"\xff\xfe",
            b"<Error><Code>ContainerNotFound</Code></Error>",
        ]
    ),
    scheme=st.sampled_from(["https", "http"]),
)
async def test_property_never_raises_never_leaks(
    host: str, path: str, query: str, status: int, code: str, body: bytes, scheme: str
) -> None:
    secret = "Q7xTOPSECRETSIG"
    where = f"{scheme}://{host}/c{path}?{query}&sp=rl&sig={secret}"

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"x-ms-error-code": code} if code else {}
        return httpx.Response(status, headers=headers, content=body)

    transport = httpx.MockTransport(answer)
    result = await preflight(where, transport=transport)
    delivery = await inspect_delivery(where, transport=transport, now=NOW)
    no_secret(repr(result), repr(delivery))
    assert secret not in repr(result) + repr(delivery)
    assert "\x1b" not in result.refused + result.warning + delivery.error
