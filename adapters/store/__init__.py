"""The durable event store runs are journalled in: settings, and opening it.

``open_event_store(settings)`` gives the ``LedgerApplication`` every run of a process
shares (one connection pool); ``TradeLedgerService(correlation_id, application=app)``
opens a run in it and ``TradeLedgerService.resume(ledger_id, env=settings.eventsourcing_env())``
continues one.
"""

from __future__ import annotations

from adapters.store.settings import EventStoreSettings, PostgresStoreSettings, StoreKind
from ledger_domain import LedgerApplication


class EventStoreError(Exception):
    """The configured event store could not be opened (nothing was traded)."""


def open_event_store(settings: EventStoreSettings | None = None) -> LedgerApplication:
    """The ledger application on the configured store (``EventStoreSettings()`` if none);
    a SQLite file's folder is created. Raises ``EventStoreError`` naming the store."""
    chosen = settings if settings is not None else EventStoreSettings()
    try:
        if chosen.kind == "sqlite":
            chosen.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return LedgerApplication(chosen.eventsourcing_env())
    except Exception as error:
        raise EventStoreError(
            f"event store {chosen.describe()} could not be opened: {type(error).__name__}: {error}"
        ) from error


__all__ = [
    "EventStoreError",
    "EventStoreSettings",
    "PostgresStoreSettings",
    "StoreKind",
    "open_event_store",
]
