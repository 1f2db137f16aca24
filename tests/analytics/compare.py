"""The projections' reports and the SQL over an export, as comparable rows."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import duckdb

from adapters.analytics.sql import QUERIES
from projections import ByStrategy, BySymbol, Totals
from projections.arithmetic import ratio


def projected(streams: Sequence[Sequence[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """By symbol, by strategy and totals of the Python projections over ``streams``."""
    symbols = BySymbol.build(*streams).result()
    strategies = ByStrategy.build(*streams).result()
    totals = Totals.build(*streams).result()
    strategy_rows = list(strategies.strategies)
    if strategies.unattributed.executions:
        strategy_rows.append(strategies.unattributed)
    return {
        "by_symbol": [
            (
                r.symbol,
                r.side.value,
                r.entries,
                r.executions,
                r.quantity,
                r.notional,
                r.average_price,
            )
            for r in symbols.rows
        ],
        "by_strategy": [
            (
                r.strategy,
                r.entries,
                r.executions,
                r.buy_quantity,
                r.buy_notional,
                r.sell_quantity,
                r.sell_notional,
                r.weight_adjustment,
            )
            for r in strategy_rows
        ],
        "totals": [
            (
                totals.buy_value,
                totals.sell_value,
                totals.net_value,
                totals.buy_entries,
                totals.sell_entries,
                totals.buy_executions,
                totals.sell_executions,
            )
        ],
    }


def queried(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """The same reports from the SQL over an export (VWAP from the exact SQL sums)."""
    result = {name: connection.execute(query).fetchall() for name, query in QUERIES.items()}
    result["by_symbol"] = [
        (*row, ratio(row[5], row[4]) or Decimal(0)) for row in result["by_symbol"]
    ]
    return result


def exactly(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows with every Decimal as (sign, digits, exponent) of its normal form: equal only
    when equal to the last digit (a scale's trailing zeros are not digits)."""
    return [
        tuple(v.normalize().as_tuple() if isinstance(v, Decimal) else v for v in row)
        for row in rows
    ]
