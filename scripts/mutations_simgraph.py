"""Mutations guarding the simulator and Graph client split of issue 16 (helper simgraph)."""

from __future__ import annotations

from typing import Any

_GRANTS = "tests/sim/test_identity_grants.py"
_MODELS = "tests/graph/test_models.py"
_RETRIES = "tests/graph/test_transport_retries.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "simgraph: an unknown grant type is redeemed as client credentials",
        "console/sim/identity_grants.py",
        '        if grant_type not in (DEVICE_CODE_GRANT, "client_credentials"):',
        "        if False:",
        (f"{_GRANTS}::test_a_grant_the_endpoint_does_not_know_is_refused_with_aadsts70003_even_for_a_known_app",),
    ),
    (
        "simgraph: the token endpoint redeems a device code for an app the tenant does not know",
        "console/sim/identity_grants.py",
        "            if app is None:\n                return app_not_found(client_id, idp.tenant_domain)",
        "            if app is None:\n                app = idp.apps[next(iter(idp.apps))]",
        (f"{_GRANTS}::test_an_unknown_app_is_named_for_device_code_and_client_credentials_but_not_asked_of_a_refresh",),
    ),
    (
        "simgraph: the client reads or writes a profile's UPN under another name",
        "console/graph/models.py",
        '    ("user_principal_name", "userPrincipalName"),',
        '    ("user_principal_name", "upn"),',
        (f"{_MODELS}::test_a_profile_reads_and_writes_graphs_names_as_the_simulator_sends_them",),
    ),
    (
        "simgraph: every connection failure that is not refused or TLS called a name that cannot be resolved",
        "console/graph/failures.py",
        "    if any(isinstance(e, socket.gaierror) for e in causes) or any(\n        word in lowered",
        "    if any(isinstance(e, socket.gaierror) for e in causes) or True or any(\n        word in lowered",
        (f"{_RETRIES}::test_an_unreachable_network_is_named_as_such_not_as_a_name_that_cannot_be_resolved",),
    ),
]
