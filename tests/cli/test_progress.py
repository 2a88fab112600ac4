"""Headless commands show their progress on stderr, on a terminal only (issue 17, item 11).

``export`` runs in-process through the CLI's entry function against the simulated tenant on
loopback, with stderr a terminal (a StringIO that says it is one) or not, with and without --json.
"""

from __future__ import annotations

import io
import sys

import pytest

from console.cli.run import main
from tests.cli.conftest import TEMPLATE, Served, graph_args


class Terminal(io.StringIO):
    """stderr as a terminal."""

    def isatty(self) -> bool:
        return True


def export(served: Served, monkeypatch: pytest.MonkeyPatch, stderr: io.StringIO, *more: str) -> int:
    tenant, server, env = served
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOC", TEMPLATE)
    monkeypatch.setattr(sys, "stderr", stderr)
    users = [p.user_id for p in tenant.graph.profiles[:5]]
    return main([*graph_args(server), "export", *users, "--storage-location-env", "LOC", "--no-storage-check", *more])


def test_on_a_terminal_export_shows_sent_accepted_and_refused_on_one_rewritten_line(
    served: Served, monkeypatch: pytest.MonkeyPatch, isolated_state: object, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr = Terminal()
    assert export(served, monkeypatch, stderr, "--wait") == 0
    written = stderr.getvalue()
    assert "sending 5/5 · accepted 5 · refused 0" in written
    assert "watching 5 · complete 5 · failed 0 · running 0" in written
    assert "\n" not in written.split("submitted 5 of 5")[0].replace("\r\033[K", "")  # one line, rewritten
    assert written.count("\r\033[K") >= 2
    # each redraw says something new: an idle line is never rewritten
    shown = [part for part in written.split("\r\033[K") if part and "\n" not in part]
    assert all(a != b for a, b in zip(shown, shown[1:], strict=False))
    assert "USER ID" in capsys.readouterr().out  # the table still goes to stdout


@pytest.mark.parametrize("terminal, json", [(False, False), (True, True)], ids=["not-a-terminal", "json"])
def test_no_progress_when_stderr_is_not_a_terminal_or_json_is_asked(
    served: Served, monkeypatch: pytest.MonkeyPatch, isolated_state: object, terminal: bool, json: bool
) -> None:
    stderr = Terminal() if terminal else io.StringIO()
    assert export(served, monkeypatch, stderr, "--wait", *(["--json"] if json else [])) == 0
    assert "sending" not in stderr.getvalue() and "watching" not in stderr.getvalue()
    assert "\r" not in stderr.getvalue()
