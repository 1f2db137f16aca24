"""The Ledger aggregate: one per run, its history a stream of immutable, versioned events.

A fill is recorded per execution (a partially filled order is several events); the guide's
per-order ``TradeLedgerEntry`` is derived from them. Every invariant is checked before an
event is triggered, so a refused fill leaves the ledger exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, OriginatorIDError, OriginatorVersionError

from ledger_domain.errors import ExecutionConflictError, InvalidEventStreamError, LedgerClosedError
from ledger_domain.fill_input import FillFacts
from ledger_domain.models import Direction, TradeLedger, TradeLedgerEntry
from ledger_domain.money import ZERO, average_price, exact_sum, exact_value


class OrderFills:
    """Running state of one order: its executions folded into the guide's entry."""

    __slots__ = ("execution_ids", "first", "last", "quantity", "value")

    def __init__(self, first: Ledger.FillRecorded) -> None:
        self.first = first
        self.last = first
        self.execution_ids: list[str] = []
        self.quantity = ZERO
        self.value = ZERO

    def add(self, fill: Ledger.FillRecorded, quantity: Decimal, value: Decimal) -> None:
        """Take in one execution, given the order's new total ``quantity`` and ``value``."""
        self.last = fill
        self.execution_ids.append(fill.execution_id)
        self.quantity = quantity
        self.value = value

    def entry(self) -> TradeLedgerEntry:
        """The derived entry. Built on demand, not kept: fewer long-lived objects per fill
        made recording markedly cheaper (the garbage collector scans every one of them)."""
        last = self.last
        weights = last.strategy_weights
        price = (
            last.price if len(self.execution_ids) == 1 else average_price(self.value, self.quantity)
        )
        return trusted_entry(
            order_id=last.order_id,
            symbol=last.symbol,
            direction=cast(Direction, last.direction),
            filled_qty=self.quantity,
            fill_price=price,
            bid_at_fill=last.bid,
            ask_at_fill=last.ask,
            fill_timestamp=last.fill_time,
            order_type=last.order_type,
            strategy_names=list(weights),
            strategy_weights=dict(weights) if weights else None,
            correlation_id=self.first.correlation_id,
            execution_ids=list(self.execution_ids),
            trade_value=self.value,
        )


_ENTRY_FIELDS = frozenset(TradeLedgerEntry.model_fields)


def trusted_entry(**values: Any) -> TradeLedgerEntry:
    """An entry from values the aggregate already validated (every field given).

    What ``model_construct`` does, minus its per-field default handling, which cost more
    than the rest of deriving an entry on the recording hot path.
    """
    entry = object.__new__(TradeLedgerEntry)
    object.__setattr__(entry, "__dict__", values)
    object.__setattr__(entry, "__pydantic_fields_set__", _ENTRY_FIELDS)
    object.__setattr__(entry, "__pydantic_extra__", None)
    object.__setattr__(entry, "__pydantic_private__", None)
    return entry


class Ledger(Aggregate):
    """A run's ledger. Opened once, fills recorded, closed; nothing after close."""

    class Opened(Aggregate.Created):
        """The run began: its correlation id (may come with the first fill) and open time."""

        class_version = 1
        correlation_id: str | None
        opened_at: datetime

    class FillRecorded(Aggregate.Event):
        """One execution of one order, with the quote of that moment and its attribution."""

        class_version = 1
        order_id: str
        execution_id: str
        symbol: str
        direction: str
        quantity: Decimal
        price: Decimal
        bid: Decimal | None
        ask: Decimal | None
        quote_time: datetime | None
        fill_time: datetime
        order_type: str
        strategy_weights: dict[str, Decimal]
        correlation_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate._apply_fill(self)

    class Closed(Aggregate.Event):
        """The run ended; the history is final."""

        class_version = 1
        closed_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.closed_at = self.closed_at

    def __init__(self, correlation_id: str | None, opened_at: datetime) -> None:
        self.correlation_id = correlation_id
        self.opened_at = opened_at
        self.closed_at: datetime | None = None
        self.orders: dict[str, OrderFills] = {}
        self.executions: dict[str, Ledger.FillRecorded] = {}
        self.buy_value = ZERO
        self.sell_value = ZERO

    @property
    def ledger_id(self) -> str:
        return str(self.id)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def record_fill(self, facts: FillFacts) -> bool:
        """Record one execution; ``False`` when this exact execution is already recorded."""
        if self.is_closed:
            raise LedgerClosedError(self.ledger_id)
        seen = self.executions.get(facts.execution_id)
        if seen is not None:
            difference = _difference(seen, facts)
            if difference:
                raise ExecutionConflictError(facts.execution_id, difference)
            return False
        self._check_order_consistency(facts)
        self.trigger_event(
            self.FillRecorded,
            order_id=facts.order_id,
            execution_id=facts.execution_id,
            symbol=facts.symbol,
            direction=facts.direction,
            quantity=facts.quantity,
            price=facts.price,
            bid=facts.quote.bid,
            ask=facts.quote.ask,
            quote_time=facts.quote.quoted_at,
            fill_time=facts.fill_time,
            order_type=facts.order_type,
            strategy_weights=facts.strategy_weights,
            correlation_id=facts.correlation_id,
        )
        return True

    def _check_order_consistency(self, facts: FillFacts) -> None:
        """Executions of one order share symbol and side; whole-order fills stand alone."""
        order = self.orders.get(facts.order_id)
        if order is None:
            return
        first = order.first
        if (first.symbol, first.direction) != (facts.symbol, facts.direction):
            raise ExecutionConflictError(
                facts.execution_id,
                f"order {facts.order_id} is {first.direction} {first.symbol}, "
                f"not {facts.direction} {facts.symbol}",
            )
        whole_order = facts.order_id in (facts.execution_id, *order.execution_ids)
        if whole_order:
            raise ExecutionConflictError(
                facts.execution_id,
                f"order {facts.order_id} cannot mix a whole-order fill with per-execution fills",
            )

    def close(self, closed_at: datetime) -> bool:
        """Close the run; ``False`` if it was already closed (closing is idempotent)."""
        if self.is_closed:
            return False
        self.trigger_event(self.Closed, closed_at=closed_at)
        return True

    def _apply_fill(self, fill: Ledger.FillRecorded) -> None:
        # Every sum first, then every assignment: if arithmetic ever raised, nothing changed.
        value = exact_value(fill.quantity, fill.price)
        order = self.orders.get(fill.order_id)
        order_quantity = exact_sum(order.quantity if order else ZERO, fill.quantity)
        order_value = exact_sum(order.value if order else ZERO, value)
        buying = fill.direction == "BUY"
        side_total = exact_sum(self.buy_value if buying else self.sell_value, value)
        if order is None:
            order = self.orders[fill.order_id] = OrderFills(fill)
        order.add(fill, order_quantity, order_value)
        self.executions[fill.execution_id] = fill
        if buying:
            self.buy_value = side_total
        else:
            self.sell_value = side_total
        if self.correlation_id is None:
            self.correlation_id = fill.correlation_id

    def entries(self) -> list[TradeLedgerEntry]:
        """Entries in the order their first execution was recorded."""
        return [order.entry() for order in self.orders.values()]

    def snapshot(self) -> TradeLedger:
        """The guide's ``TradeLedger`` view of this run."""
        return TradeLedger.model_construct(
            ledger_id=self.ledger_id,
            created_at=self.opened_at,
            entries=self.entries(),
            correlation_id=self.correlation_id,
            closed_at=self.closed_at,
        )


_SAME_FILL = ("order_id", "symbol", "direction", "quantity", "price")


def _difference(seen: Ledger.FillRecorded, facts: FillFacts) -> str:
    """What differs between a recorded execution and a new one under the same id."""
    changed = [
        f"{name} {getattr(seen, name)} -> {getattr(facts, name)}"
        for name in _SAME_FILL
        if getattr(seen, name) != getattr(facts, name)
    ]
    return ", ".join(changed)


def replay(events: Iterable[Any]) -> Ledger:
    """Fold an ordered event stream back into a Ledger (audit replay).

    Raises ``InvalidEventStreamError`` when the stream does not start with ``Opened``,
    skips or repeats a version, or mixes ledgers.
    """
    ledger: Ledger | None = None
    for position, event in enumerate(events):
        if ledger is None:
            if not isinstance(event, Ledger.Opened) or event.originator_version != 1:
                raise InvalidEventStreamError(
                    f"event 0 is {type(event).__name__} version {event.originator_version}, "
                    "expected Opened version 1"
                )
        elif ledger.is_closed:
            raise InvalidEventStreamError(f"event {position} comes after the ledger was closed")
        elif type(event) is Ledger.FillRecorded and event.execution_id in ledger.executions:
            raise InvalidEventStreamError(
                f"event {position} repeats execution {event.execution_id!r}"
            )
        try:
            # eventsourcing's mutate checks the ledger id and the next version number.
            ledger = event.mutate(ledger)
        except OriginatorIDError:
            raise InvalidEventStreamError(f"event {position} belongs to another ledger") from None
        except OriginatorVersionError:
            expected = ledger.version + 1 if ledger is not None else 1
            raise InvalidEventStreamError(
                f"event {position} has version {event.originator_version}, expected {expected}"
            ) from None
        except Exception as error:
            raise InvalidEventStreamError(f"event {position} cannot be applied: {error}") from error
    if ledger is None:
        raise InvalidEventStreamError("the event stream is empty")
    return ledger


def ledger_uuid(ledger_id: str) -> UUID:
    """The aggregate id behind a ``ledger_id`` string."""
    return UUID(ledger_id)
