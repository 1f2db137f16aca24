"""Closed runs with buys, sells, quotes and several strategies, recorded by the real service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger_domain import OrderResult, QuoteModel, RebalancePlan, TradeLedgerService


@dataclass(frozen=True)
class Trade:
    symbol: str
    side: str
    shares: str
    price: str
    weights: Mapping[str, str] | None = None
    quote: tuple[str, str] | None = None


def trading_run(created_at: datetime, trades: Sequence[Trade], correlation: str = "c") -> list[Any]:
    """The events of a closed run with one execution per trade, a second apart."""
    service = TradeLedgerService(correlation, created_at=created_at)
    for index, trade in enumerate(trades):
        attribution = {trade.symbol: dict(trade.weights)} if trade.weights else {}
        plan = RebalancePlan(
            correlation_id=correlation,
            causation_id="cause",
            timestamp=created_at,
            plan_id="plan",
            items=[],
            total_portfolio_value=Decimal("100000"),
            total_trade_value=Decimal("1000"),
            metadata={"strategy_attribution": attribution},
        )
        quote = (
            QuoteModel(bid_price=Decimal(trade.quote[0]), ask_price=Decimal(trade.quote[1]))
            if trade.quote
            else None
        )
        order = OrderResult(
            symbol=trade.symbol,
            action=trade.side,
            shares=Decimal(trade.shares),
            price=Decimal(trade.price),
            order_id=f"order-{correlation}-{index}-with-a-long-identifier",
            filled_at=created_at + timedelta(seconds=index + 1),
        )
        service.record_filled_order(order, correlation, plan, quote)
    service.close(created_at + timedelta(minutes=10))
    return service.events()
