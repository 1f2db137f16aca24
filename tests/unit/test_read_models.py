"""Entries and ledgers are ordinary pydantic models, whether built by recording or by hand."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal

import pytest

from ledger_domain import Side, TradeLedger, TradeLedgerEntry, TradeLedgerService
from tests.builders import order, plan, quote


@pytest.fixture
def service() -> TradeLedgerService:
    service = TradeLedgerService("corr-1")
    service.record_execution(
        order(order_id="o1", shares=3, price=Decimal("100")),
        "corr-1",
        rebalance_plan=plan({"AAPL": {"momentum": 0.6, "carry": 0.4}}),
        quote_at_fill=quote(),
        execution_id="e1",
    )
    service.record_execution(
        order(order_id="o1", shares=7, price=Decimal("101.01")),
        "corr-1",
        rebalance_plan=plan({"AAPL": {"momentum": 0.6, "carry": 0.4}}),
        execution_id="e2",
    )
    service.record_filled_order(order(order_id="o2", symbol="MSFT", action="sell"), "corr-1")
    return service


def test_an_entry_round_trips_through_dump_and_validate(service: TradeLedgerService) -> None:
    for entry in service.get_ledger().entries:
        rebuilt = TradeLedgerEntry.model_validate(entry.model_dump())
        assert rebuilt == entry
        assert rebuilt.model_dump() == entry.model_dump()
        assert rebuilt.model_fields_set == entry.model_fields_set
        assert {k: type(v) for k, v in vars(rebuilt).items()} == {
            k: type(v) for k, v in vars(entry).items()
        }
        from_json = TradeLedgerEntry.model_validate_json(entry.model_dump_json())
        assert from_json == entry


def test_a_ledger_round_trips_through_dump_and_validate(service: TradeLedgerService) -> None:
    ledger = service.get_ledger()
    rebuilt = TradeLedger.model_validate(ledger.model_dump())
    assert rebuilt == ledger
    assert rebuilt.total_buy_value == ledger.total_buy_value == Decimal("1007.07")
    assert rebuilt.total_sell_value == ledger.total_sell_value == Decimal("1502.50")
    assert TradeLedger.model_validate_json(ledger.model_dump_json()) == ledger


def test_model_copy_with_an_update_changes_only_the_copy(service: TradeLedgerService) -> None:
    entry = service.get_entries_for_symbol("AAPL")[0]
    moved = entry.model_copy(update={"symbol": "MSFT"})
    assert moved.symbol == "MSFT"
    assert moved.model_fields_set == entry.model_fields_set
    assert entry.symbol == "AAPL"
    assert service.get_entries_for_symbol("AAPL")[0] == entry
    assert moved != entry
    assert moved.model_dump() == {**entry.model_dump(), "symbol": "MSFT"}


def test_copies_are_equal_and_still_read_only(service: TradeLedgerService) -> None:
    entry = service.get_entries_for_symbol("AAPL")[0]
    for duplicate in (
        entry.model_copy(),
        entry.model_copy(deep=True),
        copy.deepcopy(entry),
        pickle.loads(pickle.dumps(entry)),
    ):
        assert duplicate == entry
        with pytest.raises(TypeError):
            duplicate.strategy_names.append("intruder")
        assert duplicate.strategy_weights is not None
        with pytest.raises(TypeError):
            duplicate.strategy_weights["momentum"] = Decimal(1)
    ledger = service.get_ledger()
    assert copy.deepcopy(ledger) == ledger
    assert pickle.loads(pickle.dumps(ledger)) == ledger


def test_a_recorded_entry_equals_the_same_entry_built_by_validation(
    service: TradeLedgerService,
) -> None:
    entry = service.get_entries_for_symbol("MSFT")[0]
    by_hand = TradeLedgerEntry(
        order_id="o2",
        symbol="MSFT",
        direction="SELL",
        filled_qty=Decimal("10"),
        fill_price=Decimal("150.25"),
        fill_timestamp=entry.fill_timestamp,
        correlation_id="corr-1",
        execution_ids=["o2"],
    )
    assert by_hand == entry
    assert by_hand.direction is Side.SELL
    assert by_hand.strategy_names == []
    assert by_hand.strategy_weights is None


def test_models_built_by_hand_are_read_only_too() -> None:
    entry = TradeLedgerEntry(
        order_id="o",
        symbol="AAPL",
        direction="BUY",
        filled_qty=Decimal(1),
        fill_price=Decimal(1),
        fill_timestamp="2024-01-15T14:30:52Z",
        strategy_names=["m"],
        strategy_weights={"m": Decimal(1)},
    )
    with pytest.raises(TypeError):
        entry.strategy_names.append("x")
    with pytest.raises(TypeError):
        entry.strategy_weights.update(x=Decimal(1))  # type: ignore[union-attr]
    ledger = TradeLedger(ledger_id="l", created_at="2024-01-15T00:00:00Z", entries=[entry])
    with pytest.raises(TypeError):
        ledger.entries.clear()
    assert ledger.total_buy_value == Decimal(1)


def test_side_prints_and_compares_as_the_guides_text() -> None:
    assert Side.BUY == "BUY"
    assert f"{Side.SELL}" == "SELL"
    assert str(Side.BUY) == "BUY"
    assert Side("SELL") is Side.SELL
