"""Input DTOs in the trading system's own shapes (the guide's constructor calls work as written).

``record_filled_order`` reads these by attribute name, so any object with the same names
(the executor's own DTOs, alpaca-py's ``Quote``) is accepted too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OrderResult(BaseModel):
    """What the executor knows about one order after placing it."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    action: str
    shares: Decimal
    price: Decimal | None = None
    trade_amount: Decimal = Decimal(0)
    order_id: str | None = None
    success: bool = True
    error_message: str | None = None
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    order_type: str | None = None
    filled_at: datetime | None = None
    execution_id: str | None = None
    """Set for one execution of a partially filled order; ``None`` means the whole order."""


class QuoteModel(BaseModel):
    """Bid and ask seen at the moment of a fill (alpaca-py's ``Quote`` has the same names)."""

    model_config = ConfigDict(frozen=True)

    bid_price: Decimal | None = None
    ask_price: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    timestamp: datetime | None = None


class RebalancePlanItem(BaseModel):
    """One symbol's move in a rebalance plan."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    current_weight: Decimal
    target_weight: Decimal
    weight_diff: Decimal
    target_value: Decimal
    current_value: Decimal
    trade_amount: Decimal
    action: Literal["BUY", "SELL", "HOLD"]
    priority: int = 1


class RebalancePlan(BaseModel):
    """A run's plan; ``metadata["strategy_attribution"][symbol]`` carries strategy weights."""

    model_config = ConfigDict(frozen=True)

    correlation_id: str
    causation_id: str
    timestamp: datetime
    plan_id: str
    items: list[RebalancePlanItem]
    total_portfolio_value: Decimal
    total_trade_value: Decimal
    metadata: dict[str, Any] | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _drop_placeholders(cls, value: Any) -> Any:
        """The guide writes ``items=[...]``; read the literal ``...`` as "no items here"."""
        if isinstance(value, list):
            return [item for item in value if item is not Ellipsis]
        return value
