"""Device-code sign-in end to end: real MSAL against the simulated identity, in-process."""

from __future__ import annotations

import asyncio
import json
import stat
import threading
import time
from typing import Any

import pytest

from console.auth.errors import (
    ConsentRequired,
    DeviceCodeDeclined,
    DeviceCodeExpired,
    InteractionRequired,
    PublicClientFlowsDisabled,
    SignInCancelled,
    WrongTenant,
)
from console.auth.headless import sign_in_saved_tenant
from console.auth.signin import DeviceCodePrompt
from console.config import SavedTenant
from console.graph.client import GraphClient
from console.graph.errors import AuthenticationError
from console.paths import Paths
from console.sim.tenant import SimulatedTenant

from .conftest import saved


def token_calls(sim: SimulatedTenant, grant: str) -> int:
    return sum(1 for c in sim.identity.calls if c.endpoint == "token" and c.grant_type.endswith(grant))


def device_code_requests(sim: SimulatedTenant) -> int:
    return sum(1 for c in sim.identity.calls if c.endpoint == "devicecode")


async def list_all(sim: SimulatedTenant, provider: Any) -> int:
    async with GraphClient(saved(sim).graph_base_url, provider, transport=sim.transport()) as client:
        count = 0
        async for page in client.list_profiles():
            count += len(page)
        return count


async def test_device_code_signs_in_and_graph_accepts_the_token(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any, paths: Paths
) -> None:
    tenant_sim.identity.auto_approve_after = 0.05
    prompts: list[DeviceCodePrompt] = []
    signin = make_signin(delegated)

    account = await signin.device_code(prompts.append)

    assert len(prompts) == 1
    prompt = prompts[0]
    assert prompt.verification_uri.endswith("/devicelogin")
    assert prompt.user_code and prompt.user_code in prompt.message
    assert 800 < prompt.expires_at - time.time() <= 900
    assert account.username == tenant_sim.identity.user.username
    assert account.tenant_id == tenant_sim.tenant_id
    assert account.warnings == ()
    assert await list_all(tenant_sim, signin.provider) == 5
    cache_file = paths.token_cache_file("contoso")
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    assert "RefreshToken" in json.loads(cache_file.read_text())


async def test_restart_signs_in_silently(tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any) -> None:
    tenant_sim.identity.auto_approve_after = 0.0
    await make_signin(delegated).device_code(lambda _p: None)
    before = device_code_requests(tenant_sim)

    restarted = make_signin(delegated)  # a new process: new MSAL app, cache read from the file
    account = await restarted.try_silent()

    assert account is not None and account.username == tenant_sim.identity.user.username
    assert device_code_requests(tenant_sim) == before
    assert await list_all(tenant_sim, restarted.provider) == 5


async def test_headless_prints_the_device_code_then_nothing_once_cached(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, paths: Paths, http_client: Any, clock: Any
) -> None:
    tenant_sim.identity.auto_approve_after = 0.02
    printed: list[str] = []
    provider = (
        await sign_in_saved_tenant(
            delegated, paths, interactive_prompt=printed.append, http_client=http_client, clock=clock
        )
    ).provider
    assert len(printed) == 1 and "enter the code" in printed[0]
    assert await list_all(tenant_sim, provider) == 5

    printed.clear()
    provider = (
        await sign_in_saved_tenant(
            delegated, paths, interactive_prompt=printed.append, http_client=http_client, clock=clock
        )
    ).provider
    assert printed == []
    assert await list_all(tenant_sim, provider) == 5


async def test_expired_refresh_token_goes_back_to_interactive(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any, paths: Paths, http_client: Any, clock: Any
) -> None:
    tenant_sim.identity.access_token_lifetime = 60  # MSAL renews tokens with under 5 minutes left
    tenant_sim.identity.auto_approve_after = 0.0
    await make_signin(delegated).device_code(lambda _p: None)
    tenant_sim.identity.expire_refresh_tokens()

    restarted = make_signin(delegated)
    assert await restarted.try_silent() is None
    reason = restarted.last_silent_failure
    assert isinstance(reason, InteractionRequired)
    assert reason.aadsts == "AADSTS700082"
    assert "sign in again" in str(reason) and "AADSTS700082" in str(reason)

    printed: list[str] = []
    provider = (
        await sign_in_saved_tenant(
            delegated, paths, interactive_prompt=printed.append, http_client=http_client, clock=clock
        )
    ).provider
    assert "cannot be used" in printed[0] and "AADSTS700082" in printed[0]
    assert "enter the code" in printed[1]
    assert await list_all(tenant_sim, provider) == 5


async def test_a_401_mid_run_refreshes_once_and_carries_on(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    tenant_sim.identity.auto_approve_after = 0.0
    signin = make_signin(delegated)
    await signin.device_code(lambda _p: None)
    refresh_before = token_calls(tenant_sim, "refresh_token")
    async with GraphClient(delegated.graph_base_url, signin.provider, transport=tenant_sim.transport()) as client:
        assert (await client.get_profile(tenant_sim.graph.profiles[0].user_id)).user_id
        tenant_sim.tokens.expire_all()  # Graph now answers 401 to the token the client holds
        profile = await client.get_profile(tenant_sim.graph.profiles[1].user_id)
    assert profile.user_id == tenant_sim.graph.profiles[1].user_id
    assert signin.provider.refreshes == 1
    assert token_calls(tenant_sim, "refresh_token") == refresh_before + 1


async def test_concurrent_401s_cause_one_refresh(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    tenant_sim.identity.auto_approve_after = 0.0
    signin = make_signin(delegated)
    await signin.device_code(lambda _p: None)
    tokens = await asyncio.gather(*(signin.provider.get_token(force_refresh=True) for _ in range(8)))
    assert len(set(tokens)) == 1
    assert signin.provider.refreshes == 1


async def test_mfa_required_on_refresh_raises_a_clear_authentication_error(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    tenant_sim.identity.auto_approve_after = 0.0
    signin = make_signin(delegated)
    await signin.device_code(lambda _p: None)
    tenant_sim.identity.require_mfa_on_refresh = True
    with pytest.raises(InteractionRequired) as caught:
        await signin.provider.get_token(force_refresh=True)
    assert isinstance(caught.value, AuthenticationError) and caught.value.exit_code == 3
    assert caught.value.aadsts == "AADSTS50076"
    assert "multi-factor" in str(caught.value)


async def test_not_signed_in_provider_refuses_with_a_sentence(delegated: SavedTenant, make_signin: Any) -> None:
    with pytest.raises(InteractionRequired, match="Not signed in to contoso"):
        await make_signin(delegated).provider.get_token()


async def test_declined_code_gives_the_clear_error(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    signin = make_signin(delegated)
    with pytest.raises(DeviceCodeDeclined, match="declined"):
        await signin.device_code(lambda p: tenant_sim.identity.decline(p.user_code))
    assert signin.account is None


async def test_expired_code_gives_the_clear_error(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    with pytest.raises(DeviceCodeExpired) as caught:
        await make_signin(delegated).device_code(lambda p: tenant_sim.identity.expire(p.user_code))
    assert caught.value.aadsts == "AADSTS70020"
    assert "start the sign-in again" in str(caught.value)


async def test_missing_consent_names_what_to_do(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    tenant_sim.identity.consent_granted = False
    tenant_sim.identity.auto_approve_after = 0.0
    with pytest.raises(ConsentRequired) as caught:
        await make_signin(delegated).device_code(lambda _p: None)
    text = str(caught.value)
    assert "[AADSTS65001]" in text and "admin consent" in text and "CrossTenantUserProfileSharing.Read.All" in text


async def test_public_client_flows_disabled(tenant_sim: SimulatedTenant, make_signin: Any) -> None:
    from .conftest import APP_ID

    with pytest.raises(PublicClientFlowsDisabled, match="Allow public client flows"):
        await make_signin(saved(tenant_sim, client_id=APP_ID)).device_code(lambda _p: None)


async def test_unknown_app_and_unknown_tenant(tenant_sim: SimulatedTenant, make_signin: Any) -> None:
    with pytest.raises(WrongTenant) as caught:
        await make_signin(saved(tenant_sim, client_id="00000000-0000-0000-0000-00000000beef")).device_code(
            lambda _p: None
        )
    assert caught.value.aadsts == "AADSTS700016" and "client_id" in str(caught.value)

    wrong = saved(tenant_sim, tenant="fabrikam.onmicrosoft.com", authority="https://login.test.invalid/fabrikam.com")
    with pytest.raises(WrongTenant) as caught:
        await make_signin(wrong).device_code(lambda _p: None)
    assert caught.value.aadsts == "AADSTS90002" and "fabrikam.onmicrosoft.com" in str(caught.value)


@pytest.mark.filterwarnings("ignore:Attempted too soon")
async def test_slow_down_and_pending_are_waited_out(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    tenant_sim.identity.slow_down_polls = 1
    approved = threading.Timer(0.15, tenant_sim.identity.approve)
    approved.start()
    started = time.monotonic()
    account = await make_signin(delegated).device_code(lambda _p: None)
    assert account.username == tenant_sim.identity.user.username
    errors = [c.error for c in tenant_sim.identity.calls if c.grant_type.endswith("device_code")]
    assert errors[0] == "slow_down" and "authorization_pending" in errors and errors[-1] == ""
    assert time.monotonic() - started < 3


async def test_cancel_with_an_event_stops_polling(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    cancel = threading.Event()
    signin = make_signin(delegated)
    task = asyncio.create_task(signin.device_code(lambda _p: None, cancel))
    await asyncio.sleep(0.05)
    cancel.set()
    with pytest.raises(SignInCancelled):
        await asyncio.wait_for(task, 2)
    polls = len(tenant_sim.identity.calls)
    await asyncio.sleep(0.05)
    assert len(tenant_sim.identity.calls) == polls  # nothing polls any more


async def test_cancel_from_another_thread_sets_expires_at_to_zero(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    signin = make_signin(delegated)
    flows: list[dict[str, Any]] = []

    def on_prompt(_prompt: DeviceCodePrompt) -> None:
        assert signin._flow is not None
        flows.append(signin._flow)
        threading.Timer(0.03, signin.cancel_device_code).start()

    with pytest.raises(SignInCancelled):
        await signin.device_code(on_prompt)
    assert flows[0]["expires_at"] == 0


async def test_sign_out_removes_the_account(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any, paths: Paths
) -> None:
    tenant_sim.identity.auto_approve_after = 0.0
    signin = make_signin(delegated)
    await signin.device_code(lambda _p: None)
    await signin.sign_out()
    assert signin.account is None
    cached = json.loads(paths.token_cache_file("contoso").read_text())
    assert not any(cached.get(kind) for kind in ("Account", "AccessToken", "RefreshToken", "IdToken"))
    assert await make_signin(delegated).try_silent() is None
    with pytest.raises(InteractionRequired):
        await signin.provider.get_token()


async def test_missing_role_is_explained_after_sign_in(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    tenant_sim.identity.user.roles = ()
    tenant_sim.identity.auto_approve_after = 0.0
    account = await make_signin(delegated).device_code(lambda _p: None)
    assert any("Global Reader" in w for w in account.warnings)


async def test_a_second_account_replaces_the_first(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any
) -> None:
    await make_signin(delegated).device_code(lambda p: tenant_sim.identity.approve(p.user_code))
    other = make_signin(delegated)
    await other.device_code(lambda p: tenant_sim.identity.approve(p.user_code, username="other@contoso.test"))
    restarted = make_signin(delegated)
    account = await restarted.try_silent()
    assert account is not None and account.username == "other@contoso.test"


async def test_a_refused_renewal_asking_for_a_new_sign_in_keeps_entra_s_code_and_trace_id(
    tenant_sim: SimulatedTenant, delegated: SavedTenant, make_signin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``invalid_grant`` whose AADSTS code explains otherwise is still "sign in again", with Entra's ids kept."""
    tenant_sim.identity.auto_approve_after = 0.0
    signin = make_signin(delegated)
    await signin.device_code(lambda _p: None)
    answer = {
        "error": "invalid_grant",
        "error_description": "AADSTS53003: Access has been blocked by Conditional Access policies.\r\nTrace ID: t-9",
        "error_codes": [53003],
        "trace_id": "t-9",
        "correlation_id": "c-9",
    }

    async def refused(*, force_refresh: bool) -> dict[str, Any]:
        return answer

    monkeypatch.setattr(signin, "_token", refused)
    with pytest.raises(InteractionRequired) as caught:
        await signin.provider.get_token(force_refresh=True)
    error = caught.value
    assert (error.aadsts, error.error, error.client_request_id) == ("AADSTS53003", "invalid_grant", "c-9")
    assert error.detail == "AADSTS53003: Access has been blocked by Conditional Access policies."
    assert "Conditional Access" in str(error) and "[AADSTS53003]" in str(error) and "(trace id t-9)" in str(error)
