"""The guide's read models: one entry per order, and the run's ledger with its totals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from ledger_domain.money import ZERO, exact_sum, exact_value

Direction = Literal["BUY", "SELL"]


def as_utc(value: datetime) -> datetime:
    """Read naive datetimes as UTC and express aware ones in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class TradeLedgerEntry(BaseModel):
    """One filled order: its executions summed, the price volume-weighted.

    ``bid_at_fill``/``ask_at_fill`` and ``fill_timestamp`` are those of the order's latest
    execution. ``trade_value`` is the exact sum of quantity x price over the executions, so
    ledger totals never carry the rounding of an averaged price.
    """

    model_config = ConfigDict(frozen=True)

    order_id: str
    symbol: str
    direction: Direction
    filled_qty: Decimal = Field(gt=0)
    fill_price: Decimal = Field(gt=0)
    bid_at_fill: Decimal | None = None
    ask_at_fill: Decimal | None = None
    fill_timestamp: datetime
    order_type: str = "MARKET"
    strategy_names: list[str] = Field(default_factory=list)
    strategy_weights: dict[str, Decimal] | None = None
    correlation_id: str | None = None
    execution_ids: list[str] = Field(default_factory=list)
    trade_value: Decimal = ZERO

    @field_validator("fill_timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @model_validator(mode="after")
    def _default_trade_value(self) -> TradeLedgerEntry:
        if self.trade_value == ZERO:
            object.__setattr__(self, "trade_value", exact_value(self.filled_qty, self.fill_price))
        return self


class TradeLedger(BaseModel):
    """All entries of one run; the totals are part of the JSON dump."""

    model_config = ConfigDict(frozen=True)

    ledger_id: str
    created_at: datetime
    entries: list[TradeLedgerEntry] = Field(default_factory=list)
    correlation_id: str | None = None
    closed_at: datetime | None = None

    @field_validator("created_at", "closed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_entries(self) -> int:
        return len(self.entries)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_buy_value(self) -> Decimal:
        return _total(self.entries, "BUY")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_sell_value(self) -> Decimal:
        return _total(self.entries, "SELL")


def _total(entries: list[TradeLedgerEntry], direction: str) -> Decimal:
    total = ZERO
    for entry in entries:
        if entry.direction == direction:
            total = exact_sum(total, entry.trade_value)
    return total
