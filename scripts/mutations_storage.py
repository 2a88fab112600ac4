"""Mutations guarding the storage rules (issue 14.3), issue 22 behaviours 9 and 10, and storage at scale (issue 15).

Same tuple format as ``scripts/mutations.py`` (which loads this file).
"""

from __future__ import annotations

from typing import Any

R = "tests/storage/test_rules.py::test_locations_graph_cannot_write_to_are_refused_naming_the_rule"
P = "tests/storage/test_pool.py::"
CLI = "tests/cli/test_storage_cli.py::"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "storage: st in the future accepted",
        "console/storage/sas.py",
        "    elif start > current:",
        "    elif False:",
        (f"{R}[st in the future]", "tests/storage/test_sas.py::test_start_in_the_future_is_an_error"),
    ),
    (
        "storage: a SAS without sp accepted",
        "console/storage/sas.py",
        '        "sp",\n        permissions,\n',
        '        "sp",\n        "c",\n',
        (f"{R}[no sp]",),
    ),
    (
        "storage: a SAS without sig accepted",
        "console/storage/sas.py",
        "    if sig is None:",
        "    if False:",
        (f"{R}[no sig]",),
    ),
    (
        "storage: a blob SAS accepted",
        "console/storage/sas.py",
        '    if scope is not None and scope.strip().lower() != "c":',
        "    if False:",
        (f"{R}[a blob SAS]", "tests/storage/test_sas.py::test_blob_sas_is_refused"),
    ),
    (
        "storage: a parameter name that is not ASCII once decoded accepted",
        "console/storage/sas.py",
        "    if any(not n.isascii() or not n.isprintable() for n in names):",
        "    if False:",
        (f"{R}[a percent-encoded fullwidth sig]",),
    ),
    (
        "storage: hosts other than Azure Blob accepted",
        "console/storage/location.py",
        "        if not _BLOB_HOST.match(host):",
        "        if False:",
        (f"{R}[example.com]", f"{R}[a longer host]", f"{R}[Azure Files]"),
    ),
    (
        "storage: a lookalike non-ASCII host accepted",
        "console/storage/location.py",
        "        if not c.isascii():",
        "        if False:",
        (f"{R}[a Cyrillic lookalike]",),
    ),
    (
        "storage: a nested path accepted",
        "console/storage/location.py",
        "        if len(segments) != 1:",
        "        if False:",
        (f"{R}[a nested path]", f"{R}[no container]"),
    ),
    (
        "storage: no length limit",
        "console/storage/location.py",
        "    if len(text) > MAX_LOCATION_LENGTH:",
        "    if False:",
        (f"{R}[100,000 characters]",),
    ),
    (
        "storage: a fragment accepted",
        "console/storage/location.py",
        '    if "#" in probe:',
        "    if False:",
        (f"{R}[sig only in a fragment]",),
    ),
    (
        "storage: a fullwidth sig is not a signature for redaction",
        "console/redact.py",
        '        normal = c if c.isascii() else unicodedata.normalize("NFKC", c)',
        "        normal = c",
        ("tests/storage/test_rules.py::test_every_spelling_of_sig_is_a_signature_and_masked",),
    ),
    (
        "storage 22.9: a template resolving two users to one container accepted",
        "console/storage/templates.py",
        "        if is_template(template) and key in seen:",
        "        if False:",
        (
            "tests/storage/test_rules.py::test_a_template_resolving_two_users_to_one_container_is_refused",
            f"{CLI}test_a_template_resolving_two_users_to_one_container_is_refused",
        ),
    ),
    (
        "storage 22.10: --no-storage-check skips the rules before sign-in",
        "console/cli/run.py",
        "    if checked.errors:\n        raise UsageProblem(",
        "    if checked.errors and not args.no_storage_check:\n        raise UsageProblem(",
        (f"{CLI}test_the_storage_rules_refuse_before_sign_in",),
    ),
    (
        "storage 22.10: the per-profile rules skipped",
        "console/cli/commands.py",
        "    if plan.errors:\n        more =",
        "    if False:\n        more =",
        (f"{CLI}test_a_template_resolving_two_users_to_one_container_is_refused",),
    ),
    (
        "storage: --no-storage-check keeps the delivery checks",
        "console/cli/commands.py",
        "        engine.delivery_check = None  # --no-storage-check",
        "        pass  # --no-storage-check",
        (f"{CLI}test_no_storage_check_skips_delivery_checks_too",),
    ),
    (
        "storage: the breaker never opens",
        "console/storage/pool.py",
        "        if host.is_down(self._clock()):\n            host.skipped += 1",
        "        if False:\n            host.skipped += 1",
        (
            f"{P}test_an_unreachable_storage_account_is_tried_once_and_said_once",
            f"{P}test_a_down_host_skips_delivery_checks_too_naming_the_account",
        ),
    ),
    (
        "storage: the first check of a host does not go alone",
        "console/storage/pool.py",
        "            async with host.probe:",
        "            async with asyncio.Lock():",
        (f"{P}test_an_unreachable_storage_account_is_tried_once_and_said_once",),
    ),
    (
        "storage: a new client for every check",
        "console/storage/pool.py",
        "        client = self._clients.get(origin)",
        "        client = None",
        (f"{P}test_checks_of_one_host_reuse_its_connections",),
    ),
    (
        "storage: unbounded concurrency",
        "console/storage/pool.py",
        "        self._gate = asyncio.Semaphore(self._concurrency)",
        "        self._gate = asyncio.Semaphore(10**6)",
        (f"{P}test_storage_requests_in_flight_are_bounded",),
    ),
    (
        "storage: a TLS context built for every client",
        "console/tls.py",
        "@functools.lru_cache(maxsize=8)\n",
        "\n",
        (f"{P}test_the_tls_context_is_built_once_per_ca_rule",),
    ),
]
