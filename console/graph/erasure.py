"""The Graph client's erasure calls (graph-api.md, "Erasure, the outbound side").

``removePersonalData`` on an inbound profile, and the outbound family: our users whose data other
tenants hold, those tenants, and the removal asked of one of them. A removal answers ``204 No
Content`` with nothing to poll; it is never sent twice by itself (``RequestPolicy``).
"""

from __future__ import annotations

from urllib.parse import quote

from console.graph import errors
from console.graph.errors import safe_text
from console.graph.paging import collection_page, paging_loop
from console.graph.policy import RequestPolicy

PROFILES_PATH = "directory/inboundSharedUserProfiles"
OUTBOUND_PATH = "directory/outboundSharedUserProfiles"
"""Our own users whose data other tenants hold (graph-api.md, "Erasure, the outbound side")."""


class ErasureCalls:
    """Removal and outbound-profile requests against one Graph base URL, through the client's policy."""

    def __init__(self, policy: RequestPolicy, base_url: str) -> None:
        self._policy = policy
        self._base_url = base_url

    async def remove_personal_data(self, user_id: str) -> str:
        """Ask Graph to remove one inbound profile's personal data; the 204's request-id (see ``GraphClient``)."""
        url = f"{self._base_url}/{PROFILES_PATH}/{quote(user_id, safe='')}/removePersonalData"
        return await self._remove(url, what=f"remove the data of {user_id}")

    async def list_outbound_profiles(self) -> list[str]:
        """The userIds of our own users whose data other tenants hold, every page (nextLink followed as given)."""
        url: str | None = f"{self._base_url}/{OUTBOUND_PATH}"
        followed: set[str] = set()
        users: list[str] = []
        while url:
            if url in followed:
                raise paging_loop("a nextLink was already followed", len(followed), len(users))
            followed.add(url)
            response, _info = await self._policy.send("GET", url, what="list outbound profiles")
            data, values = collection_page(response, "the outbound profile list", "outbound profile list")
            users += [
                safe_text(v["userId"]) for v in values if isinstance(v, dict) and isinstance(v.get("userId"), str)
            ]
            link = data.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None
        return users

    async def outbound_tenants(self, user_id: str) -> list[str]:
        """The ``tenantId`` of every tenant holding data of our user ``user_id`` (NotFound: none)."""
        url = f"{self._base_url}/{OUTBOUND_PATH}/{quote(user_id, safe='')}/tenants"
        response, _info = await self._policy.send("GET", url, what=f"outbound tenants of {user_id}")
        _data, values = collection_page(response, "the outbound tenants", "outbound tenant list")
        return [safe_text(v["tenantId"]) for v in values if isinstance(v, dict) and isinstance(v.get("tenantId"), str)]

    async def remove_outbound(self, user_id: str, tenant_id: str) -> str:
        """Ask the external tenant ``tenant_id`` to remove its copy of our user's data; the 204's request-id."""
        url = (
            f"{self._base_url}/{OUTBOUND_PATH}/{quote(user_id, safe='')}/tenants/"
            f"{quote(tenant_id, safe='')}/removePersonalData"
        )
        return await self._remove(url, what=f"ask tenant {tenant_id} to remove the data of {user_id}")

    async def _remove(self, url: str, *, what: str) -> str:
        response, info = await self._policy.send("POST", url, what=what, removal=True)
        if response.status_code != 204 and response.status_code not in (200, 202):
            raise errors.RemovalUnconfirmed(
                f"Graph answered {response.status_code} instead of 204 No Content to {what}; "
                "check it before asking again",
                status=response.status_code,
                request_id=info.request_id,
                client_request_id=info.client_request_id,
            )
        return info.request_id
