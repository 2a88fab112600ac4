"""Names vulture (the dead-code gate in .ci/run) cannot see used: read by Python itself, not by our code.

Textual's handlers (``on_*``, ``action_*``, ``compose``, ``BINDINGS``) sit below vulture's 80% confidence
and need no entry here. This file is only read by vulture, never imported.
"""

# The arguments of __exit__/__aexit__: the protocol passes them, a context manager may ignore them.
exc_info  # noqa: B018, F821  console/graph/client.py GraphClient.__aexit__
tb  # noqa: B018, F821  console/ops/journal.py, console/sim/server.py __exit__/__aexit__
