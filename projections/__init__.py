"""Read side of the trade ledger: pure folds over ledger events.

Every view has the same shape: start empty (``BySymbol()``), fold one event in with
``apply(event)`` (so a view can follow a live run through
``TradeLedgerService.subscribe(view)``), or ``build(*streams)`` from one run's events or
many runs' in order; ``result()`` returns an immutable pydantic report with ``Decimal``
values. Only ``Ledger.FillRecorded`` events count; the others are ignored. No I/O, and
nothing here but ``ledger_domain`` from this project is imported.
"""

from projections.core import Admission, FillProjection, Projection, attribution
from projections.pnl import Lot, PnLReport, PositionRow, StrategyPnL, StrategyPnLRow
from projections.quality import (
    ExecutionQuality,
    FillQuality,
    QualityReport,
    QualityRow,
    fill_qualities,
    fill_quality,
)
from projections.strategies import ByStrategy, StrategyReport, StrategyRow
from projections.symbols import BySymbol, SymbolReport, SymbolRow
from projections.totals import Totals, TotalsReport
from projections.views import LedgerReport, LedgerViews

__all__ = [
    "Admission",
    "ByStrategy",
    "BySymbol",
    "ExecutionQuality",
    "FillProjection",
    "FillQuality",
    "LedgerReport",
    "LedgerViews",
    "Lot",
    "PnLReport",
    "PositionRow",
    "Projection",
    "QualityReport",
    "QualityRow",
    "StrategyPnL",
    "StrategyPnLRow",
    "StrategyReport",
    "StrategyRow",
    "SymbolReport",
    "SymbolRow",
    "Totals",
    "TotalsReport",
    "attribution",
    "fill_qualities",
    "fill_quality",
]
