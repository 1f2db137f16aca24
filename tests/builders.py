"""Small builders for ledger inputs shared by the core tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ledger_domain import RebalancePlan, RebalancePlanItem

FILL_TIME = datetime(2024, 1, 15, 14, 30, 52, tzinfo=UTC)


def order(
    symbol: str = "AAPL",
    action: str = "BUY",
    shares: Any = Decimal("10"),
    price: Any = Decimal("150.25"),
    order_id: str | None = "order-1",
    **extra: Any,
) -> SimpleNamespace:
    """An order result as the executor's own DTO: any object with these attribute names."""
    fields: dict[str, Any] = {
        "symbol": symbol,
        "action": action,
        "shares": shares,
        "price": price,
        "trade_amount": Decimal(0),
        "order_id": order_id,
        "success": True,
        "error_message": None,
        "timestamp": FILL_TIME,
        "order_type": None,
        "filled_at": None,
    }
    fields.update(extra)
    return SimpleNamespace(**fields)


def quote(bid: Any = "150.20", ask: Any = "150.30", **extra: Any) -> SimpleNamespace:
    """A quote as alpaca-py's ``Quote`` has it: ``bid_price``/``ask_price``."""
    return SimpleNamespace(bid_price=bid, ask_price=ask, **extra)


def plan(attribution: dict[str, Any] | None = None) -> RebalancePlan:
    return RebalancePlan(
        correlation_id="corr-123",
        causation_id="cause-123",
        timestamp=FILL_TIME,
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
        metadata=None if attribution is None else {"strategy_attribution": attribution},
    )
