"""The shape every view shares, and the per-fill facts the views have in common.

A view starts empty, takes one event at a time with ``apply(event)`` (so it can be passed
to ``TradeLedgerService.subscribe``), or is built from one or more event streams with
``build(*streams)``; ``result()`` returns an immutable report. Only
``Ledger.FillRecorded`` events count; every other event is ignored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from decimal import Decimal
from typing import ClassVar, Generic, Protocol, Self, TypeVar
from uuid import UUID

from ledger_domain import Ledger
from projections.arithmetic import ONE, ZERO, wide

Fill = Ledger.FillRecorded
"""The only event type the projections read."""

ResultT = TypeVar("ResultT")
ResultT_co = TypeVar("ResultT_co", covariant=True)

Share = tuple[str | None, Decimal, Decimal, Decimal]
Shares = tuple[Share, ...]
FillEvent = Ledger.FillRecorded
"""(strategy or ``None`` for unattributed, quantity, notional, weight adjustment)."""


class Projection(Protocol[ResultT_co]):
    """A fold over ledger events: feed it events, ask it for its report."""

    def apply(self, event: object) -> None:
        """Fold one event in (events other than fills are ignored)."""
        ...

    def result(self) -> ResultT_co:
        """The immutable report of everything applied so far."""
        ...


def attribution(fill: Ledger.FillRecorded) -> tuple[Share, ...]:
    """Split one fill's quantity and notional between its strategies.

    A strategy's share is weight x quantity, and its notional that share x price, both
    exact. The shares always add up to the fill exactly: when the weights do not sum to
    exactly 1 (they are only required to within 1e-6), the strategy with the largest
    weight (the first one listed, on a tie) takes the remainder, and the part of its
    notional that came from that remainder is reported as its weight adjustment.
    A fill without attribution is one ``None`` (unattributed) share.
    """
    with wide():
        return shares_of(fill, fill.quantity * fill.price)


def shares_of(fill: Ledger.FillRecorded, value: Decimal) -> tuple[Share, ...]:
    """``attribution`` given the fill's value; call inside ``wide()``."""
    weights = fill.strategy_weights
    quantity = fill.quantity
    if not weights:
        return ((None, quantity, value, ZERO),)
    if len(weights) == 1:
        ((name, weight),) = weights.items()
        return ((name, quantity, value, ZERO if weight == ONE else value - weight * value),)
    price = fill.price
    total = sum(weights.values(), ZERO)
    if total == ONE:
        return tuple(
            (name, part, part * price, ZERO)
            for name, weight in weights.items()
            for part in (weight * quantity,)
        )
    absorber = max(weights, key=weights.__getitem__)
    shares: list[Share] = []
    others = ZERO
    for name, weight in weights.items():
        if name != absorber:
            part = weight * quantity
            others += part
            shares.append((name, part, part * price, ZERO))
    rest = quantity - others
    rest_value = rest * price
    adjustment = rest_value - weights[absorber] * value
    shares.insert(list(weights).index(absorber), (absorber, rest, rest_value, adjustment))
    return tuple(shares)


class _LedgerSeen:
    """What a view has seen of one ledger: its last fill version and its orders."""

    __slots__ = ("orders", "version")

    def __init__(self) -> None:
        self.version = 0
        self.orders: set[str] = set()


class Admission:
    """Skips redelivered fills and tells whether a fill opens a new order (entry).

    Within one ledger, events arrive in version order (as stored, archived, or fed by a
    subscription). A fill whose version is not above the last one seen from its ledger is
    a redelivery (the same run applied twice) and is skipped, so folding is idempotent.
    An entry is an order of a ledger: (ledger id, order id), counted at its first fill.
    """

    __slots__ = ("_last", "_last_id", "_ledgers", "duplicates")

    def __init__(self) -> None:
        self._ledgers: dict[UUID, _LedgerSeen] = {}
        self._last_id: UUID | None = None
        self._last = _LedgerSeen()
        self.duplicates = 0

    def admit(self, fill: Ledger.FillRecorded) -> bool | None:
        """``None``: skip (already applied); else whether the fill is its order's first."""
        ledger_id = fill.originator_id
        if ledger_id is self._last_id:
            seen = self._last
        else:
            found = self._ledgers.get(ledger_id)
            if found is None:
                found = self._ledgers[ledger_id] = _LedgerSeen()
            seen = self._last = found
            self._last_id = ledger_id
        version = fill.originator_version
        if version <= seen.version:
            self.duplicates += 1
            return None
        seen.version = version
        orders = seen.orders
        order_id = fill.order_id
        if order_id in orders:
            return False
        orders.add(order_id)
        return True


class FillProjection(ABC, Generic[ResultT]):
    """Base of the views: admission, the ``apply``/``build`` shape, per-fill facts."""

    uses_shares: ClassVar[bool] = False
    """Whether ``_fold`` needs the strategy shares of each fill."""

    def __init__(self) -> None:
        self._admission = Admission()

    @property
    def duplicates_skipped(self) -> int:
        """Fills skipped because their ledger had already delivered that version."""
        return self._admission.duplicates

    def apply(self, event: object) -> None:
        """Fold one event in; anything but a fill, or a fill already applied, is ignored."""
        if isinstance(event, Fill):
            with wide():
                self._apply(event)

    def extend(self, *streams: Iterable[object]) -> Self:
        """Fold every event of the streams in, in order; returns this view."""
        fill = Fill
        apply = self._apply
        with wide():
            for stream in streams:
                for event in stream:
                    if isinstance(event, fill):
                        apply(event)
        return self

    @classmethod
    def build(cls, *streams: Iterable[object]) -> Self:
        """A view of the given event streams (one run, or several runs in order)."""
        return cls().extend(*streams)

    def _apply(self, fill: Ledger.FillRecorded) -> None:
        new_order = self._admission.admit(fill)
        if new_order is not None:
            value = fill.quantity * fill.price
            self._fold(fill, value, new_order, shares_of(fill, value) if self.uses_shares else ())

    @abstractmethod
    def _fold(self, fill: FillEvent, value: Decimal, new_order: bool, shares: Shares) -> None:
        """Fold one admitted fill (inside ``wide()``): its exact value (quantity x price),
        whether it is its order's first execution, and its strategy shares."""

    @abstractmethod
    def result(self) -> ResultT:
        """The immutable report of everything applied so far."""


def strategy_order(name: str | None) -> tuple[bool, str]:
    """Sort key: strategies by name, the unattributed line (``None``) last."""
    return (name is None, name or "")
