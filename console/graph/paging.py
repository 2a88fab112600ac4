"""Reading Graph's answers: a JSON object, a collection page's ``value`` array, and a listing that loops."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from console.graph import errors

log = logging.getLogger("console.graph")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's JSON object (``MalformedResponse`` when it is not one)."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise errors.MalformedResponse(
            f"Graph sent unreadable JSON for {what} (HTTP {response.status_code})",
            status=response.status_code,
            request_id=response.headers.get("request-id", ""),
        )
    return data


def collection_page(response: httpx.Response, what: str, listing: str) -> tuple[dict[str, Any], list[Any]]:
    """A page of a collection: its JSON object and its ``value`` array (MalformedResponse without one)."""
    data = json_object(response, what)
    values = data.get("value")
    if not isinstance(values, list):
        raise errors.MalformedResponse(
            f"Graph's {listing} had no 'value' array",
            status=response.status_code,
            request_id=response.headers.get("request-id", ""),
        )
    return data, values


def paging_loop(why: str, pages: int, profiles: int) -> errors.PagingLoop:
    """The error that ends a listing whose paging loops (the pages before it were read)."""
    message = (
        f"Graph's profile list loops ({why}): stopped after {pages} page{'s' if pages != 1 else ''} "
        f"and {profiles:,} profiles; the list may be incomplete"
    )
    log.debug("graph: %s", message)  # the caller says it: once, where the user looks
    return errors.PagingLoop(message)
