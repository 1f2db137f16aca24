"""Original-format documents whose amounts are JSON numbers are read exactly, from their text.

A float holds 400.1 as 400.1000000000000227...; read through floats, a correct legacy
document's totals stop matching its entries and it was reported ``invalid``. The current
format keeps its own rule: Decimals are strings, and a JSON number there is refused.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.archive import (
    GENESIS_HASH,
    Archive,
    ArchiveReadError,
    chain_hash,
    decode_run,
    encode_run,
    verify_document,
)
from adapters.archive.document import parse_document
from ledger_domain.money import EXACT
from tests.archive.runs import LEGACY_KEY, LEGACY_NUMBERS, closed_run, numbers_json
from tests.archive.test_archive import overwrite


def float_cannot_hold(value: Decimal) -> bool:
    return Decimal(float(value)) != value


# Decimal text a float cannot represent exactly: up to 20 significant digits, 1-10 places.
inexact_amounts = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(min_value=1, max_value=10**20),
    st.integers(min_value=1, max_value=10),
).filter(float_cannot_hold)
quantities = st.one_of(st.integers(min_value=1, max_value=10**6).map(Decimal), inexact_amounts)
fills = st.lists(
    st.tuples(st.sampled_from(["BUY", "SELL"]), quantities, inexact_amounts),
    min_size=1,
    max_size=6,
)


def legacy_document(
    fills: list[tuple[str, Decimal, Decimal]], *, with_totals: bool = True
) -> dict[str, Any]:
    """An original-format document of ``fills`` with exact totals, amounts as Decimals."""
    totals = {"BUY": Decimal(0), "SELL": Decimal(0)}
    entries = []
    for index, (direction, quantity, price) in enumerate(fills):
        if with_totals:
            totals[direction] = EXACT.add(totals[direction], EXACT.multiply(quantity, price))
        entries.append(
            {
                "order_id": f"o-{index}",
                "symbol": "AAPL",
                "direction": direction,
                "filled_qty": quantity,
                "fill_price": price,
                "bid_at_fill": price,
                "fill_timestamp": "2024-01-15T14:30:53+00:00",
                "order_type": "MARKET",
                "strategy_names": ["momentum_strategy"],
                "strategy_weights": {"momentum_strategy": Decimal("0.3")},
            }
        )
    document: dict[str, Any] = {
        "ledger_id": "abc123",
        "created_at": "2024-01-15T14:30:52+00:00",
        "entries": entries,
        "total_entries": len(entries),
    }
    if with_totals:
        document["total_buy_value"] = totals["BUY"]
        document["total_sell_value"] = totals["SELL"]
    return document


def smallest_unit(value: Decimal) -> Decimal:
    """One unit in the last place of ``value`` as written (0.0001 for 12.3456)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return Decimal(1).scaleb(exponent)


@settings(max_examples=200, deadline=None)
@given(fills)
@example([("BUY", Decimal(10), Decimal("400.1"))])
@example([("SELL", Decimal(1), Decimal("0.3")), ("BUY", Decimal(3), Decimal("1234567.891"))])
def test_correct_legacy_numbers_are_unverifiable_and_read_exactly(
    fills: list[tuple[str, Decimal, Decimal]],
) -> None:
    document = legacy_document(fills)
    body = numbers_json(document)
    verdict = verify_document("legacy.json", body)
    assert verdict.status == "unverifiable", verdict.failures
    assert verdict.failures == ()
    ledger = decode_run("legacy.json", body).ledger
    for entry, (_, quantity, price) in zip(ledger.entries, fills, strict=True):
        assert (str(entry.filled_qty), str(entry.fill_price)) == (str(quantity), str(price))
        assert entry.strategy_weights == {"momentum_strategy": Decimal("0.3")}
    assert ledger.total_buy_value == document["total_buy_value"]
    assert ledger.total_sell_value == document["total_sell_value"]


@settings(max_examples=200, deadline=None)
@given(
    fills,
    st.sampled_from(["total_buy_value", "total_sell_value"]),
    st.sampled_from([1, -1]),
    st.booleans(),
)
@example([("BUY", Decimal(10), Decimal("400.1"))], "total_buy_value", 1, True)
def test_a_legacy_total_off_by_its_smallest_unit_is_invalid(
    fills: list[tuple[str, Decimal, Decimal]], name: str, sign: int, as_number: bool
) -> None:
    document = legacy_document(fills)
    total = document[name]
    wrong = EXACT.add(total, sign * smallest_unit(total))  # no rounding to 28 digits
    document[name] = wrong if as_number else str(wrong)
    verdict = verify_document("legacy.json", numbers_json(document))
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["totals"]
    assert name in verdict.failures[0].message


def test_the_archive_reads_and_verifies_legacy_numbers_exactly(archive: Archive) -> None:
    overwrite(archive, LEGACY_KEY, numbers_json(LEGACY_NUMBERS))
    verdict = archive.verify(LEGACY_KEY)
    assert verdict.status == "unverifiable", verdict.failures
    run = archive.read(LEGACY_KEY)
    assert run.format_version == 1
    first, second, third = run.ledger.entries
    assert str(first.fill_price) == "400.1"
    assert str(first.bid_at_fill) == "400.05"
    assert first.strategy_weights == {
        "momentum_strategy": Decimal("0.3"),
        "mean_reversion_strategy": Decimal("0.7"),
    }
    assert str(second.fill_price) == "1234567.8912345678901"
    assert second.trade_value == Decimal("370370.36737037036703")
    assert third.trade_value == Decimal("0.3")
    assert str(run.ledger.total_buy_value) == "374371.36737037036703"
    (listed,) = archive.read_keys([LEGACY_KEY])
    assert listed.run is not None
    assert str(listed.run.ledger.total_sell_value) == "0.3"


def test_the_original_format_is_parsed_exactly_and_the_current_one_is_not() -> None:
    legacy = parse_document("legacy.json", numbers_json(LEGACY_NUMBERS))
    assert legacy["entries"][0]["fill_price"] == Decimal("400.1")
    assert legacy["total_entries"] == 3
    assert type(legacy["total_entries"]) is int
    current = json.loads(encode_run(closed_run(2)).body)
    current["entries"][0]["fill_price"] = 400.1
    parsed = parse_document("current.json", json.dumps(current).encode())
    assert type(parsed["entries"][0]["fill_price"]) is float  # orjson's fast path, as before


def test_the_current_format_never_uses_the_slow_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    body = encode_run(closed_run(4)).body

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("json.loads used for a current-format document")

    monkeypatch.setattr(json, "loads", refuse)
    assert verify_document("current.json", body).status == "unsigned"  # every check passed
    assert decode_run("current.json", body).format_version == 2


def numbers_in_events(document: dict[str, Any]) -> None:
    """Amounts of every event written as JSON numbers, the hash chain recomputed to match."""
    previous = GENESIS_HASH
    for event in document["events"]:
        event.pop("hash")
        for name in ("quantity", "price"):
            if name in event:
                event[name] = float(event[name])
        previous = chain_hash(previous, event)
        event["hash"] = previous
    document["head_hash"] = previous


def test_numbers_in_a_current_format_stream_are_still_refused() -> None:
    document = json.loads(encode_run(closed_run(3)).body)
    numbers_in_events(document)
    body = json.dumps(document).encode()
    verdict = verify_document("current.json", body)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["replay"]
    assert "decimal values are strings" in verdict.failures[0].message
    with pytest.raises(ArchiveReadError, match="malformed event"):
        decode_run("current.json", body)


def test_numbers_in_a_current_format_snapshot_are_still_refused() -> None:
    document = json.loads(encode_run(closed_run(3)).body)
    entry = document["entries"][0]
    entry["fill_price"] = float(entry["fill_price"])
    verdict = verify_document("current.json", json.dumps(document).encode())
    assert verdict.status == "invalid"
    assert "snapshot" in verdict.failed_checks
    assert "entries[0].fill_price" in " ".join(f.message for f in verdict.failures)


@pytest.mark.parametrize(
    ("amount", "trap"),
    [
        ("1E+999999", "Overflow"),  # beyond the exact context's exponents
        ("1." + "1" * 150, "Inexact"),  # a product of more than 200 digits
    ],
)
def test_amounts_the_ledger_cannot_hold_are_reported_not_raised(amount: str, trap: str) -> None:
    document = legacy_document([("BUY", Decimal(amount), Decimal(amount))], with_totals=False)
    document["total_buy_value"] = Decimal(1)
    body = numbers_json(document)
    verdict = verify_document("legacy.json", body)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["totals"]
    assert trap in verdict.failures[0].message
    with pytest.raises(ArchiveReadError, match="cannot hold exactly"):
        decode_run("legacy.json", body)


def test_totals_the_ledger_cannot_hold_are_a_read_error() -> None:
    """Each value fits; their sum needs 301 digits, so the computed total cannot be formed."""
    document = legacy_document(
        [("BUY", Decimal("1E+150"), Decimal(1)), ("BUY", Decimal("1E-150"), Decimal(1))],
        with_totals=False,
    )
    with pytest.raises(ArchiveReadError, match="cannot hold exactly"):
        decode_run("legacy.json", numbers_json(document))


@pytest.mark.parametrize(
    "body",
    [
        b'{"ledger_id": "x", "created_at": "2024-01-15T00:00:00Z", "total_entries": '
        + b"1" * 5000
        + b"}",
        b'{"ledger_id": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["5000-digit integer", "nested 100000 deep"],
)
def test_json_beyond_the_parser_is_unreadable_not_raised(body: bytes) -> None:
    verdict = verify_document("odd.json", body)
    assert verdict.status == "unreadable"
    assert "odd.json" in verdict.failures[0].message
    with pytest.raises(ArchiveReadError, match=r"beyond (what can be read|the archive's limits)"):
        decode_run("odd.json", body)
