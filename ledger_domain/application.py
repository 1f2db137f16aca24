"""The eventsourcing application that persists Ledger events.

The persistence module comes from eventsourcing's own settings (``PERSISTENCE_MODULE``,
``SQLITE_DBNAME``, ``POSTGRES_*``), from the process environment or an ``env`` mapping:
POPO in memory by default, a SQLite file, or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper

from ledger_domain.aggregate import Ledger
from ledger_domain.mapper import LedgerMapper


class LedgerApplication(Application[UUID]):
    """Stores each run's Ledger events in the configured event store."""

    name = "TradeLedger"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=dict(env) if env is not None else None)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=LedgerMapper
        )

    def append(self, ledger: Ledger) -> None:
        """Store the ledger's pending events (one atomic insert, optimistic on version).

        Goes to the event store directly: ``save()`` adds runtime protocol checks that cost
        more than the insert itself on the hot path, and this app has no snapshots to take.
        """
        pending = ledger.collect_events()
        if pending:
            self.events.put(pending)

    def stored_events(self, ledger_id: UUID) -> Iterator[DomainEventProtocol[UUID]]:
        """The ledger's events as stored, in version order."""
        return self.events.get(ledger_id)

    def load(self, ledger_id: UUID) -> Ledger:
        """Rebuild a ledger from the store (e.g. after a process restart)."""
        ledger: object = self.repository.get(ledger_id)
        if not isinstance(ledger, Ledger):
            raise TypeError(f"aggregate {ledger_id} is not a Ledger")
        return ledger
