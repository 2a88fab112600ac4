"""Pre-flight and delivery against a real Blob service (Azurite), and the SAS kept out of every text."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx
import pytest

from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from console.storage import check_location, inspect_delivery, preflight
from tests.storage.azurite import Azurite, free_port

PROFILES = "directory/inboundSharedUserProfiles"


def fresh(azurite: Azurite, *, create: bool = True) -> str:
    name = f"dsr-{uuid.uuid4().hex[:12]}"
    if create:
        azurite.create_container(name)
    return name


def signature(location: str) -> str:
    """The SAS signature of a location, raw and decoded (neither may appear anywhere)."""
    return location.split("sig=", 1)[1].split("&", 1)[0]


def assert_no_secret(location: str, *texts: str) -> None:
    sig = signature(location)
    for text in texts:
        assert sig not in text and unquote(sig) not in text, text


async def test_fresh_container_passes(azurite: Azurite) -> None:
    result = await preflight(azurite.location(fresh(azurite)))
    assert result.ok and not result.refused and not result.warning


async def test_missing_container_is_refused(azurite: Azurite) -> None:
    name = fresh(azurite, create=False)
    result = await preflight(azurite.location(name))
    assert not result.ok and result.code == "ContainerNotFound"
    assert name in result.refused and "does not exist" in result.refused


@pytest.mark.parametrize("permissions", ["racwl", "rcw", "lcw"])
async def test_previous_export_is_refused_by_list_or_read(azurite: Azurite, permissions: str) -> None:
    name = fresh(azurite)
    azurite.put_blob(name, "RequestInfo.json")
    result = await preflight(azurite.location(name, permissions))
    assert not result.ok and result.code == "RequestInfoPresent"
    assert "RequestInfo.json" in result.refused and "{userId}" in result.refused


async def test_other_blobs_are_not_a_previous_export(azurite: Azurite) -> None:
    name = fresh(azurite)
    azurite.put_blob(name, "notes/RequestInfo.json.bak")
    assert (await preflight(azurite.location(name))).ok


async def test_sas_without_read_or_list_warns_and_goes_on(azurite: Azurite) -> None:
    name = fresh(azurite)
    azurite.put_blob(name, "RequestInfo.json")
    result = await preflight(azurite.location(name, "cw"))
    assert result.ok and "read (r)" in result.warning and "list (l)" in result.warning


async def test_wrong_signature_is_not_a_verdict(azurite: Azurite) -> None:
    location = azurite.location(fresh(azurite)).replace("sig=", "sig=AAAA")
    result = await preflight(location)
    assert result.ok and result.warning
    assert_no_secret(location, result.warning)


async def test_unreachable_storage_warns_and_goes_on(azurite: Azurite) -> None:
    location = azurite.location("dsr-unreachable").replace(f":{azurite.port}/", f":{free_port()}/")
    result = await preflight(location)
    assert result.ok and result.code == "Unreachable" and "could not be reached" in result.warning
    delivery = await inspect_delivery(location, now=5.0)
    assert delivery.error and delivery.files == 0
    assert_no_secret(location, result.warning, delivery.error, repr(delivery), repr(result))


async def test_delivery_recorded_after_the_simulated_graph_wrote_into_azurite(azurite: Azurite) -> None:
    start = time.time()
    clock = {"now": start}
    tenant = SimulatedTenant(profiles=5, clock=lambda: clock["now"], export_duration=10.0, retry_after=1.0)
    name = fresh(azurite)
    location = azurite.location(name)
    assert [f.level for f in check_location(location, now=start)] == []
    assert (await preflight(location)).ok
    user_id = tenant.graph.profiles[0].user_id
    async with httpx.AsyncClient(
        transport=tenant.transport(),
        base_url=DEMO_GRAPH_URL + "/",
        headers={"Authorization": f"Bearer {tenant.issue_token()}"},
    ) as graph:
        accepted = await graph.post(f"{PROFILES}/{user_id}/exportPersonalData", json={"storageLocation": location})
        assert accepted.status_code == 202
        assert (await inspect_delivery(location)).files == 0
        clock["now"] += 11.0
        poll = await graph.get(accepted.headers["Location"])
        assert poll.json()["status"] == "complete"
        assert_no_secret(location, poll.text, accepted.text)
    delivery = await inspect_delivery(location, now=clock["now"])
    assert delivery.error == ""
    assert delivery.request_info and "RequestInfo.json" in delivery.names
    assert delivery.files >= 3 and delivery.bytes > 100
    assert any(n.endswith("profile.json") for n in delivery.names)
    assert delivery.checked_at == clock["now"]
    assert tenant.graph.delivery_errors == []
    # ...and now the location is used: pre-flight refuses it, and so does a fresh simulated Graph.
    assert (await preflight(location)).code == "RequestInfoPresent"
    restarted = SimulatedTenant(profiles=5, clock=lambda: clock["now"])
    async with httpx.AsyncClient(
        transport=restarted.transport(),
        base_url=DEMO_GRAPH_URL + "/",
        headers={"Authorization": f"Bearer {restarted.issue_token()}"},
    ) as graph:
        again = await graph.post(f"{PROFILES}/{user_id}/exportPersonalData", json={"storageLocation": location})
    assert again.status_code == 400 and again.json()["error"]["code"] == "StorageLocationAlreadyUsed"


async def test_expired_sas_is_refused_by_the_precheck_and_azurite_alike(azurite: Azurite) -> None:
    name = fresh(azurite)
    location = azurite.location(name, expiry=datetime.now(UTC) - timedelta(hours=1))
    findings = check_location(location, now=time.time())
    assert [f.parameter for f in findings if f.level == "error"] == ["se"]
    result = await preflight(location)
    # Azurite refuses the expired SAS itself (403 AuthorizationFailure): not a verdict, a warning.
    assert result.ok and "403 AuthorizationFailure" in result.warning
    assert_no_secret(location, result.refused, result.warning, *(f.message for f in findings))


async def test_the_sas_never_reaches_a_log(azurite: Azurite, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name = fresh(azurite)
    location = azurite.location(name)
    azurite.put_blob(name, "RequestInfo.json")
    outputs = [repr(await preflight(location)), repr(await inspect_delivery(location))]
    outputs.append(repr(await preflight(location.replace(f":{azurite.port}/", f":{free_port()}/"))))
    outputs.append(repr(await preflight(azurite.location(fresh(azurite, create=False), "rl"))))
    assert "HTTP Request" in caplog.text  # httpx did log each request...
    assert_no_secret(location, caplog.text, *outputs)  # ...with the signature masked
    assert "sig=***" in caplog.text
