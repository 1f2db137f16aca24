"""Hostile documents: whatever sits in the archive, the auditor's tools give each a verdict.

Every document below is put at a run key next to a good run of the same day, on the local
archive and on S3 (moto server): ``verify`` names it (status and check) without a
traceback or a hang (pytest timeout), ``show``/``read`` report it or read it, the good run
is still judged valid, and reading one grows the resident set by less than
``MEMORY_FACTOR`` times its size.
"""

from __future__ import annotations

import contextlib
import decimal
import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.archive import (
    Archive,
    LocalDirectoryArchive,
    chain_hash,
    encode_run,
    run_key,
    verify_document,
)
from adapters.archive.document import GENESIS_HASH, ArchiveReadError, decode_run
from adapters.archive.limits import DEFAULT_LIMITS, MEMORY_FACTOR
from adapters.archive.signature import sign_document
from tests.archive.runs import LEGACY, closed_run, numbers_json
from tests.archive.test_archive import overwrite
from tests.signing_keys import SIGNER, TRUSTED

DAY = date(2024, 1, 15)
HOSTILE_KEY = "trade-ledgers/2024/01/15/000001-hostile-doc.json"
Document = dict[str, Any]


def good_document() -> Document:
    document: Document = json.loads(encode_run(closed_run(3)).body)
    return document


def rechained(document: Document) -> Document:
    """The hash chain and head recomputed, as a forger with the encoder would."""
    previous = GENESIS_HASH
    for event in document["events"]:
        event.pop("hash", None)
        previous = chain_hash(previous, event)
        event["hash"] = previous
    document["head_hash"] = previous
    return document


def dumped(document: Document) -> bytes:
    return json.dumps(document).encode()


def with_field(name: str, value: Any) -> Callable[[], bytes]:
    def build() -> bytes:
        document = good_document()
        document[name] = value
        return dumped(document)

    return build


def empty_entries() -> bytes:
    """4 MB of ``{}`` entries: drove ``show`` to 12.7 GB through pydantic's error text."""
    document = good_document()
    document["entries"] = [{}] * (4 * 1024 * 1024 // 3)
    return dumped(document)


def zero_events() -> bytes:
    document = good_document()
    document["events"] = [0] * 10**6
    return dumped(document)


def million_digit_number(*, original_format: bool) -> bytes:
    if original_format:
        return dumped({**LEGACY, "total_entries": 0}).replace(
            b'"total_entries": 0', b'"total_entries": 1.' + b"1" * 10**6
        )
    return dumped({**good_document(), "total_entries": 777}).replace(
        b'"total_entries": 777', b'"total_entries": ' + b"1" * 10**6
    )


def deep(levels: int) -> bytes:
    return b'{"ledger_id": "x", "entries": ' + b"[" * levels + b"]" * levels + b"}"


def lone_surrogate() -> bytes:
    return dumped(good_document()).replace(b'"corr-123"', b'"\\ud800"')


def calendar_edge(when: str) -> Callable[[], bytes]:
    def build() -> bytes:
        document = good_document()
        document["created_at"] = when
        document["events"][0]["opened_at"] = when
        return dumped(rechained(document))

    return build


def decimal_trap_in_a_fill() -> bytes:
    document = good_document()
    fill = next(e for e in document["events"] if e["type"] == "FillRecorded")
    fill["price"] = "1E+999999999"
    return dumped(rechained(document))


def decimal_trap_original_format() -> bytes:
    document = json.loads(json.dumps(LEGACY))
    document["entries"][0]["fill_price"] = Decimal("1E+999999999")
    document["entries"][0]["filled_qty"] = Decimal("1E+999999999")
    return numbers_json(document)


def duplicate_keys(*, escaped: bool) -> bytes:
    """A valid run whose first fill says its price twice: json.loads takes the last one."""
    body = dumped(good_document())
    price = body.index(b'"price": ')
    extra = b'"price": "1.00", ' if not escaped else b'"price": "1\\u002e00", '
    return body[:price] + extra + body[price:]


def version_out_of_place() -> bytes:
    """A version-1 fill after a version-2 one (v1 is held to looser text rules)."""
    document = good_document()
    fills = [e for e in document["events"] if e["type"] == "FillRecorded"]
    last = fills[-1]
    renamed = {"side": "direction", "filled_at": "fill_time", "quoted_at": "quote_time"}
    document["events"][document["events"].index(last)] = {
        renamed.get(name, name): (1 if name == "version" else value) for name, value in last.items()
    }
    return dumped(rechained(document))


# name: (builder, status, check, words in the first message of that check)
HOSTILE: dict[str, tuple[Callable[[], bytes], str, str, str]] = {
    "4 MB of empty entries": (empty_entries, "unreadable", "unreadable", "entries, more than"),
    "a million events of 0": (zero_events, "unreadable", "unreadable", "events, more than"),
    "a million-digit number": (
        lambda: million_digit_number(original_format=False),
        "unreadable",
        "unreadable",
        "a number of 1000000 characters",
    ),
    "a million-digit number, original format": (
        lambda: million_digit_number(original_format=True),
        "unreadable",
        "unreadable",
        "a number of 1000002 characters",
    ),
    "nesting 100,000 deep": (lambda: deep(100_000), "unreadable", "unreadable", "nesting"),
    "nesting 200 deep": (lambda: deep(200), "unreadable", "unreadable", "nesting deeper than 16"),
    "a lone surrogate in the correlation id": (lone_surrogate, "invalid", "hash_chain", "event"),
    "year 1 with an offset": (
        calendar_edge("0001-01-01T00:30:00+01:00"),
        "invalid",
        "replay",
        "not expressible in UTC",
    ),
    "year 9999 with an offset": (
        calendar_edge("9999-12-31T23:59:59-01:00"),
        "invalid",
        "replay",
        "not expressible in UTC",
    ),
    "a decimal trap in a fill": (decimal_trap_in_a_fill, "invalid", "replay", "price"),
    "a decimal trap, original format": (
        decimal_trap_original_format,
        "invalid",
        "totals",
        "cannot be summed",
    ),
    "duplicate keys": (
        lambda: duplicate_keys(escaped=False),
        "unreadable",
        "unreadable",
        "duplicate",
    ),
    "duplicate keys among escapes": (
        lambda: duplicate_keys(escaped=True),
        "unreadable",
        "unreadable",
        "repeats the key 'price'",
    ),
    "a record version out of place": (
        version_out_of_place,
        "invalid",
        "record_version",
        "version 1 'FillRecorded' after a version",
    ),
}


def failure_message(verdict: Any, check: str) -> str:
    messages = [f.message for f in verdict.failures if f.check == check]
    assert messages, verdict.failures
    return str(messages[0])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_document_gets_its_own_verdict_and_the_day_is_still_judged(
    archive: Archive, name: str
) -> None:
    build, status, check, words = HOSTILE[name]
    good = archive.write(closed_run(2, correlation_id="good"))
    overwrite(archive, HOSTILE_KEY, build())

    verdicts = {v.key: v for v in archive.verify_runs(DAY, workers=2)}
    assert set(verdicts) == {good.key, HOSTILE_KEY}
    assert verdicts[good.key].status == "valid"
    hostile = verdicts[HOSTILE_KEY]
    assert hostile.status == status, hostile.failures
    assert words in failure_message(hostile, check)
    assert len(str(hostile.as_dict())) < 20_000  # bounded report, whatever the document

    reads = {r.key: r for r in archive.read_runs(DAY)}
    assert reads[good.key].run is not None
    if status == "unreadable":
        assert reads[HOSTILE_KEY].run is None
        assert words in (reads[HOSTILE_KEY].error or "")
        with pytest.raises(ArchiveReadError):
            archive.replay(HOSTILE_KEY)


def test_a_valid_run_copied_under_another_runs_key_is_invalid(archive: Archive) -> None:
    first = archive.write(closed_run(2, correlation_id="first"))
    second = archive.write(closed_run(2, correlation_id="second"))
    moved = first.key.replace("143052-", "150000-")
    body = archive.read_bytes(first.key)
    overwrite(archive, moved, body)  # another time of the day
    overwrite(archive, second.key, body)  # another run's key
    verdicts = {v.key: v for v in archive.verify_runs(DAY)}
    assert verdicts[first.key].status == "valid"
    for key in (moved, second.key):
        assert verdicts[key].status == "invalid"
        # Its place, and its signature (the signed statement names the key it was written to).
        assert verdicts[key].failed_checks == ["key", "signature"]
        assert f"belongs at {first.key}" in verdicts[key].failures[0].message


def test_an_original_format_document_is_checked_against_its_key_without_correlation() -> None:
    body = json.dumps(LEGACY).encode()
    right = "trade-ledgers/2024/01/15/143052-abc123-xyz789.json"
    assert verify_document(right, body).status == "unverifiable"
    for wrong in (
        "trade-ledgers/2024/01/15/143053-abc123-xyz789.json",
        "trade-ledgers/2024/01/16/143052-abc123-xyz789.json",
        "trade-ledgers/2024/01/15/143052-abc124-xyz789.json",
    ):
        verdict = verify_document(wrong, body)
        assert verdict.status == "invalid"
        assert verdict.failed_checks == ["key"]


def resident(field: str) -> int:
    """``VmRSS`` / ``VmHWM`` (peak) of this process, in bytes."""
    match = re.search(rf"^{field}:\s+(\d+) kB$", PROC_STATUS.read_text(), re.MULTILINE)
    assert match is not None
    return int(match[1]) * 1024


def peak_growth(work: Callable[[], object]) -> int:
    """How far the resident set grew above where it was while ``work`` ran (Linux: the
    peak is reset through ``/proc/self/clear_refs``)."""
    CLEAR_REFS.write_text("5")
    before = resident("VmRSS")
    work()
    return resident("VmHWM") - before


PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
MEMORY_CASES = [*HOSTILE, "2 MiB of empty objects in an unknown field"]


def padded_with_empty_objects() -> bytes:
    """orjson's costliest shape: ~36 bytes of objects per byte of ``{},``."""
    return b'{"padding": [' + b"{}," * (2 * 1024 * 1024 // 3) + b'{}], "entries": []}'


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", MEMORY_CASES)
def test_reading_a_hostile_document_costs_memory_within_the_stated_bound(name: str) -> None:
    """``limits.MEMORY_FACTOR``: verifying or decoding a document grows the resident set by
    less than that many times its size (plus 16 MiB of allocator slack); the size itself is
    capped by ``max_bytes`` before parsing, so no document costs more than that times
    ``max_bytes``. A bound, not a timing: measured 23x for 4 MB of ``{}`` entries."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError as error:
        pytest.skip(f"peak resident memory cannot be reset here: {error}")
    build = HOSTILE[name][0] if name in HOSTILE else padded_with_empty_objects
    body = build()
    assert len(body) <= DEFAULT_LIMITS.max_bytes
    bound = MEMORY_FACTOR * len(body) + 16 * 2**20

    def decode() -> None:
        with contextlib.suppress(ArchiveReadError):
            decode_run(HOSTILE_KEY, body)

    verify_growth = peak_growth(lambda: verify_document(HOSTILE_KEY, body))
    decode_growth = peak_growth(decode)
    assert verify_growth < bound, (verify_growth, len(body))
    assert decode_growth < bound, (decode_growth, len(body))


def test_documents_larger_than_the_limit_are_not_parsed() -> None:
    body = b" " * (DEFAULT_LIMITS.max_bytes + 1)
    verdict = verify_document(HOSTILE_KEY, body)
    assert verdict.status == "unreadable"
    assert f"larger than {DEFAULT_LIMITS.max_bytes} bytes" in verdict.failures[0].message


@pytest.mark.timeout(120)
def test_push_outbox_refuses_hostile_documents_and_sends_the_good_one(archive: Archive) -> None:
    """The outbox's refusal path judges each entry under the limits: hostile entries stay
    (``failed``, their reason named), the good one is written, nothing raises."""
    if isinstance(archive, LocalDirectoryArchive):
        archive.directory.mkdir(exist_ok=True)
    outbox = archive.outbox
    assert outbox is not None
    events = closed_run(2, correlation_id="good")
    good = archive.key_for(events)
    outbox.put(good, sign_document(good, encode_run(events).body, SIGNER))
    names = [
        "a million events of 0",
        "nesting 100,000 deep",
        "duplicate keys",
        "year 1 with an offset",
    ]
    keys = {}
    for index, name in enumerate(names, start=1):
        keys[name] = f"trade-ledgers/2024/01/15/{index:06d}-hostile-doc.json"
        outbox.put(keys[name], HOSTILE[name][0]())
    outcomes = {o.key: o for o in archive.push_outbox()}
    assert outcomes[good].status == "written"
    for name, key in keys.items():
        assert outcomes[key].status == "failed", (name, outcomes[key])
        assert f"{HOSTILE[name][1]}: " in (outcomes[key].error or ""), name
        with pytest.raises(ArchiveReadError, match="no such run"):
            archive.read_bytes(key)
    assert archive.verify(good).ok


def test_verdicts_do_not_depend_on_the_callers_decimal_context() -> None:
    """A caller's context that rounds to 2 digits and traps everything changes no verdict."""
    encoded = encode_run(closed_run(6))
    key = run_key("p", encoded.ledger_id, encoded.correlation_id, encoded.created_at)
    signed = sign_document(key, encoded.body, SIGNER)
    documents = [(key, signed), (HOSTILE_KEY, HOSTILE["a decimal trap in a fill"][0]())]
    statuses = [verify_document(k, body, trusted=TRUSTED).status for k, body in documents]
    assert statuses == ["valid", "invalid"]
    everything = [decimal.Inexact, decimal.Rounded, decimal.Clamped, decimal.FloatOperation]
    with decimal.localcontext(decimal.Context(prec=2, Emax=5, Emin=-5, traps=everything)):
        verdicts = [verify_document(k, body, trusted=TRUSTED) for k, body in documents]
        assert [v.status for v in verdicts] == ["valid", "invalid"]
        assert "replay" in verdicts[1].failed_checks
        assert decode_run(key, encoded.body).ledger.total_buy_value > 100
