"""Issue 17: the console an admin from k9s or htop expects (items 6-10, 17), under Pilot.

Keys go as one burst (``pilot.press(*keys)``) and one at a time; both give the same screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from console.ops.events import ERROR, FINAL, REJECTED, TRACKING, UNCONFIRMED, OperationView
from console.tui.app import ConsoleApp
from console.tui.widgets.ops_pane import OperationsPane
from console.tui.widgets.ops_table import OpsTable
from tests.tui.fakes import NOW, make_profiles, make_services, view

PEOPLE = make_profiles(8)


def triage() -> list[OperationView]:
    """Six operations; four problems (failed, rejected, error, unconfirmed), one of them failed."""
    ids = [p.user_id for p in PEOPLE]
    done = {"next_poll": None, "completed": NOW - 30}
    return [
        view(1, ids[0], status="complete", state=FINAL, progress=100, **done, display_name="Ada Lovelace"),
        view(2, ids[1], status="failed", state=FINAL, **done, last_error="Graph said failed", display_name="Grace"),
        view(3, ids[2], status=None, state=REJECTED, next_poll=None, last_error="400 Used", display_name="Alan"),
        view(4, ids[3], status="running", state=ERROR, next_poll=None, last_error="403", display_name="Edsger"),
        view(5, ids[4], status=None, state=UNCONFIRMED, next_poll=None, display_name="Barbara"),
        view(6, ids[5], status="running", state=TRACKING, display_name="Ken Thompson"),
    ]


def app_for(views: list[OperationView] | None = None, *, gate: asyncio.Event | None = None) -> ConsoleApp:
    services, _engine = make_services(people=PEOPLE, views=triage() if views is None else views, gate=gate)
    return ConsoleApp(services)


Press = Callable[[Pilot[Any], tuple[str, ...]], Awaitable[None]]


async def as_burst(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def one_at_a_time(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


PRESSES = [pytest.param(as_burst, id="burst"), pytest.param(one_at_a_time, id="one-at-a-time")]


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def table_of(app: ConsoleApp) -> OpsTable:
    return app.screen.query_one(OpsTable)


# -- item 9: one vocabulary, one count ------------------------------------------------------------


@pytest.mark.parametrize("press", PRESSES)
async def test_the_tab_the_status_line_and_the_filters_count_the_same_operations(press: Press) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(OperationsPane)
        assert pane.tab_label() == "Operations 6 · 4 problems"
        await press(pilot, ("2", "f", "f"))  # all -> unfinished -> problem
        table = table_of(app)
        assert table.status_filter == "problem"
        assert table.row_count == 4
        table.set_filter("failed")
        await pilot.pause()
        assert table.row_count == 1 == table.counts()["failed"]
        table.set_filter("running")
        await pilot.pause()
        assert table.row_count == 1 == table.counts()["running"]  # the error row is not running


# -- item 10: names wherever the journal knows them -------------------------------------------------


async def test_the_user_column_shows_the_journals_names_while_the_profiles_still_load() -> None:
    gate = asyncio.Event()  # the profiles never arrive in this test
    app = app_for(gate=gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        table = table_of(app)
        users = [table.row_texts(row)[0] for row in range(table.row_count)]
        assert users[0] == "Ada Lovelace" and "Ken Thompson" in users
        assert not any(user in {p.user_id for p in PEOPLE} for user in users)
        gate.set()
