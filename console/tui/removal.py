"""Removal from the profile list (issue 19): the rules of ``console.ops.removal``, the typed question, the send.

The same refusals as ``remove`` on the command line (read-only, ``allow_removal``), then ``RemoveScreen``
(answered only by typing the number of people), then ``submit_removals`` in a worker: each removal is
journalled before and after its POST, and a person already asked is refused (the command line's
``--force`` has no counterpart here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from console.ops.removal import (
    ALLOW_SETTING,
    AlreadyRemoved,
    RemovalTarget,
    read_only_reason,
    removal_refusal,
    submit_removals,
)
from console.redact import redact
from console.tui.cells import safe_text
from console.tui.dialogs.remove import RemoveScreen
from console.tui.messages import describe_failure
from console.tui.read_only import refused_text

if TYPE_CHECKING:
    from console.tui.export_model import Person
    from console.tui.services import Session

OpenScreen = Callable[[Screen[Any], Callable[[Any], Any]], None]
"""Pushes a screen with its callback, holding keys typed meanwhile for it (``MainScreen.open_screen``)."""


def remove_people(
    screen: Screen[Any],
    session: Session,
    people: Sequence[Person],
    open_screen: OpenScreen,
    *,
    read_only: bool = False,
    title: str = "Remove",
) -> None:
    """Refuse, or ask (typed number) and then send the removal of ``people``'s personal data.

    Args:
        screen: where toasts go and the worker runs.
        session: the signed-in session (its ``allow_removal``, ``read_only`` and engine).
        people: the selected profiles, or the highlighted one.
        open_screen: opens the question.
        read_only: ``--read-only`` (as well as the session's own).
        title: the toasts' title (``Remove in fabrikam`` when several tenants are open).
    """
    if not people:
        screen.notify("Select profiles first (space), or highlight one.", title=title, severity="warning")
        return
    engine = refused_or_engine(screen, session, len(people), read_only=read_only, title=title)
    if engine is None:
        return
    labels = [f"{p.label} ({p.user_id})" if p.label != p.user_id else p.user_id for p in people]
    targets = [RemovalTarget(p.user_id, "", p.display_name, p.user_principal_name, p.home_tenant_id) for p in people]

    def answered(case: str | None) -> None:
        if case is not None:
            send_in_worker(screen, engine, targets, case, session.identity, title=title)

    open_screen(RemoveScreen(session.header.tenant, labels), answered)


def refused_or_engine(
    screen: Screen[Any], session: Session, people: int, *, read_only: bool = False, title: str = "Remove"
) -> Any:
    """The engine to send removals with, or None after saying (a toast) why nothing may be sent.

    Args:
        screen: where the toast goes.
        session: the signed-in session (its ``allow_removal``, ``read_only`` and engine).
        people: how many removals are asked for.
        read_only: ``--read-only`` (as well as the session's own: the saved tenant's ``read_only = true``).
    """
    tenant = session.header.tenant
    reason = read_only_reason(flag=read_only, saved=session.read_only, tenant_label=f"tenant {tenant}")
    refusal = removal_refusal(
        people=people, confirm=people, allowed=session.allow_removal, read_only=reason, tenant_label=f"tenant {tenant}"
    )
    if refusal is not None:
        # A toast is one short line (the event log keeps the whole text): the setting named first.
        short = (
            refused_text("removal", reason)
            if reason
            else f"Removal is off: set {ALLOW_SETTING} for this tenant in config.toml."
        )
        screen.notify(short, title=title, severity="error", markup=False)
        return None
    engine = getattr(session.services, "engine", None)
    if engine is None:
        screen.notify("Removal needs a signed-in tenant.", title=title, severity="error")
    return engine


def send_in_worker(
    screen: Screen[Any],
    engine: Any,
    targets: list[RemovalTarget],
    case: str,
    who: str,
    done: Callable[[], Any] | None = None,
    title: str = "Remove",
) -> None:
    """Send the removals in a worker of ``screen`` (each journalled before and after); ``done`` runs after;
    ``title`` heads the toasts (``Remove in fabrikam`` when several tenants are open)."""

    async def send() -> None:
        try:
            await _send(screen, engine, targets, case, who, title)
        finally:
            if done is not None:
                done()

    screen.run_worker(send(), group="removal", exit_on_error=False)


async def _send(
    screen: Screen[Any], engine: Any, targets: list[RemovalTarget], case: str, who: str, title: str
) -> None:
    try:
        outcomes = await submit_removals(engine, targets, case=case, who=who)
    except AlreadyRemoved as exc:
        screen.notify(
            describe_failure(exc).text.replace("use --force to ask again", "ask again from the command line (--force)"),
            title=title,
            severity="error",
            markup=False,
        )
        return
    done = [o for o in outcomes if o.request_id]
    failed = [o for o in outcomes if not o.request_id]
    if len(done) == 1:
        screen.notify(f"Removal requested: {done[0].target.label} (case {case}).", title=title, markup=False)
    elif done:
        screen.notify(f"Removal requested for {len(done):,} people (case {case}).", title=title, markup=False)
    for outcome in failed[:3]:
        screen.notify(
            f"Removal of {outcome.target.label} not done: {safe_text(redact(outcome.error))}",
            title=title,
            severity="error",
            markup=False,
        )
