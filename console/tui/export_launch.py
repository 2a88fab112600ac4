"""Who an export is for and where it could go, as the main screen opens the export form.

``person_for`` turns a listed profile (or, before the listing has it, an operation the journal
kept) into the form's ``Person``; ``re_export_choice`` picks, from operations chosen to export
again, each user's newest and the case they share; ``propose_location`` picks the location the
form starts with: the demo's own storage, or a container not exported into before (Graph refuses
a reused one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from console.ops.events import OperationView, names_of
from console.storage import TemplateError, is_template, resolve_locations
from console.tui.export_model import Person, container_key, fresh_location, location_host, short_location
from console.tui.profile_index import ProfileIndex
from console.tui.services import Session


def person_for(
    index: ProfileIndex, user_id: str, previous_key: int | None = None, view: OperationView | None = None
) -> Person:
    """The export form's person for ``user_id``: the listed profile, else what ``view`` (the journal) kept."""
    profile = index.get(user_id)
    if profile is not None:
        return Person(user_id, **names_of(profile), previous_key=previous_key)
    return Person(
        user_id,
        display_name=getattr(view, "display_name", "") or "",
        user_principal_name=getattr(view, "user_principal_name", "") or "",
        home_tenant_id=getattr(view, "home_tenant_id", "") or "",
        previous_key=previous_key,
    )


def re_export_choice(operations: Iterable[OperationView]) -> tuple[list[OperationView], str | None]:
    """What exporting chosen operations again starts from: each user's newest one, and the case they share.

    One new export per user, linked to that user's newest chosen operation (the journal keeps both).
    A re-export keeps its case when the operations chosen share one (else None: the form asks).
    """
    latest: dict[str, OperationView] = {}
    for view in operations:
        if view.user_id not in latest or view.key > latest[view.user_id].key:
            latest[view.user_id] = view
    cases = {getattr(v, "case", "") or "" for v in latest.values()}
    case = cases.pop() if len(cases) == 1 and "" not in cases else None
    return list(latest.values()), case


def propose_location(
    session: Session, now: float, people: list[Person], previous: list[OperationView]
) -> tuple[str, str]:
    """(location to start with, a line about it): the demo's own storage, else a container not used before.

    Graph refuses a container already exported into (StorageLocationAlreadyUsed); the journal knows
    every location used (redacted: the container is all it needs).
    """
    used = {container_key(v.storage_location) for v in session.engine.operations()} - {""}
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
    services = getattr(session, "services", None)
    demo_storage = getattr(services, "storage_suggestion", "") or ""
    if demo_storage:
        location = fresh_location(demo_storage, people, used, stamp=stamp)
        prepare = getattr(services, "prepare_storage", None)
        if prepare is not None:
            pairs = [(p.user_id, p.user_principal_name) for p in people]
            try:
                prepare(resolve_locations(location, pairs) if is_template(location) else [location])
            except TemplateError:
                pass  # the form names the profile the template does not fit
        account = location_host(location).split(".")[0]
        note = f"Demo storage account {account} (simulated: its SAS works here)"
        if location != demo_storage:
            note += "; a container not used before"
        return location, note
    templates = {
        v.storage_location.replace(v.user_id, "{userId}") for v in previous if container_key(v.storage_location)
    }
    if len(templates) != 1:
        return "", ""
    before = templates.pop()
    fresh = fresh_location(before, people, used, stamp=stamp)
    if fresh == before:
        return "", ""
    # The journal keeps no signature: name a new container, the admin creates it and pastes its SAS.
    return "", (
        f"Used before (Graph would refuse it): {short_location(before)}. "
        f"A new container, e.g. {short_location(fresh)} (create it, paste its SAS)"
    )
