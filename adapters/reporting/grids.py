"""The report's views as rows of text: one source for the terminal, CSV and HTML tables.

Amounts and quantities are the projections' exact Decimals, written as their own text
(``str(Decimal)``: no float, no rounding, no exponent surprises for the values the ledger
accepts). Ratios (average prices, basis points) are 28-digit roundings already; with
``exact=False`` (terminal and HTML) they are shown rounded half-even to
``PRICE_PLACES``/``BPS_PLACES`` decimals, while CSV and JSON keep every digit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum
from typing import Any, Literal

from projections import LedgerReport, QualityRow, StrategyRow

Kind = Literal["id", "name", "number", "text"]
UNATTRIBUTED = "(unattributed)"
PRICE_PLACES = Decimal("0.0001")
BPS_PLACES = Decimal("0.01")
_ROUNDING = Context(prec=400, rounding=ROUND_HALF_EVEN)


class View(StrEnum):
    """The views ``trade-ledger report`` prints."""

    symbols = "symbols"
    strategies = "strategies"
    totals = "totals"
    quality = "quality"
    pnl = "pnl"


@dataclass(frozen=True)
class Grid:
    """A titled table: column names (snake_case, as in CSV), their kinds, rows of text."""

    title: str
    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def headers(self) -> tuple[str, ...]:
        """The names as column headers (``buy_notional`` -> ``buy notional``)."""
        return tuple(name.replace("_", " ") for name in self.names)


def text(value: Decimal | int | str | None) -> str:
    """A value as exact text; ``-`` for nothing."""
    if value is None:
        return "-"
    return str(value)


def rounded(value: Decimal | None, places: Decimal, exact: bool) -> str:
    """A ratio: every digit when ``exact``, else rounded half-even to ``places``."""
    if value is None:
        return "-"
    return str(value if exact else value.quantize(places, context=_ROUNDING))


def strategy_name(name: str | None) -> str:
    return UNATTRIBUTED if name is None else name


def symbols_grids(report: LedgerReport, exact: bool) -> list[Grid]:
    rows = tuple(
        (
            row.symbol,
            row.side.value,
            text(row.entries),
            text(row.executions),
            text(row.quantity),
            text(row.notional),
            rounded(row.average_price, PRICE_PLACES, exact),
        )
        for row in report.by_symbol.rows
    )
    names = ("symbol", "side", "entries", "executions", "quantity", "notional", "average_price")
    kinds: tuple[Kind, ...] = ("name", "name", "number", "number", "number", "number", "number")
    return [Grid("By symbol", names, kinds, rows)]


def _strategy_row(row: StrategyRow) -> tuple[str, ...]:
    return (
        strategy_name(row.strategy),
        text(row.entries),
        text(row.executions),
        text(row.buy_quantity),
        text(row.buy_notional),
        text(row.sell_quantity),
        text(row.sell_notional),
        text(row.weight_adjustment),
    )


def strategies_grids(report: LedgerReport, exact: bool) -> list[Grid]:
    strategies = report.by_strategy
    lines = list(strategies.strategies)
    if strategies.unattributed.executions:
        lines.append(strategies.unattributed)
    names = (
        "strategy",
        "entries",
        "executions",
        "buy_quantity",
        "buy_notional",
        "sell_quantity",
        "sell_notional",
        "weight_adjustment",
    )
    kinds: tuple[Kind, ...] = ("name", *(("number",) * 7))
    return [Grid("By strategy", names, kinds, tuple(_strategy_row(row) for row in lines))]


def totals_grids(report: LedgerReport, exact: bool) -> list[Grid]:
    totals = report.totals
    names = (
        "buy_value",
        "sell_value",
        "net_value",
        "buy_entries",
        "sell_entries",
        "buy_executions",
        "sell_executions",
    )
    row = (
        text(totals.buy_value),
        text(totals.sell_value),
        text(totals.net_value),
        text(totals.buy_entries),
        text(totals.sell_entries),
        text(totals.buy_executions),
        text(totals.sell_executions),
    )
    return [Grid("Totals", names, ("number",) * 7, (row,))]


def _quality_row(group: str, name: str, row: QualityRow, exact: bool) -> tuple[str, ...]:
    return (
        group,
        name,
        text(row.fills),
        text(row.quoted_fills),
        text(row.unquoted_fills),
        text(row.quoted_notional),
        text(row.unquoted_notional),
        rounded(row.slippage_bps, BPS_PLACES, exact),
        rounded(row.spread_bps, BPS_PLACES, exact),
        text(row.slippage_cost),
    )


def quality_grids(report: LedgerReport, exact: bool) -> list[Grid]:
    quality = report.execution_quality
    rows = [_quality_row("overall", "(all)", quality.overall, exact)]
    rows += [_quality_row("symbol", row.name or "", row, exact) for row in quality.by_symbol]
    rows += [
        _quality_row("strategy", strategy_name(row.name), row, exact) for row in quality.by_strategy
    ]
    if quality.unattributed.fills:
        rows.append(_quality_row("strategy", UNATTRIBUTED, quality.unattributed, exact))
    names = (
        "group",
        "name",
        "fills",
        "quoted_fills",
        "unquoted_fills",
        "quoted_notional",
        "unquoted_notional",
        "slippage_bps",
        "spread_bps",
        "slippage_cost",
    )
    kinds: tuple[Kind, ...] = ("name", "name", *(("number",) * 8))
    return [Grid("Execution quality", names, kinds, tuple(rows))]


def pnl_grids(report: LedgerReport, exact: bool) -> list[Grid]:
    pnl = report.strategy_pnl
    positions = tuple(
        (
            strategy_name(row.strategy),
            row.symbol,
            text(row.bought_quantity),
            text(row.bought_notional),
            text(row.sold_quantity),
            text(row.sold_notional),
            text(row.realised_pnl),
            text(row.open_quantity),
            text(row.open_cost),
            text(row.unmatched_sell_quantity),
        )
        for row in pnl.positions
    )
    position_names = (
        "strategy",
        "symbol",
        "bought_quantity",
        "bought_notional",
        "sold_quantity",
        "sold_notional",
        "realised_pnl",
        "open_quantity",
        "open_cost",
        "unmatched_sell_quantity",
    )
    position_kinds: tuple[Kind, ...] = ("name", "name", *(("number",) * 8))
    totals = tuple(
        (
            strategy_name(row.strategy),
            text(row.realised_pnl),
            text(row.open_positions),
            text(row.unmatched_sells),
        )
        for row in pnl.by_strategy
    )
    totals += (("(total)", text(pnl.total_realised_pnl), "", ""),)
    return [
        Grid("P&L positions (FIFO)", position_names, position_kinds, positions),
        Grid(
            "Realised P&L by strategy",
            ("strategy", "realised_pnl", "open_positions", "unmatched_sells"),
            ("name", "number", "number", "number"),
            totals,
        ),
    ]


GRIDS: dict[View, Callable[[LedgerReport, bool], list[Grid]]] = {
    View.symbols: symbols_grids,
    View.strategies: strategies_grids,
    View.totals: totals_grids,
    View.quality: quality_grids,
    View.pnl: pnl_grids,
}


def grids(report: LedgerReport, view: View, *, exact: bool) -> list[Grid]:
    """The tables of one view (the first is the one ``--csv`` writes)."""
    return GRIDS[view](report, exact)


def view_json(report: LedgerReport, view: View) -> Any:
    """One view's report as JSON (Decimals as exact strings)."""
    part = {
        View.symbols: report.by_symbol,
        View.strategies: report.by_strategy,
        View.totals: report.totals,
        View.quality: report.execution_quality,
        View.pnl: report.strategy_pnl,
    }[view]
    return part.model_dump(mode="json")
