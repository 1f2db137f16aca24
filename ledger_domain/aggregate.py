"""The Ledger aggregate: one per run, its history a stream of immutable, versioned events.

A fill is recorded per execution (a partially filled order is several events); the guide's
per-order ``TradeLedgerEntry`` is derived from them. Every invariant is checked before an
event is triggered, so a refused fill leaves the ledger exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, OriginatorIDError, OriginatorVersionError

from ledger_domain.errors import (
    ExecutionConflictError,
    InvalidEventStreamError,
    LedgerClosedError,
    RunConflictError,
)
from ledger_domain.fill import Fill, FillToRecord, SetAside, Side, StrategyWeights
from ledger_domain.frozen import FrozenList
from ledger_domain.models import (
    ENTRY_FIELDS,
    LEDGER_FIELDS,
    TradeLedger,
    TradeLedgerEntry,
    trusted,
)
from ledger_domain.money import ZERO, average_price, exact_sum, exact_value
from ledger_domain.run_plan import AttributionBySymbol, PlacedOrder, PlanAttribution

_BUY = Side.BUY  # a module constant: looking up an enum member costs ~60 ns a fill


class OrderFills:
    """Running state of one order: its executions folded into the guide's entry."""

    __slots__ = ("execution_ids", "first", "last", "quantity", "value")

    def __init__(self, first: Ledger.FillRecorded) -> None:
        self.first = first
        self.last = first
        self.execution_ids: tuple[str, ...] = ()
        self.quantity = ZERO
        self.value = ZERO

    def add(self, fill: Ledger.FillRecorded, quantity: Decimal, value: Decimal) -> None:
        """Take in one execution, given the order's new total ``quantity`` and ``value``."""
        self.last = fill
        self.execution_ids = (*self.execution_ids, fill.execution_id)
        self.quantity = quantity
        self.value = value

    def entry(self) -> TradeLedgerEntry:
        """The derived entry, built on demand (replay of a long history never builds the
        intermediate ones; the service keeps the current one of each order) and
        immutable, so it can be shared."""
        last = self.last
        weights = last.strategy_weights
        single = len(self.execution_ids) == 1
        entry: TradeLedgerEntry = trusted(
            TradeLedgerEntry,
            ENTRY_FIELDS,
            {
                "order_id": last.order_id,
                "symbol": last.symbol,
                "direction": last.side,
                "filled_qty": self.quantity,
                "fill_price": last.price if single else average_price(self.value, self.quantity),
                "bid_at_fill": last.bid,
                "ask_at_fill": last.ask,
                "fill_timestamp": last.filled_at,
                "order_type": last.order_type,
                "strategy_names": FrozenList(weights),
                "strategy_weights": weights or None,
                "correlation_id": self.first.correlation_id,
                "execution_ids": FrozenList(self.execution_ids),
                "trade_value": self.value,
            },
        )
        return entry


class Ledger(Aggregate):
    """A run's ledger. Opened once, fills recorded, closed; nothing after close."""

    class Opened(Aggregate.Created):
        """The run began: its correlation id (may come with the first fill) and open time."""

        class_version = 1
        correlation_id: str | None
        opened_at: datetime

    class FillRecorded(Aggregate.Event):
        """One execution of one order, with the quote of that moment and its attribution.

        Version 2 speaks the ledger's vocabulary (``side``, ``filled_at``, ``quoted_at``);
        version 1 called them ``direction``, ``fill_time`` and ``quote_time``. Version 3
        adds ``set_aside``: auxiliary data (a crossed or stale quote, weights that do not
        sum to 1) left out so the fill could be recorded, field -> why; empty before.
        """

        class_version = 3
        order_id: str
        execution_id: str
        symbol: str
        side: Side
        quantity: Decimal
        price: Decimal
        bid: Decimal | None
        ask: Decimal | None
        quoted_at: datetime | None
        filled_at: datetime
        order_type: str
        strategy_weights: StrategyWeights
        correlation_id: str
        set_aside: SetAside

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Rename version 1's fields in place, keeping the declared order."""
            renamed = {"direction": "side", "quote_time": "quoted_at", "fill_time": "filled_at"}
            clash = [new for new in renamed.values() if new in state]
            if clash:
                raise ValueError(f"a version 1 fill cannot carry {clash}")
            items = [(renamed.get(key, key), value) for key, value in state.items()]
            state.clear()
            state.update(items)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Nothing was set aside before version 3."""
            if "set_aside" in state:
                raise ValueError("a version 2 fill cannot carry set_aside")
            state["set_aside"] = {}

        def apply(self, aggregate: Any) -> None:
            aggregate._apply_fill(self)

    class PlanAttached(Aggregate.Event):
        """The plan the run trades: its id, the run's correlation id, and the strategy
        attribution of each symbol (validated; what failed validation is in ``set_aside``,
        field -> reason). Recovery attributes the fills it finds with it."""

        class_version = 1
        plan_id: str
        correlation_id: str
        strategy_attribution: AttributionBySymbol
        set_aside: SetAside

        def apply(self, aggregate: Any) -> None:
            aggregate._apply_plan(self)

    class OrderPlaced(Aggregate.Event):
        """An order the run placed, stored before the broker was asked: its client order
        id is how recovery finds the order's executions at the broker after a crash."""

        class_version = 1
        client_order_id: str
        symbol: str
        side: Side
        quantity: Decimal | None
        notional: Decimal | None
        order_type: str
        placed_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.placed_orders[self.client_order_id] = _placed(self)

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
        self.plan: PlanAttribution | None = None
        self.placed_orders: dict[str, PlacedOrder] = {}

    @property
    def ledger_id(self) -> str:
        return str(self.id)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def record_fill(self, recordable: FillToRecord) -> bool:
        """Record one execution; ``False`` when this exact execution is already recorded."""
        if self.is_closed:
            raise LedgerClosedError(self.ledger_id)
        fill = recordable.fill
        seen = self.executions.get(fill.execution_id)
        if seen is not None:
            difference = _difference(seen, fill)
            if difference:
                raise ExecutionConflictError(fill.execution_id, difference)
            return False
        self._check_order_consistency(fill)
        quote = recordable.quote
        self.trigger_event(
            self.FillRecorded,
            order_id=fill.order_id,
            execution_id=fill.execution_id,
            symbol=fill.symbol,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            bid=quote.bid,
            ask=quote.ask,
            quoted_at=quote.quoted_at,
            filled_at=fill.filled_at,
            order_type=fill.order_type,
            strategy_weights=recordable.strategy_weights,
            correlation_id=recordable.correlation_id,
            set_aside=recordable.set_aside,
        )
        return True

    def _check_order_consistency(self, fill: Fill | Ledger.FillRecorded) -> None:
        """Executions of one order share symbol and side; whole-order fills stand alone."""
        order = self.orders.get(fill.order_id)
        if order is None:
            return
        first = order.first
        if (first.symbol, first.side) != (fill.symbol, fill.side):
            raise ExecutionConflictError(
                fill.execution_id,
                f"order {fill.order_id} is {first.side} {first.symbol}, "
                f"not {fill.side} {fill.symbol}",
            )
        if fill.order_id in (fill.execution_id, *order.execution_ids):
            raise ExecutionConflictError(
                fill.execution_id,
                f"order {fill.order_id} cannot mix a whole-order fill with per-execution fills",
            )

    def attach_plan(self, plan: PlanAttribution) -> bool:
        """Record the run's plan; ``False`` if this very plan is already attached."""
        if self.is_closed:
            raise LedgerClosedError(self.ledger_id)
        if self.plan is not None:
            if self.plan == plan:
                return False
            raise RunConflictError(
                f"plan {plan.plan_id!r}", f"the run already trades plan {self.plan.plan_id!r}"
            )
        self.trigger_event(
            self.PlanAttached,
            plan_id=plan.plan_id,
            correlation_id=plan.correlation_id,
            strategy_attribution=plan.strategy_attribution,
            set_aside=plan.set_aside,
        )
        return True

    def place_order(self, order: PlacedOrder) -> bool:
        """Record an order about to be placed; ``False`` if this order is already recorded
        (the same client order id, symbol, side, size and type: placing it again)."""
        if self.is_closed:
            raise LedgerClosedError(self.ledger_id)
        seen = self.placed_orders.get(order.client_order_id)
        if seen is not None:
            if seen[:-1] == order[:-1]:  # all but placed_at
                return False
            raise RunConflictError(
                f"client order {order.client_order_id!r}",
                f"already placed as {seen.side} {seen.quantity or seen.notional} {seen.symbol}",
            )
        self.trigger_event(self.OrderPlaced, **order._asdict())
        return True

    def _apply_plan(self, event: Ledger.PlanAttached) -> None:
        self.plan = PlanAttribution(
            event.plan_id, event.correlation_id, event.strategy_attribution, event.set_aside
        )
        if self.correlation_id is None:
            self.correlation_id = event.correlation_id

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
        buying = fill.side is _BUY
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

    def snapshot(self, entries: list[TradeLedgerEntry] | None = None) -> TradeLedger:
        """The guide's ``TradeLedger`` view of this run (``entries`` if already at hand)."""
        ledger: TradeLedger = trusted(
            TradeLedger,
            LEDGER_FIELDS,
            {
                "ledger_id": self.ledger_id,
                "created_at": self.opened_at,
                "entries": FrozenList(self.entries() if entries is None else entries),
                "correlation_id": self.correlation_id,
                "closed_at": self.closed_at,
            },
        )
        return ledger


_SAME_FILL = ("order_id", "symbol", "side", "quantity", "price")


def _placed(event: Ledger.OrderPlaced) -> PlacedOrder:
    return PlacedOrder(
        event.client_order_id,
        event.symbol,
        event.side,
        event.quantity,
        event.notional,
        event.order_type,
        event.placed_at,
    )


def _difference(seen: Ledger.FillRecorded, fill: Fill) -> str:
    """What differs between a recorded execution and a new one under the same id."""
    changed = [
        f"{name} {getattr(seen, name)} -> {getattr(fill, name)}"
        for name in _SAME_FILL
        if getattr(seen, name) != getattr(fill, name)
    ]
    return ", ".join(changed)


def replay(events: Iterable[Any]) -> Ledger:
    """Fold an ordered event stream back into a Ledger (audit replay).

    Raises ``InvalidEventStreamError`` when the stream does not start with ``Opened``,
    skips or repeats a version, or mixes ledgers.
    """
    ledger: Ledger | None = None
    for position, event in enumerate(events):
        if not isinstance(event, Ledger.Event):
            raise InvalidEventStreamError(f"event {position} is not a ledger event")
        if ledger is None:
            if not isinstance(event, Ledger.Opened) or event.originator_version != 1:
                raise InvalidEventStreamError(
                    f"event 0 is {type(event).__name__} version {event.originator_version}, "
                    "expected Opened version 1"
                )
        elif ledger.is_closed:
            raise InvalidEventStreamError(f"event {position} comes after the ledger was closed")
        elif type(event) is Ledger.FillRecorded:
            if event.execution_id in ledger.executions:
                raise InvalidEventStreamError(
                    f"event {position} repeats execution {event.execution_id!r}"
                )
            try:  # the recording rules hold in a replayed history too
                ledger._check_order_consistency(event)
            except ExecutionConflictError as conflict:
                raise InvalidEventStreamError(f"event {position}: {conflict}") from None
        elif type(event) is Ledger.PlanAttached and ledger.plan is not None:
            raise InvalidEventStreamError(f"event {position} attaches a second plan")
        elif type(event) is Ledger.OrderPlaced and event.client_order_id in ledger.placed_orders:
            raise InvalidEventStreamError(
                f"event {position} places client order {event.client_order_id!r} again"
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
