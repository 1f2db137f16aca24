"""Tampering with a stored document is detected by ``verify`` and named, on both adapters."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.archive import Archive, ArchiveReadError, chain_hash
from ledger_domain import from_record, replay
from tests.archive.runs import CREATED, LEGACY, LEGACY_KEY, closed_run, edit
from tests.archive.test_archive import overwrite

Document = dict[str, Any]


def fill_positions(document: Document) -> list[int]:
    return [n for n, e in enumerate(document["events"]) if e["type"] == "FillRecorded"]


def change_fill_price(document: Document) -> None:
    event = document["events"][fill_positions(document)[1]]
    event["price"] = str(Decimal(event["price"]) + Decimal("0.01"))


def delete_event(document: Document) -> None:
    del document["events"][fill_positions(document)[2]]


def swap_events(document: Document) -> None:
    first, second = fill_positions(document)[:2]
    events = document["events"]
    events[first], events[second] = events[second], events[first]


def change_total(document: Document) -> None:
    document["total_buy_value"] = str(Decimal(document["total_buy_value"]) + 1)


def change_entry_price(document: Document) -> None:
    document["entries"][0]["fill_price"] = "1.00"


def change_entry_quantity_and_total(document: Document) -> None:
    entry = document["entries"][0]
    entry["filled_qty"] = str(Decimal(entry["filled_qty"]) * 2)
    entry["trade_value"] = str(Decimal(entry["trade_value"]) * 2)
    side = "total_buy_value" if entry["direction"] == "BUY" else "total_sell_value"
    document[side] = str(Decimal(document[side]) + Decimal(entry["trade_value"]) / 2)


def rehash_edited_event(document: Document) -> None:
    """An edit with a recomputed hash still breaks the next link and the replay."""
    position = fill_positions(document)[0]
    event = document["events"][position]
    event["quantity"] = "1000"
    previous = document["events"][position - 1]["hash"]
    event["hash"] = chain_hash(previous, {k: v for k, v in event.items() if k != "hash"})


def change_head_hash(document: Document) -> None:
    document["head_hash"] = "f" * 64


def drop_hash(document: Document) -> None:
    del document["events"][1]["hash"]


def drop_last_event(document: Document) -> None:
    document["events"].pop()


def drop_closed_with_adjusted_head(document: Document) -> None:
    """``Closed`` removed, the head hash moved back to the new last event, ``closed_at`` null.

    Every hash still links and the snapshot matches the replay: only "archived ledgers are
    closed" catches it.
    """
    events = document["events"]
    assert events.pop()["type"] == "Closed"
    document["head_hash"] = events[-1]["hash"]
    document["closed_at"] = None


def drop_last_fill_and_closed_consistently(document: Document) -> None:
    """The last fill and ``Closed`` removed, head hash and whole snapshot recomputed."""
    events = document["events"][:-2]
    assert events[-1]["type"] == "FillRecorded"
    records = [{k: v for k, v in e.items() if k != "hash"} for e in events]
    document["events"] = events
    document["head_hash"] = events[-1]["hash"]
    document.update(replay([from_record(r) for r in records]).snapshot().model_dump(mode="json"))


TAMPERS: list[tuple[Callable[[Document], None], set[str]]] = [
    (change_fill_price, {"hash_chain", "snapshot"}),
    (delete_event, {"hash_chain", "sequence", "replay"}),
    (swap_events, {"hash_chain", "sequence", "replay"}),
    (change_total, {"totals", "snapshot"}),
    (change_entry_price, {"snapshot"}),
    (change_entry_quantity_and_total, {"snapshot"}),
    (rehash_edited_event, {"hash_chain", "snapshot"}),
    (change_head_hash, {"head_hash"}),
    (drop_hash, {"hash_chain"}),
    (drop_last_event, {"head_hash", "snapshot", "replay"}),
    (drop_closed_with_adjusted_head, {"replay"}),
    (drop_last_fill_and_closed_consistently, {"replay"}),
]


@pytest.mark.parametrize(("tamper", "expected"), TAMPERS, ids=[t.__name__ for t, _ in TAMPERS])
def test_tampering_is_detected_and_named(
    archive: Archive, tamper: Callable[[Document], None], expected: set[str]
) -> None:
    outcome = archive.write(closed_run(7))
    assert archive.verify(outcome.key).status == "valid"
    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), tamper))
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert expected <= set(verdict.failed_checks), verdict.failures
    assert verdict.failed_checks[-1] == "signature"  # any edit also breaks the signature
    assert all(failure.message for failure in verdict.failures)


@pytest.mark.parametrize(
    "tamper", [drop_closed_with_adjusted_head, drop_last_fill_and_closed_consistently]
)
def test_a_stream_cut_short_is_named_as_not_closed(
    archive: Archive, tamper: Callable[[Document], None]
) -> None:
    outcome = archive.write(closed_run(5))
    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), tamper))
    verdict = archive.verify(outcome.key)
    # The content check that names the cut, and the signature (the content changed).
    assert verdict.failed_checks == ["replay", "signature"], verdict.failures
    assert "does not end with Closed" in verdict.failures[0].message


def test_swap_is_reported_as_reordered(archive: Archive) -> None:
    outcome = archive.write(closed_run(5))
    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), swap_events))
    verdict = archive.verify(outcome.key)
    sequence = next(f for f in verdict.failures if f.check == "sequence")
    assert "reordered" in sequence.message
    assert "position 1 holds sequence 3" in sequence.message


def test_delete_is_reported_as_a_missing_sequence(archive: Archive) -> None:
    outcome = archive.write(closed_run(5))
    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), delete_event))
    verdict = archive.verify(outcome.key)
    sequence = next(f for f in verdict.failures if f.check == "sequence")
    assert "missing sequence(s) [4] (removed)" in sequence.message


def test_every_failure_is_reported_together(archive: Archive) -> None:
    outcome = archive.write(closed_run(7))

    def everything(document: Document) -> None:
        change_fill_price(document)
        change_total(document)
        change_head_hash(document)

    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), everything))
    verdict = archive.verify(outcome.key)
    assert {"hash_chain", "head_hash", "snapshot", "totals"} <= set(verdict.failed_checks)


def test_snapshot_failure_names_the_field(archive: Archive) -> None:
    outcome = archive.write(closed_run(4))
    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), change_entry_price))
    snapshot = next(f for f in archive.verify(outcome.key).failures if f.check == "snapshot")
    assert "entries[0].fill_price: stored '1.00'" in snapshot.message


def test_original_format_is_unverifiable_not_valid(archive: Archive) -> None:
    overwrite(archive, LEGACY_KEY, json.dumps(LEGACY).encode())
    verdict = archive.verify(LEGACY_KEY)
    assert verdict.status == "unverifiable"
    assert not verdict.ok
    assert archive.read(LEGACY_KEY).ledger.total_buy_value == Decimal("1502.50")


@pytest.mark.parametrize("algorithm", ["md5", "SHA256", None])
def test_another_hash_algorithm_is_a_format_failure(
    archive: Archive, algorithm: str | None
) -> None:
    outcome = archive.write(closed_run(3))

    def change(document: Document) -> None:
        if algorithm is None:
            del document["hash_algorithm"]
        else:
            document["hash_algorithm"] = algorithm

    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), change))
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["format", "signature"]
    assert "hash_algorithm" in verdict.failures[0].message


@pytest.mark.parametrize(
    "kept", [("head_hash", "hash_algorithm"), ("head_hash",), ("hash_algorithm",)]
)
def test_events_stripped_to_look_original_is_invalid_not_unverifiable(
    archive: Archive, kept: tuple[str, ...]
) -> None:
    outcome = archive.write(closed_run(3))

    def downgrade(document: Document) -> None:
        del document["events"]
        document["format_version"] = 1
        for name in {"head_hash", "hash_algorithm"} - set(kept):
            del document[name]

    overwrite(archive, outcome.key, edit(archive.read_bytes(outcome.key), downgrade))
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["format"]
    assert all(name in verdict.failures[0].message for name in kept)


def test_original_format_with_wrong_totals_is_invalid(archive: Archive) -> None:
    overwrite(archive, LEGACY_KEY, json.dumps({**LEGACY, "total_buy_value": "1.00"}).encode())
    verdict = archive.verify(LEGACY_KEY)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["totals"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"symbol": None}, "entries.0.symbol"),
        ({"fill_price": "-150.25"}, "entries.0.fill_price"),
        ({"direction": "HOLD"}, "entries.0.direction"),
    ],
)
def test_original_format_that_does_not_read_is_invalid_not_unverifiable(
    archive: Archive, change: dict[str, Any], named: str
) -> None:
    """``unverifiable`` promises a readable document; one ``read`` refuses is ``invalid``."""
    entry = {k: v for k, v in {**LEGACY["entries"][0], **change}.items() if v is not None}
    overwrite(archive, LEGACY_KEY, json.dumps({**LEGACY, "entries": [entry]}).encode())
    verdict = archive.verify(LEGACY_KEY)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["format"]
    assert named in verdict.failures[0].message
    with pytest.raises(ArchiveReadError, match="does not match TradeLedger"):
        archive.read(LEGACY_KEY)


def test_one_bad_run_does_not_stop_a_date(archive: Archive) -> None:
    keys = [
        archive.write(
            closed_run(3, correlation_id=f"c{n}", created_at=CREATED + timedelta(minutes=n))
        ).key
        for n in range(4)
    ]
    overwrite(archive, keys[0], b'{"ledger_id": ')
    overwrite(archive, keys[2], edit(archive.read_bytes(keys[2]), change_total))
    verdicts = list(archive.verify_runs(date(2024, 1, 15), workers=3))
    assert [v.status for v in verdicts] == ["unreadable", "valid", "invalid", "valid"]
    assert keys[0] in verdicts[0].failures[0].message
