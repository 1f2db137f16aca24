"""``TradeLedgerService``: the guide's API over one run's event-sourced Ledger.

Thread-safe. Input is validated before the lock (it reads only the call's own arguments).
One lock guards the rest of a recording: the aggregate's checks, the event, the store and
the run's current entries. Queries take the lock only to copy references to entries that
recording keeps up to date, so a reader polling ``get_ledger`` never rebuilds the run
while writers wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from ledger_domain import order_input, plan_input
from ledger_domain.aggregate import Ledger, ledger_uuid, replay
from ledger_domain.application import LedgerApplication
from ledger_domain.broker_fill import RecordedFill, broker_fill_to_record
from ledger_domain.errors import InvalidFillError
from ledger_domain.fill import NOTHING_SET_ASIDE as _NOTHING
from ledger_domain.fill import Fill, FillToRecord
from ledger_domain.models import TradeLedger, TradeLedgerEntry
from ledger_domain.run_plan import PlacedOrder, PlanAttribution
from ledger_domain.values import identifier, utc_time

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
        # Re-entrant: a subscriber, told of an event while the lock is held (so every
        # subscriber sees events in stored order), may query the service.
        self._lock = threading.RLock()
        self._app = application if application is not None else LedgerApplication(env)
        self._subscribers: list[EventSubscriber] = []
        if ledger is None:
            opened_at = (
                datetime.now(UTC) if created_at is None else utc_time(created_at, "created_at")
            )
            run_id = (
                None if correlation_id is None else identifier(correlation_id, "correlation_id")
            )
            ledger = Ledger(correlation_id=run_id, opened_at=opened_at)
            self._app.append(ledger)
        self._ledger = ledger
        self._entries = _entries_by_order(ledger)
        self._view: TradeLedger | None = None

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

        Uses ``order_result.execution_id`` when it has one, else the order id (the whole
        order as one execution). Recording the same execution again is a no-op.
        """
        fill = order_input.order_fill(order_result)
        if isinstance(fill, str):
            return None
        return self._record(
            order_input.fill_to_record(fill, correlation_id, rebalance_plan, quote_at_fill)
        )

    def get_ledger(self) -> TradeLedger:
        """The run's ledger: entries in recording order, totals included."""
        view = self._view  # immutable; replaced, never changed, so read without the lock
        if view is not None:
            # Nothing new since the last read: let a recording thread have the interpreter
            # (a reader polling in a loop would otherwise take half of it from writers).
            time.sleep(0)
            return view
        with self._lock:
            view = self._view
            if view is None:
                view = self._view = self._ledger.snapshot(list(self._entries.values()))
        return view

    def get_entries_for_symbol(self, symbol: str) -> list[TradeLedgerEntry]:
        """Entries for ``symbol``, case-insensitive."""
        if not isinstance(symbol, str):
            raise TypeError(f"symbol must be text, got {type(symbol).__name__}")
        wanted = symbol.strip().upper()
        return [e for e in self._current_entries() if e.symbol == wanted]

    def get_entries_for_strategy(self, strategy_name: str) -> list[TradeLedgerEntry]:
        """Entries to which ``strategy_name`` contributed."""
        return [e for e in self._current_entries() if strategy_name in e.strategy_names]

    @property
    def total_entries(self) -> int:
        return len(self._entries)

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
        ``InvalidFillError`` (also for an order result that is not a fill),
        ``ExecutionConflictError`` or ``LedgerClosedError``, each leaving the ledger
        unchanged.
        """
        fill = order_input.order_fill(order_result, execution_id)
        if isinstance(fill, str):
            raise InvalidFillError("order_result", f"not a fill: {fill}")
        return self._record(
            order_input.fill_to_record(fill, correlation_id, rebalance_plan, quote_at_fill)
        )

    def record_fill(
        self,
        fill: Fill,
        correlation_id: str,
        *,
        rebalance_plan: Any | None = None,
        quote_at_fill: Any | None = None,
    ) -> TradeLedgerEntry:
        """Record a broker's ``Fill`` (already in the ledger's vocabulary); same rules."""
        if not isinstance(fill, Fill):
            raise InvalidFillError("fill", f"expected a Fill, got {type(fill).__name__}")
        checked = order_input.checked_fill(fill)
        return self._record(
            order_input.fill_to_record(checked, correlation_id, rebalance_plan, quote_at_fill)
        )

    def record_broker_fills(
        self,
        fills: Sequence[tuple[Any, Any | None]],
        correlation_id: str,
        *,
        plan: PlanAttribution | None = None,
        max_quote_age: timedelta | None = None,
        noted: Mapping[str, str] | None = None,
    ) -> list[RecordedFill]:
        """Record a burst of broker fills, each ``(fill, quote_at_fill)``, in one transaction.

        The executor's path, where a fill is a fact that is always recorded: a quote that
        fails validation (crossed, unreadable, or more than ``max_quote_age`` from the
        fill) and attribution the plan set aside are left out, and the fill's event says
        what and why (``set_aside``). Attribution comes from ``plan``, else the attached
        plan. Only a fill whose own values break the rules, or that conflicts with one
        recorded, is refused (its ``RecordedFill.error``). A fill counts as recorded when
        this returns: every event of the burst is then durable in the store (group
        commit). Should the store refuse the burst, each fill is tried on its own, so one
        bad fill never takes the others down. ``noted`` (field -> why) is added to every
        fill's ``set_aside``: recovery says so of the quote of a fill it found later at the
        broker.
        """
        attribution = plan if plan is not None else self._ledger.plan
        outcomes: list[RecordedFill | None] = [None] * len(fills)
        prepared: list[tuple[int, FillToRecord]] = []
        for index, (fill, quote) in enumerate(fills):
            try:
                recordable = broker_fill_to_record(
                    fill, quote, correlation_id, attribution, max_quote_age, noted=noted
                )
            except Exception as error:
                outcomes[index] = RecordedFill(fill, None, _NOTHING, error)
            else:
                prepared.append((index, recordable))
        with self._lock:
            try:
                refused = self._record_group(prepared)
            except Exception:
                logger.exception("ledger %s: a burst was refused; one by one", self.ledger_id)
                refused = self._record_each(prepared)
            for index, recordable in prepared:
                refusal = refused.get(index)
                entry = None if refusal else self._entries[recordable.fill.order_id]
                outcomes[index] = RecordedFill(
                    fills[index][0], entry, recordable.set_aside, refusal
                )
        return [outcome for outcome in outcomes if outcome is not None]

    # -- what recovery needs: the plan and every order placed -------------------------

    def attach_plan(self, rebalance_plan: Any) -> PlanAttribution:
        """Record the plan this run trades (``PlanAttached``): its ``plan_id``, its
        ``correlation_id`` and its strategy attribution, validated per symbol.

        A symbol whose weights fail the ledger's rules (not summing to 1, say) is set
        aside with the reason, never refused; an invalid plan or correlation id raises
        ``InvalidFillError``. Attaching the same plan again is a no-op; a different plan
        raises ``RunConflictError``. Durable when it returns.
        """
        plan = plan_input.plan_attribution(rebalance_plan)
        with self._lock:
            if self._ledger.attach_plan(plan):
                self._notify(self._store())
            attached = self._ledger.plan
        assert attached is not None
        return attached

    def order_placed(
        self,
        client_order_id: str,
        symbol: str,
        side: Any,
        *,
        quantity: Any | None = None,
        notional: Any | None = None,
        order_type: str | None = None,
        placed_at: datetime | None = None,
    ) -> PlacedOrder:
        """Record an order *before* it is sent to the broker (``OrderPlaced``), so that a
        run that dies meanwhile still knows which client order ids to ask the broker about.

        Exactly one of ``quantity`` (shares) and ``notional`` (dollars). The same order
        again is a no-op (returns the first record); another order under the same client
        order id raises ``RunConflictError``. Durable when it returns.
        """
        order = plan_input.placed_order(
            client_order_id,
            symbol,
            side,
            quantity=quantity,
            notional=notional,
            order_type=order_type,
            placed_at=placed_at,
        )
        with self._lock:
            if self._ledger.place_order(order):
                self._notify(self._store())
            return self._ledger.placed_orders[order.client_order_id]

    @property
    def plan_id(self) -> str | None:
        """The attached plan's id (``None`` before ``attach_plan``)."""
        plan = self._ledger.plan
        return None if plan is None else plan.plan_id

    def plan_attribution(self) -> PlanAttribution | None:
        """The attached plan (id, correlation id, attribution, what was set aside)."""
        return self._ledger.plan

    def placed_orders(self) -> list[PlacedOrder]:
        """Every order the run recorded as placed, in the order they were placed."""
        with self._lock:
            return list(self._ledger.placed_orders.values())

    def close(self, closed_at: datetime | None = None) -> TradeLedger:
        """Close the run (idempotent) and return its final ledger."""
        when = datetime.now(UTC) if closed_at is None else utc_time(closed_at, "closed_at")
        with self._lock:
            if when < self._ledger.opened_at and not self._ledger.is_closed:
                raise InvalidFillError("closed_at", f"{when.isoformat()} is before the run opened")
            pending = self._store() if self._ledger.close(when) else ()
            self._notify(pending)
        return self.get_ledger()

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

    # -- internals -----------------------------------------------------------------------

    def _record(self, recordable: FillToRecord) -> TradeLedgerEntry:
        order_id = recordable.fill.order_id
        with self._lock:
            if not self._ledger.record_fill(recordable):
                return self._entries[order_id]  # this very execution is already recorded
            pending = self._store()
            entry = self._entries[order_id] = self._ledger.orders[order_id].entry()
            self._notify(pending)
            return entry

    def _record_group(self, prepared: list[tuple[int, FillToRecord]]) -> dict[int, Exception]:
        """Every fill's event, then one store call (one transaction) for all of them."""
        refused: dict[int, Exception] = {}
        for index, recordable in prepared:
            try:
                self._ledger.record_fill(recordable)
            except Exception as error:
                refused[index] = error
        pending = self._store()
        for index, recordable in prepared:
            if index not in refused:
                order_id = recordable.fill.order_id
                self._entries[order_id] = self._ledger.orders[order_id].entry()
        self._notify(pending)
        return refused

    def _record_each(self, prepared: list[tuple[int, FillToRecord]]) -> dict[int, Exception]:
        refused: dict[int, Exception] = {}
        for index, recordable in prepared:
            try:
                self._record(recordable)
            except Exception as error:
                refused[index] = error
        return refused

    def _current_entries(self) -> list[TradeLedgerEntry]:
        return self.get_ledger().entries

    def _store(self) -> tuple[Any, ...]:
        """Append the pending events (returned, for subscribers); on failure memory follows
        storage."""
        self._view = None
        pending = tuple(self._ledger.pending_events) if self._subscribers else ()
        try:
            self._app.append(self._ledger)
        except Exception:
            # The store refused: rebuild from what it holds so memory matches storage.
            self._ledger = self._app.load(self._ledger.id)
            self._entries = _entries_by_order(self._ledger)
            raise
        return pending

    def _notify(self, pending: tuple[Any, ...]) -> None:
        """Tell subscribers of stored events, once the run's state includes them."""
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


def _entries_by_order(ledger: Ledger) -> dict[str, TradeLedgerEntry]:
    """The run's entries by order id: what queries copy, replaced as fills arrive."""
    return {order_id: order.entry() for order_id, order in ledger.orders.items()}


def replay_ledger(events: Iterable[Any]) -> TradeLedger:
    """Rebuild the guide's ``TradeLedger`` from an ordered event stream (audit replay)."""
    return replay(events).snapshot()
