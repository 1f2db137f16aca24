"""The guide's examples, as close to its text as the service allows (no executor here)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger_domain import (
    OrderResult,
    QuoteModel,
    RebalancePlan,
    RebalancePlanItem,
    TradeLedger,
    TradeLedgerEntry,
    TradeLedgerService,
)


@pytest.fixture
def trade_ledger() -> TradeLedgerService:
    return TradeLedgerService("corr-123")


def multi_strategy_plan() -> RebalancePlan:
    # Example: Two strategies both suggest AAPL with different weights
    # Strategy A wants 30% AAPL, Strategy B wants 20% AAPL
    # Combined: 50% AAPL (60% from A, 40% from B)
    return RebalancePlan(
        correlation_id="corr-123",
        causation_id="cause-123",
        timestamp=datetime.now(UTC),
        plan_id="plan-123",
        items=[
            RebalancePlanItem(
                symbol="AAPL",
                current_weight=Decimal("0.0"),
                target_weight=Decimal("0.5"),
                weight_diff=Decimal("0.5"),
                target_value=Decimal("5000"),
                current_value=Decimal("0"),
                trade_amount=Decimal("5000"),
                action="BUY",
                priority=1,
            )
        ],
        total_portfolio_value=Decimal("10000"),
        total_trade_value=Decimal("5000"),
        metadata={
            "strategy_attribution": {
                "AAPL": {
                    "momentum_strategy": 0.6,  # 60% contribution
                    "mean_reversion_strategy": 0.4,  # 40% contribution
                }
            }
        },
    )


def aapl_buy(order_id: str = "ord-aapl-1") -> OrderResult:
    return OrderResult(
        symbol="AAPL",
        action="BUY",
        shares=Decimal("10"),
        price=Decimal("150.25"),
        trade_amount=Decimal("1502.50"),
        order_id=order_id,
        success=True,
        timestamp=datetime(2024, 1, 15, 14, 30, 52, tzinfo=UTC),
    )


def test_multi_strategy_attribution_prints_as_the_guide_says(
    trade_ledger: TradeLedgerService, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = multi_strategy_plan()
    trade_ledger.record_filled_order(aapl_buy(), "corr-123", plan, None)

    aapl_trades = trade_ledger.get_entries_for_symbol("AAPL")
    for trade in aapl_trades:
        print(f"Strategies: {trade.strategy_names}")
        print(f"Weights: {trade.strategy_weights}")

    assert capsys.readouterr().out.splitlines() == [
        "Strategies: ['momentum_strategy', 'mean_reversion_strategy']",
        "Weights: {'momentum_strategy': Decimal('0.6'), 'mean_reversion_strategy': Decimal('0.4')}",
    ]


def test_single_strategy_plan_as_written_with_placeholder_items(
    trade_ledger: TradeLedgerService,
) -> None:
    # No metadata needed
    plan = RebalancePlan(
        correlation_id="corr-123",
        causation_id="cause-123",
        timestamp=datetime.now(UTC),
        plan_id="plan-123",
        items=[...],
        total_portfolio_value=Decimal("10000"),
        total_trade_value=Decimal("5000"),
    )
    entry = trade_ledger.record_filled_order(aapl_buy(), "corr-123", plan, None)
    assert entry is not None
    assert entry.strategy_names == []
    assert entry.strategy_weights is None


def test_query_the_ledger_prints_direction_quantity_price_and_ids(
    trade_ledger: TradeLedgerService, capsys: pytest.CaptureFixture[str]
) -> None:
    trade_ledger.record_filled_order(aapl_buy(), "corr-123", multi_strategy_plan(), None)

    # Get all trades for a specific symbol
    aapl_trades = trade_ledger.get_entries_for_symbol("AAPL")

    for trade in aapl_trades:
        print(f"{trade.direction} {trade.filled_qty} @ ${trade.fill_price}")
        print(f"  Order ID: {trade.order_id}")
        print(f"  Strategies: {', '.join(trade.strategy_names)}")

    # Get all trades attributed to a specific strategy
    strategy_trades = trade_ledger.get_entries_for_strategy("momentum_strategy")

    assert capsys.readouterr().out.splitlines() == [
        "BUY 10 @ $150.25",
        "  Order ID: ord-aapl-1",
        "  Strategies: momentum_strategy, mean_reversion_strategy",
    ]
    assert [t.order_id for t in strategy_trades] == ["ord-aapl-1"]
    assert trade_ledger.get_entries_for_strategy("unknown_strategy") == []


def test_symbol_query_is_case_insensitive(trade_ledger: TradeLedgerService) -> None:
    trade_ledger.record_filled_order(aapl_buy(), "corr-123")
    assert len(trade_ledger.get_entries_for_symbol("aapl")) == 1
    assert len(trade_ledger.get_entries_for_symbol(" Aapl ")) == 1
    assert trade_ledger.get_entries_for_symbol("MSFT") == []


def test_access_individual_trade_details(
    trade_ledger: TradeLedgerService, capsys: pytest.CaptureFixture[str]
) -> None:
    quote = QuoteModel(bid_price=Decimal("150.20"), ask_price=Decimal("150.30"))
    trade_ledger.record_filled_order(aapl_buy(), "corr-123", multi_strategy_plan(), quote)

    # Get complete ledger
    ledger = trade_ledger.get_ledger()

    for entry in ledger.entries:
        print(f"""
    Order ID: {entry.order_id}
    Symbol: {entry.symbol}
    Direction: {entry.direction}
    Quantity: {entry.filled_qty}
    Fill Price: ${entry.fill_price}
    Bid/Ask: ${entry.bid_at_fill} / ${entry.ask_at_fill}
    Timestamp: {entry.fill_timestamp}
    Order Type: {entry.order_type}
    Strategies: {entry.strategy_names}
    """)

    lines = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines == [
        "Order ID: ord-aapl-1",
        "Symbol: AAPL",
        "Direction: BUY",
        "Quantity: 10",
        "Fill Price: $150.25",
        "Bid/Ask: $150.20 / $150.30",
        "Timestamp: 2024-01-15 14:30:52+00:00",
        "Order Type: MARKET",
        "Strategies: ['momentum_strategy', 'mean_reversion_strategy']",
    ]


def test_ledger_totals_as_the_basic_usage_prints_them(
    trade_ledger: TradeLedgerService, capsys: pytest.CaptureFixture[str]
) -> None:
    trade_ledger.record_filled_order(aapl_buy(), "corr-123")
    sell = OrderResult(
        symbol="MSFT",
        action="SELL",
        shares=Decimal("3"),
        price=Decimal("410.10"),
        trade_amount=Decimal("1230.30"),
        order_id="ord-msft-1",
        success=True,
        timestamp=datetime.now(UTC),
    )
    trade_ledger.record_filled_order(sell, "corr-123")

    ledger = trade_ledger.get_ledger()
    print(f"Total trades: {ledger.total_entries}")
    print(f"Total buy value: ${ledger.total_buy_value}")
    print(f"Total sell value: ${ledger.total_sell_value}")

    assert capsys.readouterr().out.splitlines() == [
        "Total trades: 2",
        "Total buy value: $1502.50",
        "Total sell value: $1230.30",
    ]
    assert trade_ledger.total_entries == 2


def test_missing_data_handling(trade_ledger: TradeLedgerService) -> None:
    test_order = OrderResult(
        symbol="TEST",
        action="BUY",
        shares=Decimal("1"),
        price=Decimal("9.99"),
        order_id="ord-test",
        success=True,
        timestamp=datetime.now(UTC),
    )
    trade_ledger.record_filled_order(test_order, "corr-123", None, None)

    entry = trade_ledger.get_entries_for_symbol("TEST")[0]

    assert entry.bid_at_fill is None
    assert entry.ask_at_fill is None
    assert entry.order_type == "MARKET"
    assert not entry.strategy_names
    assert entry.strategy_weights is None


def test_failed_orders_are_not_recorded(trade_ledger: TradeLedgerService) -> None:
    failed = OrderResult(
        symbol="AAPL",
        action="BUY",
        shares=Decimal("10"),
        price=None,
        order_id=None,
        success=False,
        error_message="insufficient buying power",
        timestamp=datetime.now(UTC),
    )
    assert trade_ledger.record_filled_order(failed, "corr-123") is None
    assert trade_ledger.total_entries == 0
    assert trade_ledger.events()[1:] == []


def test_ledger_json_dump_keeps_the_totals(trade_ledger: TradeLedgerService) -> None:
    trade_ledger.record_filled_order(aapl_buy(), "corr-123")
    dumped = trade_ledger.get_ledger().model_dump(mode="json")
    assert dumped["total_entries"] == 1
    assert dumped["total_buy_value"] == "1502.50"
    assert dumped["total_sell_value"] == "0"
    assert TradeLedger.model_validate(dumped) == trade_ledger.get_ledger()


def test_entry_fields_of_the_api_reference_are_typed() -> None:
    entry = TradeLedgerEntry(
        order_id="o",
        symbol="AAPL",
        direction="BUY",
        filled_qty=Decimal("2"),
        fill_price=Decimal("1.5"),
        fill_timestamp=datetime(2024, 1, 15),
    )
    assert entry.fill_timestamp.tzinfo is UTC
    assert entry.order_type == "MARKET"
    assert entry.strategy_names == []
    assert entry.strategy_weights is None
    assert entry.trade_value == Decimal("3.0")
