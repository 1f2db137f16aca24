"""Fill streams for the projection tests, recorded through a real ``TradeLedgerService``.

A stream is a list of ``Execution`` rows; ``record`` drives a service with them (the
executor's shapes: order result, rebalance plan with attribution, quote), so the events
the projections fold are the ledger's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import strategies as st

from ledger_domain import TradeLedgerService

START = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Execution:
    """One execution of one order, as the executor would report it."""

    order_id: str
    execution_id: str
    symbol: str
    action: str
    shares: Decimal
    price: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    weights: Mapping[str, Any] | None = None
    seconds: int = 0


def record(service: TradeLedgerService, stream: Iterable[Execution]) -> TradeLedgerService:
    """Record every execution on ``service``; returns it."""
    for ex in stream:
        when = START + timedelta(seconds=ex.seconds)
        order = SimpleNamespace(
            symbol=ex.symbol,
            action=ex.action,
            shares=ex.shares,
            price=ex.price,
            order_id=ex.order_id,
            success=True,
            timestamp=when,
            filled_at=when,
            order_type="MARKET",
        )
        plan = None
        if ex.weights is not None:
            plan = SimpleNamespace(metadata={"strategy_attribution": {ex.symbol: ex.weights}})
        quote = None
        if ex.bid is not None or ex.ask is not None:
            quote = SimpleNamespace(bid_price=ex.bid, ask_price=ex.ask)
        service.record_execution(
            order,
            "corr",
            rebalance_plan=plan,
            quote_at_fill=quote,
            execution_id=ex.execution_id,
        )
    return service


def run(stream: Iterable[Execution], correlation_id: str = "corr") -> TradeLedgerService:
    """A fresh in-memory run with ``stream`` recorded."""
    return record(TradeLedgerService(correlation_id), stream)


def events_of(stream: Sequence[Execution]) -> list[Any]:
    """The stored events of one run recording ``stream`` (opened, fills, closed)."""
    service = run(stream)
    service.close()
    return service.events()


# -- hypothesis strategies --------------------------------------------------------------

SYMBOLS = ("AAPL", "MSFT", "SPY", "BRK.B")
STRATEGIES = ("momentum", "mean_reversion", "carry", "value")

quantities = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=1, max_value=50_000),
    st.sampled_from([0, 0, 2, 4]),
)
prices = st.builds(lambda cents: Decimal(cents).scaleb(-2), st.integers(1, 500_000))


@st.composite
def inexact_weights(draw: st.DrawFn) -> dict[str, Decimal]:
    """2-4 strategies with weights rounded to 8 places: they sum to 1 only within 1e-6."""
    names = draw(st.lists(st.sampled_from(STRATEGIES), min_size=2, max_size=4, unique=True))
    parts = draw(st.lists(st.integers(1, 1000), min_size=len(names), max_size=len(names)))
    total = sum(parts)
    return {
        name: (Decimal(part) / Decimal(total)).quantize(Decimal("1E-8"))
        for name, part in zip(names, parts, strict=True)
    }


weight_sets: st.SearchStrategy[Mapping[str, Any] | None] = st.one_of(
    st.none(),
    st.just({}),
    st.sampled_from(
        [
            {"momentum": 1},
            {"momentum": 0.6, "mean_reversion": 0.4},
            {"carry": 1 / 3, "value": 1 / 3, "momentum": 1 / 3},
            {"value": "0.25", "carry": "0.75"},
            {"momentum": "0.9999995"},
        ]
    ),
    inexact_weights(),
)


@st.composite
def quotes(draw: st.DrawFn, price: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """A full quote near the price (the price may be outside it), one side, or none."""
    kind = draw(st.sampled_from(["full", "full", "none", "bid_only", "ask_only"]))
    if kind == "none":
        return None, None
    below = Decimal(draw(st.integers(-20, 50))).scaleb(-2)
    above = Decimal(draw(st.integers(0, 50))).scaleb(-2)
    bid = price - below
    ask = max(bid, price + above)
    if bid <= 0:
        bid = Decimal("0.01")
    if kind == "bid_only":
        return bid, None
    if kind == "ask_only":
        return None, ask
    return bid, ask


@st.composite
def streams(
    draw: st.DrawFn,
    max_orders: int = 20,
    symbols: Sequence[str] = SYMBOLS,
    fixed_prices: Mapping[str, Decimal] | None = None,
) -> list[Execution]:
    """Orders of 1-3 executions each, interleaved as a real run's may be."""
    pending: list[Execution] = []
    orders = draw(st.integers(min_value=0, max_value=max_orders))
    for n in range(orders):
        symbol = draw(st.sampled_from(symbols))
        action = draw(st.sampled_from(["BUY", "SELL"]))
        weights = draw(weight_sets)
        for k in range(draw(st.integers(1, 3))):
            price = fixed_prices[symbol] if fixed_prices else draw(prices)
            bid, ask = draw(quotes(price))
            pending.append(
                Execution(
                    order_id=f"o{n}",
                    execution_id=f"o{n}-x{k}",
                    symbol=symbol,
                    action=action,
                    shares=draw(quantities),
                    price=price,
                    bid=bid,
                    ask=ask,
                    weights=weights,
                )
            )
    order = draw(st.permutations(range(len(pending)))) if pending else []
    # Keep each order's executions in their own order while interleaving orders.
    by_order: dict[str, list[Execution]] = {}
    for ex in pending:
        by_order.setdefault(ex.order_id, []).append(ex)
    result = []
    for index in order:
        result.append(by_order[pending[index].order_id].pop(0))
    return [replace(ex, seconds=i) for i, ex in enumerate(result)]
