"""The broker side of a reconciliation: its fill history around the period compared.

The window is widened by a margin (and to every ledger fill's time), so a fill of an order
a ledger knows is found even if the broker stamped it just outside the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from adapters.brokers.port import FillHistory
from adapters.reconciliation.fills import LedgerFill
from ledger_domain import Fill

DEFAULT_MARGIN = timedelta(minutes=5)


def fetch_window(
    start: datetime, end: datetime, fills: Sequence[LedgerFill], margin: timedelta
) -> tuple[datetime, datetime]:
    """``[start, end)`` widened to every ledger fill's time, then by ``margin`` each way."""
    times = [f.fill.filled_at for f in fills]
    first = min([start, *times]) - margin
    last = max([end, *times]) + margin
    return first, last


async def broker_fills_around(
    broker: FillHistory,
    fills: Sequence[LedgerFill],
    start: datetime,
    end: datetime,
    margin: timedelta = DEFAULT_MARGIN,
) -> list[Fill]:
    """The broker's fills of the widened window, oldest first."""
    after, until = fetch_window(start, end, fills, margin)
    return await broker.fill_activities(after, until)
