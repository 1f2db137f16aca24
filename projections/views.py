"""Every view in one fold: each event is admitted, valued and split between strategies once."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from projections.core import FillEvent, FillProjection, Shares
from projections.pnl import PnLReport, StrategyPnL
from projections.quality import ExecutionQuality, QualityReport
from projections.strategies import ByStrategy, StrategyReport
from projections.symbols import BySymbol, SymbolReport
from projections.totals import Totals, TotalsReport


class LedgerReport(BaseModel):
    """The reports of all views over the same events."""

    model_config = ConfigDict(frozen=True)

    by_symbol: SymbolReport
    by_strategy: StrategyReport
    totals: TotalsReport
    execution_quality: QualityReport
    strategy_pnl: PnLReport


class LedgerViews(FillProjection[LedgerReport]):
    """All views at once; the same result as building each of them on its own.

    The member views are reachable as attributes for their reports
    (``views.totals.result()``); feed events to the ``LedgerViews``, not to them.
    """

    uses_shares = True

    def __init__(self) -> None:
        super().__init__()
        self.by_symbol = BySymbol()
        self.by_strategy = ByStrategy()
        self.totals = Totals()
        self.execution_quality = ExecutionQuality()
        self.strategy_pnl = StrategyPnL()
        self._folds = (
            self.by_symbol._fold,
            self.by_strategy._fold,
            self.totals._fold,
            self.execution_quality._fold,
            self.strategy_pnl._fold,
        )

    def _fold(self, fill: FillEvent, value: Decimal, new_order: bool, shares: Shares) -> None:
        for fold in self._folds:
            fold(fill, value, new_order, shares)

    def result(self) -> LedgerReport:
        return LedgerReport(
            by_symbol=self.by_symbol.result(),
            by_strategy=self.by_strategy.result(),
            totals=self.totals.result(),
            execution_quality=self.execution_quality.result(),
            strategy_pnl=self.strategy_pnl.result(),
        )
