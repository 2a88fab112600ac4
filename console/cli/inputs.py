"""The command line's own input: user ids, the storage location, the Graph URL (checked before sign-in)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import BinaryIO
from urllib.parse import urlsplit

from console.cli.exitcodes import UsageProblem
from console.cli.output import clean

MAX_INPUT_BYTES = 10 * 1024 * 1024
"""The most ``--from-file`` or ``--storage-location-file`` reads (10 MB: about 270,000 user ids)."""
GRAPH_HOURLY_LIMIT = 10_000
"""Graph's limit for requests other than the export POST, per tenant and hour (graph-api.md)."""


def read_bounded(source: str, *, option: str, limit: int = MAX_INPUT_BYTES) -> str:
    """The text of a file (``-`` for standard input), refusing more than ``limit`` bytes.

    Raises:
        UsageProblem: unreadable, not UTF-8, or too large (``/dev/zero`` stops at the limit).
    """
    try:
        if source == "-":
            data = _read_at_most(sys.stdin.buffer, limit + 1)
        else:
            with open(source, "rb") as handle:
                data = _read_at_most(handle, limit + 1)
    except OSError as exc:
        raise UsageProblem(f"cannot read {option} {source}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UsageProblem(
            f"{option} {source} is larger than {limit // (1024 * 1024)} MB: split the list into smaller files"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageProblem(f"cannot read {option} {source}: it is not UTF-8 text") from None


def _read_at_most(stream: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_user_ids(positional: Sequence[str], from_file: str | None) -> list[str]:
    """User ids from the command line and ``--from-file`` (one a line; blank lines and # comments skipped).

    Raises:
        UsageProblem: no ids, an empty id on the command line, an unreadable or oversized file, or duplicates.
    """
    empty = [str(n) for n, item in enumerate(positional, 1) if not item.strip()]
    if empty:
        # `export U1 "$UNSET"` must not quietly export U1 alone.
        raise UsageProblem(
            f"user id {' and '.join(empty[:5])} of {len(positional)} on the command line "
            f"{'is' if len(empty) == 1 else 'are'} empty: give each USER_ID (nothing was sent)"
        )
    ids = [item.strip() for item in positional]
    if from_file is not None:
        text = read_bounded(from_file, option="--from-file")
        for line in text.splitlines():
            item = line.split("#", 1)[0].strip().strip(",").strip()
            if item:
                ids.append(item)
    if not ids:
        raise UsageProblem("no user ids given: pass USER_ID... or --from-file PATH")
    seen: set[str] = set()
    duplicates: list[str] = []
    for item in ids:
        folded = item.lower()
        if folded in seen and item not in duplicates:
            duplicates.append(item)
        seen.add(folded)
    if duplicates:
        listed = ", ".join(clean(d) for d in duplicates[:10]) + (" …" if len(duplicates) > 10 else "")
        raise UsageProblem(f"duplicate user ids (each may be exported once per run): {listed}")
    return ids


def storage_location_from(location: str | None, env_var: str | None, from_file: str | None) -> tuple[str, bool]:
    """The storage location from exactly one of the three options; True when it came from argv.

    Raises:
        UsageProblem: none or several given, an unset variable, an empty file.
    """
    given = [
        name
        for name, value in (
            ("--storage-location", location),
            ("--storage-location-env", env_var),
            ("--storage-location-file", from_file),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise UsageProblem(
            "give exactly one of --storage-location LOC, --storage-location-env VAR, --storage-location-file PATH"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if location is not None:
        return location, True
    if env_var is not None:
        value = os.environ.get(env_var)
        if value is None or not value.strip():
            raise UsageProblem(f"--storage-location-env: the environment variable {env_var} is not set or empty")
        return value.strip(), False
    assert from_file is not None
    text = read_bounded(from_file, option="--storage-location-file", limit=64 * 1024)
    for line in text.splitlines():
        if line.strip():
            return line.strip(), False
    raise UsageProblem(f"--storage-location-file {from_file} holds no storage location (no non-empty line)")


def check_graph_url_option(url: str | None) -> None:
    """Refuse an empty or versionless ``--graph-url``, or one with user-info, before anything else.

    httpx would turn ``https://user:pass@host`` into Basic credentials replacing the bearer token;
    an empty value must never silently mean production Graph.

    Raises:
        UsageProblem: with a sentence naming what is wrong.
    """
    if url is None:
        return
    example = "https://graph.microsoft.com/beta"
    text = url.strip()
    if not text:
        raise UsageProblem(f"--graph-url is empty: give the Graph API base with its version, such as {example}")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise UsageProblem(f"--graph-url is not a URL; use one such as {example}") from None
    if "@" in parts.netloc:
        raise UsageProblem(
            "--graph-url must not carry a user name or password (user:pass@host would replace the bearer "
            "token with Basic credentials): remove them"
        )
    try:
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise UsageProblem(f"--graph-url has an invalid port: {clean(text)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageProblem(f"--graph-url must be an http(s) URL such as {example}, not {clean(text)!r}")
    segments = [s for s in parts.path.split("/") if s]
    if not segments or segments[-1].lower() not in ("beta", "v1.0"):
        raise UsageProblem(
            f"--graph-url needs the API version at the end of its path (/beta or /v1.0), such as {example}"
        )
