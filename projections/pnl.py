"""Strategy P&L across runs: FIFO lots per (strategy, symbol), realised P&L, open lots.

Each execution is split between its strategies as in ``ByStrategy`` (weight x quantity,
unattributed fills on a ``None`` strategy). Per (strategy, symbol), in stream order:

- a BUY first covers open short lots, oldest first, realising (short price - buy price) x
  quantity; what is left opens a long lot at the buy price;
- a SELL first closes open long lots, oldest first, realising (sell price - lot price) x
  quantity; what is left (a sell with no open long lot) is an *unmatched sell*: it opens a
  short lot at the sell price, and its quantity is counted in ``unmatched_sell_quantity``.

So nothing vanishes: a position is always all long lots or all short lots, and summed
over strategies the open quantity of a symbol is what was bought minus what was sold.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ledger_domain import Ledger, Side
from projections.arithmetic import ZERO, add, multiply, negate, ratio, subtract
from projections.core import FillEvent, FillProjection, Shares, strategy_order

_BUY = Side.BUY  # a module constant: looking up an enum member costs ~60 ns a fill

LONG = 1
SHORT = -1


class Lot(BaseModel):
    """An open lot: what is left of one execution's share that nothing has closed yet."""

    model_config = ConfigDict(frozen=True)

    side: Literal["LONG", "SHORT"]
    quantity: Decimal
    price: Decimal
    opened_at: datetime
    ledger_id: str
    order_id: str
    execution_id: str


class PositionRow(BaseModel):
    """One strategy's position in one symbol (``strategy is None``: unattributed fills).

    ``open_quantity`` is signed (+ long, - short) and ``open_cost`` is the signed sum of
    lot quantity x lot price (what the long lots cost, minus what the short lots fetched).
    ``realised_pnl`` is positive for a gain.
    """

    model_config = ConfigDict(frozen=True)

    strategy: str | None
    symbol: str
    bought_quantity: Decimal = ZERO
    bought_notional: Decimal = ZERO
    sold_quantity: Decimal = ZERO
    sold_notional: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    open_quantity: Decimal = ZERO
    open_cost: Decimal = ZERO
    open_lots: tuple[Lot, ...] = ()
    unmatched_sell_quantity: Decimal = ZERO
    unmatched_sells: int = 0

    @property
    def average_open_price(self) -> Decimal | None:
        """open_cost / open_quantity (28 significant digits); ``None`` when flat."""
        return ratio(self.open_cost, self.open_quantity)

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        """P&L of the open lots if they were closed at ``mark`` (exact)."""
        return subtract(multiply(self.open_quantity, mark), self.open_cost)


class StrategyPnLRow(BaseModel):
    """One strategy's realised P&L over all its symbols."""

    model_config = ConfigDict(frozen=True)

    strategy: str | None
    realised_pnl: Decimal = ZERO
    open_positions: int = 0
    unmatched_sells: int = 0


class PnLReport(BaseModel):
    """Positions sorted by strategy (unattributed last) then symbol; per-strategy totals."""

    model_config = ConfigDict(frozen=True)

    positions: tuple[PositionRow, ...] = ()
    by_strategy: tuple[StrategyPnLRow, ...] = ()
    total_realised_pnl: Decimal = ZERO

    def position(self, strategy: str | None, symbol: str) -> PositionRow | None:
        """The position of ``strategy`` (``None``: unattributed) in ``symbol``."""
        wanted = symbol.strip().upper()
        for row in self.positions:
            if row.strategy == strategy and row.symbol == wanted:
                return row
        return None

    def strategy(self, name: str | None) -> StrategyPnLRow | None:
        """The totals of strategy ``name`` (``None``: unattributed)."""
        return next((row for row in self.by_strategy if row.strategy == name), None)


# An open lot while folding: [quantity, price, fill time, ledger id, order id, execution id]
_QUANTITY = 0
_PRICE = 1


class _Position:
    __slots__ = (
        "bought_notional",
        "bought_quantity",
        "lots",
        "realised",
        "side",
        "sold_notional",
        "sold_quantity",
        "unmatched_quantity",
        "unmatched_sells",
    )

    def __init__(self) -> None:
        self.lots: deque[list[Any]] = deque()
        self.side = 0
        self.bought_quantity = ZERO
        self.bought_notional = ZERO
        self.sold_quantity = ZERO
        self.sold_notional = ZERO
        self.realised = ZERO
        self.unmatched_quantity = ZERO
        self.unmatched_sells = 0

    def trade(
        self, buying: bool, quantity: Decimal, notional: Decimal, fill: Ledger.FillRecorded
    ) -> None:
        """Inside ``wide()``: close opposite lots FIFO, open a lot with what is left."""
        price = fill.price
        if buying:
            self.bought_quantity += quantity
            self.bought_notional += notional
            closes = SHORT
        else:
            self.sold_quantity += quantity
            self.sold_notional += notional
            closes = LONG
        lots = self.lots
        if self.side == closes:
            realised = self.realised
            while lots:
                lot = lots[0]
                available = lot[_QUANTITY]
                gain = lot[_PRICE] - price if buying else price - lot[_PRICE]
                if available > quantity:
                    realised += gain * quantity
                    lot[_QUANTITY] = available - quantity
                    quantity = ZERO
                    break
                realised += gain * available
                quantity -= available
                lots.popleft()
                if not quantity:
                    break
            self.realised = realised
            if not lots:
                self.side = 0
        if quantity:
            if not buying:
                self.unmatched_quantity += quantity
                self.unmatched_sells += 1
            lots.append(
                [
                    quantity,
                    price,
                    fill.filled_at,
                    fill.originator_id,
                    fill.order_id,
                    fill.execution_id,
                ]
            )
            self.side = LONG if buying else SHORT

    def row(self, strategy: str | None, symbol: str, ids: dict[UUID, str]) -> PositionRow:
        side: Literal["LONG", "SHORT"] = "LONG" if self.side == LONG else "SHORT"
        open_quantity = ZERO
        open_cost = ZERO
        lots = []
        for quantity, price, opened_at, ledger, order_id, execution_id in self.lots:
            open_quantity = add(open_quantity, quantity)
            open_cost = add(open_cost, multiply(quantity, price))
            ledger_id = ids.get(ledger)
            if ledger_id is None:
                ledger_id = ids[ledger] = str(ledger)
            lots.append(
                Lot(
                    side=side,
                    quantity=quantity,
                    price=price,
                    opened_at=opened_at,
                    ledger_id=ledger_id,
                    order_id=order_id,
                    execution_id=execution_id,
                )
            )
        if self.side == SHORT:
            open_quantity = negate(open_quantity)
            open_cost = negate(open_cost)
        return PositionRow(
            strategy=strategy,
            symbol=symbol,
            bought_quantity=self.bought_quantity,
            bought_notional=self.bought_notional,
            sold_quantity=self.sold_quantity,
            sold_notional=self.sold_notional,
            realised_pnl=self.realised,
            open_quantity=open_quantity,
            open_cost=open_cost,
            open_lots=tuple(lots),
            unmatched_sell_quantity=self.unmatched_quantity,
            unmatched_sells=self.unmatched_sells,
        )


class StrategyPnL(FillProjection[PnLReport]):
    """FIFO lots and realised P&L per (strategy, symbol), over one run or many."""

    uses_shares = True

    def __init__(self) -> None:
        super().__init__()
        self._positions: dict[tuple[str | None, str], _Position] = {}

    def _fold(self, fill: FillEvent, value: Decimal, new_order: bool, shares: Shares) -> None:
        positions = self._positions
        symbol = fill.symbol
        buying = fill.side is _BUY
        for name, quantity, notional, _adjustment in shares:
            key = (name, symbol)
            position = positions.get(key)
            if position is None:
                position = positions[key] = _Position()
            position.trade(buying, quantity, notional, fill)

    def realised_by_strategy(self) -> dict[str | None, Decimal]:
        """Realised P&L per strategy so far, cheaply (no report built): for time series."""
        totals: dict[str | None, Decimal] = {}
        for (strategy, _symbol), position in self._positions.items():
            totals[strategy] = add(totals.get(strategy, ZERO), position.realised)
        return totals

    def result(self) -> PnLReport:
        ids: dict[UUID, str] = {}
        rows = [
            position.row(strategy, symbol, ids)
            for (strategy, symbol), position in sorted(
                self._positions.items(), key=lambda item: (strategy_order(item[0][0]), item[0][1])
            )
        ]
        totals: dict[str | None, StrategyPnLRow] = {}
        total = ZERO
        for row in rows:
            seen = totals.get(row.strategy) or StrategyPnLRow(strategy=row.strategy)
            totals[row.strategy] = StrategyPnLRow(
                strategy=row.strategy,
                realised_pnl=add(seen.realised_pnl, row.realised_pnl),
                open_positions=seen.open_positions + (1 if row.open_lots else 0),
                unmatched_sells=seen.unmatched_sells + row.unmatched_sells,
            )
            total = add(total, row.realised_pnl)
        return PnLReport(
            positions=tuple(rows),
            by_strategy=tuple(totals.values()),
            total_realised_pnl=total,
        )
