"""Event records round-trip exactly, old versions upcast, and replay refuses bad streams."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from ledger_domain import (
    InvalidEventStreamError,
    Ledger,
    TradeLedgerService,
    from_record,
    replay,
    replay_ledger,
    to_record,
)
from tests.builders import order, plan, quote


@pytest.fixture
def closed_service() -> TradeLedgerService:
    service = TradeLedgerService("corr-r")
    attribution = {"AAPL": {"momentum": 0.6, "carry": 0.4}}
    service.record_filled_order(order(order_id="a"), "corr-r", plan(attribution), quote())
    service.record_execution(
        order(order_id="b", action="SELL", shares="0.5"), "corr-r", execution_id="b-1"
    )
    service.record_execution(
        order(order_id="b", action="SELL", shares="1.5"), "corr-r", execution_id="b-2"
    )
    service.close()
    return service


def test_records_survive_json_exactly(closed_service: TradeLedgerService) -> None:
    events = closed_service.events()
    records = json.loads(json.dumps([to_record(e) for e in events]))
    decoded = [from_record(r) for r in records]
    assert [vars(e) for e in decoded] == [vars(e) for e in events]
    fill = records[1]
    assert fill["type"] == "FillRecorded"
    assert fill["quantity"] == "10"
    assert fill["strategy_weights"] == {"momentum": "0.6", "carry": "0.4"}
    assert fill["filled_at"].endswith("+00:00")


def test_replay_rebuilds_the_final_ledger(closed_service: TradeLedgerService) -> None:
    assert replay_ledger(closed_service.events()) == closed_service.get_ledger()


def test_an_older_record_version_is_upcast(
    monkeypatch: pytest.MonkeyPatch, closed_service: TradeLedgerService
) -> None:
    record = to_record(closed_service.events()[1])
    record["version"] = 1
    del record["order_type"]  # imagine v1 had no order type

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("order_type", "MARKET")

    monkeypatch.setattr(Ledger.FillRecorded, "class_version", 2, raising=False)
    monkeypatch.setattr(
        Ledger.FillRecorded, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False
    )
    event = from_record(record)
    assert isinstance(event, Ledger.FillRecorded)
    assert event.order_type == "MARKET"


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop(0),
        lambda r: r.pop(1),
        lambda r: r.insert(2, r[1]),
        lambda r: r.__setitem__(slice(1, 3), [r[2], r[1]]),
        lambda r: r.append({**r[1], "sequence": len(r) + 1, "execution_id": "late"}),
        lambda r: r.clear(),
    ],
    ids=["no-opened", "gap", "repeat", "swap", "after-close", "empty"],
)
def test_replay_refuses_a_damaged_stream(closed_service: TradeLedgerService, damage: Any) -> None:
    records = [to_record(e) for e in closed_service.events()]
    damage(records)
    with pytest.raises(InvalidEventStreamError):
        replay(from_record(r) for r in records)


@pytest.mark.parametrize(
    "change",
    [
        {"type": "Bogus"},
        {"quantity": 1.5},
        {"sequence": "x"},
        {"ledger_id": "not-a-uuid"},
        {"filled_at": "noon"},
        {"side": "HOLD"},
        {"strategy_weights": {"m": 1}},
    ],
)
def test_malformed_records_raise_a_stream_error(
    closed_service: TradeLedgerService, change: dict[str, Any]
) -> None:
    record = {**to_record(closed_service.events()[1]), **change}
    with pytest.raises(InvalidEventStreamError):
        from_record(record)


def test_replay_refuses_events_of_another_ledger(closed_service: TradeLedgerService) -> None:
    other = TradeLedgerService("other")
    other.record_filled_order(order(order_id="z"), "other")
    mixed = [*closed_service.events()[:2], *other.events()[1:]]
    with pytest.raises(InvalidEventStreamError, match="another ledger"):
        replay(mixed)


def test_totals_in_replayed_ledger_are_decimal(closed_service: TradeLedgerService) -> None:
    ledger = replay_ledger(closed_service.events())
    assert ledger.total_buy_value == Decimal("1502.50")
    assert ledger.total_sell_value == Decimal("300.500")


@pytest.mark.parametrize("change", ["drop", "add"])
def test_records_with_missing_or_unknown_fields_are_refused(
    closed_service: TradeLedgerService, change: str
) -> None:
    record = to_record(closed_service.events()[1])
    if change == "drop":
        del record["price"]
    else:
        record["surprise"] = "1"
    with pytest.raises(InvalidEventStreamError, match="price" if change == "drop" else "surprise"):
        from_record(record)
