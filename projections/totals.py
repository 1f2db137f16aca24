"""Buy/sell totals: values, counts and net, exactly as the ledger's own totals."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ledger_domain import Side
from projections.arithmetic import ZERO, add, subtract
from projections.core import FillEvent, FillProjection, Shares

_BUY = Side.BUY  # a module constant: looking up an enum member costs ~60 ns a fill


class TotalsReport(BaseModel):
    """Totals over every fill applied.

    ``buy_value``/``sell_value`` are exact sums of quantity x price per execution, the
    same numbers as ``TradeLedger.total_buy_value``/``total_sell_value`` for one run (and
    their sums over several). ``net_value = buy_value - sell_value``: positive when more
    was bought than sold (cash spent), negative when more was sold (cash received).
    ``*_entries`` count orders (the guide's entries), ``*_executions`` count fills.
    """

    model_config = ConfigDict(frozen=True)

    buy_value: Decimal = ZERO
    sell_value: Decimal = ZERO
    net_value: Decimal = ZERO
    buy_entries: int = 0
    sell_entries: int = 0
    buy_executions: int = 0
    sell_executions: int = 0

    @property
    def total_entries(self) -> int:
        """All orders (for one run: ``TradeLedger.total_entries``)."""
        return self.buy_entries + self.sell_entries

    @property
    def gross_value(self) -> Decimal:
        """buy_value + sell_value: everything traded."""
        return add(self.buy_value, self.sell_value)


class Totals(FillProjection[TotalsReport]):
    """Buy value, sell value, counts and net."""

    def __init__(self) -> None:
        super().__init__()
        self._buy_value = ZERO
        self._sell_value = ZERO
        self._buy_entries = 0
        self._sell_entries = 0
        self._buy_executions = 0
        self._sell_executions = 0

    def _fold(self, fill: FillEvent, value: Decimal, new_order: bool, shares: Shares) -> None:
        if fill.side is _BUY:
            self._buy_value += value
            self._buy_executions += 1
            if new_order:
                self._buy_entries += 1
        else:
            self._sell_value += value
            self._sell_executions += 1
            if new_order:
                self._sell_entries += 1

    def result(self) -> TotalsReport:
        return TotalsReport(
            buy_value=self._buy_value,
            sell_value=self._sell_value,
            net_value=subtract(self._buy_value, self._sell_value),
            buy_entries=self._buy_entries,
            sell_entries=self._sell_entries,
            buy_executions=self._buy_executions,
            sell_executions=self._sell_executions,
        )
