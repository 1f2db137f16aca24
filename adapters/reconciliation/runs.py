"""Reconcile against the broker: a list of fills, one run, one archived run, or a day.

Each entry point gathers the ledger side (``ledger_source``) and the broker side
(``broker_source``) and hands both to the pure rules of ``matching``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from adapters.brokers.port import FillHistory
from adapters.reconciliation.broker_source import DEFAULT_MARGIN, broker_fills_around
from adapters.reconciliation.fills import LedgerFill
from adapters.reconciliation.ledger_source import archived_day_fills, ledger_fills, snapshot_fills
from adapters.reconciliation.matching import reconcile
from adapters.reconciliation.report import ReconciliationReport
from ledger_domain import Ledger, TradeLedger, TradeLedgerService
from ledger_domain.models import as_utc


async def reconcile_fills(
    fills: Sequence[LedgerFill],
    broker: FillHistory,
    *,
    period_start: datetime,
    period_end: datetime,
    margin: timedelta = DEFAULT_MARGIN,
    **options: Any,
) -> ReconciliationReport:
    """Fetch the broker's fills around the period and reconcile."""
    start, end = as_utc(period_start), as_utc(period_end)
    broker_fills = await broker_fills_around(broker, fills, start, end, margin)
    return reconcile(fills, broker_fills, period_start=start, period_end=end, **options)


async def reconcile_ledger(
    ledger: TradeLedgerService | Sequence[Any],
    broker: FillHistory,
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    **options: Any,
) -> ReconciliationReport:
    """One run (a live service or its event stream) against the broker.

    The period defaults to the run's: opened .. closed (or now, if still open).
    """
    events = ledger.events() if isinstance(ledger, TradeLedgerService) else list(ledger)
    opened = next((e for e in events if isinstance(e, Ledger.Opened)), None)
    closed = next((e for e in events if isinstance(e, Ledger.Closed)), None)
    start = period_start or (as_utc(opened.opened_at) if opened else None)
    end = period_end or (as_utc(closed.closed_at) if closed else datetime.now(UTC))
    fills = ledger_fills(events)
    if start is None:
        start = min((f.fill.filled_at for f in fills), default=end)
    return await reconcile_fills(
        fills, broker, period_start=start, period_end=end + timedelta(microseconds=1), **options
    )


async def reconcile_run(run: Any, broker: FillHistory, **options: Any) -> ReconciliationReport:
    """One archived run (``ArchivedRun``) against the broker, by events or by snapshot."""
    if run.has_events:
        return await reconcile_ledger(run.events, broker, **options)
    ledger: TradeLedger = run.ledger
    fills = snapshot_fills(ledger)
    end = ledger.closed_at or max((f.fill.filled_at for f in fills), default=ledger.created_at)
    report = await reconcile_fills(
        fills,
        broker,
        period_start=ledger.created_at,
        period_end=end + timedelta(microseconds=1),
        **options,
    )
    report.ledger_ids = [ledger.ledger_id]
    report.notes.append(f"{run.key}: snapshot-only document; compared order by order")
    return report


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """``[00:00, next 00:00)`` of a UTC day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


async def reconcile_date(
    archive: Any, day: date, broker: FillHistory, **options: Any
) -> ReconciliationReport:
    """Every archived run of a UTC day against the broker's fills of that day.

    Runs are read with ``archive.read_runs(day)``; an unreadable document is listed in
    ``unreadable_runs`` and makes the report fail (its fills cannot be accounted for). A run
    archived the day before (its key is its opening day) that filled after midnight adds
    those fills too, so a run across midnight is not reported as missing.
    """
    start, end = day_bounds(day)
    archived = await archived_day_fills(archive, day, start)
    report = await reconcile_fills(
        archived.fills, broker, period_start=start, period_end=end, **options
    )
    report.ledger_ids = sorted(set(report.ledger_ids) | set(archived.ledger_ids))
    report.notes.extend(archived.notes)
    report.unreadable_runs = archived.unreadable
    return report
