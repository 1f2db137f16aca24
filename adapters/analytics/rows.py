"""Flat rows of one archived run: one per execution, one per execution x strategy, one per run.

The export writes these to Parquet and the report can print them; both read a run the
same way here. Amounts are the ledger's exact Decimals; the strategy shares are
``projections.attribution``'s, so the strategy split (with its remainder rule: when the
weights do not sum to exactly 1, the largest weight takes the rest and the difference is
its ``weight_adjustment``) is the projections' own, never recomputed elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from adapters.archive import ArchivedRun
from ledger_domain import Ledger, Side
from ledger_domain.money import exact_sum, exact_value
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


@dataclass(frozen=True)
class RunEvents:
    """What the rows need of a run: its key, events and hash (``ArchivedRun`` has them too)."""

    key: str
    events: Sequence[object]
    format_version: int
    head_hash: str | None


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


def fills_of(events: Iterable[object]) -> Iterator[Ledger.FillRecorded]:
    """The fills of a run's events, in stream order."""
    fill_type = Ledger.FillRecorded
    for event in events:
        if isinstance(event, fill_type):
            yield event


def fill_rows(events: Iterable[object]) -> Iterator[FillRow]:
    """One row per execution of one run's events (``ArchivedRun.events``), in stream order."""
    correlation_id: str | None = None
    orders: set[str] = set()
    for event in events:
        if isinstance(event, Ledger.Opened):
            correlation_id = event.correlation_id
        if not isinstance(event, Ledger.FillRecorded):
            continue
        opens = event.order_id not in orders
        orders.add(event.order_id)
        yield FillRow(
            str(event.originator_id),
            correlation_id or event.correlation_id,
            event.originator_version,
            event.order_id,
            event.execution_id,
            event.symbol,
            event.side.value,
            event.quantity,
            event.price,
            exact_value(event.quantity, event.price),
            event.bid,
            event.ask,
            event.quoted_at,
            event.filled_at,
            event.order_type,
            opens,
        )


def attribution_rows(events: Iterable[object]) -> Iterator[AttributionRow]:
    """One row per execution and strategy (one unattributed row for a fill without weights)."""
    orders: set[str] = set()
    for fill in fills_of(events):
        opens = fill.order_id not in orders
        orders.add(fill.order_id)
        ledger_id = str(fill.originator_id)
        side = fill.side.value
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
    run: ArchivedRun | RunEvents,
    run_date: date,
    verify_status: str,
    signature_status: str | None = None,
) -> RunRow:
    """The run's summary row; its totals are the exact sums of its fills (for a verified
    run, the snapshot's own totals)."""
    ledger_id = correlation_id = None
    created_at = closed_at = None
    buy = sell = Decimal(0)
    entries = fills = 0
    orders: set[str] = set()
    for event in run.events:
        if isinstance(event, Ledger.FillRecorded):
            fills += 1
            correlation_id = correlation_id or event.correlation_id
            value = exact_value(event.quantity, event.price)
            if event.side is Side.BUY:
                buy = exact_sum(buy, value)
            else:
                sell = exact_sum(sell, value)
            if event.order_id not in orders:
                orders.add(event.order_id)
                entries += 1
        elif isinstance(event, Ledger.Opened):
            ledger_id, correlation_id = str(event.originator_id), event.correlation_id
            created_at = event.opened_at
        elif isinstance(event, Ledger.Closed):
            closed_at = event.closed_at
    if ledger_id is None or created_at is None:
        raise ValueError(f"{run.key}: the events do not open a ledger")
    return RunRow(
        ledger_id,
        correlation_id,
        run.key,
        run_date,
        created_at,
        closed_at,
        run.format_version,
        len(run.events),
        fills,
        entries,
        buy,
        sell,
        run.head_hash,
        verify_status,
        signature_status,
    )
