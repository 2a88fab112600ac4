"""Count the mutation registry's entries per promise of issue 22, and find stale entries.

Loads every entry of ``scripts/mutations.py`` (which loads ``scripts/mutations_*.py``) and puts each
under one of the 17 promises by its name, its file and its tests; an entry that fits none is "other".
Run it from the repository root::

    .venv/bin/python scripts/mutation_promises.py            # entries per promise
    .venv/bin/python scripts/mutation_promises.py -v         # ... and the name of every entry
    .venv/bin/python scripts/mutation_promises.py --stale    # entries whose snippet or tests moved, or that
                                                             # repeat another's name or break (exit 1)
    .venv/bin/python scripts/mutation_promises.py --check paging --check quotas  # run those promises' entries
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PROMISES: list[tuple[str, str]] = [
    # (promise, pattern); searched in the entry's name first, then its file, then its tests: the first match wins.
    ("journal schema", r"schema|migrat|older journal|newer journal|indexes the read|kind columns"),
    ("leases", r"lease|claim|takeover|heartbeat|silent owner|live process|dead process|another process polls"),
    ("retry-after", r"retry-after|next_poll|due check|queue takes an item|poll queue|re-pushed|polled at"),
    ("backoff", r"backoff|back-off|back off|backs off|error streak|backoff_delay|retried at once|permanent 4xx"),
    ("quotas", r"quota|daily export limit|per-user|exports left today"),
    ("budget ledger", r"budget|ledger|pacer|pacing|sliding-hour|slot"),
    ("no re-POST", r"re-?post|conflict|asked again|tracked twice|second row|already asked|retried on 5xx"),
    (
        "crash-safe submission",
        r"intent|crash|timed-out post|could not record|outcome after 202|no answer after sending|reconcil"
        r"|unconfirmed (export|removal)|confirmed export|confirms an id",
    ),
    ("redaction", r"redact|in clear|secret|bearer|token holding|signature|masked|\bsig\b|/redact\.py|test_redact"),
    (
        "trusted urls",
        r"trusted|foreign|redirect|plain http|user-info|graph-url|loopback|location tracked|odd location|/net\.py",
    ),
    ("paging", r"paging|\bpages?\b|nextlink|test_paging|only the first page|has no nextlink"),
    ("targets and markup", r"markup|\btargets?\b|\bmarks?\b|marked|marking"),
    ("terminal-safe text", r"escap|terminal-safe|\bc1\b|bidi|control char|raw\b|/text\.py|hostile|identity"),
    (
        "submission rules",
        r"\bsas\b|storage|container|template|location|/storage/|pre-flight|read-only|read_only|--confirm must",
    ),
    ("exit codes", r"exit|traceback|usage error|test_exit_codes"),
    ("bulk confirmation", r"bulk|confirmation|question|asking|yes is the default|typed number|export_dialog"),
    ("report", r"report|csv|markdown|request-?id|audit|json rows|streamed json"),
]
ISSUE_22 = {
    **dict.fromkeys((1, 3), "retry-after"),
    2: "backoff",
    **dict.fromkeys((4, 5), "budget ledger"),
    **dict.fromkeys((6, 7), "quotas"),
    8: "trusted urls",
    **dict.fromkeys((9, 10), "submission rules"),
    11: "exit codes",
    **dict.fromkeys((12, 13), "paging"),
    **dict.fromkeys((14, 15, 16), "leases"),
    17: "bulk confirmation",
    **dict.fromkeys((18, 19, 20), "targets and markup"),
    **dict.fromkeys((21, 22), "terminal-safe text"),
    23: "report",
}
"""The behaviours of issue 22 (an entry names one as ``#22.N`` or ``22.N``) and their promise."""
PREFIXES = {"text": "terminal-safe text", "storage": "submission rules", "storage2": "submission rules"}
"""Name prefixes of other helpers' lists that mean one promise."""


def entries() -> list[tuple[Any, ...]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from mutations import register

    found: list[tuple[Any, ...]] = []
    register(lambda *entry: found.append(entry))
    return found


def promise_of(entry: tuple[Any, ...]) -> str:
    name, path, _old, _new, tests, *_more = entry
    numbered = re.search(r"\b22\.(\d+)\b", name)
    if numbered and int(numbered.group(1)) in ISSUE_22:
        return ISSUE_22[int(numbered.group(1))]
    explicit = name.split(":", 1)[0].strip().lower() if ":" in name else ""
    for promise, _pattern in PROMISES:
        if explicit and explicit in (promise.lower(), *promise.lower().split(" and ")):
            return promise
    for haystack in (name, path, " ".join(tests)):
        for promise, pattern in PROMISES:
            if re.search(pattern, haystack.lower()):
                return promise
    return PREFIXES.get(explicit, "other")


def stale_reasons(entry: tuple[Any, ...]) -> list[str]:
    """What no longer holds of one entry: each snippet once in its file, each test file and function there."""
    name, path, old, new, tests, *more = entry
    reasons: list[str] = []
    file = ROOT / path
    if not file.is_file():
        return [f"{path} does not exist"]
    text = file.read_text()
    for snippet, broken in ((old, new), *more):
        count = text.count(snippet)
        if count != 1:
            reasons.append(f"snippet found {count} times in {path}: {snippet[:60]!r}")
        else:
            text = text.replace(snippet, broken)
    for test in tests:
        test_path, _, function = test.partition("::")
        source = ROOT / test_path
        if not source.exists():
            reasons.append(f"test file {test_path} does not exist")
            continue
        if function:
            leaf = function.split("::")[-1].split("[", 1)[0]
            if not re.search(rf"^\s*(async\s+)?def {re.escape(leaf)}\(", source.read_text(), re.M):
                reasons.append(f"test {leaf} not in {test_path}")
    if not tests:
        reasons.append("no tests")
    return reasons


def duplicates(found: list[tuple[Any, ...]]) -> list[str]:
    """Entries that repeat another's name, or its break with no test the other does not run already."""
    problems: list[str] = []
    names: dict[str, int] = {}
    breaks: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
    for entry in found:
        name, path, old, new, tests, *more = entry
        names[name] = names.get(name, 0) + 1
        if names[name] == 2:
            problems.append(f"DUPLICATE NAME {name}")
        key = tuple(" ".join(str(part).split()) for part in (path, old, new, *more))
        first, first_tests = breaks.setdefault(key, (name, tuple(tests)))
        if first != name and set(tests) <= set(first_tests):  # one break, another surface's tests: both guard
            problems.append(f"DUPLICATE {name!r}: the break and tests of {first!r}")
    return problems


def report_stale(found: list[tuple[Any, ...]]) -> int:
    problems = [f"STALE {entry[0]}: {reason}" for entry in found for reason in stale_reasons(entry)]
    problems += duplicates(found)
    for problem in problems:
        print(problem)
    print(f"{len(found)} entries, {len(problems)} stale or duplicate")
    return 1 if problems else 0


def check(found: list[tuple[Any, ...]], promises: list[str]) -> int:
    """Break each entry of ``promises`` (``scripts/mutation_check.py``'s run); per promise, entries and caught."""
    from mutation_check import Mutation, run

    survived = 0
    for promise in promises:
        chosen = [entry for entry in found if promise_of(entry) == promise]
        caught = 0
        for name, path, old, new, tests, *more in chosen:
            verdict, took = run(Mutation(name, path, old, new, tuple(tests), tuple(more)))
            caught += verdict.startswith("caught")
            print(f"{name:<60} {verdict} ({took:.0f} s)", flush=True)
        survived += len(chosen) - caught
        print(f"== {promise}: {len(chosen)} entries, {caught} caught", flush=True)
    return 1 if survived else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stale", action="store_true", help="list entries whose snippet or tests moved")
    parser.add_argument("-v", "--verbose", action="store_true", help="name every entry under its promise")
    parser.add_argument("--check", action="append", default=[], help="run the mutation check for a promise's entries")
    args = parser.parse_args()
    found = entries()
    if args.stale:
        return report_stale(found)
    if args.check:
        return check(found, args.check)
    groups: dict[str, list[str]] = {promise: [] for promise, _ in PROMISES}
    groups["other"] = []
    for entry in found:
        groups[promise_of(entry)].append(entry[0])
    for promise, names_of in groups.items():
        print(f"{promise:<24} {len(names_of):>4}")
        if args.verbose:
            for name in names_of:
                print(f"    {name}")
    print(f"{'total':<24} {len(found):>4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
