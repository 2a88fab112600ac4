"""The simulated Graph's dataPolicyOperations: polling one operation and listing them.

``GET /dataPolicyOperations/{id}`` shows an operation's status and progress by the simulator's
clock (with the faults that spoil them); ``GET /dataPolicyOperations`` is the collection Microsoft's
SDK generates (no docs page covers it): ``$filter`` on userId and submittedDateTime, ``$top``,
``$orderby``, nextLink paging, or the answer of a tenant that does not offer it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from console.sim import graph_answers as answers
from console.sim.faults import FaultInjector
from console.sim.graph_answers import JSON_TYPE, Context, format_seconds, iso
from console.sim.graph_state import COMPLETE, FAILED, NOT_STARTED, RUNNING, GraphState, Operation

_COLLECTION: Final = "dataPolicyOperations"
_OPERATIONS_CLAUSE_RE: Final = re.compile(
    r"^\s*(?:(userId)\s+eq\s+'((?:[^']|'')*)'|(submittedDateTime)\s+(ge|gt|le|lt)\s+(\S+))\s*$", re.IGNORECASE
)
_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}


class OperationEndpoints:
    """``GET /dataPolicyOperations/{id}`` (a poll) and ``GET /dataPolicyOperations`` (the collection)."""

    def __init__(self, state: GraphState, faults: FaultInjector) -> None:
        self._state = state
        self._faults = faults

    def poll(self, ctx: Context) -> httpx.Response:
        """One operation as a poll shows it now, with Retry-After while it is not finished."""
        faults = self._state.faults
        if faults.forbid_polls:
            # graph-api.md: polling needs User.Export.All / User.Read.All, unlike the export itself.
            return answers.forbidden(
                ctx,
                " Reading dataPolicyOperations requires the User.Export.All permission (or User.Read.All).",
            )
        if faults.poll_error is not None:
            status = faults.poll_error
            code = {400: "BadRequest", 404: "Request_ResourceNotFound", 409: "Conflict", 410: "Gone"}.get(
                status, "BadRequest"
            )
            return answers.error(ctx, status, code, f"Invalid request: the operation cannot be read ({status}).")
        op = self._state.operations.get(ctx.operation_id or "")
        if op is None:
            return answers.not_found(ctx, ctx.operation_id)
        data = self.operation_json(op, ctx.now, apply_faults=True)
        data = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#dataPolicyOperations/$entity", **data}
        headers: dict[str, str] = {}
        if data["completedDateTime"] is None:
            retry_after = self._faults.retry_after(ctx.now, ctx)
            if retry_after is not None:
                headers["Retry-After"] = retry_after
        if faults.malformed_polls_next > 0:
            faults.malformed_polls_next -= 1
            text = json.dumps(data)
            return answers.respond(
                ctx, 200, text[: max(1, len(text) // 2)].encode(), {"Content-Type": JSON_TYPE, **headers}
            )
        return answers.json_answer(ctx, 200, data, headers)

    def page(self, request: httpx.Request, ctx: Context) -> httpx.Response:
        """``GET /dataPolicyOperations``: the collection Microsoft's SDK generates (no docs page covers it).

        Understands ``$filter`` on ``userId eq '...'`` and ``submittedDateTime ge|gt|le|lt <date>`` (joined by
        ``and``), ``$top`` (the page size), ``$orderby=submittedDateTime [asc|desc]``, and pages with an
        opaque ``$skiptoken`` in ``@odata.nextLink``. Knobs: ``operations_list_status`` (a tenant that does
        not offer it) and ``ignore_operations_filter`` (every operation, whatever the filter).
        """
        status = self._state.faults.operations_list_status
        if status is not None:
            return _not_offered(ctx, status)
        params = request.url.params
        for option in ("$search", "$skip", "$count", "$expand"):
            if option in params:
                return answers.unsupported_query(ctx, option, _COLLECTION)
        query = [params.get("$filter", ""), params.get("$top", ""), params.get("$orderby", "")]
        offset = 0
        skiptoken = params.get("$skiptoken")
        if skiptoken is not None:
            decoded = self._state.pages.decode(skiptoken)
            packed = _unpack_query(decoded[1]) if decoded is not None else None
            if decoded is None or packed is None:
                return answers.expired_page_token(ctx)
            offset, query = decoded[0], packed
        selected = self._select(ctx, query)
        if isinstance(selected, httpx.Response):
            return selected
        operations, size = selected
        page = operations[offset : offset + size]
        data: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#dataPolicyOperations",
            "value": [self.operation_json(op, ctx.now, apply_faults=True) for op in page],
        }
        if offset + size < len(operations):
            token = self._state.pages.encode(offset + size, json.dumps(query))
            data["@odata.nextLink"] = f"{ctx.base}/{ctx.version}/dataPolicyOperations?$skiptoken={token}"
        return answers.json_answer(ctx, 200, data)

    def _select(self, ctx: Context, query: list[str]) -> tuple[list[Operation], int] | httpx.Response:
        """The operations ``[$filter, $top, $orderby]`` selects, in order, and the page size; or the 400."""
        filter_text, top_text, order_text = query
        size = max(1, self._state.config.page_size)
        if top_text:
            try:
                size = int(top_text)
            except ValueError:
                size = 0
            if not 1 <= size <= 999:
                return answers.error(ctx, 400, "BadRequest", f"Invalid value '{top_text}' for $top: 1 to 999.")
        parsed = _parse_operations_filter(filter_text) if filter_text else ([], None)
        if parsed is None:
            return answers.error(
                ctx,
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for dataPolicyOperations.",
            )
        predicates, ctx.user_id = parsed
        descending = False
        if order_text:
            match = re.fullmatch(r"\s*submittedDateTime(?:\s+(asc|desc))?\s*", order_text, re.IGNORECASE)
            if match is None:
                return answers.error(
                    ctx,
                    400,
                    "Request_UnsupportedQuery",
                    f"Unsupported $orderby '{order_text}' on dataPolicyOperations.",
                )
            descending = (match.group(1) or "").lower() == "desc"
        ops = self._state.operations.values()
        operations = sorted(ops, key=lambda op: (op.submitted_at, op.seq), reverse=descending)
        if not self._state.faults.ignore_operations_filter:
            operations = [op for op in operations if all(p(op) for p in predicates)]
        return operations, size

    def operation_json(self, op: Operation, now: float, *, apply_faults: bool) -> dict[str, Any]:
        """The operation's JSON at ``now`` (``apply_faults``: with unknown, null and string-typed values)."""
        elapsed = now - op.submitted_at
        end = op.end
        completed: str | None = None
        if op.stuck or (self._state.faults.stuck_all and not op.delivered and elapsed >= op.queue_time):
            # A stuck export: running for ever, its progress frozen where it stopped.
            frozen = min(elapsed, max(op.queue_time, end * 0.42))
            status: str | None = RUNNING
            progress = _progress(op, frozen) if elapsed >= op.queue_time else 0.0
            if elapsed < op.queue_time:
                status = NOT_STARTED
            elif apply_faults and op.null_status:
                status = None
        elif elapsed >= end:
            status = FAILED if op.fail_at is not None else COMPLETE
            progress = _progress(op, end)
            completed = iso(op.submitted_at + end)
        elif elapsed < op.queue_time:
            status, progress = NOT_STARTED, 0.0
        else:
            status = (op.unknown_status or RUNNING) if apply_faults else RUNNING
            if apply_faults and op.null_status:
                status = None
            progress = _progress(op, elapsed)
        progress_value: float | str = progress
        if apply_faults and op.string_progress:
            progress_value = format_seconds(progress)
        return {
            "id": op.id,
            "status": status,
            "progress": progress_value,
            "storageLocation": op.storage_location,
            "userId": op.user_id,
            "submittedDateTime": iso(op.submitted_at),
            "completedDateTime": completed,
        }


def _not_offered(ctx: Context, status: int) -> httpx.Response:
    """What a tenant that does not offer ``GET /dataPolicyOperations`` may answer (graph-api.md: 400/403/404/405)."""
    if status == 403:
        return answers.forbidden(ctx, "")
    if status == 404:
        return answers.error(ctx, 404, "Request_ResourceNotFound", "Resource 'dataPolicyOperations' does not exist.")
    if status == 405:
        return answers.error(
            ctx, 405, "Request_BadRequest", "The HTTP method 'GET' is not allowed on this resource.", {"Allow": ""}
        )
    return answers.error(ctx, status, "BadRequest", "Resource not found for the segment 'dataPolicyOperations'.")


def _progress(op: Operation, at: float) -> float:
    span = op.duration - op.queue_time
    if span <= 0:
        return 100.0
    return round(min(100.0, max(0.0, (at - op.queue_time) / span * 100.0)), 1)


def _parse_operations_filter(text: str) -> tuple[list[Callable[[Operation], bool]], str | None] | None:
    """The ``$filter`` clauses the simulator understands on dataPolicyOperations, and the userId asked for.

    None when a clause is not understood (answered 400, as an unsupported filter would be).
    """
    predicates: list[Callable[[Operation], bool]] = []
    user: str | None = None
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _OPERATIONS_CLAUSE_RE.match(clause)
        if match is None:
            return None
        if match.group(1):
            wanted = match.group(2).replace("''", "'").lower()
            user = wanted
            predicates.append(lambda op, wanted=wanted: op.user_id == wanted)  # type: ignore[misc]
            continue
        moment = _parse_instant(match.group(5))
        if moment is None:
            return None
        compare = _COMPARE[match.group(4).lower()]
        predicates.append(lambda op, moment=moment, compare=compare: compare(op.submitted_at, moment))  # type: ignore[misc]
    return predicates, user


def _parse_instant(text: str) -> float | None:
    """An OData DateTimeOffset literal (``2026-12-06T07:00:00Z``) as epoch seconds, or None."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _unpack_query(text: str) -> list[str] | None:
    """The ``[$filter, $top, $orderby]`` a skiptoken of the operations collection carries, or None."""
    try:
        query = json.loads(text)
    except ValueError:
        return None
    if not isinstance(query, list) or len(query) != 3 or not all(isinstance(q, str) for q in query):
        return None
    return query
