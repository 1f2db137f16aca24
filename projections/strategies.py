"""By strategy: the entries each strategy contributed to, its attributed quantity and notional."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ledger_domain import Side
from projections.arithmetic import ZERO, add, subtract
from projections.core import FillEvent, FillProjection, Shares, strategy_order

_BUY = Side.BUY  # a module constant: looking up an enum member costs ~60 ns a fill


class StrategyRow(BaseModel):
    """One strategy's attributed trading (``strategy is None``: the unattributed line).

    Attributed quantity is weight x quantity and attributed notional weight x quantity x
    price, per execution, summed exactly. ``weight_adjustment`` is the part of this
    strategy's notional that does not come from its own weights: when an execution's
    weights do not sum to exactly 1, the strategy with the largest weight takes the
    remainder so that the lines add up to the total exactly (zero when every weight set
    sums to exactly 1, as ``0.6``/``0.4`` does; at most 1e-6 x notional per execution).
    """

    model_config = ConfigDict(frozen=True)

    strategy: str | None
    entries: int = 0
    executions: int = 0
    buy_quantity: Decimal = ZERO
    buy_notional: Decimal = ZERO
    sell_quantity: Decimal = ZERO
    sell_notional: Decimal = ZERO
    weight_adjustment: Decimal = ZERO

    @property
    def quantity(self) -> Decimal:
        """Attributed quantity, bought plus sold."""
        return add(self.buy_quantity, self.sell_quantity)

    @property
    def notional(self) -> Decimal:
        """Attributed notional, bought plus sold."""
        return add(self.buy_notional, self.sell_notional)

    @property
    def net_notional(self) -> Decimal:
        """buy_notional - sell_notional (positive: the strategy bought more than it sold)."""
        return subtract(self.buy_notional, self.sell_notional)


class StrategyReport(BaseModel):
    """Every strategy (sorted by name), the unattributed line, and the total they add up to.

    Each execution is split exactly (see ``StrategyRow``), so for quantity and for notional
    the strategies plus the unattributed line equal the total over all executions exactly
    (``total_notional`` equals ``TotalsReport.gross_value``).
    """

    model_config = ConfigDict(frozen=True)

    strategies: tuple[StrategyRow, ...] = ()
    unattributed: StrategyRow = StrategyRow(strategy=None)
    total_quantity: Decimal = ZERO
    total_notional: Decimal = ZERO

    def strategy(self, name: str) -> StrategyRow | None:
        """The row of strategy ``name``, if it traded."""
        for row in self.strategies:
            if row.strategy == name:
                return row
        return None

    @property
    def weight_adjustment(self) -> Decimal:
        """The total notional moved by weights not summing to exactly 1 (signed)."""
        total = ZERO
        for row in self.strategies:
            total = add(total, row.weight_adjustment)
        return total


class _Attributed:
    __slots__ = (
        "adjustment",
        "buy_notional",
        "buy_quantity",
        "entries",
        "executions",
        "sell_notional",
        "sell_quantity",
    )

    def __init__(self) -> None:
        self.entries = 0
        self.executions = 0
        self.buy_quantity = ZERO
        self.buy_notional = ZERO
        self.sell_quantity = ZERO
        self.sell_notional = ZERO
        self.adjustment = ZERO


class ByStrategy(FillProjection[StrategyReport]):
    """Per strategy: entries contributed to, attributed quantity and notional."""

    uses_shares = True

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str | None, _Attributed] = {}

    def _fold(self, fill: FillEvent, value: Decimal, new_order: bool, shares: Shares) -> None:
        buying = fill.side is _BUY
        rows = self._rows
        for name, quantity, notional, adjustment in shares:
            row = rows.get(name)
            if row is None:
                row = rows[name] = _Attributed()
            if new_order:
                row.entries += 1
            row.executions += 1
            if buying:
                row.buy_quantity += quantity
                row.buy_notional += notional
            else:
                row.sell_quantity += quantity
                row.sell_notional += notional
            if adjustment:
                row.adjustment += adjustment

    def result(self) -> StrategyReport:
        rows = [
            StrategyRow(
                strategy=name,
                entries=row.entries,
                executions=row.executions,
                buy_quantity=row.buy_quantity,
                buy_notional=row.buy_notional,
                sell_quantity=row.sell_quantity,
                sell_notional=row.sell_notional,
                weight_adjustment=row.adjustment,
            )
            for name, row in self._rows.items()
        ]
        return strategy_report(rows)


def strategy_report(rows: Iterable[StrategyRow]) -> StrategyReport:
    """Rows of every strategy (``None``: unattributed) as one report, in strategy order.

    Shared by the in-memory projection and the live views read back from PostgreSQL, so
    both order and total their rows the same way.
    """
    ordered = sorted(rows, key=lambda row: strategy_order(row.strategy))
    quantity = notional = ZERO
    for row in ordered:
        quantity = add(quantity, row.quantity)
        notional = add(notional, row.notional)
    unattributed = StrategyRow(strategy=None)
    if ordered and ordered[-1].strategy is None:
        unattributed = ordered.pop()
    return StrategyReport(
        strategies=tuple(ordered),
        unattributed=unattributed,
        total_quantity=quantity,
        total_notional=notional,
    )
