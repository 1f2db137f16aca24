"""The ledger side of a reconciliation: the fills a run recorded, or a day of archived runs.

A run with events gives one fill per ``FillRecorded``; a snapshot-only document (the
original service's format) gives one whole-order fill per entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from adapters.reconciliation.fills import LedgerFill
from ledger_domain import Fill, Ledger, TradeLedger, TradeLedgerEntry


def recorded_fill(event: Ledger.FillRecorded) -> Fill:
    """The fill a ``FillRecorded`` event holds: the event (version 2) speaks the fill's
    vocabulary, so each of ``Fill``'s fields is the event's field of the same name."""
    return Fill(*(getattr(event, name) for name in Fill._fields))


def entry_fill(entry: TradeLedgerEntry) -> Fill:
    """A snapshot entry (the guide's names) as one whole-order fill at its average price."""
    return Fill(
        order_id=entry.order_id,
        execution_id=entry.order_id,
        symbol=entry.symbol,
        side=entry.direction,
        quantity=entry.filled_qty,
        price=entry.trade_value / entry.filled_qty,
        filled_at=entry.fill_timestamp,
        order_type=entry.order_type,
    )


def ledger_fills(events: Iterable[Any]) -> list[LedgerFill]:
    """Every ``FillRecorded`` of an event stream, as ledger fills."""
    return [
        LedgerFill(str(event.originator_id), recorded_fill(event))
        for event in events
        if isinstance(event, Ledger.FillRecorded)
    ]


def snapshot_fills(ledger: TradeLedger) -> list[LedgerFill]:
    """Whole-order fills from a snapshot (documents without events)."""
    return [LedgerFill(ledger.ledger_id, entry_fill(entry)) for entry in ledger.entries]


def run_fills(run: Any, notes: list[str]) -> list[LedgerFill]:
    """An archived run's fills: by events, or by snapshot (noted in ``notes``)."""
    if run.has_events:
        return ledger_fills(run.events)
    notes.append(f"{run.key}: snapshot-only document; compared order by order")
    return snapshot_fills(run.ledger)


@dataclass
class ArchivedFills:
    """The fills of a day's archived runs, and what could not be read."""

    fills: list[LedgerFill] = field(default_factory=list)
    ledger_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


async def archived_day_fills(archive: Any, day: date, day_start: datetime) -> ArchivedFills:
    """Every fill of the runs archived on ``day``, plus the fills from ``day_start`` on of
    runs archived the day before (a run across midnight). Read on worker threads.

    ``archive.read_runs(day)`` gives each run or, for an unreadable document, its key and
    error: listed in ``unreadable`` (its fills cannot be accounted for).
    """
    reads = await asyncio.to_thread(lambda: list(archive.read_runs(day)))
    earlier = await asyncio.to_thread(lambda: list(archive.read_runs(day - timedelta(days=1))))
    found = ArchivedFills()
    for read in reads:
        if read.run is None:
            found.unreadable.append(read.key)
            found.notes.append(f"{read.key}: unreadable: {read.error}")
            continue
        found.ledger_ids.append(read.run.ledger.ledger_id)
        found.fills.extend(run_fills(read.run, found.notes))
    for read in earlier:
        if read.run is None:
            found.notes.append(f"{read.key} (day before): unreadable: {read.error}")
            continue
        late = [f for f in run_fills(read.run, []) if f.fill.filled_at >= day_start]
        if late:
            found.ledger_ids.append(read.run.ledger.ledger_id)
            found.notes.append(f"{read.key}: opened the day before; {len(late)} fill(s) on {day}")
            found.fills.extend(late)
    return found
