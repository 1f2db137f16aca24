"""Execution quality: slippage against the quoted mid and the quoted spread, in basis points.

For a fill with a full quote (bid and ask both present, 0 < bid <= ask)::

    mid          = (bid + ask) / 2                       exact
    unit_cost    = s * (price - mid)                     exact, s = +1 BUY, -1 SELL
    slippage_bps = unit_cost / mid * 10_000              28 significant digits
    spread_bps   = (ask - bid) / mid * 10_000            28 significant digits
    slippage_cost = unit_cost * quantity                 exact, in the quote currency

Positive slippage is a cost for buys and sells alike (bought above the mid, sold below
it); negative is price improvement. Fills without a full quote are counted (and their
notional summed) on their own; nothing is guessed for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ledger_domain import Ledger, Side
from projections.arithmetic import BPS, RATIO, TWO, ZERO, add, multiply, ratio, wide
from projections.core import Fill, FillEvent, FillProjection, Shares, strategy_order

_BUY = Side.BUY  # a module constant: looking up an enum member costs ~60 ns a fill


def _metrics(fill: Ledger.FillRecorded) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    """(mid, unit_cost, slippage_bps, spread_bps), ``None`` without a full quote.

    Call inside ``wide()``: the mid and the unit cost are exact there.
    """
    bid = fill.bid
    ask = fill.ask
    if bid is None or ask is None or not ZERO < bid <= ask:
        return None
    mid = (bid + ask) / TWO
    unit_cost = fill.price - mid if fill.side is _BUY else mid - fill.price
    return (
        mid,
        unit_cost,
        RATIO.divide(unit_cost * BPS, mid),
        RATIO.divide((ask - bid) * BPS, mid),
    )


class FillQuality(BaseModel):
    """Execution quality of one fill that had a full quote."""

    model_config = ConfigDict(frozen=True)

    ledger_id: str
    order_id: str
    execution_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    bid: Decimal
    ask: Decimal
    mid: Decimal
    notional: Decimal
    slippage_bps: Decimal
    spread_bps: Decimal
    slippage_cost: Decimal


def fill_quality(event: object) -> FillQuality | None:
    """The quality of one fill; ``None`` for other events and for fills without a full quote."""
    if not isinstance(event, Fill) or event.bid is None or event.ask is None:
        return None
    with wide():
        metrics = _metrics(event)
    if metrics is None:
        return None
    mid, unit_cost, slippage, spread = metrics
    return FillQuality(
        ledger_id=str(event.originator_id),
        order_id=event.order_id,
        execution_id=event.execution_id,
        symbol=event.symbol,
        side=event.side,
        quantity=event.quantity,
        price=event.price,
        bid=event.bid,
        ask=event.ask,
        mid=mid,
        notional=multiply(event.quantity, event.price),
        slippage_bps=slippage,
        spread_bps=spread,
        slippage_cost=multiply(unit_cost, event.quantity),
    )


def fill_qualities(*streams: Iterable[object]) -> Iterator[FillQuality]:
    """Per-fill quality of every fill with a full quote in the streams, in order."""
    for stream in streams:
        for event in stream:
            quality = fill_quality(event)
            if quality is not None:
                yield quality


class QualityRow(BaseModel):
    """Aggregated execution quality of a group of fills (a symbol, a strategy, or all).

    ``slippage_bps``/``spread_bps`` are notional-weighted means over the quoted fills:
    sum(notional x bps) / quoted_notional, ``None`` when no fill had a full quote.
    For a strategy, counts are the fills it contributed to, and notional and
    ``slippage_cost`` are its attributed share (weight x quantity, as ``ByStrategy``).
    """

    model_config = ConfigDict(frozen=True)

    name: str | None
    fills: int = 0
    quoted_fills: int = 0
    unquoted_fills: int = 0
    quoted_notional: Decimal = ZERO
    unquoted_notional: Decimal = ZERO
    slippage_bps: Decimal | None = None
    spread_bps: Decimal | None = None
    slippage_cost: Decimal = ZERO


class QualityReport(BaseModel):
    """Execution quality over all fills, per symbol, per strategy and unattributed."""

    model_config = ConfigDict(frozen=True)

    overall: QualityRow = QualityRow(name=None)
    by_symbol: tuple[QualityRow, ...] = ()
    by_strategy: tuple[QualityRow, ...] = ()
    unattributed: QualityRow = QualityRow(name=None)

    def symbol(self, symbol: str) -> QualityRow | None:
        """The row of ``symbol`` (case-insensitive), if it traded."""
        wanted = symbol.strip().upper()
        return next((row for row in self.by_symbol if row.name == wanted), None)

    def strategy(self, name: str) -> QualityRow | None:
        """The row of strategy ``name``, if it traded."""
        return next((row for row in self.by_strategy if row.name == name), None)


class _Quality:
    __slots__ = (
        "cost",
        "fills",
        "quoted",
        "quoted_notional",
        "slippage_weighted",
        "spread_weighted",
        "unquoted_notional",
    )

    def __init__(self) -> None:
        self.fills = 0
        self.quoted = 0
        self.quoted_notional = ZERO
        self.unquoted_notional = ZERO
        self.slippage_weighted = ZERO  # sum of notional x slippage_bps
        self.spread_weighted = ZERO  # sum of notional x spread_bps
        self.cost = ZERO

    def quoted_fill(
        self, notional: Decimal, slippage_weighted: Decimal, spread_weighted: Decimal, cost: Decimal
    ) -> None:
        """Inside ``wide()``."""
        self.fills += 1
        self.quoted += 1
        self.quoted_notional += notional
        self.slippage_weighted += slippage_weighted
        self.spread_weighted += spread_weighted
        self.cost += cost

    def merge(self, other: _Quality) -> None:
        self.fills += other.fills
        self.quoted += other.quoted
        self.quoted_notional = add(self.quoted_notional, other.quoted_notional)
        self.unquoted_notional = add(self.unquoted_notional, other.unquoted_notional)
        self.slippage_weighted = add(self.slippage_weighted, other.slippage_weighted)
        self.spread_weighted = add(self.spread_weighted, other.spread_weighted)
        self.cost = add(self.cost, other.cost)

    def row(self, name: str | None) -> QualityRow:
        return QualityRow(
            name=name,
            fills=self.fills,
            quoted_fills=self.quoted,
            unquoted_fills=self.fills - self.quoted,
            quoted_notional=self.quoted_notional,
            unquoted_notional=self.unquoted_notional,
            slippage_bps=ratio(self.slippage_weighted, self.quoted_notional),
            spread_bps=ratio(self.spread_weighted, self.quoted_notional),
            slippage_cost=self.cost,
        )


class ExecutionQuality(FillProjection[QualityReport]):
    """Slippage and spread in basis points, notional-weighted per symbol and per strategy."""

    uses_shares = True

    def __init__(self) -> None:
        super().__init__()
        self._symbols: dict[str, _Quality] = {}
        self._strategies: dict[str | None, _Quality] = {}

    def _fold(self, fill: FillEvent, value: Decimal, new_order: bool, shares: Shares) -> None:
        symbol = self._symbols.get(fill.symbol)
        if symbol is None:
            symbol = self._symbols[fill.symbol] = _Quality()
        strategies = self._strategies
        metrics = _metrics(fill)
        if metrics is None:
            symbol.fills += 1
            symbol.unquoted_notional += value
            for name, _quantity, notional, _adjustment in shares:
                row = strategies.get(name)
                if row is None:
                    row = strategies[name] = _Quality()
                row.fills += 1
                row.unquoted_notional += notional
            return
        _mid, unit_cost, slippage, spread = metrics
        slippage_weighted = value * slippage
        spread_weighted = value * spread
        cost = unit_cost * fill.quantity
        symbol.quoted_fill(value, slippage_weighted, spread_weighted, cost)
        whole = len(shares) == 1
        for name, quantity, notional, _adjustment in shares:
            row = strategies.get(name)
            if row is None:
                row = strategies[name] = _Quality()
            if whole:
                row.quoted_fill(value, slippage_weighted, spread_weighted, cost)
            else:
                row.quoted_fill(
                    notional, notional * slippage, notional * spread, unit_cost * quantity
                )

    def result(self) -> QualityReport:
        overall = _Quality()
        for row in self._symbols.values():
            overall.merge(row)
        strategies = [
            row.row(name)
            for name, row in sorted(self._strategies.items(), key=lambda i: strategy_order(i[0]))
        ]
        unattributed = QualityRow(name=None)
        if strategies and strategies[-1].name is None:
            unattributed = strategies.pop()
        return QualityReport(
            overall=overall.row(None),
            by_symbol=tuple(row.row(name) for name, row in sorted(self._symbols.items())),
            by_strategy=tuple(strategies),
            unattributed=unattributed,
        )
