"""The guide's read models: one entry per order, and the run's ledger with its totals.

Ordinary frozen pydantic models: ``model_copy``, ``model_dump``, equality and
``model_validate`` of a dump behave as for any pydantic model. Their lists and dicts are
read-only (``FrozenList``/``FrozenDict``), so nothing handed out can be changed in place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from ledger_domain.fill import Side
from ledger_domain.frozen import FrozenDict, FrozenList, refuse
from ledger_domain.money import ZERO, exact_sum, exact_value


def as_utc(value: datetime) -> datetime:
    """Read naive datetimes as UTC and express aware ones in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _frozen_weights(value: dict[str, Decimal] | None) -> FrozenDict[str, Decimal] | None:
    return None if value is None else FrozenDict(value)


Texts = Annotated[list[str], AfterValidator(FrozenList)]
WeightsByStrategy = Annotated[dict[str, Decimal] | None, AfterValidator(_frozen_weights)]


class TradeLedgerEntry(BaseModel):
    """One filled order: its executions summed, the price volume-weighted.

    ``bid_at_fill``/``ask_at_fill`` and ``fill_timestamp`` are those of the order's latest
    execution. ``trade_value`` is the exact sum of quantity x price over the executions, so
    ledger totals never carry the rounding of an averaged price.
    """

    model_config = ConfigDict(frozen=True)

    order_id: str
    symbol: str
    direction: Side
    filled_qty: Decimal = Field(gt=0)
    fill_price: Decimal = Field(gt=0)
    bid_at_fill: Decimal | None = None
    ask_at_fill: Decimal | None = None
    fill_timestamp: datetime
    order_type: str = "MARKET"
    strategy_names: Texts = Field(default_factory=FrozenList)
    strategy_weights: WeightsByStrategy = None
    correlation_id: str | None = None
    execution_ids: Texts = Field(default_factory=FrozenList)
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
    entries: Annotated[list[TradeLedgerEntry], AfterValidator(FrozenList)] = Field(
        default_factory=FrozenList
    )
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
        return _total(self.entries, Side.BUY)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_sell_value(self) -> Decimal:
        return _total(self.entries, Side.SELL)


def _total(entries: list[TradeLedgerEntry], side: Side) -> Decimal:
    total = ZERO
    for entry in entries:
        if entry.direction == side:
            total = exact_sum(total, entry.trade_value)
    return total


class AllFieldsSet(set[str]):
    """The "fields set" of a model built from trusted values (every field given), shared
    by all of them: read-only, and its copies, which pydantic takes before changing one
    (``model_copy(update=...)``), are ordinary sets. One shared set instead of one per
    entry keeps the heap, and the garbage collector's work while recording, smaller."""

    __slots__ = ()

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (set, (list(self),))

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        refuse(self)

    def __isub__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        refuse(self)

    def __iand__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        refuse(self)

    def __ixor__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        refuse(self)

    add = discard = remove = pop = clear = update = refuse
    difference_update = intersection_update = symmetric_difference_update = refuse


def trusted(model: type[BaseModel], fields: AllFieldsSet, values: dict[str, Any]) -> Any:
    """A model from values the aggregate already validated, every field given in the form
    validation would produce: the same state as ``model_validate``, without its cost on
    the recording path."""
    instance = object.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", fields)
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


ENTRY_FIELDS = AllFieldsSet(TradeLedgerEntry.model_fields)
LEDGER_FIELDS = AllFieldsSet(TradeLedger.model_fields)
