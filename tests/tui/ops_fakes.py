"""Operations for the Operations pane's tests: views in every state, with cases, names and errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from console.ops.events import ERROR, FINAL, REJECTED, TRACKING, UNCONFIRMED, OperationView

NOW = 1_800_000_000.0
"""2027-01-15 08:00:00 UTC, as in fakes.py."""

ALREADY_USED = (
    "Graph refused the export: 400 StorageLocationAlreadyUsed: Storage destination has already been used for an "
    "export. If this is not true, delete 'RequestInfo.json' from the container and try again. "
    "(request-id 5d1c2f3e-9a8b-4c7d-8e6f-0123456789ab)"
)
"""How the engine keeps Graph's refusal of a reused location (the request-id in full)."""


def op(
    key: int,
    user_id: str = "",
    *,
    status: str | None = "running",
    state: str = TRACKING,
    progress: float | None = 40.0,
    submitted: float = NOW - 300,
    next_poll: float | None = NOW + 45,
    last_error: str = "",
    completed: float | None = None,
    **fields: Any,
) -> OperationView:
    """One operation; ``fields`` sets the newer ones (case, display_name, user_principal_name, ...)."""
    user = user_id or f"user-{key:04d}"
    view = OperationView(
        key=key,
        tenant_key="tenant",
        user_id=user,
        operation_id=f"op-{key:04d}",
        location=f"https://graph.example/v1.0/dataPolicyOperations/op-{key:04d}",
        storage_location="https://acct.blob.core.windows.net/dsr-x?sv=2024&sig=***",
        state=state,
        status=status,
        progress=progress,
        submitted_at=datetime.fromtimestamp(submitted, UTC),
        completed_at=datetime.fromtimestamp(completed, UTC) if completed else None,
        created_at=submitted,
        next_poll_at=next_poll,
        last_error=last_error,
        polls=3,
    )
    return replace(view, **fields) if fields else view


def triage_views() -> list[OperationView]:
    """Seven operations: complete, running (two), failed, unconfirmed, rejected (reused location), error."""
    return [
        op(
            1,
            status="complete",
            state=FINAL,
            progress=100,
            next_poll=None,
            completed=NOW - 60,
            submitted=NOW - 1500,
            case="DSR-1",
            display_name="Ana García",
            user_principal_name="ana.garcia@fabrikam.com",
        ),
        op(
            2,
            progress=62,
            submitted=NOW - 600,
            case="DSR-1",
            display_name="Bo Chen",
            user_principal_name="bo.chen@fabrikam.com",
        ),
        op(
            3,
            status="failed",
            state=FINAL,
            progress=10,
            next_poll=None,
            completed=NOW - 200,
            submitted=NOW - 900,
            last_error="Graph reported the export failed [ExportFailed] (request-id 1b2c3d4e-0000-4000-8000-00000000beef)",
            case="DSR-2",
            display_name="Cy Dubois",
            user_principal_name="cy.dubois@northwind.com",
        ),
        op(
            4,
            status=None,
            state=UNCONFIRMED,
            progress=None,
            next_poll=None,
            last_error="The POST timed out after 30s: Graph may have accepted it (check before exporting again)",
            case="DSR-2",
            display_name="Di Evans",
            user_principal_name="di.evans@northwind.com",
        ),
        op(
            5,
            status=None,
            state=REJECTED,
            progress=None,
            next_poll=None,
            last_error=ALREADY_USED,
            case="DSR-2",
            display_name="Ed Fox",
            user_principal_name="ed.fox@northwind.com",
        ),
        op(6, progress=15, submitted=NOW - 120, display_name="Fay Gold", user_principal_name="fay.gold@contoso.com"),
        op(
            7,
            status="running",
            state=ERROR,
            progress=30,
            next_poll=None,
            last_error="403 Forbidden polling the operation: the account lacks User.Export.All and User.Read.All",
            display_name="Gus Hill",
            user_principal_name="gus.hill@contoso.com",
        ),
    ]


def label_of(views: list[OperationView]) -> Any:
    """A user_label that shows each operation's display name (as the profile list would)."""
    names = {v.user_id: v.display_name or v.user_id for v in views}
    return lambda user_id: names.get(user_id, user_id)


class PaneEngine:
    """The engine as the Operations pane and the details view use it (async, per docs/interfaces.md)."""

    def __init__(self, views: list[OperationView], *, journal_path: str | None = None) -> None:
        from console.ops.events import Note, PollRecord

        self._note = Note
        self._poll = PollRecord
        self.views: dict[int, OperationView] = {v.key: v for v in views}
        self.tenant_key = "tenant"
        self.journal_path = journal_path
        self.resolved: list[tuple[int, str, str | None]] = []
        self.stopped: list[int] = []
        self.note_log: dict[int, list[Any]] = {}
        self.histories: dict[int, list[Any]] = {}
        self.history_calls = 0
        self.refuse_resolve: set[int] = set()

    def operation(self, key: int) -> OperationView | None:
        return self.views.get(key)

    def operations(self) -> list[OperationView]:
        return [self.views[k] for k in sorted(self.views)]

    def polls(self, key: int, count: int) -> list[Any]:
        base = self.views[key].created_at
        records = [self._poll(base, 202, 60.0, f"{key:08x}-5b5b-4000-8000-000000000000", "client-0000", None, None, "")]
        for n in range(1, count):
            records.append(
                self._poll(
                    base + 60 * n,
                    429 if n == 2 else 200,
                    None if n == 2 else 60.0,
                    f"{n:08x}-aaaa-4bbb-8ccc-dddddddddddd",
                    f"client-{n:04d}",
                    "running",
                    float(10 * n),
                    "429 Too Many Requests" if n == 2 else "",
                )
            )
        return records

    async def history(self, key: int) -> list[Any]:
        self.history_calls += 1
        return list(self.histories.get(key) or self.polls(key, 4))

    async def notes(self, key: int) -> list[Any]:
        return list(self.note_log.get(key, []))

    async def add_note(self, key: int, text: str, author: str | None = None) -> Any:
        notes = self.note_log.setdefault(key, [])
        note = self._note(len(notes) + 1, key, NOW + len(notes), author or "admin@contoso.com", text)
        notes.append(note)
        self.views[key] = replace(self.views[key], notes=len(notes))
        return note

    async def resolve(self, key: int, note: str, author: str | None = None) -> None:
        if key in self.refuse_resolve:
            raise ValueError(f"operation {key} is not unconfirmed")
        self.resolved.append((key, note, author))
        await self.add_note(key, note, author)
        self.views[key] = replace(self.views[key], state="resolved")

    async def stop_watching(self, key: int) -> None:
        self.stopped.append(key)
        self.views[key] = replace(self.views[key], state="stopped", next_poll_at=None)


def burst(app: Any, keys: list[str]) -> None:
    """Deliver ``keys`` all at once, as a slow SSH link does: no pause for the app between them.

    (``Pilot.press`` waits until the app is idle after each key, so focus changes always
    land in time there; a real burst gives them no such chance.)
    """
    import unicodedata

    from textual import events
    from textual.keys import _character_to_key, _get_unicode_name_from_key

    driver = app._driver  # the pilot's own way in, minus its wait after each key
    assert driver is not None
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        try:
            character: str | None = unicodedata.lookup(_get_unicode_name_from_key(name))
        except KeyError:
            character = key if len(key) == 1 else None
        event = events.Key(name, character)
        event.set_sender(app)
        driver.send_message(event)
