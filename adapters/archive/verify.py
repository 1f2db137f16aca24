"""Verification of one stored document: every failure found, each named by its check.

Checks (the ``check`` name of a ``Failure``):

- ``format``: the document is not an archive document this code knows: unknown version, no
  events, no ``entries`` list, a ``hash_algorithm`` other than ``sha256``, a document
  claiming the original format (no events) while carrying ``head_hash``/``hash_algorithm``
  (events stripped), or an original-format snapshot that does not read as a TradeLedger.
- ``hash_chain``: an event's hash does not cover the previous hash and its own content
  (an event edited, removed, inserted or reordered), or an event has no hash.
- ``head_hash``: the document's head hash is not the last event's hash.
- ``sequence``: event sequence numbers are not 1, 2, 3, ... in order (removed/reordered),
  or an event names another ledger.
- ``replay``: the events do not fold through the aggregate (not a valid ledger history),
  or the stream does not end with ``Closed`` (only closed ledgers are archived, so a
  stream cut short, even with its head hash and snapshot adjusted to match, is refused).
- ``snapshot``: a snapshot field differs from what the events replay to.
- ``totals``: ``total_entries`` / ``total_buy_value`` / ``total_sell_value`` differ from
  the stored entries, or the entries cannot be summed exactly.
- ``record_version``: a record's ``version`` is below that of an earlier record of its
  type (a run is written by one release, or continued by a newer one: an older record
  after a newer one is out of place, and would be held to an older release's looser rules).
- ``key``: the document does not sit at the key its content implies (day, time, ledger
  id, correlation id; see ``key_matches_content``): a valid run copied or moved under
  another run's key. Checked for keys of the layout (``.../YYYY/MM/DD/HHMMSS-...json``).
- ``unreadable``: not JSON, truncated, not an object, duplicate keys, or beyond the
  archive's limits (``adapters.archive.limits``: size, nesting, events, entries, digits);
  the key and the limit are named.

- ``signature``: the signature does not hold: the content changed after signing, the
  document moved (the signed statement names its full key, prefix included), the block is
  malformed, or a trusted key's id carries another key's signature.

A current-format document whose content checks pass is ``valid`` only when signed by a
trusted key (see ``adapters.archive.signature``): ``unsigned`` when it carries no signature
(documents written before signing, or when signing failed), ``untrusted_key`` when signed
by a key that is not trusted (or outside the key's trusted period).

A document in the original service's format (snapshot only, no ``events``) has nothing to
verify against: it is ``unverifiable`` (readable, nothing to prove it), unless it does not
read as a TradeLedger, its totals (where present) differ from its entries, or it carries
the hash chain's ``head_hash``/``hash_algorithm``: then it is ``invalid``. Its JSON numbers
are read exactly (see ``parse_document``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from adapters.archive.document import (
    FORMAT_VERSION,
    GENESIS_HASH,
    HASH_ALGORITHM,
    LEGACY_FORMAT_VERSION,
    SNAPSHOT_FIELDS,
    ArchiveReadError,
    chain_hash,
    format_version,
    is_original_format,
    parse_document,
    shorten,
    validation_summary,
)
from adapters.archive.keys import parse_key, run_key
from adapters.archive.limits import DEFAULT_LIMITS, DocumentLimits
from adapters.archive.signature import SignatureFinding, check_signature
from adapters.signing import TrustedKeys
from ledger_domain import InvalidEventStreamError, TradeLedger, from_record, replay
from ledger_domain.money import EXACT

CLOSED_EVENT = "Closed"
"""The record type that ends every archived stream (only closed ledgers are archived)."""
VerifyStatus = Literal[
    "valid",
    "invalid",
    "unverifiable",
    "unreadable",
    "unsigned",
    "untrusted_key",
    "unlogged",
    "missing",
]
"""``unlogged``/``missing``: the run log's set check (``adapters.archive.runlog.audit``)."""
MAX_DETAILS = 20
MAX_SHOWN_CHARS = 120
"""A stored value quoted in a failure is cut to this many characters."""


@dataclass(frozen=True)
class Failure:
    """One thing found wrong, named by the check that found it."""

    check: str
    message: str


@dataclass(frozen=True)
class RunVerification:
    """The verdict on one run."""

    key: str
    status: VerifyStatus
    failures: tuple[Failure, ...] = ()
    ledger_id: str | None = None
    correlation_id: str | None = None
    format_version: int | None = None
    event_count: int = 0
    entry_count: int = 0
    head_hash: str | None = None
    signed_by: str | None = None
    signed_at: str | None = None
    signature: str | None = None
    """What the signature check found, in words (``None`` for original-format documents)."""

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    @property
    def failed_checks(self) -> list[str]:
        """The names of the failed checks, each once, in the order found."""
        return list(dict.fromkeys(f.check for f in self.failures))

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "ledger_id": self.ledger_id,
            "correlation_id": self.correlation_id,
            "format_version": self.format_version,
            "event_count": self.event_count,
            "entry_count": self.entry_count,
            "head_hash": self.head_hash,
            "signed_by": self.signed_by,
            "signed_at": self.signed_at,
            "signature": self.signature,
            "failed_checks": self.failed_checks,
            "failures": [{"check": f.check, "message": f.message} for f in self.failures],
        }


def unreadable(key: str, reason: str) -> RunVerification:
    """The verdict for a document that could not be fetched or parsed."""
    return RunVerification(key, "unreadable", (Failure("unreadable", f"{key}: {reason}"),))


def verify_document(
    key: str,
    body: bytes,
    limits: DocumentLimits = DEFAULT_LIMITS,
    *,
    trusted: TrustedKeys | None = None,
) -> RunVerification:
    """Verify one stored document's bytes: content, place, signature; never raises.

    Without ``trusted`` keys no signature can be ``valid``: a signed document is at best
    ``untrusted_key``.
    """
    try:
        document = parse_document(key, body, limits)
    except ArchiveReadError as error:
        return unreadable(key, error.reason)
    try:
        verdict = verify_parsed(key, document)
    except Exception as error:  # a verdict per document, always
        reason = shorten(f"{type(error).__name__}: {error}", MAX_SHOWN_CHARS * 4)
        return unreadable(key, f"could not be checked ({reason})")
    if verdict.format_version in (LEGACY_FORMAT_VERSION, -1) or verdict.status == "unreadable":
        return verdict
    failures = list(verdict.failures)
    finding = check_signature(key, body, document, trusted)
    if finding.verdict == "invalid":
        failures.append(Failure("signature", finding.message))
    return replace(
        verdict,
        status=_status(failures, finding),
        failures=tuple(failures),
        signed_by=finding.key_id,
        signed_at=finding.signed_at,
        signature=finding.message,
    )


def _status(failures: list[Failure], finding: SignatureFinding) -> VerifyStatus:
    """Any failure makes ``invalid``; else the signature decides (``valid`` only if trusted)."""
    if failures or finding.verdict == "invalid":
        return "invalid"
    return finding.verdict


def verify_parsed(key: str, document: Mapping[str, Any]) -> RunVerification:
    """Verify a document parsed by ``parse_document`` (original-format numbers as Decimals)."""
    failures: list[Failure] = []
    version = format_version(document)
    raw_entries = document.get("entries")
    entries = raw_entries if isinstance(raw_entries, list) else []
    if not isinstance(raw_entries, list):
        failures.append(Failure("format", "entries is missing or not a list"))
    raw_events = document.get("events")
    events = raw_events if isinstance(raw_events, list) else []

    if is_original_format(document):
        _check_readable(document, failures)
        _check_totals(document, entries, failures)
        chained = [name for name in ("head_hash", "hash_algorithm") if name in document]
        if chained:
            # The original format had no hash chain: its events were removed (a downgrade).
            failures.append(
                Failure(
                    "format",
                    f"claims the original format (no events) but carries {', '.join(chained)}: "
                    "a hash-chained document whose events were removed",
                )
            )
        status: VerifyStatus = "invalid" if failures else "unverifiable"
    elif version != FORMAT_VERSION:
        _check_totals(document, entries, failures)
        failures.append(Failure("format", f"unknown format_version {version!r}"))
        status = "invalid"
    else:
        if not events:
            failures.append(Failure("format", "events is missing, empty or not a list"))
        algorithm = document.get("hash_algorithm")
        if algorithm != HASH_ALGORITHM:
            failures.append(
                Failure(
                    "format",
                    f"hash_algorithm is {algorithm!r}, format {FORMAT_VERSION} uses "
                    f"{HASH_ALGORITHM!r}",
                )
            )
        records = _check_chain(document, events, failures)
        if not _check_replay(document, records, failures):
            # A snapshot equal to its replay has the replay's totals; else name them too.
            _check_totals(document, entries, failures)
        status = "invalid" if failures else "valid"
    _check_key(key, document, failures)
    status = "invalid" if failures else status

    head = document.get("head_hash")
    return RunVerification(
        key,
        status,
        tuple(failures),
        ledger_id=_text(document.get("ledger_id")),
        correlation_id=_text(document.get("correlation_id")),
        format_version=version,
        event_count=len(events),
        entry_count=len(entries),
        head_hash=head if isinstance(head, str) else None,
    )


def _check_chain(
    document: Mapping[str, Any], events: list[Any], failures: list[Failure]
) -> list[dict[str, Any]] | None:
    """Hash links, head hash, sequence order; the records without hashes for replay."""
    ledger_id = _text(document.get("ledger_id"))
    records: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    broken: list[str] = []
    order: list[str] = []
    foreign: list[int] = []
    not_objects: list[int] = []
    newest: dict[Any, Any] = {}
    out_of_place: list[str] = []
    for position, event in enumerate(events):
        if not isinstance(event, dict):
            not_objects.append(position)
            continue
        record = dict(event)
        stored = record.pop("hash", None)
        records.append(record)
        sequence = record.get("sequence")
        kind, version = _hashable(record.get("type")), record.get("version", 1)
        if type(version) is int:
            if version < newest.get(kind, version):
                out_of_place.append(
                    f"event {position} is a version {version} {_shown(kind)} after a version "
                    f"{newest[kind]} one"
                )
            newest[kind] = max(version, newest.get(kind, version))
        if sequence != position + 1:
            order.append(
                f"position {position} holds sequence {sequence!r}, expected {position + 1}"
            )
        if ledger_id is not None and record.get("ledger_id") != ledger_id:
            foreign.append(position)
        if not isinstance(stored, str):
            broken.append(f"event {position} (sequence {sequence!r}) has no hash")
            previous = ""
            continue
        try:
            actual = chain_hash(previous, record)
        except (TypeError, ValueError) as error:
            actual = f"unhashable: {error}"
        if actual != stored:
            broken.append(
                f"event {position} (sequence {sequence!r}): hash {stored[:12]}… does not cover "
                f"the previous hash and its content (edited, removed, inserted or reordered)"
            )
        previous = stored
    if not_objects:
        failures.append(
            Failure(
                "format",
                f"{len(not_objects)} event(s) are not objects, at positions "
                f"{not_objects[:MAX_DETAILS]}",
            )
        )
    if broken:
        failures.append(Failure("hash_chain", _join(broken)))
    if out_of_place:
        failures.append(Failure("record_version", _join(out_of_place)))
    if order:
        failures.append(Failure("sequence", _sequence_message(records, order)))
    if foreign:
        failures.append(
            Failure("sequence", f"events at positions {foreign[:MAX_DETAILS]} name another ledger")
        )
    head = document.get("head_hash")
    if events and head != previous:
        failures.append(
            Failure(
                "head_hash",
                f"head hash {_shown(head)} is not the last event's hash {_shown(previous)}",
            )
        )
    return None if not_objects else records


def _sequence_message(records: list[dict[str, Any]], order: list[str]) -> str:
    """What is wrong with the sequence numbers: missing ones, repeats, then positions."""
    numbers: list[int] = [n for r in records if type(n := r.get("sequence")) is int]
    parts = []
    if numbers:
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        repeated = sorted(n for n, count in Counter(numbers).items() if count > 1)
        if missing:
            parts.append(f"missing sequence(s) {missing[:MAX_DETAILS]} (removed)")
        if repeated:
            parts.append(f"repeated sequence(s) {repeated[:MAX_DETAILS]}")
    parts.append("out of place: " + _join(order))
    return "events removed or reordered: " + "; ".join(parts)


def _check_replay(
    document: Mapping[str, Any],
    records: list[dict[str, Any]] | None,
    failures: list[Failure],
) -> bool:
    """Replay the events and compare the snapshot; True when it matches the replay exactly."""
    if not records:
        return False
    try:
        ledger = replay([from_record(record) for record in records])
    except InvalidEventStreamError as error:
        failures.append(Failure("replay", f"the events do not replay: {error}"))
        return False
    last_type = records[-1].get("type")
    if last_type != CLOSED_EVENT or not ledger.is_closed:
        failures.append(
            Failure(
                "replay",
                f"the event stream does not end with {CLOSED_EVENT} (last event "
                f"{last_type!r}): the ledger is not closed, but only closed ledgers are "
                "archived (events removed from the end?)",
            )
        )
    snapshot = ledger.snapshot()
    if _same_snapshot(document, snapshot, ledger.buy_value, ledger.sell_value):
        return True
    replayed = snapshot.model_dump(mode="json")
    differences: list[str] = []
    for name in SNAPSHOT_FIELDS:
        stored = document.get(name)
        expected = replayed[name]
        if name == "entries" and isinstance(stored, list):
            _entry_differences(stored, expected, differences)
        elif stored != expected:
            differences.append(f"{name}: stored {_shown(stored)}, replay {_shown(expected)}")
    if differences:
        failures.append(Failure("snapshot", "snapshot differs from replay: " + _join(differences)))
        return False
    return True


def _same_snapshot(
    document: Mapping[str, Any], snapshot: TradeLedger, buy_value: Decimal, sell_value: Decimal
) -> bool:
    """Fast path: the stored snapshot fields serialise exactly as the replayed ones.

    orjson writes UTC datetimes with ``Z`` and Decimals via ``str`` as pydantic's JSON mode
    does, and both sides list fields in the model's order (the writer dumps the model);
    wherever they differ in form only, this returns False and the field-by-field
    comparison against ``model_dump`` decides.
    """
    replayed = {
        "ledger_id": snapshot.ledger_id,
        "created_at": snapshot.created_at,
        "entries": [entry.__dict__ for entry in snapshot.entries],
        "correlation_id": snapshot.correlation_id,
        "closed_at": snapshot.closed_at,
        "total_entries": snapshot.total_entries,
        # The aggregate's running totals: the same exact sums the snapshot's properties
        # would recompute from the entries, without summing them again.
        "total_buy_value": buy_value,
        "total_sell_value": sell_value,
    }
    try:
        expected = orjson.dumps(replayed, default=Decimal.__str__, option=orjson.OPT_UTC_Z)
        stored = orjson.dumps({name: document.get(name) for name in SNAPSHOT_FIELDS})
    except (orjson.JSONEncodeError, TypeError):
        return False
    return expected == stored


def _entry_differences(
    stored: list[Any], expected: list[dict[str, Any]], differences: list[str]
) -> None:
    if len(stored) != len(expected):
        differences.append(f"entries: stored {len(stored)}, replay {len(expected)}")
    for index, (have, want) in enumerate(zip(stored, expected, strict=False)):
        if have == want:
            continue
        if not isinstance(have, dict):
            differences.append(f"entries[{index}] is not an object")
            continue
        for name in sorted(set(have) | set(want)):
            if have.get(name) != want.get(name):
                differences.append(
                    f"entries[{index}].{name}: stored {_shown(have.get(name))}, "
                    f"replay {_shown(want.get(name))}"
                )


def _check_readable(document: Mapping[str, Any], failures: list[Failure]) -> None:
    """Unverifiable means readable: an original-format snapshot must read as a TradeLedger."""
    try:
        TradeLedger.model_validate(document)
    except ValidationError as error:
        failures.append(
            Failure("format", "snapshot does not match TradeLedger: " + validation_summary(error))
        )
    except ArithmeticError:
        pass  # amounts the exact context cannot hold: the totals check names them


def _check_totals(document: Mapping[str, Any], entries: list[Any], failures: list[Failure]) -> None:
    """Stored totals against the stored entries (skipped where a total is absent)."""
    problems: list[str] = []
    count = document.get("total_entries")
    if count is not None and count != len(entries):
        problems.append(f"total_entries {_shown(count)} but {len(entries)} entries")
    sums = {"BUY": Decimal(0), "SELL": Decimal(0)}
    try:
        for entry in entries:
            if not isinstance(entry, dict):
                raise TypeError("an entry is not an object")
            value = entry.get("trade_value")
            amount = (
                Decimal(value)
                if value is not None
                else EXACT.multiply(Decimal(entry["filled_qty"]), Decimal(entry["fill_price"]))
            )
            direction = entry.get("direction")
            if direction in sums:
                sums[direction] = EXACT.add(sums[direction], amount)
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        # ArithmeticError: what the exact context traps (Inexact, Overflow, InvalidOperation).
        problems.append(f"entries cannot be summed: {_shown(error)}")
    else:
        for name, direction in (("total_buy_value", "BUY"), ("total_sell_value", "SELL")):
            stored = document.get(name)
            if stored is None:
                continue
            try:
                matches = Decimal(str(stored)) == sums[direction]
            except (InvalidOperation, ValueError):
                matches = False
            if not matches:
                problems.append(f"{name} {_shown(stored)} but entries sum to {sums[direction]}")
    if problems:
        failures.append(Failure("totals", "totals differ from entries: " + _join(problems)))


def key_matches_content(
    key: str,
    ledger_id: str,
    correlation_id: str | None,
    created_at: datetime,
    *,
    correlation_known: bool = True,
) -> str | None:
    """Why ``key`` is not where the run these ids and time describe is written, or None.

    The layout puts a run at ``.../YYYY/MM/DD/HHMMSS-{ledger}-{correlation}.json`` (see
    ``keys.run_key``), so a valid document copied or moved under another run's key, or
    another time of the day, is found here. The part before the day folders (the
    archive's prefix) is the archive's to check. ``correlation_known=False`` (documents
    of the original format, which may not carry their correlation id) compares the day,
    time and ledger id only.
    """
    expected = run_key("", ledger_id, correlation_id, created_at)
    parts = key.split("/")
    tail = "/".join(parts[-4:])
    if correlation_known:
        fits = tail == expected
    else:
        fits = tail.startswith(expected[: expected.rindex("-") + 1])
    if fits:
        return None
    where = "/".join([*parts[:-4], expected])
    if not correlation_known:
        where = where[: where.rindex("-") + 1] + "*.json"
    return f"the document belongs at {where}, not at this key (copied or moved?)"


def _check_key(key: str, document: Mapping[str, Any], failures: list[Failure]) -> None:
    """``key_matches_content`` for keys of the layout, from the (verified) snapshot."""
    tail = "/".join(key.split("/")[-4:])
    if parse_key("", tail) is None:
        return  # not a layout key (a document read by path): judged by its content
    ledger_id = document.get("ledger_id")
    correlation_id = document.get("correlation_id")
    created_at = document.get("created_at")
    try:
        if type(ledger_id) is not str or not isinstance(correlation_id, str | None):
            raise ValueError("ledger_id or correlation_id is not text")
        when = datetime.fromisoformat(created_at) if isinstance(created_at, str) else None
        if when is None:
            raise ValueError("created_at is not a time")
        problem = key_matches_content(
            key,
            ledger_id,
            correlation_id,
            when,
            correlation_known="correlation_id" in document,
        )
    except (ValueError, OverflowError) as error:
        problem = f"the key cannot be checked against the content: {error}"
    if problem is not None:
        failures.append(Failure("key", problem))


def _shown(value: Any) -> str:
    """``repr(value)``, cut to ``MAX_SHOWN_CHARS`` (stored values may be huge)."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"<a {type(value).__name__} nested too deep to show>"
    return shorten(text, MAX_SHOWN_CHARS)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int) else repr(type(value))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _join(items: list[str]) -> str:
    shown = "; ".join(items[:MAX_DETAILS])
    more = len(items) - MAX_DETAILS
    return shown + (f"; and {more} more" if more > 0 else "")
