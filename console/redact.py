"""The one redaction function of export-console: secrets never leave a layer in clear.

A SAS URL's ``sig`` value is the secret that unlocks the storage container (graph-api.md,
exportPersonalData); an access token unlocks the tenant. Either can turn up in any text that
crosses a layer: Graph's 400 message quoting the storage location, a Location or nextLink,
exception text, a log line, a journal row. ``redact`` masks both wherever they appear.

Why parsing and not a pattern over ``sig=``: the parameter name may be in any case and any
percent-encoding (``SIG``, ``%73ig``, ``s%69g``, ``%53%49%47``), the whole URL may be
percent-encoded again inside another URL's query or escaped inside JSON (``\\u0026sig=``), and the
parameter may sit in a fragment (``#sig=``), after ``;`` or in a path segment (``/sig=.../``), and
its name may be spelt in compatibility characters (a fullwidth ``ｓig``: NFKC reads ``sig``).
So the text is decoded level by level (``%XX``, ``\\uXXXX``, ``\\/``) while every decoded
character remembers which span of the original text it came from; parameters are found in each
decoded view and their values are masked in the original. Over-masking (a value running up to
the next delimiter) is preferred to leaking.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from array import array

__all__ = [
    "REDACTED",
    "SECRET_PARAMETERS",
    "RedactingFilter",
    "has_signature",
    "install_log_redaction",
    "redact",
]

REDACTED = "***"
"""What a secret is replaced by."""

SECRET_PARAMETERS = frozenset({"sig", "access_token", "refresh_token", "id_token", "client_secret", "client_assertion"})
"""Parameter names whose values are secrets (compared after decoding, case-insensitively)."""

_MAX_LEVELS = 6
"""How many times a text is percent-decoded at most (a URL inside a URL inside a URL...)."""

_PARAM = re.compile(
    r"(?<![A-Za-z0-9_.\-])(sig|access_token|refresh_token|id_token|client_secret|client_assertion)=",
    re.IGNORECASE,
)
"""A secret parameter name followed by ``=``, not glued to a longer name (``xsig=`` is not ``sig=``)."""

_VALUE_END = frozenset("&#;\"'<>`()[]{},|\\^") | frozenset(" \t\r\n\v\f\x00")
"""Characters that end a parameter value in a decoded view (``/`` only in a path segment)."""

_BEARER = re.compile(r"(?i)\b(bearer)(\s+|%20|\+)[^\s\"'<>,;]+")
"""``Bearer <token>`` in a header, a log line or an exception."""

_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*){0,2}")
"""A JWT-shaped string (base64url of ``{"``): an access or id token."""

_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+|\\[uU][0-9A-Fa-f]{4}|\\/")
"""Something ``_decode_once`` would decode: without one, a text is its own last decoding."""

Span = tuple[int, int]


class _Spans:
    """For each character of a decoded view, the span of the original text it came from.

    Two flat integer arrays (16 bytes a character), not a list of tuples: redaction runs on every
    log line and error body, some of them large.
    """

    __slots__ = ("ends", "starts")

    def __init__(self, starts: array[int], ends: array[int]) -> None:
        self.starts, self.ends = starts, ends

    @classmethod
    def identity(cls, length: int) -> _Spans:
        return cls(array("q", range(length)), array("q", range(1, length + 1)))

    def __getitem__(self, index: int) -> Span:
        return (self.starts[index], self.ends[index])


def _decode_once(text: str, spans: _Spans) -> tuple[str, _Spans]:
    """Decode ``%XX``, ``\\uXXXX`` and ``\\/`` once; each output character keeps its original span."""
    out: list[str] = []
    starts: array[int] = array("q")
    ends: array[int] = array("q")
    src_starts, src_ends = spans.starts, spans.ends
    last = 0
    for match in _ESCAPE.finditer(text):
        i, j = match.span()
        if i > last:  # copy the plain run as it is
            out.append(text[last:i])
            starts.extend(src_starts[last:i])
            ends.extend(src_ends[last:i])
        escape = match.group()
        if escape[0] == "%" and len(escape) > 3:
            # A run of %XX: UTF-8 bytes (a percent-encoded fullwidth letter is three of them).
            decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
            first = i
            for k in range(i, j, 3):
                for c in decoder.decode(bytes([int(text[k + 1 : k + 3], 16)])):
                    out.append(c)
                    starts.append(src_starts[first])
                    ends.append(src_ends[k + 2])
                    first = k + 3
        else:
            out.append("/" if escape == "\\/" else chr(int(escape[1:] if escape[0] == "%" else escape[2:], 16)))
            starts.append(src_starts[i])
            ends.append(src_ends[j - 1])
        last = j
    out.append(text[last:])
    starts.extend(src_starts[last:])
    ends.extend(src_ends[last:])
    return "".join(out), _Spans(starts, ends)


class _Identity:
    """The spans of the undecoded text: character ``i`` comes from ``(i, i + 1)`` (built lazily)."""

    def __getitem__(self, index: int) -> Span:
        return (index, index + 1)


def _nfkc(text: str, spans: _Spans | _Identity) -> tuple[str, _Spans]:
    """NFKC of each character (a fullwidth ``ｓig＝`` reads ``sig=``); each output character keeps its span."""
    out: list[str] = []
    starts: array[int] = array("q")
    ends: array[int] = array("q")
    for index, c in enumerate(text):
        normal = c if c.isascii() else unicodedata.normalize("NFKC", c)
        start, end = spans[index]
        out.append(normal)
        starts.extend([start] * len(normal))
        ends.extend([end] * len(normal))
    return "".join(out), _Spans(starts, ends)


def _views(text: str) -> list[tuple[str, _Spans | _Identity]]:
    """The text and its successive normalisations (NFKC) and decodings, until nothing changes.

    Query keys are read the way every storage rule reads them (``console.storage.sas.normalise_key``):
    percent-decoded, NFKC, in any case.
    """
    views: list[tuple[str, _Spans | _Identity]] = [(text, _Identity())]
    if text.isascii() and not _ESCAPE.search(text):
        return views  # nothing to decode: the common case of a plain log line
    current: str = text
    spans: _Spans | _Identity = _Identity()
    for _ in range(_MAX_LEVELS):
        changed = False
        if not current.isascii():
            normal, normal_spans = _nfkc(current, spans)
            if normal != current:
                views.append((normal, normal_spans))
                current, spans, changed = normal, normal_spans, True
        if _ESCAPE.search(current):
            if isinstance(spans, _Identity):
                spans = _Spans.identity(len(current))
            decoded, spans = _decode_once(current, spans)
            views.append((decoded, spans))
            current, changed = decoded, True
        if not changed:
            break
    return views


def _parameters(view: str, names: frozenset[str]) -> list[tuple[int, int]]:
    """(start, end) of every value of a parameter in ``names`` within one decoded view."""
    found: list[tuple[int, int]] = []
    for match in _PARAM.finditer(view):
        if match.group(1).lower() not in names:
            continue
        in_path = match.start() > 0 and view[match.start() - 1] == "/"
        start = end = match.end()
        while end < len(view) and view[end] not in _VALUE_END and not (in_path and view[end] == "/"):
            end += 1
        found.append((start, end))
    return found


def _secret_spans(text: str, names: frozenset[str]) -> list[Span]:
    """Original-text spans holding a secret parameter's value, merged and sorted."""
    raw: list[Span] = []
    for view, spans in _views(text):
        for start, end in _parameters(view, names):
            if end > start:
                raw.append((spans[start][0], spans[end - 1][1]))
    raw.sort()
    merged: list[Span] = []
    for start, end in raw:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _might_hold_parameter(text: str) -> bool:
    """Cheap pre-check: without an ``=``, a ``%`` or a ``\\`` escape there is no parameter to mask."""
    return "=" in text or "%" in text or "\\" in text or not text.isascii()


def redact(text: str) -> str:
    """Any text with every SAS signature and bearer token masked.

    ``sig`` is found as a query, fragment or path parameter in any case and any percent-encoding
    (``sig=``, ``SIG=``, ``%73ig=``, ``s%69g=``, ``#sig=``, ``/sig=.../``, ``;sig=``), also inside a
    URL embedded in free text or percent-encoded inside another URL. ``Bearer xxx`` and JWT-shaped
    ``eyJ...`` strings are masked too. Idempotent: ``redact(redact(t)) == redact(t)``.

    Args:
        text: a URL, Graph error message, exception text, Location, nextLink or log line.

    Returns:
        The text with each secret value replaced by ``***`` (names and delimiters kept).
    """
    if not text:
        return text
    result = text
    if _might_hold_parameter(result):
        spans = _secret_spans(result, SECRET_PARAMETERS)
        if spans:
            pieces: list[str] = []
            last = 0
            for start, end in spans:
                pieces.append(result[last:start])
                pieces.append(REDACTED)
                last = end
            pieces.append(result[last:])
            result = "".join(pieces)
    result = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", result)
    return _JWT.sub(REDACTED, result)


def has_signature(text: str) -> bool:
    """True when the text carries a SAS ``sig`` parameter (in any case or encoding), even an empty one."""
    if not text or not _might_hold_parameter(text):
        return False
    names = frozenset({"sig"})
    return any(_parameters(view, names) for view, _ in _views(text))


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record it sees (message and arguments).

    httpx logs each request's full URL at INFO (``HTTP Request: GET https://...?...&sig=...``): a
    SAS URL would reach any log that captures it. ``install_log_redaction("httpx")`` puts this
    filter on that logger, so the record is redacted before any handler formats it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: keep its raw text, masked
            message = str(record.msg)
        masked = redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


def install_log_redaction(*loggers: str) -> None:
    """Add a ``RedactingFilter`` to each named logger (once; idempotent)."""
    for name in loggers:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
