"""The simulated Graph's erasure calls (graph-api.md, "Erasure, the outbound side").

``removePersonalData`` on an inbound profile and the outbound family (``GET
outboundSharedUserProfiles``, ``.../{userId}/tenants`` and ``POST .../tenants/{tenantId}/removePersonalData``)
answer ``204 No Content`` with a request-id and nothing to track. Whether a removed profile leaves the
list is ``config.removal_hides_profile`` (undocumented; off by default).
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from console.sim import graph_answers as answers
from console.sim.graph_answers import Context
from console.sim.graph_state import GraphState

_OUTBOUND_MARK: Final = "\x00outbound"
"""Stands in a skiptoken's filter slot for a page of outbound profiles (never a valid $filter)."""


class RemovalEndpoints:
    """Inbound removal, and the outbound profiles, their tenants and the removal asked of those tenants."""

    def __init__(self, state: GraphState) -> None:
        self._state = state

    def remove(self, ctx: Context) -> httpx.Response:
        """``POST .../inboundSharedUserProfiles/{userId}/removePersonalData``: 204 (404 for an unknown user)."""
        state = self._state
        user_id = ctx.user_id or ""
        profile = state.by_id.get(user_id)
        if profile is None and user_id not in state.removed:
            return answers.not_found(ctx, ctx.user_id)
        # Whether the profile then leaves the list is undocumented (graph-api.md): a knob, off by default.
        if profile is not None and state.config.removal_hides_profile:
            del state.by_id[user_id]
            state.profiles.remove(profile)
        state.removed.add(user_id)
        state.removals.append((user_id, None, ctx.request_id))
        return answers.respond(ctx, 204, b"", {})

    def outbound_list(self, request: httpx.Request, ctx: Context) -> httpx.Response:
        """``GET /directory/outboundSharedUserProfiles``: one page of our users that other tenants hold."""
        offset = 0
        skiptoken = request.url.params.get("$skiptoken")
        if skiptoken is not None:
            decoded = self._state.pages.decode(skiptoken)
            if decoded is None or decoded[1] != _OUTBOUND_MARK:
                return answers.expired_page_token(ctx)
            offset = decoded[0]
        users = list(self._state.outbound)
        size = max(1, self._state.config.page_size)
        page = users[offset : offset + size]
        listing = f"{ctx.base}/{ctx.version}/directory/outboundSharedUserProfiles"
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/outboundSharedUserProfiles",
            "value": [{"userId": user} for user in page],
        }
        if offset + size < len(users):
            token = self._state.pages.encode(offset + size, _OUTBOUND_MARK)
            data["@odata.nextLink"] = f"{listing}?$skiptoken={token}"
        return answers.json_answer(ctx, 200, data)

    def outbound_tenants(self, ctx: Context) -> httpx.Response:
        """``GET .../outboundSharedUserProfiles/{userId}/tenants``: the tenants holding that user's data."""
        tenants = self._state.outbound.get(ctx.user_id or "")
        if tenants is None:
            return answers.not_found(ctx, ctx.user_id)
        data = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/outboundSharedUserProfiles"
            f"('{ctx.user_id}')/tenants",
            "value": [{"tenantId": tenant} for tenant in tenants],
        }
        return answers.json_answer(ctx, 200, data)

    def outbound_remove(self, ctx: Context, tenant_id: str) -> httpx.Response:
        """``POST .../tenants/{tenantId}/removePersonalData``: 204 (404 for a tenant that holds nothing)."""
        state = self._state
        user_id = ctx.user_id or ""
        tenants = state.outbound.get(user_id)
        removed = {(user, tenant) for user, tenant, _ in state.removals if tenant is not None}
        if tenants is None or (tenant_id not in tenants and (user_id, tenant_id) not in removed):
            return answers.not_found(ctx, tenant_id)
        if state.config.removal_hides_profile and tenant_id in tenants:
            tenants.remove(tenant_id)
        state.removals.append((user_id, tenant_id, ctx.request_id))
        return answers.respond(ctx, 204, b"", {})
