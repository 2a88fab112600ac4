"""Shown when the console has neither a session nor a way to sign in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from console.tui.footer import ConsoleFooter
from console.tui.services import ConsoleServices
from console.tui.widgets.header import ConsoleHeader


class NoLoginScreen(Screen[None]):
    """Explains how to start the console on a tenant."""

    def __init__(self, services: ConsoleServices) -> None:
        super().__init__()
        self.services = services

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(id="header")
        yield Static(
            "Not signed in, and this console has no way to sign in.\n\n"
            "Start it with  --demo  (a simulated tenant),  --tenant NAME  (a saved tenant), or\n"
            "--graph-url URL --token-env VAR  (a token you already have).\n\nq quits.",
            id="no-login",
        )
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one(ConsoleHeader).show(None, demo=self.services.demo)
