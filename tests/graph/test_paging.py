"""Paging of the profile list against the simulated tenant: empty pages go on, loops stop (issues 14 and 22)."""

from __future__ import annotations

import pytest

from console.auth.base import StaticTokenProvider
from console.graph import errors
from console.graph.client import MAX_EMPTY_PAGES, GraphClient
from console.graph.models import InboundSharedUserProfile
from console.sim.tenant import DEMO_GRAPH_URL, SimulatedTenant

PROFILES = 60
PAGE = 25  # 25 + 25 + 10: three pages


@pytest.fixture
def tenant() -> SimulatedTenant:
    return SimulatedTenant(profiles=PROFILES, page_size=PAGE, retry_after=1, export_duration=5)


def client_for(tenant: SimulatedTenant) -> GraphClient:
    return GraphClient(
        DEMO_GRAPH_URL, StaticTokenProvider(tenant.issue_token()), transport=tenant.transport(), max_attempts=2
    )


async def read_all(
    client: GraphClient,
) -> tuple[list[list[InboundSharedUserProfile]], errors.PagingLoop | None]:
    pages: list[list[InboundSharedUserProfile]] = []
    try:
        async for page in client.list_profiles():
            pages.append(page)
            if len(pages) > 4 * MAX_EMPTY_PAGES:  # a loop the client missed: fail, do not hang
                raise AssertionError(f"still paging after {len(pages)} pages")
    except errors.PagingLoop as exc:
        return pages, exc
    return pages, None


def list_requests(tenant: SimulatedTenant) -> int:
    return sum(1 for r in tenant.requests if r.kind == "list")


async def test_an_empty_page_that_carries_a_next_link_does_not_end_the_listing(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.empty_pages_next = 2  # the first two pages come back empty, each with a nextLink
    async with client_for(tenant) as client:
        pages, looped = await read_all(client)
    assert looped is None
    assert [len(p) for p in pages] == [0, 0, 25, 25, 10]
    ids = {p.user_id for page in pages for p in page}
    assert len(ids) == PROFILES


async def test_an_empty_page_in_the_middle_does_not_end_the_listing(tenant: SimulatedTenant) -> None:
    async with client_for(tenant) as client:
        pages = client.list_profiles()
        first = await anext(pages)
        tenant.graph.faults.empty_pages_next = 1  # the second page is empty and links on
        rest = [page async for page in pages]
    assert [len(first), *(len(p) for p in rest)] == [25, 0, 25, 10]


async def test_a_next_link_already_followed_stops_the_listing_and_keeps_what_was_read(
    tenant: SimulatedTenant,
) -> None:
    tenant.graph.faults.next_link_loop = True  # the last page links back to the very first URL
    async with client_for(tenant) as client:
        pages, looped = await read_all(client)
    assert looped is not None and "already followed" in str(looped)
    assert [len(p) for p in pages] == [25, 25, 10]
    assert list_requests(tenant) == 3  # the link seen before is never requested again
    assert looped.exit_code == 1


async def test_a_page_of_profiles_already_listed_stops_a_listing_whose_links_are_new(
    tenant: SimulatedTenant,
) -> None:
    tenant.graph.faults.next_link_restart = True  # a fresh skiptoken back to the start each time
    async with client_for(tenant) as client:
        pages, looped = await read_all(client)
    assert looped is not None and "already listed" in str(looped)
    assert [len(p) for p in pages] == [25, 25, 10]  # the repeated page is not yielded
    assert list_requests(tenant) == 4
    ids = [p.user_id for page in pages for p in page]
    assert len(ids) == len(set(ids)) == PROFILES


async def test_endless_empty_pages_are_given_up_as_a_loop(tenant: SimulatedTenant) -> None:
    tenant.graph.faults.empty_pages_next = 10_000
    async with client_for(tenant) as client:
        pages, looped = await read_all(client)
    assert looped is not None and "empty pages in a row" in str(looped)
    assert len(pages) == MAX_EMPTY_PAGES
    assert list_requests(tenant) == MAX_EMPTY_PAGES
