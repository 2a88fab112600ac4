"""Several tenants in the console (issue 18 leftover): signing in again to a tenant signed out of, from the
palette, through its own ways in; its engine joins the table and resumes its exports, the others never stop.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_AGAIN, _CANCEL, _TOKEN, _CODE = (
    f"tests/tui/test_sign_in_again.py::test_{name}"
    for name in (
        "signing_in_again_from_the_palette_resumes_its_exports_and_the_others_never_stopped",
        "cancelling_the_sign_in_leaves_the_tenant_signed_out",
        "a_saved_tenant_signs_in_again_with_its_token_variable_without_a_prompt",
        "a_saved_tenant_that_needs_a_device_code_shows_it",
    )
)

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "signin18: the palette offers 'Sign in to NAME' for each tenant signed out of",
        "console/tui/app.py",
        "            for name in tenants.left_names():\n",
        "            for name in []:\n",
        (_AGAIN, _CANCEL, _TOKEN, _CODE),
    ),
    (
        "signin18: signing in again starts by itself, with the tenant's ways in that need no prompt (its token variable)",
        "console/tui/screens/sign_in_again.py",
        "            self.sign_in_silently(self.selected_tenant)\n",
        "            pass\n",
        (_TOKEN,),
    ),
    (
        "signin18: a tenant that signs in with a device code shows its code at once",
        "console/tui/screens/sign_in_again.py",
        "            self.call_later(self.action_sign_in)\n",
        "            pass\n",
        (_AGAIN, _CODE),
    ),
    (
        "signin18: with several tenants a session opened joins the others instead of replacing them all",
        "console/tui/app.py",
        "        if self.services.tenants is not None:  # several tenants: one signed in to again joins the others\n",
        "        if False:\n",
        (_AGAIN, _TOKEN),
    ),
    (
        "signin18: the tenant signed in to again starts its engine (its unfinished exports resume from the journal)",
        "console/tui/screens/tenant_view.py",
        "        try:\n            await session.engine.start()\n",
        "        try:\n            pass\n",
        (_AGAIN,),
    ),
    (
        "signin18: the table's feed follows an engine that joins later (its rows keep changing)",
        "console/tui/tenants.py",
        "            (engine, follower, engine.subscribe(callback)) for follower, callback in self._followers.items()\n",
        "            (engine, follower, engine.subscribe(callback)) for follower, callback in {}.items()\n",
        (_AGAIN,),
    ),
    (
        "signin18: the tenant comes back in its place (the strip, the picker and the table's engines keep their order)",
        "console/tui/tenants.py",
        "            table.engine.join(session.engine, position, {tenant_key_of(old), tenant_key_of(session)})\n",
        "            table.engine.join(session.engine, 0, {tenant_key_of(old), tenant_key_of(session)})\n",
        (_AGAIN,),
    ),
    (
        "signin18: its rows left as they were (not watched) are its engine's again",
        "console/tui/tenants.py",
        "        self.left = {key: view for key, view in self.left.items() if view.tenant_key not in tenant_keys}\n",
        "        self.left = dict(self.left)\n",
        (_AGAIN,),
    ),
    (
        "signin18: the header names the tenant signed in to again",
        "console/tui/screens/tenant_view.py",
        "        self.show_signed_in()\n        self.refresh_tenant_quotas()\n",
        "        self.refresh_pulse()\n        self.refresh_tenant_quotas()\n",
        (_AGAIN,),
    ),
    (
        "signin18: Esc cancels the sign-in and goes back; the tenant stays signed out of",
        "console/tui/screens/sign_in_again.py",
        "        self.dismiss(None)\n",
        "        pass\n",
        (_CANCEL, _CODE),
    ),
    (
        "signin18: the sign-out question names the way back",
        "console/tui/screens/tenant_view.py",
        """            f'("Sign in to {name}" in the palette resumes them).\\n\\n{keep_polling(others)}.\'""",
        """            f"(signing in to {name} again resumes them).\\n\\n{keep_polling(others)}.\"""",
        (_CANCEL,),
    ),
]
