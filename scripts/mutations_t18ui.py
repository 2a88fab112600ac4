"""Several tenants in the console (issue 18), the console's leftovers: sign-out of one tenant leaves the others
polling, a tenant whose token fails is shown and the others go on, the cases of every open tenant.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_S = "tests/tui/test_tenants_signout.py::"
_SIGN_OUT = f"{_S}test_signing_out_of_one_tenant_leaves_the_others_polling"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "t18ui: signing out of one tenant stops and closes its engine (nothing more is asked of its Graph)",
        "console/tui/screens/tenant_view.py",
        '        await session.engine.stop()\n        signin = getattr(session.services, "signin", None)',
        '        session.close = None\n        signin = getattr(session.services, "signin", None)',
        (_SIGN_OUT,),
    ),
    (
        "t18ui: signing out of one tenant stops only its engine (the others keep polling)",
        "console/tui/screens/tenant_view.py",
        "        await session.engine.stop()\n",
        "        await self.session.engine.stop()\n",
        (_SIGN_OUT,),
    ),
    (
        "t18ui: sign-out acts on the picked tenant and names it",
        "console/tui/screens/tenant_view.py",
        "        session = self.profile_session\n        name = tenant_name_of(session)\n        if session.engine.posts",
        "        session = self.tenants.sessions[0]\n        name = tenant_name_of(session)\n        if session.engine.posts",
        (_SIGN_OUT,),
    ),
    (
        "t18ui: a signed-out tenant's unfinished rows stay, marked not watched",
        "console/tui/tenants.py",
        '    return replace(view, next_poll_at=None, last_error=f"{NOT_WATCHED} {name}")',
        "    return view",
        (_SIGN_OUT,),
    ),
    (
        "t18ui: the pulse strip shows a signed-out tenant signed out",
        "console/tui/pulse.py",
        "            if name in self.sessions.signed_out:",
        "            if False:",
        (_SIGN_OUT,),
    ),
]
MUTATIONS.append(
    (
        "t18ui: a tenant whose token is refused shows as sign-in failed while the others go on",
        "console/tui/pulse.py",
        'return "sign-in failed" if ("401" in lowered or "sign" in lowered or "token" in lowered) else "set aside"',
        'return "set aside"',
        (f"{_S}test_a_failing_token_on_one_tenant_leaves_the_others_polling",),
    )
)

_C = "tests/tui/test_tenants_cases.py::test_every_open_tenants_cases_each_named_and_changes_go_to_its_tenant"
MUTATIONS += [
    (
        "t18ui: the Cases pane lists the cases of every open tenant",
        "console/tui/widgets/cases_pane.py",
        "            return [case for case in self.store().cases(None) if case.tenant_key in self.names]",
        "            return self.store().cases(self.tenant_key)",
        (_C,),
    ),
    (
        "t18ui: closing a case closes it in its own tenant (two tenants may share a reference)",
        "console/tui/widgets/cases_pane.py",
        "return self.store().close(case.tenant_key, case.ref,",
        "return self.store().close(self.tenant_key, case.ref,",
        (_C,),
    ),
    (
        "t18ui: a case's line names its tenant when several are open",
        "console/tui/widgets/cases_pane.py",
        "        tenant_of = self.book.name_of if self.book.several else None",
        "        tenant_of = None",
        (_C,),
    ),
]

_N = "tests/tui/test_tenants_named.py::"
MUTATIONS += [
    (
        "t18ui: questions and toasts about operations name their tenant when several are open",
        "console/tui/ops_model.py",
        '    if not model.has_tenants:\n        return ""\n    names = sorted(',
        '    if True:\n        return ""\n    names = sorted(',
        (f"{_N}test_stop_watching_and_a_failure_alert_name_the_tenant",),
    ),
    (
        "t18ui: a removal refused with several tenants open names the tenant",
        "console/tui/screens/main.py",
        'title = "Remove" + self.tenant_suffix(session)',
        'title = "Remove"',
        (f"{_N}test_the_outbound_view_and_a_refused_removal_name_the_picked_tenant",),
    ),
]
