"""A tidy root (issue 16 items 5 and 6): one loopback rule, one private-file writer, TOML by tomli-w,
the layer rules run from pyproject.toml.

Same tuple format as ``scripts/mutations.py``: (promise, file, exact snippet, its broken form, tests).
"""

from __future__ import annotations

from typing import Any

_NET = "tests/test_net.py::"
_PRIVATE = "tests/test_private.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "root: a private network address is not loopback",
        "console/net.py",
        "        return ipaddress.ip_address(name).is_loopback",
        "        return ipaddress.ip_address(name).is_private",
        (f"{_NET}test_hosts_that_only_look_local",),
    ),
    (
        "root: a name ending in localhost is not loopback",
        "console/net.py",
        '    if name == "localhost":',
        '    if name.endswith("localhost"):',
        (
            f"{_NET}test_hosts_that_only_look_local",
            f"{_NET}test_the_graph_url_and_the_storage_location_refuse_http_elsewhere",
        ),
    ),
    (
        "root: an existing readable file is made private before it is written",
        "console/private.py",
        "            os.fchmod(fd, PRIVATE_MODE)\n",
        "            pass\n",
        (f"{_PRIVATE}test_an_existing_readable_file_is_made_private_before_it_is_written",),
    ),
    (
        "root: a failed atomic write leaves no temp file",
        "console/private.py",
        "            os.unlink(tmp)\n",
        "            pass\n",
        (f"{_PRIVATE}test_a_failed_write_leaves_the_target_and_no_temp_file",),
    ),
    (
        "root: the config keeps its tenants (tomli-w writes the whole mapping)",
        "console/config.py",
        "        return tomli_w.dumps(data)",
        "        return tomli_w.dumps(dict(self.extra))",
        ("tests/auth/test_config.py::test_the_saved_file_is_read_back_identically",),
    ),
    (
        "root: the layer contracts run in the suite (a ground-floor module importing sqlite3)",
        "console/net.py",
        "import ipaddress\n",
        "import ipaddress\nimport sqlite3  # noqa: F401\n",
        ("tests/test_layers.py::test_every_import_contract_is_kept",),
    ),
]
