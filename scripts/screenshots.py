"""Regenerate ``screenshots/*.svg`` and ``*.png`` from the demo (``export-console --demo``).

    python scripts/screenshots.py [--out screenshots]

Runs the real demo (simulated tenant, Graph client, operations engine) headless, lets the
exports move for a few seconds, and saves each main screen at 120x40 (and the main screen at
80x24 and 200x60), and at 80x24: the export form with its template preview, the warning for one
fixed location, the bulk confirmation, and a failed and an unconfirmed export in the table. PNGs are made with ``rsvg-convert`` when it is installed
(``apt-get install -y librsvg2-bin``); without it only SVGs are written.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from console.tui.app import ConsoleApp  # noqa: E402
from console.tui.entry import build_console_services  # noqa: E402
from console.tui.widgets.ops_table import OpsTable  # noqa: E402
from console.tui.widgets.storage_input import StorageLocationInput  # noqa: E402
from console.wiring import (
    DEMO_STORAGE,  # noqa: E402
    ConnectionOptions,  # noqa: E402
)

SAS = DEMO_STORAGE
"""Typed into the export form (the demo's template, one container per person): its signature shows masked."""
FIXED = DEMO_STORAGE.replace("dsr-{userId}", "shared-users")
"""One fixed container for several people: the form warns (one export per storage location)."""

Scene = Callable[[Pilot[object]], Awaitable[None]]


async def warm(pilot: Pilot[object], seconds: float = 6.0) -> None:
    """Let the profiles load and the demo's exports move."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(seconds)


async def main_screen(pilot: Pilot[object]) -> None:
    await warm(pilot)
    await pilot.press("down", "down", "space", "down", "space", "down")


async def operations(pilot: Pilot[object]) -> None:
    await warm(pilot)
    await pilot.press("2", "s", "s", "down", "down")
    await pilot.pause(0.3)


async def search(pilot: Pilot[object]) -> None:
    await warm(pilot, 2.0)
    await pilot.press("slash", *"garcia", "enter", "asterisk")
    await pilot.pause(0.3)


async def _form_for_three(pilot: Pilot[object], location: str) -> None:
    from textual import events

    await warm(pilot, 2.0)
    await pilot.press("end", "up", "up", "space", "space", "space", "enter", "tab")
    await pilot.pause(0.3)
    storage = pilot.app.screen.query_one("#storage", StorageLocationInput)
    storage.post_message(events.Paste(location))
    await pilot.pause(0.3)


async def export_form(pilot: Pilot[object]) -> None:
    await _form_for_three(pilot, SAS)


async def export_fixed_location(pilot: Pilot[object]) -> None:
    await _form_for_three(pilot, FIXED)


async def bulk_confirmation(pilot: Pilot[object]) -> None:
    await _form_for_three(pilot, SAS)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.5)


async def _send(pilot: Pilot[object]) -> None:
    """Enter on the form, Yes if it asks (a warning), then close the results."""
    from console.tui.dialogs.confirm import ConfirmScreen

    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)
    if isinstance(pilot.app.screen, ConfirmScreen):
        await pilot.press("y")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.5)
    await pilot.press("escape")
    await pilot.pause(0.2)


async def failed_and_unconfirmed(pilot: Pilot[object]) -> None:
    """Two exports that go wrong on purpose (simulator knobs): one fails, one's answer is lost (unconfirmed)."""
    import argparse

    from textual import events

    from console.sim.knobs import add_simulate_arguments, apply_simulate_arguments

    await warm(pilot, 2.0)
    app = pilot.app
    sim = app.services.extra["simulated_tenant"]  # type: ignore[attr-defined]
    main = app.screen
    people = main.index.profiles  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    apply_simulate_arguments(sim, parser.parse_args(["--failing-user", people[-1].user_id]))
    for key in ("end", "enter", "tab"):
        await pilot.press(key)
    await pilot.pause(0.3)
    app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
    await pilot.pause(0.3)
    await _send(pilot)
    from console.sim.knobs import RequestMatch

    # The connection drops after Graph accepted the POST: the console cannot know (unconfirmed).
    sim.graph.faults.drop(1, "after", RequestMatch("POST", "exportPersonalData"))
    await pilot.press("up", "enter", "tab")
    await pilot.pause(0.3)
    app.screen.query_one("#storage", StorageLocationInput).post_message(events.Paste(SAS))
    await pilot.pause(0.3)
    await _send(pilot)
    await pilot.pause(25.0)  # the failing export runs to its end
    await pilot.press("2", "s", "s")
    await pilot.pause(0.5)


async def details(pilot: Pilot[object]) -> None:
    await warm(pilot, 8.0)
    table = pilot.app.screen.query_one(OpsTable)
    await pilot.press("2")
    for _ in range(table.row_count):
        key = table.highlighted_key
        if key is not None and table.views[key].polls >= 2:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause(0.5)


async def login(pilot: Pilot[object]) -> None:
    await warm(pilot, 1.0)
    app = pilot.app
    await app.action_sign_out()  # type: ignore[attr-defined]
    await pilot.pause(0.2)
    await pilot.press("enter")
    await pilot.pause(1.0)


async def help_overlay(pilot: Pilot[object]) -> None:
    await warm(pilot, 1.0)
    await pilot.press("question_mark")
    await pilot.pause(0.3)


SCENES: list[tuple[str, Scene, tuple[int, int]]] = [
    ("demo-main-120x40", main_screen, (120, 40)),
    ("demo-main-80x24", main_screen, (80, 24)),
    ("demo-main-200x60", main_screen, (200, 60)),
    ("demo-operations", operations, (120, 40)),
    ("demo-search", search, (120, 40)),
    ("demo-export", export_form, (120, 40)),
    ("demo-export-80x24", export_form, (80, 24)),
    ("demo-export-fixed-80x24", export_fixed_location, (80, 24)),
    ("demo-bulk-confirm-80x24", bulk_confirmation, (80, 24)),
    ("demo-failed-unconfirmed-80x24", failed_and_unconfirmed, (80, 24)),
    ("demo-details", details, (120, 40)),
    ("demo-login", login, (120, 40)),
    ("demo-help", help_overlay, (120, 40)),
]


async def shoot(name: str, scene: Scene, size: tuple[int, int], out: Path) -> Path:
    with tempfile.TemporaryDirectory() as state:
        services = build_console_services(ConnectionOptions(demo=True, state_dir=state))
        app = ConsoleApp(services)
        async with app.run_test(size=size) as pilot:
            await scene(pilot)
            path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))
            await app.action_quit()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    converter = shutil.which("rsvg-convert")
    if converter is None:
        print("rsvg-convert not found (apt-get install -y librsvg2-bin): writing SVG only", file=sys.stderr)
    for name, scene, size in SCENES:
        svg = asyncio.run(shoot(name, scene, size, out))
        line = f"{svg.relative_to(ROOT) if svg.is_relative_to(ROOT) else svg}"
        if converter:
            png = svg.with_suffix(".png")
            # Textual writes leading spaces as &#160; in each run; librsvg drops them unless told to keep
            # white space, and the PNG then shows runs glued together ("▶ runningIsabella") that no
            # terminal draws. The SVG itself stays as Textual wrote it.
            with tempfile.NamedTemporaryFile("w", suffix=".svg", encoding="utf-8") as kept:
                kept.write(svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1))
                kept.flush()
                subprocess.run([converter, "--zoom", "1", kept.name, "-o", str(png)], check=True)
            line += f" + {png.name}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
