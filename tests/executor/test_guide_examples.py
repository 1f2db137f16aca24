# ruff: noqa: PLC0415  (the guide's snippets import inside, as written)
"""The guide's examples run as written: only the imports adapted, the simulated broker in
place of Alpaca (``AlpacaManager(...)`` becomes ``SimulatedBroker(...)``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.executor.conftest import ATTRIBUTION, item, make_plan, run_documents


def test_basic_usage(capsys: pytest.CaptureFixture[str], archive_directory: Path) -> None:
    from adapters import Executor
    from adapters import SimulatedBroker as AlpacaManager

    plan = make_plan(
        [item("AAPL", "BUY", "5000"), item("MSFT", "SELL", "-2000")],
        attribution=ATTRIBUTION,
    )

    async def guide() -> None:
        # Initialize executor
        alpaca_manager = AlpacaManager(prices={"AAPL": "199.99", "MSFT": "400.01"})
        executor = Executor(alpaca_manager)

        # Execute a rebalance plan
        result = await executor.execute_rebalance_plan(plan)

        # Access the ledger
        ledger = executor.trade_ledger.get_ledger()
        print(f"Total trades: {ledger.total_entries}")
        print(f"Total buy value: ${ledger.total_buy_value}")
        print(f"Total sell value: ${ledger.total_sell_value}")

        # Get all trades for a specific symbol
        aapl_trades = executor.trade_ledger.get_entries_for_symbol("AAPL")

        for trade in aapl_trades:
            print(f"{trade.direction} {trade.filled_qty} @ ${trade.fill_price}")
            print(f"  Order ID: {trade.order_id}")
            print(f"  Strategies: {', '.join(trade.strategy_names)}")

        # Get all trades attributed to a specific strategy
        strategy_trades = executor.trade_ledger.get_entries_for_strategy("momentum_strategy")
        assert [t.symbol for t in strategy_trades] == ["AAPL"]
        assert result.success

    asyncio.run(guide())
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "Total trades: 2",
        "Total buy value: $5000.00",
        "Total sell value: $2000.00",
    ]
    assert lines[3] == "BUY 25 @ $200.00"
    assert lines[4].startswith("  Order ID: ")
    assert lines[5] == "  Strategies: momentum_strategy, mean_reversion_strategy"
    # Persistence: written once at the end of the run to the default (local) archive.
    documents = run_documents(archive_directory)
    assert len(documents) == 1


def test_multi_strategy_attribution(capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from adapters import Executor, SimulatedBroker
    from ledger_domain import RebalancePlan, RebalancePlanItem

    executor = Executor(SimulatedBroker())

    async def guide() -> None:
        # Example: Two strategies both suggest AAPL with different weights
        # Strategy A wants 30% AAPL, Strategy B wants 20% AAPL
        # Combined: 50% AAPL (60% from A, 40% from B)

        plan = RebalancePlan(
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

        # Execute and check attribution
        result = await executor.execute_rebalance_plan(plan)
        aapl_trades = executor.trade_ledger.get_entries_for_symbol("AAPL")

        for trade in aapl_trades:
            print(f"Strategies: {trade.strategy_names}")
            # Output: ['momentum_strategy', 'mean_reversion_strategy']
            print(f"Weights: {trade.strategy_weights}")
            # Output: {'momentum_strategy': Decimal('0.6'), 'mean_reversion_strategy': Decimal('0.4')}  # noqa: E501
        assert result.orders_filled == 1

    asyncio.run(guide())
    assert capsys.readouterr().out.splitlines() == [
        "Strategies: ['momentum_strategy', 'mean_reversion_strategy']",
        "Weights: {'momentum_strategy': Decimal('0.6'), 'mean_reversion_strategy': Decimal('0.4')}",
    ]


def test_individual_trade_details_and_missing_data(capsys: pytest.CaptureFixture[str]) -> None:
    from adapters import Executor, SimulatedBroker

    executor = Executor(
        SimulatedBroker(no_quote={"TEST"}, reject={"GME": "insufficient buying power"})
    )
    plan = make_plan([item("TEST", "BUY", "250"), item("GME", "BUY", "500")])
    asyncio.run(executor.execute_rebalance_plan(plan))

    # Get complete ledger
    ledger = executor.trade_ledger.get_ledger()

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

    entry = executor.trade_ledger.get_entries_for_symbol("TEST")[0]

    if entry.bid_at_fill is None:
        print("Bid/ask data not available at fill time")

    if not entry.strategy_names:
        print("No strategy attribution available")

    out = capsys.readouterr().out
    assert "Symbol: TEST" in out
    assert "Bid/Ask: $None / $None" in out
    assert "Order Type: MARKET" in out
    assert "Bid/ask data not available at fill time" in out
    assert "No strategy attribution available" in out
    # Failed orders: not recorded (only successful fills).
    assert executor.trade_ledger.get_entries_for_symbol("GME") == []
    assert ledger.total_entries == 1
