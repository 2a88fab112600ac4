"""One worker-failure handler (issue 16, item 4): whichever screen or pane runs a worker, its failure shows once,
formatted by the App's one formatter (a heading, then the error's text), as text: markup shown as typed,
control characters as visible escapes, secrets masked.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.dom import DOMNode

from console.graph.errors import BadRequest
from console.text import terminal_safe
from console.tui.app import ConsoleApp
from console.tui.focus import KeyHolder
from console.tui.messages import describe_failure
from console.tui.screens.details import OperationDetailsScreen
from console.tui.screens.export import ExportScreen
from console.tui.screens.login import LoginScreen
from console.tui.screens.main import MainScreen
from console.tui.screens.outbound import OutboundScreen
from console.tui.widgets.ops_pane import OperationsPane
from tests.tui.fakes import make_services
from tests.tui.test_console import settle
from tests.tui.test_hostile_tenant import SIZE, rendered

HOSTILE = "Graph broke [b]bold[/b] [@click=app.quit]quit[/] \x1b]52;c;SGVsbG8=\x07\u202e sig=S3cr3t"
"""An error text with markup, an OSC 52 clipboard write, a bidi override and a SAS signature."""

SHOWN = terminal_safe(HOSTILE).replace("S3cr3t", "***")


def _main(app: ConsoleApp) -> DOMNode:
    assert isinstance(app.screen, MainScreen)
    return app.screen


def _ops_pane(app: ConsoleApp) -> DOMNode:
    return app.screen.query_one(OperationsPane)


def _details(app: ConsoleApp) -> DOMNode:
    assert isinstance(app.screen, OperationDetailsScreen)
    return app.screen


def _export(app: ConsoleApp) -> DOMNode:
    assert isinstance(app.screen, ExportScreen)
    return app.screen


def _login(app: ConsoleApp) -> DOMNode:
    assert isinstance(app.screen, LoginScreen)
    return app.screen


def _outbound(app: ConsoleApp) -> DOMNode:
    assert isinstance(app.screen, OutboundScreen)
    return app.screen


def _app(app: ConsoleApp) -> DOMNode:
    return app


WHERE: dict[str, tuple[tuple[str, ...], Callable[[ConsoleApp], DOMNode], str, str]] = {
    # name: (keys that open it, the node, the worker group, the heading the admin reads)
    "main screen": ((), _main, "engine", "Operations"),
    "operations pane": (("2",), _ops_pane, "ops-actions", "Operations"),
    "details": (("2", "down", "enter"), _details, "details-note", "Note not saved"),
    "export form": (("down", "enter"), _export, "export-check", "Storage check failed"),
    "login": ((), _login, "sign-in", "Sign-in failed"),
    "outbound view": (("4",), _outbound, "outbound", "Outbound"),
    "the app": ((), _app, "export", "Export failed"),
}


@pytest.mark.parametrize("where", list(WHERE))
async def test_a_worker_failure_shows_once_formatted_and_as_text(where: str) -> None:
    keys, node_of, group, title = WHERE[where]
    services, _engine = make_services(signed_in=where != "login", with_login=where == "login")
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        node = node_of(app)
        errors_before = [e for e in app.event_log if e.severity == "error"]

        async def fails() -> None:
            raise RuntimeError(HOSTILE)

        node.run_worker(fails(), group=group, exit_on_error=False)
        await settle(pilot)
        failures = [e for e in app.event_log if e.severity == "error"][len(errors_before) :]
        assert [(e.title, e.text) for e in failures] == [(title, SHOWN)]
        toasts = [n for n in app._notifications if n.severity == "error"]  # noqa: SLF001
        assert len(toasts) == 1 and toasts[0].message.startswith(f"{title}: Graph broke [b]bold[/b]")
        assert not toasts[0].markup
        assert app.is_running  # the app did not exit on the failure (no quit action ran)
        text = rendered(app)  # fails on any raw escape, link or click action on screen
        assert "S3cr3t" not in text


def test_the_formatter_gives_the_families_title_and_a_bugs_type() -> None:
    graph = describe_failure(BadRequest(f"refused {HOSTILE}", code="BadRequest", request_id="r-1"))
    assert graph.title == "Graph refused the request"
    assert graph.text == f"refused {SHOWN} [BadRequest] (request-id r-1)"
    assert describe_failure(KeyError()).text == "KeyError"
    assert describe_failure(ValueError("x")).title == "Unexpected error"
    assert describe_failure(BadRequest("x"), group="profiles").title == "Listing profiles failed"


def test_the_console_app_holds_keys_for_its_widgets() -> None:
    services, _engine = make_services()
    assert isinstance(ConsoleApp(services), KeyHolder)


async def test_every_toast_is_redacted_whoever_sends_it() -> None:
    """A screen's own toast (not a worker failure) with a SAS signature in it: masked in the toast and the log."""
    services, _engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.screen.notify(
            f"checked https://acct.blob.core.windows.net/c?sv=1&{HOSTILE[-10:]}", title="Storage sig=T1tl3"
        )
        await settle(pilot)
        toast = list(app._notifications)[-1]  # noqa: SLF001
        entry = app.event_log.entries[-1]
        for text in (toast.message, entry.text, entry.title):
            assert "S3cr3t" not in text and "T1tl3" not in text, text
        assert "sig=***" in toast.message
