"""One run's archive document: the guide's ``TradeLedger`` fields, the event stream, a hash chain.

Top level (so the guide's ``json.loads(obj['Body'].read())`` readers keep working)::

    ledger_id, created_at, entries, correlation_id, closed_at,
    total_entries, total_buy_value, total_sell_value,     # TradeLedger.model_dump(mode="json")
    format_version,                                        # FORMAT_VERSION
    hash_algorithm,                                        # "sha256"
    head_hash,                                             # hash of the last event
    events                                                 # ledger_domain.to_record(e) + "hash"

``hash_i = sha256(hash_{i-1} + canonical_json(record_i))`` as lowercase hex, with
``hash_0 = GENESIS_HASH`` (64 zeros) and ``record_i`` the event record without its
``hash``. Canonical JSON: ``json.dumps(record, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, UTF-8 encoded; the previous hash is prefixed as its ASCII hex.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from adapters.archive.limits import (
    DEFAULT_LIMITS,
    DocumentLimits,
    LimitExceededError,
    check_depth,
    check_lengths,
    check_shape,
    check_size,
    strict_loads,
)
from ledger_domain import (
    InvalidEventStreamError,
    Ledger,
    TradeLedger,
    from_record,
    replay,
    to_record,
)

FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1
HASH_ALGORITHM = "sha256"
GENESIS_HASH = "0" * 64
MAX_DOCUMENT_BYTES = DEFAULT_LIMITS.max_bytes
"""The read cap: a stored or outboxed document larger than this is refused unread (a real
run is tens of kilobytes; 50 fills make 46 KB). ``Archive.max_document_bytes`` per archive."""
MAX_REASON_CHARS = 2000
"""Longest reason an ``ArchiveReadError`` carries (a hostile document can make long ones)."""
SNAPSHOT_FIELDS = (
    "ledger_id",
    "created_at",
    "entries",
    "correlation_id",
    "closed_at",
    "total_entries",
    "total_buy_value",
    "total_sell_value",
)

_json_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_SORTED = orjson.OPT_SORT_KEYS
_sha256 = hashlib.sha256


class ArchiveError(Exception):
    """Base of the archive's own errors."""


class OpenLedgerError(ArchiveError, ValueError):
    """Only closed ledgers are archived: their history is final."""

    def __init__(self, ledger_id: str) -> None:
        self.ledger_id = ledger_id
        super().__init__(f"ledger {ledger_id} is still open; close it before archiving")


class ArchiveReadError(ArchiveError):
    """A stored document that cannot be read: missing, not JSON, truncated, malformed."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = shorten(reason, MAX_REASON_CHARS)
        super().__init__(f"{key}: {self.reason}")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes an event's hash covers (see the module docstring).

    orjson's sorted compact output is byte-identical to the ``json.dumps`` definition for
    records without floats (ledger records have none: decimals are strings), at a fraction
    of the cost; anything orjson refuses goes through ``json`` itself.
    """
    try:
        return orjson.dumps(record, option=_SORTED)
    except (orjson.JSONEncodeError, TypeError):
        return _json_canonical(record).encode("utf-8")


def chain_hash(previous: str, record: Mapping[str, Any]) -> str:
    """``sha256(previous + canonical_json(record))`` as lowercase hex."""
    return _sha256(previous.encode("ascii") + canonical_json(record)).hexdigest()


@dataclass(frozen=True)
class EncodedRun:
    """A document ready to store: its key material and exact bytes."""

    ledger_id: str
    correlation_id: str | None
    created_at: datetime
    head_hash: str
    body: bytes
    event_count: int


def encode_run(events: Sequence[Any]) -> EncodedRun:
    """The document of a closed ledger, from its ordered events (or their records).

    Raises ``InvalidEventStreamError`` for a stream that does not replay and
    ``OpenLedgerError`` for a ledger that is not closed. The same events always give the
    same bytes, so a retried write is recognised as identical.
    """
    items = [from_record(e) if isinstance(e, Mapping) else e for e in events]
    ledger = replay(items)
    if not ledger.is_closed:
        raise OpenLedgerError(ledger.ledger_id)
    snapshot = ledger.snapshot()
    document: dict[str, Any] = snapshot.model_dump(mode="json")
    previous = GENESIS_HASH
    chained: list[dict[str, Any]] = []
    for event in items:
        record = to_record(event)
        previous = chain_hash(previous, record)
        record["hash"] = previous
        chained.append(record)
    document["format_version"] = FORMAT_VERSION
    document["hash_algorithm"] = HASH_ALGORITHM
    document["head_hash"] = previous
    document["events"] = chained
    body = orjson.dumps(document)
    return EncodedRun(
        ledger_id=snapshot.ledger_id,
        correlation_id=snapshot.correlation_id,
        created_at=snapshot.created_at,
        head_hash=previous,
        body=body,
        event_count=len(chained),
    )


def parse_document(
    key: str, body: bytes, limits: DocumentLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """The JSON object of a stored document; ``ArchiveReadError`` naming the key otherwise.

    The document is held to ``limits`` (size before parsing; nesting, duplicate keys and
    list lengths right after), so what it costs is bounded whatever it contains.

    orjson reads JSON numbers as floats. The current format has none (its Decimals are
    strings, and a number there stays a float for the checks to refuse), but the original
    format's amounts may be numbers, and ``400.1`` must stay ``Decimal('400.1')``: those
    documents alone are parsed again, exactly, from the same bytes.
    """
    try:
        check_size(len(body), limits)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            if "depth limit" in str(error):  # orjson stops at 1024 levels
                raise LimitExceededError(f"nesting deeper than {limits.max_depth} levels") from None
            # What orjson refuses, json may read (NaN, big integers, lone surrogates).
            document = _strict_loads(key, body, limits)
            check_depth(document, limits)
        else:
            check_shape(body, document, limits)
        if not isinstance(document, dict):
            raise ArchiveReadError(key, f"expected a JSON object, got {type(document).__name__}")
        check_lengths(document, limits)
        if is_original_format(document):
            del document  # the float copy is not kept alive while the exact one is built
            exact: dict[str, Any] = _strict_loads(key, body, limits, exact=True)
            return exact
        return document
    except LimitExceededError as error:
        raise ArchiveReadError(key, f"beyond the archive's limits: {error}") from None


def _strict_loads(key: str, body: bytes, limits: DocumentLimits, *, exact: bool = False) -> Any:
    """``strict_loads`` with every failure an ``ArchiveReadError`` naming the key."""
    try:
        return strict_loads(body, limits, exact=exact)
    except LimitExceededError:
        raise
    except UnicodeDecodeError as error:
        raise ArchiveReadError(key, f"not UTF-8 text: {error}") from error
    except json.JSONDecodeError as error:
        text = body.strip()
        hint = " (truncated?)" if text.startswith(b"{") and not text.endswith(b"}") else ""
        raise ArchiveReadError(key, f"not valid JSON{hint}: {error}") from error
    except (ValueError, RecursionError) as error:  # an integer of >4300 digits, deep nesting
        raise ArchiveReadError(key, f"JSON beyond what can be read: {error}") from error


def format_version(document: Mapping[str, Any]) -> int:
    """The document's format: ``LEGACY_FORMAT_VERSION`` for the original snapshot-only files."""
    version = document.get("format_version", LEGACY_FORMAT_VERSION)
    return version if isinstance(version, int) else -1


def is_original_format(document: Mapping[str, Any]) -> bool:
    """A snapshot-only document of the original service: format 1 and no event stream."""
    return format_version(document) == LEGACY_FORMAT_VERSION and document.get("events") is None


@dataclass(frozen=True)
class ArchivedRun:
    """One run read back into typed objects."""

    key: str
    ledger: TradeLedger
    events: list[Ledger.Event] = field(default_factory=list)
    format_version: int = FORMAT_VERSION
    head_hash: str | None = None
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_events(self) -> bool:
        """False for documents in the original snapshot-only format (unverifiable)."""
        return bool(self.events)

    def replay(self) -> Ledger:
        """Fold the stored events back through the aggregate (audit replay)."""
        if not self.events:
            raise InvalidEventStreamError(
                f"{self.key}: format {self.format_version} document has no events to replay"
            )
        return replay(self.events)

    def replayed_ledger(self) -> TradeLedger:
        """The ``TradeLedger`` the events replay to (compare with ``ledger``)."""
        return self.replay().snapshot()


def decode_run(key: str, body: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> ArchivedRun:
    """Read a document (current or original format) into typed objects."""
    document = parse_document(key, body, limits)
    version = format_version(document)
    if version not in (LEGACY_FORMAT_VERSION, FORMAT_VERSION):
        raise ArchiveReadError(key, f"unknown format_version {document.get('format_version')!r}")
    try:
        ledger = TradeLedger.model_validate(document)
        _ = ledger.total_buy_value, ledger.total_sell_value  # computed: fail here, not later
    except ValidationError as error:
        raise ArchiveReadError(
            key, f"snapshot does not match TradeLedger: {validation_summary(error)}"
        ) from error
    except OverflowError as error:  # a time that leaves the calendar when made UTC
        raise ArchiveReadError(key, f"a date the ledger cannot hold: {error}") from error
    except ArithmeticError as error:  # the exact context traps what it cannot hold
        raise ArchiveReadError(key, f"amounts the ledger cannot hold exactly: {error!r}") from error
    raw_events = document.get("events", [])
    if not isinstance(raw_events, list):
        raise ArchiveReadError(key, "events is not a list")
    try:
        events = [from_record(_without_hash(record)) for record in raw_events]
    except (InvalidEventStreamError, AttributeError, TypeError) as error:
        raise ArchiveReadError(key, f"malformed event: {error}") from error
    head = document.get("head_hash")
    return ArchivedRun(
        key=key,
        ledger=ledger,
        events=events,
        format_version=version,
        head_hash=head if isinstance(head, str) else None,
        document=document,
    )


def validation_summary(error: ValidationError, shown: int = 5) -> str:
    """The first few problems of a validation error and how many there are (a hostile
    snapshot can hold millions, and pydantic's own text repeats every input)."""
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    parts = [
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in problems[:shown]
    ]
    more = len(problems) - shown
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _without_hash(record: Any) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise TypeError(f"event record is {type(record).__name__}, not an object")
    plain = dict(record)
    plain.pop("hash", None)
    return plain
