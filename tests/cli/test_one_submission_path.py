"""One submission path (issue 16): a storage rule refuses in the CLI and in the console's form with the same words.

Both front ends call ``console.ops.submission``; a rule changed there changes both. Each case drives one
rule through ``export-console export`` (a process, against the simulated tenant) and through the console's
export form (under Pilot), and checks that both refuse, send nothing, and say the same sentence.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Static

from console.tui.app import ConsoleApp
from console.tui.screens.export import ExportScreen
from console.tui.widgets.storage_input import StorageLocationInput
from tests.cli.conftest import SECRET, Served, graph_args, posts, run_cli
from tests.tui.fakes import make_services
from tests.tui.test_console import settle

QUERY = f"sv=2022-11-02&ss=b&srt=co&sp=rwlc&se=2099-01-01T00:00:00Z&sig={SECRET}"
LOCATION = f"https://acct.blob.core.windows.net/exports?{QUERY}"

RULES = {
    "a SAS without write permission": (LOCATION.replace("sp=rwlc", "sp=rl"), "neither create (c) nor write (w)"),
    "a blob SAS": (LOCATION.replace("ss=b&srt=co", "sr=b"), "not for a container (sr=c)"),
    "no signature": (LOCATION.replace(f"&sig={SECRET}", ""), "no SAS signature (sig)"),
}


def cli_refusal(served: Served, location: str) -> str:
    """What ``export`` says for one user and ``location``; it must exit 2 and send nothing."""
    tenant, server, env = served
    user = tenant.graph.profiles[3].user_id
    done = run_cli(*graph_args(server), "export", user, "--storage-location-env", "LOC", env={**env, "LOC": location})
    assert done.returncode == 2, done.stderr
    assert not posts(tenant)
    return done.stderr


async def console_refusal(location: str) -> str:
    """What the export form shows for one person and ``location``; nothing may be sent."""
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "tab")
        form = app.screen
        assert isinstance(form, ExportScreen)
        form.query_one("#storage", StorageLocationInput).post_message(events.Paste(location))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen) and engine.calls == []
        return str(form.query_one("#storage-error", Static).render())


@pytest.mark.parametrize("rule", sorted(RULES))
async def test_a_storage_rule_refuses_in_both_front_ends_with_the_same_words(served: Served, rule: str) -> None:
    location, words = RULES[rule]
    said_by_cli = cli_refusal(served, location)
    shown_by_form = console_refusal(location)
    form_error = (await shown_by_form).removeprefix("✗ ").strip()
    assert words in form_error
    # The CLI's line is the form's sentence, then "(nothing was sent)".
    assert f"export-console: {form_error} (nothing was sent)" in " ".join(said_by_cli.split())
    assert SECRET not in said_by_cli and SECRET not in form_error
