"""Live views across processes on PostgreSQL: by symbol, by strategy, buy/sell totals.

Processes record runs with ``TradeLedgerService`` on eventsourcing's PostgreSQL module; a
follower (``trade-ledger views follow``, or :func:`follow`) keeps materialised views in
PostgreSQL tables with eventsourcing's ``ProjectionRunner`` and a tracking recorder, so
each event is applied exactly once, across restarts. :func:`read_views` (``trade-ledger
views show``) reads them as the projections' own reports.
"""

from adapters.views.follower import (
    VIEWS_NAME,
    LiveViews,
    ViewsConfigError,
    fill_facts,
    follow_views,
    open_views,
    read_views,
)
from adapters.views.recorder import FillFacts, LiveViewsRecorder, LiveViewsSnapshot

__all__ = [
    "VIEWS_NAME",
    "FillFacts",
    "LiveViews",
    "LiveViewsRecorder",
    "LiveViewsSnapshot",
    "ViewsConfigError",
    "fill_facts",
    "follow_views",
    "open_views",
    "read_views",
]
