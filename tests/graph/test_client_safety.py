"""The client never stalls, never leaks, never doubles: throttling, odd URLs, budgets, logs.

Every network path goes to the simulated tenant (``console.sim``) or to a small scripted httpx
transport for faults the simulator lacks; time is a ``ManualClock`` (no test sleeps real time).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from console.auth.base import StaticTokenProvider
from console.clock import ManualClock
from console.graph import errors
from console.graph.client import GraphClient, validate_graph_url
from console.graph.models import DataPolicyOperation
from console.graph.ports import RequestBudget, TokenProvider
from console.graph.throttle import Pacer
from console.sim.graph import POLLS, RequestMatch
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant
from tests.helpers import run_clock_until, settle

BASE = "https://graph.example.test/beta"
TOKEN = "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0In0.SECRETTOKENSIGNATURE"
SAS = "https://acct.blob.core.windows.net/exports?sv=2022-11-02&sp=rwl&sig=TOPSECRETSIGNATURE1234"

Handler = Callable[[httpx.Request], httpx.Response] | Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Wraps a transport; records every request that reached it (host, method, auth header, time)."""

    inner: httpx.AsyncBaseTransport
    clock: ManualClock | None = None
    seen: list[tuple[float, httpx.Request]] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((self.clock.now() if self.clock else 0.0, request))
        return await self.inner.handle_async_request(request)


class CountingBudget:
    """A RequestBudget that grants everything and counts."""

    def __init__(self) -> None:
        self.spent = 0

    async def acquire(self) -> None:
        self.spent += 1


def scripted(handler: Handler, clock: ManualClock | None = None) -> Recorder:
    return Recorder(httpx.MockTransport(handler), clock)


def client_for(transport: httpx.AsyncBaseTransport, clock: ManualClock | None = None, **kwargs: Any) -> GraphClient:
    return GraphClient(BASE, StaticTokenProvider(TOKEN), transport=transport, clock=clock, **kwargs)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def tenant(clock: ManualClock) -> SimulatedTenant:
    return SimulatedTenant(
        profiles=250, page_size=40, retry_after=1, export_duration=10, clock=clock.now, sleep=clock.sleep
    )


def sim_client(tenant: SimulatedTenant, clock: ManualClock, **kwargs: Any) -> tuple[GraphClient, Recorder]:
    recorder = Recorder(tenant.transport(), clock)
    client = GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token()), transport=recorder, clock=clock, **kwargs
    )
    return client, recorder


def test_the_ports_are_the_graph_packages_own() -> None:
    from console.auth import base

    assert base.TokenProvider is TokenProvider  # sign-in re-exports the port, it does not define it
    budget: RequestBudget = CountingBudget()
    assert budget is not None


# -- throttling that slows, not stops ------------------------------------------------------


async def test_a_burst_of_sixteen_429s_without_retry_after_escalates_once(
    tenant: SimulatedTenant, clock: ManualClock
) -> None:
    tenant.graph.faults.throttle(16, retry_after=None)
    tenant.graph.faults.delay = 0.05  # a little latency: the 16 requests are in flight together
    client, recorder = sim_client(tenant, clock)
    users = [p.user_id for p in tenant.graph.profiles[:16]]
    async with client:
        tasks = [asyncio.ensure_future(client.get_profile(u)) for u in users]
        await run_clock_until(clock, lambda: all(t.done() for t in tasks))
        assert all(t.result().user_id for t in tasks)
    assert client.pacer.gates_closed == 0  # 16 answers to requests in flight together: one cycle
    assert client.pacer.streak == 0
    statuses = [r.status for r in tenant.graph.requests]
    assert statuses.count(429) == 16 and statuses.count(200) == 16
    assert all("retry-attempt" not in r.headers for _, r in recorder.seen[:16])
    assert all(r.headers.get("retry-attempt") == "1" for _, r in recorder.seen[16:])  # Graph SDK's header
    first_retry = min(at for at, _ in recorder.seen[16:])
    assert first_retry - recorder.seen[0][0] <= 3.0  # each backed off about 3 s, not a 180 s shared cap


async def test_a_sporadic_429_does_not_delay_other_requests(tenant: SimulatedTenant, clock: ManualClock) -> None:
    unlucky = tenant.graph.profiles[0].user_id
    tenant.graph.faults.throttle(1, retry_after=None, only=RequestMatch(path=unlucky))
    client, _ = sim_client(tenant, clock)
    start = clock.now()
    async with client:
        slow = asyncio.ensure_future(client.get_profile(unlucky))
        await settle()
        others = [asyncio.ensure_future(client.get_profile(p.user_id)) for p in tenant.graph.profiles[1:11]]
        await settle(60)
        assert all(t.done() for t in others) and clock.now() == start  # nobody waited for the 429
        later = await client.get_profile(tenant.graph.profiles[20].user_id)  # nor afterwards
        assert later.user_id and clock.now() == start
        assert not slow.done()  # the throttled one backs off on its own ...
        await run_clock_until(clock, slow.done)
    assert slow.result().user_id == unlucky
    assert 1.5 <= clock.now() - start <= 3.0  # ... about 3 s (Graph SDK design), jittered


async def test_after_a_retry_after_gate_one_probe_goes_first(clock: ManualClock) -> None:
    release = asyncio.Event()
    calls = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "5"})
        if calls == 2:
            await release.wait()  # the probe's answer takes a while
        return httpx.Response(200, json={"userId": request.url.path.rsplit("/", 1)[-1]})

    recorder = scripted(answer, clock)
    async with client_for(recorder, clock) as client:
        first = asyncio.ensure_future(client.get_profile("u0"))
        await settle()
        rest = [asyncio.ensure_future(client.get_profile(f"u{i}")) for i in range(1, 6)]
        await run_clock_until(clock, lambda: calls >= 2)
        await settle(60)
        assert calls == 2  # the gate opened: only the probe is out, the rest wait for its answer
        assert recorder.seen[1][0] - recorder.seen[0][0] == pytest.approx(5.0)
        release.set()
        await run_clock_until(clock, lambda: all(t.done() for t in [first, *rest]))
    assert calls == 7
    assert all(at >= recorder.seen[1][0] for at, _ in recorder.seen[1:])


@pytest.mark.parametrize(("seconds", "seed"), [(20.0, 1), (20.0, 2), (60.0, 3), (60.0, 4)])
async def test_a_storm_closes_the_gate_with_few_probes_and_its_end_is_noticed_soon(
    clock: ManualClock, seconds: float, seed: int
) -> None:
    storm_end = clock.now() + seconds

    def answer(request: httpx.Request) -> httpx.Response:
        if clock.now() < storm_end:
            return httpx.Response(429, json={"error": {"code": "TooManyRequests", "message": "slow down"}})
        return httpx.Response(200, json={"userId": "u"})

    recorder = scripted(answer, clock)
    pacer = Pacer(clock, rng=random.Random(seed))
    async with client_for(recorder, clock, max_attempts=50, pacer=pacer) as client:
        tasks = [asyncio.ensure_future(client.get_profile(f"u{i}")) for i in range(16)]
        await run_clock_until(clock, lambda: all(t.done() for t in tasks))
    during = [at for at, _ in recorder.seen if at < storm_end]
    after = [at for at, _ in recorder.seen if at >= storm_end]
    assert len(during) <= 30, len(during)  # 16 in flight when it began, then one probe per closed gate
    assert pacer.gates_closed >= 3  # escalating gates with one probe each
    assert after and after[0] - storm_end <= 15.0, after[0] - storm_end
    assert all(t.result().user_id == "u" for t in tasks)


async def test_an_absurd_retry_after_fails_that_request_only(tenant: SimulatedTenant, clock: ManualClock) -> None:
    unlucky = tenant.graph.profiles[0].user_id
    tenant.graph.faults.throttle(1, retry_after="1e9", only=RequestMatch(path=unlucky))
    client, _ = sim_client(tenant, clock)
    start = clock.now()
    async with client:
        with pytest.raises(errors.Throttled) as caught:
            await client.get_profile(unlucky)
        assert client.pacer.gate_until <= clock.now()  # the client was not closed for an hour
        other = await client.get_profile(tenant.graph.profiles[1].user_id)
    assert other.user_id and clock.now() == start
    assert "more than the hour" in str(caught.value) and caught.value.exit_code == 1
    assert [r.status for r in tenant.graph.requests] == [429, 200]  # not retried either


@pytest.mark.parametrize("status", [503, 500])
@pytest.mark.parametrize("value", ["inf", "1e9", "Fri, 01 Jan 2100 00:00:00 GMT"])
async def test_absurd_retry_after_forms_on_a_poll(clock: ManualClock, value: str, status: int) -> None:
    recorder = scripted(lambda r: httpx.Response(status, headers={"Retry-After": value}), clock)
    async with client_for(recorder, clock) as client:
        with pytest.raises(errors.Throttled, match="not waiting"):
            await client.get_operation(f"{BASE}/dataPolicyOperations/abc")
        assert client.pacer.gate_until <= clock.now()
    assert len(recorder.seen) == 1


# -- budget ---------------------------------------------------------------------------------


async def test_listing_profile_gets_and_poll_retries_spend_from_the_budget(
    tenant: SimulatedTenant, clock: ManualClock
) -> None:
    budget = CountingBudget()
    client, _ = sim_client(tenant, clock, budget=budget)
    async with client:
        pages = [page async for page in client.list_profiles()]
        assert len(pages) == 7 and budget.spent == 7  # one per page
        await client.get_profile(tenant.graph.profiles[0].user_id)
        assert budget.spent == 8
        accepted = await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
        assert budget.spent == 8  # export POSTs have their own daily quota
        tenant.graph.faults.throttle(2, retry_after="0.5", only=POLLS)
        task = asyncio.ensure_future(client.get_operation(accepted.location, budgeted=True))
        await run_clock_until(clock, task.done)
        task.result()
        assert budget.spent == 10  # the caller paid the first attempt; the client paid both retries
        await client.get_operation(accepted.location)
        assert budget.spent == 11  # not prepaid: the client pays the first attempt too


# -- never follow what must not be followed -------------------------------------------------


async def test_a_307_on_the_export_post_is_not_followed(clock: ManualClock) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": str(request.url)})

    recorder = scripted(answer, clock)
    async with client_for(recorder, clock) as client:
        with pytest.raises(errors.ExportUnconfirmed):
            await client.export_personal_data("u1", SAS)
    assert [r.method for _, r in recorder.seen] == ["POST"]  # one POST only


async def test_a_foreign_next_link_is_refused_and_the_token_never_sent(
    tenant: SimulatedTenant, clock: ManualClock
) -> None:
    tenant.graph.faults.location_base = "https://evil.example.com"
    client, recorder = sim_client(tenant, clock)
    async with client:
        pages = client.list_profiles()
        first = await pages.__anext__()
        assert first
        with pytest.raises(errors.UnsafeRedirect) as caught:
            await pages.__anext__()
    assert "evil.example.com" in str(caught.value)
    assert {r.url.host for _, r in recorder.seen} == {"graph.demo.invalid"}
    assert len(recorder.seen) == 1


@pytest.mark.parametrize(
    "location",
    [
        "https://graph.example.test:99999/v1.0/dataPolicyOperations/abc",  # bad port
        "https://[::1/v1.0/dataPolicyOperations/abc",  # broken IPv6 literal
        "https://[::1]/v1.0/dataPolicyOperations/abc",  # IPv6 literal: another host
        "https://graph.example.test:abc/v1.0/dataPolicyOperations/abc",
        "https://user:pw@graph.example.test/v1.0/dataPolicyOperations/abc",
        "ht!tp://\x00garbage",
        "https://graph.example.test/v1.0/dataPolicyOperations/abc def",
    ],
)
async def test_an_odd_location_is_that_operations_error_never_a_traceback(clock: ManualClock, location: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(202, headers={"Location": location.replace("\x00", "%00"), "Retry-After": "5"})

    recorder = scripted(answer, clock)
    async with client_for(recorder, clock) as client:
        accepted = await client.export_personal_data("u1", SAS)
        with pytest.raises(errors.UnsafeRedirect):
            client.check_url(accepted.location)
        with pytest.raises(errors.UnsafeRedirect):
            await client.get_operation(accepted.location)
        with pytest.raises(errors.UnsafeRedirect) as caught:
            client.check_url(location)
    assert len(recorder.seen) == 1  # nothing was sent to it
    assert "pw@" not in str(caught.value) and "\x00" not in str(caught.value)


async def test_a_default_port_spelled_out_is_the_same_origin(clock: ManualClock) -> None:
    recorder = scripted(lambda r: httpx.Response(200, json={"id": "abc", "status": "running"}), clock)
    async with client_for(recorder, clock) as client:
        poll = await client.get_operation("https://graph.example.test:443/v1.0/dataPolicyOperations/abc")
    assert poll.operation.id == "abc"


# -- errors: right codes, no secrets ------------------------------------------------------------


async def test_401_and_403_on_the_export_post_are_exit_code_3(tenant: SimulatedTenant, clock: ManualClock) -> None:
    user = tenant.graph.profiles[0].user_id
    async with GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider("wrong"), transport=tenant.transport(), clock=clock
    ) as client:
        with pytest.raises(errors.AuthenticationError) as refused:
            await client.export_personal_data(user, SAS)
    assert refused.value.exit_code == 3
    tenant.graph.faults.forbid_all = True
    client, _ = sim_client(tenant, clock)
    async with client:
        with pytest.raises(errors.PermissionDenied) as denied:
            await client.export_personal_data(user, SAS)
    assert denied.value.exit_code == 3


async def test_an_export_5xx_with_an_absurd_retry_after_stays_unconfirmed(clock: ManualClock) -> None:
    recorder = scripted(lambda r: httpx.Response(503, headers={"Retry-After": "1e9"}), clock)
    async with client_for(recorder, clock) as client:
        with pytest.raises(errors.ExportUnconfirmed):
            await client.export_personal_data("u1", SAS)
        assert client.pacer.gate_until <= clock.now()  # the absurd wait closed nothing
        with pytest.raises(errors.ExportUnconfirmed):
            await client.export_personal_data("u2", SAS)
    assert len(recorder.seen) == 2


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (errors.AuthenticationError, 3),
        (errors.PermissionDenied, 3),
        (errors.QuotaExceeded, 2),
        (errors.BadRequest, 1),
        (errors.NotFound, 1),
        (errors.Throttled, 1),
        (errors.ServiceUnavailable, 1),
        (errors.TransportFailure, 1),
        (errors.MalformedResponse, 1),
        (errors.UnsafeRedirect, 1),
        (errors.UnreadableLocation, 1),
        (errors.ExportUnconfirmed, 1),
        (errors.GraphError, 1),
    ],
)
def test_every_error_declares_its_exit_code(kind: type[errors.GraphError], code: int) -> None:
    assert kind.exit_code == code
    assert kind("x").exit_code == code


async def test_a_400_quoting_the_sas_is_redacted_everywhere(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    message = f"Invalid storage location '{SAS}'.\x1b[2J"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": {"code": "BadRequest", "message": message, "innerError": {"request-id": "rid-1"}}}
        )

    caplog.set_level(logging.DEBUG, logger="console.graph")
    async with client_for(scripted(answer, clock), clock) as client:
        with pytest.raises(errors.BadRequest) as caught:
            await client.export_personal_data("u1", SAS)
    text = str(caught.value)
    assert "TOPSECRET" not in text and "sig=***" in text
    assert "\x1b" not in text and "\\x1b" in text  # Graph's text is data: control characters escaped
    assert "rid-1" in text
    assert "TOPSECRET" not in caplog.text and "SECRETTOKENSIGNATURE" not in caplog.text


async def test_transport_errors_name_what_failed_and_the_host(clock: ManualClock) -> None:
    cases: list[tuple[Exception, str]] = [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            "cannot connect to graph.example.test:443 (connection refused)",
        ),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "TLS handshake"),
        (httpx.ReadError("Connection reset by peer"), "reset or closed"),
        (httpx.ConnectTimeout("timed out"), "connecting to graph.example.test:443 timed out"),
        (httpx.ReadTimeout("timed out"), "waiting for graph.example.test:443"),
    ]
    for failure, words in cases:

        def answer(request: httpx.Request, failure: Exception = failure) -> httpx.Response:
            raise failure

        async with client_for(scripted(answer, clock), clock, max_attempts=1) as client:
            with pytest.raises(errors.TransportFailure) as caught:
                await client.get_profile("u1")
        assert words in str(caught.value), str(caught.value)


async def test_a_tls_error_from_the_ssl_module_is_named_tls(clock: ManualClock) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLError("handshake failure")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("handshake") from exc

    async with client_for(scripted(answer, clock), clock, max_attempts=1) as client:
        with pytest.raises(errors.TransportFailure, match="TLS handshake with graph.example.test:443"):
            await client.get_profile("u1")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("https://graph.microsoft.com", "no API version"),
        ("https://graph.microsoft.com/", "no API version"),
        ("https://graph.microsoft.com/directory", "no API version"),
        ("https://user:pw@graph.microsoft.com/beta", "user-info"),
        ("https://token@graph.microsoft.com/beta", "user-info"),
        ("https://graph.microsoft.com:99999/beta", "cannot be parsed"),
        ("https://[::1/beta", "cannot be parsed"),
        ("https://graph.microsoft.com/beta?x=1", "query"),
    ],
)
def test_graph_url_mistakes_are_input_errors_with_a_sentence(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        validate_graph_url(url)


def test_good_graph_urls_pass() -> None:
    assert validate_graph_url(" https://graph.microsoft.com/v1.0/ ") == "https://graph.microsoft.com/v1.0"
    assert validate_graph_url("http://127.0.0.1:8080/beta") == "http://127.0.0.1:8080/beta"


# -- models -------------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", '"NaN"', '"inf"'])
async def test_non_finite_progress_is_none_and_null_status_stays_none(clock: ManualClock, literal: str) -> None:
    body = '{"id": "abc", "status": null, "progress": ' + literal + "}"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/json"})

    async with client_for(scripted(answer, clock), clock) as client:
        poll = await client.get_operation(f"{BASE}/dataPolicyOperations/abc")
    assert poll.operation.progress is None
    assert poll.operation.status is None


def test_unknown_status_is_kept_as_sent() -> None:
    op = DataPolicyOperation.from_json({"id": "a", "status": "archiving", "progress": 12})
    assert op.status == "archiving" and op.progress == 12.0


# -- logs for support ----------------------------------------------------------------------------


async def test_every_request_and_throttling_decision_is_logged_without_the_token(
    tenant: SimulatedTenant, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="console.graph")
    tenant.graph.faults.throttle(1, retry_after="2")
    client, _ = sim_client(tenant, clock)
    token = await _token_of(client)
    async with client:
        task = asyncio.ensure_future(client.get_profile(tenant.graph.profiles[0].user_id))
        await run_clock_until(clock, task.done)
        task.result()
    lines = [r.getMessage() for r in caplog.records if r.name == "console.graph"]
    exchanges = [line for line in lines if line.startswith("graph GET")]
    assert len(exchanges) == 2
    recorded = tenant.graph.requests
    for line, request in zip(exchanges, recorded, strict=True):
        assert f"-> {request.status}" in line
        assert f"request-id={request.request_id}" in line
        assert f"client-request-id={request.client_request_id}" in line
        assert "x-ms-ags-diagnostic=" in line and "date=" in line
    assert "retry-attempt=1" in exchanges[1]
    assert any("gate closed for 2.00 s" in line for line in lines)
    assert any("probe sent" in line for line in lines) and any("probe succeeded" in line for line in lines)
    assert token and token not in caplog.text


async def test_an_operation_can_be_followed_in_the_log_by_its_id(
    tenant: SimulatedTenant, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="console.graph")
    client, _ = sim_client(tenant, clock)
    async with client:
        accepted = await client.export_personal_data(tenant.graph.profiles[0].user_id, SAS)
        await client.get_operation(accepted.location)
    post, poll = tenant.graph.requests
    assert f"accepted: operation {accepted.operation_id}" in caplog.text
    assert f"graph GET export status {accepted.operation_id} -> 200 request-id={poll.request_id}" in caplog.text
    assert f"-> 202 request-id={post.request_id}" in caplog.text
    assert "TOPSECRET" not in caplog.text


async def _token_of(client: GraphClient) -> str:
    tokens: TokenProvider = client._tokens  # noqa: SLF001 - the test needs the token to prove it is absent
    return await tokens.get_token()


async def test_a_cancelled_probe_hands_the_probe_to_the_next_request(clock: ManualClock) -> None:
    never = asyncio.Event()
    calls = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        if calls == 2:
            await never.wait()  # the probe hangs until it is cancelled
        return httpx.Response(200, json={"userId": "u"})

    recorder = scripted(answer, clock)
    async with client_for(recorder, clock) as client:
        tasks = {"u0": asyncio.ensure_future(client.get_profile("u0"))}
        await settle()
        tasks["u1"] = asyncio.ensure_future(client.get_profile("u1"))
        await run_clock_until(clock, lambda: calls >= 2)
        probing = recorder.seen[1][1].url.path.rsplit("/", 1)[-1]
        probe_task = tasks[probing]
        other = tasks["u1" if probing == "u0" else "u0"]
        await settle(60)
        assert not other.done()  # waits for the probe
        probe_task.cancel()
        await run_clock_until(clock, other.done, max_steps=2_000)  # fails (never hangs) if the slot stays taken
    assert other.result().user_id == "u"
