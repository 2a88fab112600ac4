"""The simulated Graph's inbound shared user profiles: the paged list (``$filter``, nextLink) and one profile."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import httpx

from console.sim import graph_answers as answers
from console.sim.graph_answers import Context
from console.sim.graph_state import GraphState
from console.sim.profiles import SimulatedProfile

_COLLECTION: Final = "inboundSharedUserProfiles"
_UNSUPPORTED_QUERY_OPTIONS: Final = ("$top", "$skip", "$count", "$search")
_FILTER_STARTSWITH_RE: Final = re.compile(
    r"^\s*startswith\(\s*(displayName|userPrincipalName)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE
)
_FILTER_EQ_RE: Final = re.compile(
    r"^\s*(userId|homeTenantId|userPrincipalName)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE
)


class ProfileEndpoints:
    """``GET /directory/inboundSharedUserProfiles`` and ``GET .../{userId}``."""

    def __init__(self, state: GraphState) -> None:
        self._state = state

    def page(self, request: httpx.Request, ctx: Context) -> httpx.Response:
        """One page of the profiles (``$filter`` understood in a few forms; page size is the service's)."""
        params = request.url.params
        for option in _UNSUPPORTED_QUERY_OPTIONS:
            if option in params:
                # graph-api.md trap 9: the collection's metadata marks $top/$skip/$count unsupported.
                return answers.unsupported_query(ctx, option, _COLLECTION)
        offset = 0
        filter_text = params.get("$filter", "")
        skiptoken = params.get("$skiptoken")
        if skiptoken is not None:
            decoded = self._state.pages.decode(skiptoken)
            if decoded is None:
                return answers.expired_page_token(ctx)
            offset, filter_text = decoded
        predicate = _parse_filter(filter_text) if filter_text else None
        if filter_text and predicate is None:
            return answers.error(
                ctx,
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for inboundSharedUserProfiles.",
            )
        profiles = self._state.profiles
        matching = profiles if predicate is None else [p for p in profiles if predicate(p)]
        return answers.json_answer(ctx, 200, self._page(ctx, matching, offset, filter_text))

    def _page(self, ctx: Context, matching: list[SimulatedProfile], offset: int, filter_text: str) -> dict[str, Any]:
        faults = self._state.faults
        size = max(1, self._state.config.page_size)
        page = matching[offset : offset + size]
        listing = f"{ctx.base}/{ctx.version}/directory/inboundSharedUserProfiles"
        if faults.empty_pages_next > 0:
            faults.empty_pages_next -= 1
            page, size = [], 0  # an empty page whose nextLink goes on where it stood
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/inboundSharedUserProfiles",
            "value": [p.to_json() for p in page],
        }
        if offset + size < len(matching):
            token = self._state.pages.encode(offset + size, filter_text)
            # Absolute, on the request's scheme and host; the client must follow it as given.
            data["@odata.nextLink"] = f"{listing}?$skiptoken={token}"
        elif faults.next_link_loop:
            data["@odata.nextLink"] = listing
        elif faults.next_link_restart:
            data["@odata.nextLink"] = f"{listing}?$skiptoken={self._state.pages.encode(0, filter_text)}"
        return data

    def get(self, ctx: Context) -> httpx.Response:
        """One profile by its userId (404 when it is not shared)."""
        profile = self._state.by_id.get(ctx.user_id or "")
        if profile is None:
            return answers.not_found(ctx, ctx.user_id)
        data = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#directory/inboundSharedUserProfiles/$entity"}
        data.update(profile.to_json())
        return answers.json_answer(ctx, 200, data)


def _parse_filter(text: str) -> Callable[[SimulatedProfile], bool] | None:
    """The few ``$filter`` forms the simulator understands (the real operators are undocumented)."""
    match = _FILTER_STARTSWITH_RE.match(text)
    if match:
        prop, value = match.group(1).lower(), match.group(2).replace("''", "'").lower()
        if prop == "displayname":
            return lambda p: p.display_name.lower().startswith(value)
        return lambda p: p.user_principal_name.lower().startswith(value)
    match = _FILTER_EQ_RE.match(text)
    if match:
        prop, value = match.group(1).lower(), match.group(2).replace("''", "'").lower()
        if prop == "userid":
            return lambda p: p.user_id == value
        if prop == "hometenantid":
            return lambda p: p.home_tenant_id == value
        return lambda p: p.user_principal_name.lower() == value
    return None
