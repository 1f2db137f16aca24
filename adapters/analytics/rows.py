"""Flat rows of one archived run: one per execution, one per execution x strategy, one per run.

The export writes these to Parquet and the report can print them; both read a run the
same way here. Amounts are the ledger's exact Decimals; the strategy shares are
``projections.attribution``'s, so the strategy split (with its remainder rule: when the
weights do not sum to exactly 1, the largest weight takes the rest and the difference is
its ``weight_adjustment``) is the projections' own, never recomputed elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from adapters.archive import ArchivedRun
from ledger_domain import Ledger, Side
from ledger_domain.money import exact_value
from projections import attribution


class FillRow(NamedTuple):
    """One execution (a ``FillRecorded`` event) of one run."""

    ledger_id: str
    correlation_id: str | None
    sequence: int
    order_id: str
    execution_id: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    value: Decimal
    bid: Decimal | None
    ask: Decimal | None
    quoted_at: datetime | None
    filled_at: datetime
    order_type: str
    opens_order: bool
    """Whether this is its order's first execution in the run (counts one entry)."""


class AttributionRow(NamedTuple):
    """One execution's share for one strategy (``strategy is None``: unattributed)."""

    ledger_id: str
    sequence: int
    order_id: str
    execution_id: str
    symbol: str
    side: str
    strategy: str | None
    weight: Decimal | None
    quantity: Decimal
    notional: Decimal
    weight_adjustment: Decimal
    opens_order: bool


class RunRow(NamedTuple):
    """One run: where it is, its totals, and what verification said of it."""

    ledger_id: str
    correlation_id: str | None
    run_key: str
    run_date: date
    created_at: datetime
    closed_at: datetime | None
    format_version: int
    event_count: int
    fill_count: int
    total_entries: int
    total_buy_value: Decimal
    total_sell_value: Decimal
    head_hash: str | None
    verify_status: str
    signature_status: str | None


def fills_of(run: ArchivedRun) -> Iterator[Ledger.FillRecorded]:
    """The run's fills in stream order."""
    fill_type = Ledger.FillRecorded
    for event in run.events:
        if isinstance(event, fill_type):
            yield event


def fill_rows(run: ArchivedRun) -> Iterator[FillRow]:
    """One row per execution, in stream order."""
    ledger_id = run.ledger.ledger_id
    correlation_id = run.ledger.correlation_id
    orders: set[str] = set()
    for fill in fills_of(run):
        opens = fill.order_id not in orders
        orders.add(fill.order_id)
        yield FillRow(
            ledger_id,
            correlation_id,
            fill.originator_version,
            fill.order_id,
            fill.execution_id,
            fill.symbol,
            _side(fill.side),
            fill.quantity,
            fill.price,
            exact_value(fill.quantity, fill.price),
            fill.bid,
            fill.ask,
            fill.quoted_at,
            fill.filled_at,
            fill.order_type,
            opens,
        )


def attribution_rows(run: ArchivedRun) -> Iterator[AttributionRow]:
    """One row per execution and strategy (one unattributed row for a fill without weights)."""
    ledger_id = run.ledger.ledger_id
    orders: set[str] = set()
    for fill in fills_of(run):
        opens = fill.order_id not in orders
        orders.add(fill.order_id)
        side = _side(fill.side)
        weights = fill.strategy_weights
        for strategy, quantity, notional, adjustment in attribution(fill):
            yield AttributionRow(
                ledger_id,
                fill.originator_version,
                fill.order_id,
                fill.execution_id,
                fill.symbol,
                side,
                strategy,
                None if strategy is None else weights[strategy],
                quantity,
                notional,
                adjustment,
                opens,
            )


def run_row(
    run: ArchivedRun, run_date: date, verify_status: str, signature_status: str | None = None
) -> RunRow:
    """The run's summary row."""
    ledger = run.ledger
    return RunRow(
        ledger.ledger_id,
        ledger.correlation_id,
        run.key,
        run_date,
        ledger.created_at,
        ledger.closed_at,
        run.format_version,
        len(run.events),
        sum(1 for _ in fills_of(run)),
        ledger.total_entries,
        ledger.total_buy_value,
        ledger.total_sell_value,
        run.head_hash,
        verify_status,
        signature_status,
    )


def _side(side: Side) -> str:
    return side.value
