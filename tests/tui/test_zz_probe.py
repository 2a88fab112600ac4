import sys
sys.path.insert(0, "tests/tui")
from textual import events
from console.tui.app import ConsoleApp
from console.tui.widgets.profile_list import ProfileList
from fakes import make_services
from test_console import settle

def burst(app, keys):
    from textual.keys import _character_to_key
    for key in keys:
        char = key if len(key) == 1 else None
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        ev = events.Key(key, char)
        ev.set_sender(app)
        app._driver.send_message(ev)

async def test_probe():
    services, engine = make_services()
    app = ConsoleApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, list("/garcia"))
        await settle(pilot)
        pl = app.screen.query_one(ProfileList)
        print("selected", len(pl.selected), "search", repr(app.screen.query_one("#search").value), type(app.focused))
        burst(app, ["escape","escape", "e", *"https://acct.blob.core.windows.net/c?sv=1"])
        await settle(pilot)
        print(type(app.screen), getattr(app.focused, "value", None))
