"""Mutations guarding issue 14 items 4 and 6 (nothing hangs; bad input is exit 2, a bug exit 1) and issue 22
behaviours 12 and 13 (paging). Same tuple format as ``scripts/mutations.py``."""

from __future__ import annotations

from typing import Any

PAGING = "tests/graph/test_paging.py"
RETRIES = "tests/graph/test_transport_retries.py"
EXITS = "tests/cli/test_exit_codes.py"
HANGS = "tests/e2e/test_hangs.py"

MUTATIONS: list[tuple[Any, ...]] = [
    (
        "hangs: a nextLink already followed is followed again",
        "console/graph/client.py",
        "            if url in followed:\n                raise paging_loop(f\"page {page}'s",
        "            if False:\n                raise paging_loop(f\"page {page}'s",
        (f"{PAGING}::test_a_next_link_already_followed_stops_the_listing_and_keeps_what_was_read",),
    ),
    (
        "hangs: a page of profiles already listed does not stop a looping listing",
        "console/graph/client.py",
        "            if profiles and ids <= seen_ids:",
        "            if False:",
        (f"{PAGING}::test_a_page_of_profiles_already_listed_stops_a_listing_whose_links_are_new",),
    ),
    (
        "hangs: endless empty pages are followed for ever",
        "console/graph/client.py",
        "            if url and empty_run >= MAX_EMPTY_PAGES:",
        "            if False:",
        (f"{PAGING}::test_endless_empty_pages_are_given_up_as_a_loop",),
    ),
    (
        "paging (issue 22.12): an empty page that carries a nextLink ends the listing",
        "console/graph/client.py",
        '            empty_run = 0 if profiles else empty_run + 1\n            link = data.get("@odata.nextLink")\n'
        "            url = link if isinstance(link, str) and link else None",
        '            empty_run = 0 if profiles else empty_run + 1\n            link = data.get("@odata.nextLink")\n'
        "            url = link if isinstance(link, str) and link and profiles else None",
        (
            f"{PAGING}::test_an_empty_page_that_carries_a_next_link_does_not_end_the_listing",
            f"{PAGING}::test_an_empty_page_in_the_middle_does_not_end_the_listing",
        ),
    ),
    (
        "paging (issue 22.13): profiles --search reads only the first page",
        "console/cli/commands.py",
        "        loaded += len(page)\n",
        "        loaded += len(page)\n        if needle and loaded > len(page):\n            break\n",
        (f"{HANGS}::test_profiles_search_reads_every_page",),
    ),
    (
        "hangs: a loop in the listing exits 0 as if the list were complete",
        "console/cli/commands.py",
        "    if looped:  # every page read was shown; the exit code says the list may be cut short",
        "    if False:",
        (f"{HANGS}::test_a_looping_next_link_stops_keeps_what_was_read_and_exits_1",),
    ),
    (
        "hangs: a refused connection is retried six times (about a minute)",
        "console/graph/retry.py",
        "TRANSPORT_ATTEMPTS = 3\n",
        "TRANSPORT_ATTEMPTS = 6\n",
        (f"{RETRIES}::test_a_refused_connection_is_retried_twice_each_retry_said_then_it_fails",),
    ),
    (
        "hangs: retries after no answer are silent",
        "console/graph/policy.py",
        '        log.warning(\n            "no answer from Graph for %s: %s; retry %d of %d in %g s",',
        '        log.debug(\n            "no answer from Graph for %s: %s; retry %d of %d in %g s",',
        (
            f"{RETRIES}::test_a_refused_connection_is_retried_twice_each_retry_said_then_it_fails",
            f"{HANGS}::test_a_closed_port_is_retried_twice_with_a_line_each_then_exits_1",
        ),
    ),
    (
        "hangs: a request that cannot be built is retried",
        "console/graph/policy.py",
        "        if isinstance(exc, NOT_RETRIED):",
        "        if False:",
        (f"{RETRIES}::test_a_request_that_cannot_be_built_is_not_retried",),
    ),
    (
        "hangs: --graph-url with port 0 is accepted (httpx then connects to port 80)",
        "console/graph/client.py",
        "    if port == 0:",
        "    if False:",
        (f"{RETRIES}::test_port_zero_is_refused", f"{EXITS}::test_port_zero_in_the_graph_url_is_a_usage_error"),
    ),
    (
        "hangs: the client sends a token holding CR/LF or control characters",
        "console/graph/policy.py",
        "        if not is_token_text(self._token):",
        "        if False:",
        (f"{RETRIES}::test_a_token_no_header_can_carry_is_never_sent",),
    ),
    (
        "exit codes: a --token-env token holding CR/LF is not refused before sign-in (exit 2)",
        "console/wiring.py",
        "    if not is_token_text(token):",
        "    if False:",
        (f"{EXITS}::test_a_token_with_a_line_break_or_control_character_is_a_usage_error_never_sent",),
    ),
    (
        "exit codes: an unusable --state-dir is not checked (FileExistsError, exit 1)",
        "console/wiring.py",
        "        problem = _directory_problem(directory)",
        '        problem = ""',
        (f"{EXITS}::test_an_unusable_state_dir_is_a_usage_error_with_one_line_and_nothing_sent",),
        (
            "    try:\n        paths.ensure()\n    except OSError as exc:",
            "    try:\n        paths.ensure()\n    except ZeroDivisionError as exc:",
        ),
    ),
    (
        "exit codes: a journal that is a directory is not checked (AttributeError)",
        "console/wiring.py",
        "    if (path.exists() or path.is_symlink()) and not path.is_file():",
        "    if False:",
        (f"{EXITS}::test_an_unusable_state_dir_is_a_usage_error_with_one_line_and_nothing_sent",),
    ),
    (
        "exit codes: an empty option value passes the parser",
        "console/cli/parser.py",
        "        if not text.strip():",
        "        if False:",
        (f"{EXITS}::test_an_empty_state_dir_with_debug_writes_no_debug_log_anywhere",),
    ),
    (
        "exit codes: an empty option value passes the option rules",
        "console/wiring.py",
        "        if value is not None and not value.strip():",
        "        if False:",
        (f"{EXITS}::test_the_option_rules_refuse_an_empty_value_whoever_builds_the_options",),
    ),
    (
        "exit codes: an empty user id is dropped and the rest exported",
        "console/cli/inputs.py",
        "    if empty:",
        "    if False:",
        (f"{EXITS}::test_an_empty_user_id_is_a_usage_error_and_nothing_is_exported",),
    ),
    (
        "exit codes: every ValueError passes for a usage error",
        "console/cli/exitcodes.py",
        "    if isinstance(exc, ConsoleError):\n        return int(exc.exit_code)",
        "    if isinstance(exc, ConsoleError | ValueError):\n        return EXIT_USAGE",
        (
            f"{EXITS}::test_only_the_projects_own_error_types_are_usage_errors",
            f"{EXITS}::test_a_value_error_inside_a_command_is_exit_1_not_a_usage_error",
        ),
    ),
    (
        "exit codes: Ctrl+C while starting up prints a traceback",
        "console/cli/__init__.py",
        "    except KeyboardInterrupt:\n        _line(INTERRUPTED_LINE)",
        "    except ZeroDivisionError:\n        _line(INTERRUPTED_LINE)",
        (
            f"{EXITS}::test_ctrl_c_while_starting_up_is_one_line_and_130",
            f"{EXITS}::test_ctrl_c_while_opening_the_journal_is_one_line_and_130",
        ),
    ),
    (
        "exit codes: a bug escaping a command prints a traceback",
        "console/cli/__init__.py",
        "    except Exception as exc:  # the error family's one line and code; a bug: one line, never a traceback",
        "    except ZeroDivisionError as exc:  # the error family's one line and code; a bug: one line, never a traceback",
        (f"{EXITS}::test_a_bug_escaping_a_command_is_exit_1_with_one_line_and_a_hint_to_rerun_with_debug",),
    ),
    (
        "exit codes: an unexpected failure inside a command gives no hint to rerun with --debug",
        "console/cli/run.py",
        '        return fail(f"{type(exc).__name__}: {redact(str(exc))}; {DEBUG_HINT}", code)',
        '        return fail(f"{type(exc).__name__}: {redact(str(exc))}", code)',
        (f"{EXITS}::test_a_value_error_inside_a_command_is_exit_1_not_a_usage_error",),
    ),
]
