"""What one stored document may hold before the archive's tools refuse to read it.

A document in the archive is foreign input: whoever can write the bucket can put anything
at a run's key. The auditor's tools (``show``, ``verify``, ``list``, replay, the outbox
push) read it under these limits, so a hostile document costs bounded memory and time and
gets a verdict of its own (``unreadable``, naming the limit) instead of a traceback, a hang
or an aborted day:

- ``max_bytes``: checked before a byte is parsed (reads stop one byte past it). Parsing
  JSON builds at most about 40 bytes of Python objects per input byte (measured with
  orjson on the worst shapes, e.g. ``[{},{},...]``), so with the rest of the checks a
  document costs well under ``64 * max_bytes`` of memory.
- ``max_depth``: how many containers may enclose a value; a real run's deepest values
  (fill weights) sit 4 deep.
- ``max_events`` / ``max_entries``: lengths of the two lists a document carries.
- ``max_number_chars``: the text of one JSON number where numbers are read exactly
  (original-format documents, whose amounts are numbers, and the strict ``json`` fallback).
  orjson reads the rest into 64-bit integers and floats, which the checks refuse anyway.

Duplicate keys in any JSON object are refused too: JSON parsers disagree on which
duplicate wins, so such a document could show one thing to a verifier and another to
the guide's ``json.loads`` reader.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""A real run is about 1 KB per fill (50 fills make 46 KB): 8 MiB holds ~8,000 fills."""
MEMORY_FACTOR = 64
"""Peak memory of reading one document stays below ``MEMORY_FACTOR * max_bytes`` (tested)."""
_ORJSON_MAX_DEPTH = 254
"""orjson serialises at most this many nested containers, so ``max_depth`` stays below it."""


class DocumentLimits(BaseModel):
    """Limits on one archived document (settings: ``TRADE_LEDGER__LIMITS__MAX_BYTES``, ...)."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)
    max_depth: int = Field(default=16, ge=4, le=_ORJSON_MAX_DEPTH - 4)
    max_events: int = Field(default=20_000, ge=3)
    max_entries: int = Field(default=20_000, ge=1)
    max_number_chars: int = Field(default=400, ge=32)


DEFAULT_LIMITS = DocumentLimits()


class LimitExceededError(ValueError):
    """The document is beyond a limit; the message names it."""


def check_size(size: int, limits: DocumentLimits) -> None:
    if size > limits.max_bytes:
        raise LimitExceededError(
            f"larger than {limits.max_bytes} bytes (the archive's read cap); not read"
        )


def check_shape(body: bytes, document: Any, limits: DocumentLimits) -> None:
    """Depth and duplicate keys of a document orjson parsed from ``body``.

    Both come from one C-speed re-serialisation with two-space indentation: every value
    sits on a line indented twice its depth (a string cannot hold a raw newline), and
    every object member keeps its colon. Without a backslash in ``body`` every string was
    written literally, so the parsed document has exactly the source's colons unless
    duplicate keys were dropped; with one, the source is read again, strictly.
    """
    try:
        indented = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError as error:  # deeper than orjson serialises
        raise LimitExceededError(
            f"nesting deeper than {limits.max_depth} levels: {error}"
        ) from None
    if b"\n" + b" " * (2 * (limits.max_depth + 1)) in indented:
        raise LimitExceededError(f"nesting deeper than {limits.max_depth} levels")
    if b"\\" in body:
        strict_loads(body, limits)  # the escapes may hide colons: read it strictly
    elif body.count(b":") != indented.count(b":"):
        raise LimitExceededError("an object repeats a key (duplicate JSON keys)")


def strict_loads(body: bytes, limits: DocumentLimits, *, exact: bool = False) -> Any:
    """``json.loads`` refusing duplicate keys and numbers longer than ``max_number_chars``.

    With ``exact`` every non-integer number is the Decimal of its text. Nesting is bounded
    by the recursion limit (``RecursionError``), then by ``check_depth``.
    """

    def number(convert: Callable[[str], Any]) -> Callable[[str], Any]:
        def parse(text: str) -> Any:
            if len(text) > limits.max_number_chars:
                raise LimitExceededError(
                    f"a number of {len(text)} characters (more than {limits.max_number_chars})"
                )
            return convert(text)

        return parse

    floats: Callable[[str], Any] = Decimal if exact else float
    return json.loads(
        body,
        object_pairs_hook=_unique_keys,
        parse_int=number(int),
        parse_float=number(floats),
        parse_constant=Decimal if exact else None,
    )


def check_depth(document: Any, limits: DocumentLimits) -> None:
    """Nesting of a document parsed by ``strict_loads``, without recursion.

    A value's depth is the number of containers around it (a run's fill weights sit at
    4: document, events, event, weights); none may be deeper than ``max_depth``.
    """
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if not value:
            continue
        if depth + 1 > limits.max_depth:
            raise LimitExceededError(f"nesting deeper than {limits.max_depth} levels")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def check_lengths(document: dict[str, Any], limits: DocumentLimits) -> None:
    """The event and entry lists within their limits."""
    for name, limit in (("events", limits.max_events), ("entries", limits.max_entries)):
        value = document.get(name)
        if isinstance(value, list) and len(value) > limit:
            raise LimitExceededError(f"{len(value)} {name}, more than the limit of {limit}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key if len(key) <= 80 else key[:80] + "..."
                raise LimitExceededError(f"an object repeats the key {shown!r} (duplicate keys)")
            seen.add(key)
    return result
