"""The document: guide fields on top, events with a hash chain, exact round trips."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.archive import (
    FORMAT_VERSION,
    GENESIS_HASH,
    ArchiveReadError,
    OpenLedgerError,
    canonical_json,
    chain_hash,
    decode_run,
    encode_run,
)
from ledger_domain import TradeLedgerService, replay_ledger, to_record
from tests.archive.runs import GUIDE_FIELDS, LEGACY, closed_run


def test_top_level_keeps_the_guide_fields_and_adds_the_stream() -> None:
    events = closed_run(5)
    document = json.loads(encode_run(events).body)
    assert document.keys() >= GUIDE_FIELDS
    assert {"correlation_id", "closed_at", "format_version", "head_hash", "events"} <= (
        document.keys()
    )
    assert document["format_version"] == FORMAT_VERSION
    snapshot = replay_ledger(events).model_dump(mode="json")
    for name in snapshot:
        assert document[name] == snapshot[name]
    assert [{k: v for k, v in e.items() if k != "hash"} for e in document["events"]] == [
        to_record(event) for event in events
    ]


def test_hash_chain_follows_the_stated_definition() -> None:
    document = json.loads(encode_run(closed_run(4)).body)
    previous = "0" * 64
    assert previous == GENESIS_HASH
    for event in document["events"]:
        record = {k: v for k, v in event.items() if k != "hash"}
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256((previous + text).encode("utf-8")).hexdigest()
        assert event["hash"] == previous
    assert document["head_hash"] == previous


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=8))
def test_canonical_json_is_the_json_dumps_definition(record: dict[str, Any]) -> None:
    expected = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(record) == expected.encode("utf-8")


def test_canonical_json_falls_back_for_what_orjson_refuses() -> None:
    record = {"big": 2**70, "a": "x"}
    assert canonical_json(record) == b'{"a":"x","big":1180591620717411303424}'
    assert (
        chain_hash(GENESIS_HASH, record)
        == hashlib.sha256(
            (GENESIS_HASH + '{"a":"x","big":1180591620717411303424}').encode()
        ).hexdigest()
    )


def test_same_events_give_the_same_bytes() -> None:
    events = closed_run(6)
    assert encode_run(events).body == encode_run(list(events)).body
    records = [to_record(event) for event in events]
    assert encode_run(records).body == encode_run(events).body


def test_decimals_and_datetimes_round_trip_exactly() -> None:
    events = closed_run(7)
    run = decode_run("k", encode_run(events).body)
    live = replay_ledger(events)
    assert run.ledger == live
    assert run.replayed_ledger() == live
    entry = run.ledger.entries[1]
    assert isinstance(entry.filled_qty, Decimal)
    assert entry.fill_timestamp.tzinfo is not None
    assert [to_record(e) for e in run.events] == [to_record(e) for e in events]
    weights = next(e for e in run.ledger.entries if e.symbol == "AAPL").strategy_weights
    assert weights == {
        "momentum_strategy": Decimal("0.6"),
        "mean_reversion_strategy": Decimal("0.4"),
    }


def test_an_open_ledger_is_refused() -> None:
    service = TradeLedgerService("corr-open")
    with pytest.raises(OpenLedgerError, match="still open"):
        encode_run(service.events())


def test_an_empty_ledger_is_archived() -> None:
    service = TradeLedgerService("corr-empty", created_at=datetime(2024, 1, 15, tzinfo=UTC))
    service.close()
    run = decode_run("k", encode_run(service.events()).body)
    assert run.ledger.total_entries == 0
    assert run.ledger.total_buy_value == 0


def test_documents_of_the_original_service_are_readable() -> None:
    run = decode_run("legacy.json", json.dumps(LEGACY).encode())
    assert run.format_version == 1
    assert not run.has_events
    assert run.ledger.total_buy_value == Decimal("1502.50")
    assert run.ledger.entries[0].bid_at_fill == Decimal("150.20")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"ledger_id": "x", "created_at": "2024-01-15T00:00:00', "truncated"),
        (b"not json at all", "not valid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b"\xff\xfe\x00", "not"),
        (b'{"ledger_id": "x"}', "TradeLedger"),
        (
            b'{"ledger_id": "x", "created_at": "2024-01-15T00:00:00Z", "format_version": 99}',
            "unknown format_version",
        ),
        (
            b'{"ledger_id": "x", "created_at": "2024-01-15T00:00:00Z", "format_version": 2,'
            b' "events": [{"type": "Nope"}]}',
            "malformed event",
        ),
    ],
)
def test_unreadable_documents_name_their_key(body: bytes, reason: str) -> None:
    with pytest.raises(ArchiveReadError, match=reason) as caught:
        decode_run("trade-ledgers/2024/01/15/bad.json", body)
    assert caught.value.key == "trade-ledgers/2024/01/15/bad.json"
    assert "trade-ledgers/2024/01/15/bad.json" in str(caught.value)
