"""The live views' tables in PostgreSQL, kept by eventsourcing's tracking recorder.

``LiveViewsRecorder`` is a ``PostgresTrackingRecorder`` with four more tables beside its
tracking table (``<name>_tracking``)::

    <name>_orders       (ledger_id, order_id)           the orders seen (an entry's first fill)
    <name>_by_symbol    (symbol, side) -> entries, executions, quantity, notional
    <name>_by_strategy  (attributed, strategy) -> entries, executions, buy/sell quantity and
                        notional, weight_adjustment
    <name>_totals       (side) -> value, entries, executions

Every amount is ``NUMERIC`` (exact, no scale limit that a ledger value reaches): the
database adds the exact Decimals the projections compute. One fill's rows change in the
same transaction as the tracking position, so a fill is counted exactly once, across
restarts, crashes and concurrent followers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from ledger_domain import Side
from projections import (
    StrategyReport,
    StrategyRow,
    SymbolReport,
    SymbolRow,
    TotalsReport,
)
from projections.arithmetic import ZERO, ratio, subtract
from projections.core import Shares
from projections.strategies import strategy_report


@dataclass(frozen=True)
class FillFacts:
    """What one fill adds to the views (computed by the projections' own arithmetic)."""

    ledger_id: UUID
    order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    value: Decimal
    shares: Shares


class LiveViewsRecorder(PostgresTrackingRecorder):
    """Tracking position and view rows, changed together."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "live_views_tracking",
        **kwargs: Any,
    ) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        base = tracking_table_name.removesuffix("_tracking")
        self.tables = {
            part: f"{base}_{part}" for part in ("orders", "by_symbol", "by_strategy", "totals")
        }
        for table in self.tables.values():
            self.check_identifier_length(table)
        self.sql_create_statements.extend(
            self._sql(statement)
            for statement in (
                "CREATE TABLE IF NOT EXISTS {schema}.{orders} (ledger_id uuid, order_id text, "
                "PRIMARY KEY (ledger_id, order_id))",
                "CREATE TABLE IF NOT EXISTS {schema}.{by_symbol} (symbol text, side text, "
                "entries bigint NOT NULL, executions bigint NOT NULL, "
                "quantity numeric NOT NULL, notional numeric NOT NULL, "
                "PRIMARY KEY (symbol, side))",
                "CREATE TABLE IF NOT EXISTS {schema}.{by_strategy} (attributed boolean, "
                "strategy text, entries bigint NOT NULL, executions bigint NOT NULL, "
                "buy_quantity numeric NOT NULL, buy_notional numeric NOT NULL, "
                "sell_quantity numeric NOT NULL, sell_notional numeric NOT NULL, "
                "weight_adjustment numeric NOT NULL, PRIMARY KEY (attributed, strategy))",
                "CREATE TABLE IF NOT EXISTS {schema}.{totals} (side text PRIMARY KEY, "
                "value numeric NOT NULL, entries bigint NOT NULL, executions bigint NOT NULL)",
            )
        )
        self._new_order = self._sql(
            "INSERT INTO {schema}.{orders} VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1"
        )
        self._add_symbol = self._sql(
            "INSERT INTO {schema}.{by_symbol} AS t VALUES (%s, %s, %s, 1, %s, %s) "
            "ON CONFLICT (symbol, side) DO UPDATE SET entries = t.entries + EXCLUDED.entries, "
            "executions = t.executions + 1, quantity = t.quantity + EXCLUDED.quantity, "
            "notional = t.notional + EXCLUDED.notional"
        )
        self._add_strategy = self._sql(
            "INSERT INTO {schema}.{by_strategy} AS t VALUES (%s, %s, %s, 1, %s, %s, %s, %s, %s) "
            "ON CONFLICT (attributed, strategy) DO UPDATE SET "
            "entries = t.entries + EXCLUDED.entries, executions = t.executions + 1, "
            "buy_quantity = t.buy_quantity + EXCLUDED.buy_quantity, "
            "buy_notional = t.buy_notional + EXCLUDED.buy_notional, "
            "sell_quantity = t.sell_quantity + EXCLUDED.sell_quantity, "
            "sell_notional = t.sell_notional + EXCLUDED.sell_notional, "
            "weight_adjustment = t.weight_adjustment + EXCLUDED.weight_adjustment"
        )
        self._add_total = self._sql(
            "INSERT INTO {schema}.{totals} AS t VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (side) DO UPDATE SET value = t.value + EXCLUDED.value, "
            "entries = t.entries + EXCLUDED.entries, executions = t.executions + 1"
        )

    def _sql(self, template: str) -> Composed:
        names = {part: Identifier(table) for part, table in self.tables.items()}
        return SQL(template).format(schema=Identifier(self.datastore.schema), **names)

    # -- writing ------------------------------------------------------------------------

    def apply_fill(self, fill: FillFacts, tracking: Tracking) -> bool:
        """Add one fill and move the position, in one transaction.

        ``False`` (nothing changed) when the position is already at or past ``tracking``:
        another follower applied it.
        """
        try:
            with self.datastore.transaction(commit=True) as curs:
                self._insert_tracking(curs, tracking)
                curs.execute(self._new_order, (fill.ledger_id, fill.order_id))
                new_order = int(curs.fetchone() is not None)
                buying = fill.side is Side.BUY
                curs.execute(
                    self._add_symbol,
                    (fill.symbol, fill.side.value, new_order, fill.quantity, fill.value),
                )
                curs.execute(self._add_total, (fill.side.value, fill.value, new_order))
                for name, quantity, notional, adjustment in fill.shares:
                    curs.execute(
                        self._add_strategy,
                        (
                            name is not None,
                            name or "",
                            new_order,
                            quantity if buying else ZERO,
                            notional if buying else ZERO,
                            ZERO if buying else quantity,
                            ZERO if buying else notional,
                            adjustment,
                        ),
                    )
        except IntegrityError:
            return False
        return True

    def skip(self, tracking: Tracking) -> bool:
        """Move the position past an event the views do not count."""
        try:
            self.insert_tracking(tracking)
        except IntegrityError:
            return False
        return True

    # -- reading ------------------------------------------------------------------------

    def read(self, application_name: str) -> LiveViewsSnapshot:
        """Every view and the position they are at, read in one consistent snapshot."""
        with self.datastore.get_connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                with conn.cursor() as curs:
                    position = self._max_tracking_id(application_name, curs)
                    symbols = curs.execute(self._sql("SELECT * FROM {schema}.{by_symbol}"))
                    symbol_rows = list(symbols.fetchall())
                    strategies = curs.execute(self._sql("SELECT * FROM {schema}.{by_strategy}"))
                    strategy_rows = list(strategies.fetchall())
                    totals = curs.execute(self._sql("SELECT * FROM {schema}.{totals}"))
                    total_rows = {row["side"]: row for row in totals.fetchall()}
            finally:
                conn.execute("ROLLBACK")
        return LiveViewsSnapshot(
            position=position,
            by_symbol=_symbol_report(symbol_rows),
            by_strategy=_strategy_report(strategy_rows),
            totals=_totals_report(total_rows),
        )


@dataclass(frozen=True)
class LiveViewsSnapshot:
    """The views at one tracking position (the last notification id applied)."""

    position: int | None
    by_symbol: SymbolReport
    by_strategy: StrategyReport
    totals: TotalsReport


def _symbol_report(rows: list[Any]) -> SymbolReport:
    report = [
        SymbolRow(
            symbol=row["symbol"],
            side=Side(row["side"]),
            entries=row["entries"],
            executions=row["executions"],
            quantity=row["quantity"],
            notional=row["notional"],
            average_price=ratio(row["notional"], row["quantity"]) or ZERO,
        )
        for row in rows
    ]
    report.sort(key=lambda row: (row.symbol, row.side))
    return SymbolReport(rows=tuple(report))


def _strategy_report(rows: list[Any]) -> StrategyReport:
    """The same report ``ByStrategy.result()`` gives (one ``strategy_report`` for both)."""
    return strategy_report(
        StrategyRow(
            strategy=row["strategy"] if row["attributed"] else None,
            entries=row["entries"],
            executions=row["executions"],
            buy_quantity=row["buy_quantity"],
            buy_notional=row["buy_notional"],
            sell_quantity=row["sell_quantity"],
            sell_notional=row["sell_notional"],
            weight_adjustment=row["weight_adjustment"],
        )
        for row in rows
    )


def _totals_report(rows: dict[str, Any]) -> TotalsReport:
    buy, sell = rows.get(Side.BUY.value), rows.get(Side.SELL.value)
    buy_value = buy["value"] if buy else ZERO
    sell_value = sell["value"] if sell else ZERO
    return TotalsReport(
        buy_value=buy_value,
        sell_value=sell_value,
        net_value=subtract(buy_value, sell_value),
        buy_entries=buy["entries"] if buy else 0,
        sell_entries=sell["entries"] if sell else 0,
        buy_executions=buy["executions"] if buy else 0,
        sell_executions=sell["executions"] if sell else 0,
    )
