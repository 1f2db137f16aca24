"""Closed runs for the analytics tests, recorded through the real service and archived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.archive import Archive
from ledger_domain import TradeLedgerService
from tests.projections.streams import Execution, record

DAY = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def archived(
    archive: Archive, stream: Sequence[Execution], *, day: int = 0, number: int = 0
) -> tuple[str, list[Any]]:
    """Record ``stream`` as one closed run created on ``DAY + day``; (key, events)."""
    created = DAY + timedelta(days=day, minutes=number)
    service = TradeLedgerService("corr", created_at=created)
    record(service, stream)
    service.close(created + timedelta(hours=1))
    events = service.events()
    outcome = archive.write(events)
    assert outcome.status == "written", outcome
    return outcome.key, events
