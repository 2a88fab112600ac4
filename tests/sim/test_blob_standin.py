"""The in-process blob stand-in answers the Blob REST calls as Azure does: codes, XML, the SAS checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from console.sim.blob import BlobStore, blob_address

NOW = 1_800_000_000.0  # 2027-01-15
BASE = "https://acct.blob.core.windows.net"


def sas(sp: str = "racwdl", se: str = "2030-01-01T00:00:00Z", sig: str = "c2ln", st: str = "") -> str:
    query = f"sv=2024-05-04&sr=c&sp={sp}&se={se}&sig={sig}"
    return query + (f"&st={st}" if st else "")


@pytest.fixture
def store() -> BlobStore:
    store = BlobStore(clock=lambda: NOW)
    store.create_container("acct", "box")
    return store


@pytest.fixture
async def http(store: BlobStore) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=store.transport())


def code_of(response: httpx.Response) -> str:
    return str(response.headers.get("x-ms-error-code", ""))


async def test_put_head_get_list(http: httpx.AsyncClient) -> None:
    put = await http.put(f"{BASE}/box/a/b.json?{sas()}", content=b'{"x":1}', headers={"x-ms-blob-type": "BlockBlob"})
    assert put.status_code == 201 and put.headers["ETag"]
    head = await http.head(f"{BASE}/box/a/b.json?{sas()}")
    assert head.status_code == 200 and head.headers["Content-Length"] == "7" and head.content == b""
    assert (await http.get(f"{BASE}/box/a/b.json?{sas()}")).content == b'{"x":1}'
    listing = await http.get(f"{BASE}/box?restype=container&comp=list&{sas()}")
    root = ET.fromstring(listing.content)
    assert [b.findtext("Name") for b in root.iter("Blob")] == ["a/b.json"]
    assert root.findtext("Blobs/Blob/Properties/Content-Length") == "7"


async def test_missing_container_and_blob(http: httpx.AsyncClient) -> None:
    missing = await http.get(f"{BASE}/nope?restype=container&comp=list&{sas()}")
    assert missing.status_code == 404 and code_of(missing) == "ContainerNotFound"
    assert ET.fromstring(missing.content).findtext("Code") == "ContainerNotFound"
    blob = await http.head(f"{BASE}/box/RequestInfo.json?{sas()}")
    assert blob.status_code == 404 and code_of(blob) == "BlobNotFound" and blob.content == b""


@pytest.mark.parametrize(
    "query",
    [
        sas(sig=""),
        sas(se="2020-01-01T00:00:00Z"),
        sas(st="2031-01-01T00:00:00Z"),
        "sp=rl&se=2030-01-01",
        sas(se="soon"),
    ],
)
async def test_bad_sas_is_authentication_failed(http: httpx.AsyncClient, query: str) -> None:
    response = await http.get(f"{BASE}/box?restype=container&comp=list&{query}")
    assert response.status_code == 403 and code_of(response) == "AuthenticationFailed"


@pytest.mark.parametrize(
    ("method", "path", "sp"),
    [("GET", "/box?restype=container&comp=list&", "rcw"), ("HEAD", "/box/x?", "lcw"), ("PUT", "/box/x?", "rl")],
)
async def test_missing_letter_is_permission_mismatch(http: httpx.AsyncClient, method: str, path: str, sp: str) -> None:
    response = await http.request(method, f"{BASE}{path}{sas(sp=sp)}", content=b"" if method == "PUT" else None)
    assert response.status_code == 403 and code_of(response) == "AuthorizationPermissionMismatch"


async def test_signatures_can_be_pinned(store: BlobStore, http: httpx.AsyncClient) -> None:
    store.signatures = {"good"}
    assert code_of(await http.head(f"{BASE}/box/x?{sas(sig='bad')}")) == "AuthenticationFailed"
    assert code_of(await http.head(f"{BASE}/box/x?{sas(sig='good')}")) == "BlobNotFound"


async def test_listing_pages_with_prefix_and_marker(store: BlobStore, http: httpx.AsyncClient) -> None:
    for name in ("a1", "a2", "a3", "b1"):
        store.put_blob("acct", "box", name, b"x")
    first = ET.fromstring(
        (await http.get(f"{BASE}/box?restype=container&comp=list&prefix=a&maxresults=2&{sas()}")).content
    )
    assert [b.findtext("Name") for b in first.iter("Blob")] == ["a1", "a2"]
    marker = first.findtext("NextMarker")
    assert marker
    second = ET.fromstring(
        (await http.get(f"{BASE}/box?restype=container&comp=list&prefix=a&marker={marker}&{sas()}")).content
    )
    assert [b.findtext("Name") for b in second.iter("Blob")] == ["a3"] and not second.findtext("NextMarker")


async def test_create_container_and_path_style(store: BlobStore, http: httpx.AsyncClient) -> None:
    created = await http.put(f"http://127.0.0.1:10000/devstoreaccount1/newbox?restype=container&{sas()}")
    assert created.status_code == 201 and store.has_container("devstoreaccount1", "newbox")
    again = await http.put(f"http://127.0.0.1:10000/devstoreaccount1/newbox?restype=container&{sas()}")
    assert again.status_code == 409 and code_of(again) == "ContainerAlreadyExists"


async def test_requests_are_recorded_redacted(store: BlobStore, http: httpx.AsyncClient) -> None:
    await http.head(f"{BASE}/box/x?{sas(sig='TopSecret')}", headers={"Authorization": "Bearer eyJabc.def.ghi"})
    [record] = store.requests
    assert "TopSecret" not in record.url and record.had_authorization


async def test_unreachable(store: BlobStore, http: httpx.AsyncClient) -> None:
    store.unreachable = True
    with pytest.raises(httpx.ConnectError):
        await http.head(f"{BASE}/box/x?{sas()}")


def test_blob_address() -> None:
    azure = blob_address(f"{BASE}/box/dir/file.json?{sas()}")
    assert azure is not None and (azure.account, azure.container, azure.blob) == ("acct", "box", "dir/file.json")
    local = blob_address("http://127.0.0.1:10000/devstoreaccount1/box")
    assert local is not None and (local.account, local.container, local.blob) == ("devstoreaccount1", "box", "")
    assert blob_address("https://example.com/box") is None
