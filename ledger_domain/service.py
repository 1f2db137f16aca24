"""``TradeLedgerService``: the guide's API over one run's event-sourced Ledger.

Thread-safe: one lock guards validate -> event -> store, so concurrent callers get exact
totals. Recording costs tens of microseconds, cheap enough to call inline from asyncio.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from ledger_domain.aggregate import Ledger, ledger_uuid, replay
from ledger_domain.application import LedgerApplication
from ledger_domain.fill_input import fill_facts, is_unfilled
from ledger_domain.models import TradeLedger, TradeLedgerEntry, as_utc

logger = logging.getLogger(__name__)


class EventSubscriber(Protocol):
    """Anything that folds ledger events (e.g. a projection) can follow a live run."""

    def apply(self, event: Any) -> None: ...


class TradeLedgerService:
    """Records filled orders of one run and answers the guide's queries.

    ``env`` selects eventsourcing's persistence module (POPO by default). Pass
    ``ledger=`` to continue a ledger loaded from the store (see ``resume``).
    """

    def __init__(
        self,
        correlation_id: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        created_at: datetime | None = None,
        application: LedgerApplication | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._app = application if application is not None else LedgerApplication(env)
        self._subscribers: list[EventSubscriber] = []
        if ledger is None:
            opened_at = as_utc(created_at) if created_at is not None else datetime.now(UTC)
            ledger = Ledger(correlation_id=correlation_id, opened_at=opened_at)
            self._app.append(ledger)
        self._ledger = ledger

    @classmethod
    def resume(cls, ledger_id: str, *, env: Mapping[str, str] | None = None) -> TradeLedgerService:
        """Continue a run whose events are in a durable store (SQLite, PostgreSQL)."""
        app = LedgerApplication(env)
        return cls(application=app, ledger=app.load(ledger_uuid(ledger_id)))

    # -- the guide's API -------------------------------------------------------------

    def record_filled_order(
        self,
        order_result: Any,
        correlation_id: str,
        rebalance_plan: Any | None = None,
        quote_at_fill: Any | None = None,
    ) -> TradeLedgerEntry | None:
        """Record a filled order; ``None`` for a failed or unfilled order (nothing recorded).

        Uses ``order_result.execution_id`` when the object has one, else the order id (the
        whole order as one execution). Recording the same execution again is a no-op.
        """
        if is_unfilled(order_result):
            return None
        return self.record_execution(
            order_result,
            correlation_id,
            rebalance_plan=rebalance_plan,
            quote_at_fill=quote_at_fill,
            execution_id=getattr(order_result, "execution_id", None),
        )

    def get_ledger(self) -> TradeLedger:
        """The run's ledger: entries in recording order, totals included."""
        with self._lock:
            return self._ledger.snapshot()

    def get_entries_for_symbol(self, symbol: str) -> list[TradeLedgerEntry]:
        """Entries for ``symbol``, case-insensitive."""
        wanted = symbol.strip().upper()
        with self._lock:
            return [e for e in self._ledger.entries() if e.symbol == wanted]

    def get_entries_for_strategy(self, strategy_name: str) -> list[TradeLedgerEntry]:
        """Entries to which ``strategy_name`` contributed."""
        with self._lock:
            return [e for e in self._ledger.entries() if strategy_name in e.strategy_names]

    @property
    def total_entries(self) -> int:
        with self._lock:
            return len(self._ledger.orders)

    # -- what the rest of the system needs ---------------------------------------------

    @property
    def ledger_id(self) -> str:
        return self._ledger.ledger_id

    @property
    def correlation_id(self) -> str | None:
        return self._ledger.correlation_id

    @property
    def is_closed(self) -> bool:
        return self._ledger.is_closed

    @property
    def total_buy_value(self) -> Decimal:
        return self._ledger.buy_value

    @property
    def total_sell_value(self) -> Decimal:
        return self._ledger.sell_value

    def record_execution(
        self,
        order_result: Any,
        correlation_id: str,
        *,
        rebalance_plan: Any | None = None,
        quote_at_fill: Any | None = None,
        execution_id: str | None = None,
    ) -> TradeLedgerEntry:
        """Record one execution of an order (a partial fill); returns the order's entry.

        ``order_result.shares``/``price`` are this execution's quantity and price. Raises
        ``InvalidFillError``, ``ExecutionConflictError`` or ``LedgerClosedError``, each
        leaving the ledger unchanged.
        """
        facts = fill_facts(
            order_result, correlation_id, rebalance_plan, quote_at_fill, execution_id
        )
        with self._lock:
            ledger = self._ledger
            if ledger.record_fill(facts):
                self._store()
            return ledger.orders[facts.order_id].entry()

    def close(self, closed_at: datetime | None = None) -> TradeLedger:
        """Close the run (idempotent) and return its final ledger."""
        with self._lock:
            if self._ledger.close(as_utc(closed_at) if closed_at else datetime.now(UTC)):
                self._store()
            return self._ledger.snapshot()

    def events(self) -> list[Any]:
        """The run's events as stored, in order (what an archive writes)."""
        with self._lock:
            return list(self._app.stored_events(self._ledger.id))

    def subscribe(self, subscriber: EventSubscriber, *, replay_history: bool = True) -> None:
        """Feed every new event to ``subscriber`` (after it is stored); past ones first.

        A subscriber that raises on a new event is logged and skipped for that event; the
        recording call still succeeds, because the fill is already stored.
        """
        with self._lock:
            if replay_history:
                for event in self._app.stored_events(self._ledger.id):
                    subscriber.apply(event)
            self._subscribers.append(subscriber)

    def _store(self) -> None:
        pending = list(self._ledger.pending_events) if self._subscribers else []
        try:
            self._app.append(self._ledger)
        except Exception:
            # The store refused: rebuild from what it holds so memory matches storage.
            self._ledger = self._app.load(self._ledger.id)
            raise
        for subscriber in self._subscribers:
            for event in pending:
                try:
                    subscriber.apply(event)
                except Exception:
                    # The fill is stored; a failing view must not make it look lost.
                    logger.exception(
                        "subscriber %s failed on %s of ledger %s",
                        type(subscriber).__name__,
                        type(event).__name__,
                        self.ledger_id,
                    )


def replay_ledger(events: Iterable[Any]) -> TradeLedger:
    """Rebuild the guide's ``TradeLedger`` from an ordered event stream (audit replay)."""
    return replay(events).snapshot()
