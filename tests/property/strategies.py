"""Hypothesis strategies for fills: valid executions and deliberately broken ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import strategies as st

symbols = st.sampled_from(["AAPL", "MSFT", "NVDA", "SPY", "BRK.B"])
quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
weights = st.sampled_from(
    [
        {},
        {"momentum": 1},
        {"momentum": 0.6, "mean_reversion": 0.4},
        {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3},
        {"a": "0.25", "b": "0.75"},
    ]
)


@st.composite
def executions(draw: st.DrawFn, count: int = 30) -> list[dict[str, Any]]:
    """A list of valid executions; some orders get several (partial fills)."""
    n = draw(st.integers(min_value=0, max_value=count))
    result = []
    orders: dict[str, tuple[str, str]] = {}
    for i in range(n):
        if orders and draw(st.booleans()):
            order_id = draw(st.sampled_from(sorted(orders)))
            symbol, side = orders[order_id]
        else:
            order_id = f"o{i}"
            symbol = draw(symbols)
            side = draw(st.sampled_from(["BUY", "SELL"]))
            orders[order_id] = (symbol, side)
        price = draw(prices)
        spread = draw(st.sampled_from([None, Decimal("0.01"), Decimal("0.05")]))
        result.append(
            {
                "order_id": order_id,
                "execution_id": f"{order_id}-x{i}",
                "symbol": symbol,
                "action": side,
                "shares": draw(quantities),
                "price": price,
                "time": draw(times),
                "quote": None if spread is None else (price - spread, price + spread),
                "weights": draw(weights),
            }
        )
    return result


def as_inputs(execution: dict[str, Any]) -> tuple[SimpleNamespace, Any, Any]:
    """(order result, plan, quote) objects for one execution, in the executor's shapes."""
    order = SimpleNamespace(
        symbol=execution["symbol"],
        action=execution["action"],
        shares=execution["shares"],
        price=execution["price"],
        order_id=execution["order_id"],
        success=True,
        timestamp=execution["time"],
        filled_at=execution["time"] + timedelta(milliseconds=5),
        order_type="limit",
    )
    plan = SimpleNamespace(
        metadata={"strategy_attribution": {execution["symbol"]: execution["weights"]}}
    )
    quote = None
    if execution["quote"] is not None:
        bid, ask = execution["quote"]
        quote = SimpleNamespace(bid_price=bid, ask_price=ask)
    return order, plan, quote


bad_overrides = st.sampled_from(
    [
        {"shares": Decimal("-1")},
        {"price": Decimal("-0.01")},
        {"price": Decimal("0")},
        {"shares": Decimal("NaN")},
        {"price": float("inf")},
        {"action": "SHORT"},
        {"symbol": ""},
        {"weights": {"a": 0.7, "b": 0.7}},
        {"weights": {"a": -1, "b": 2}},
        {"quote": (Decimal("10"), Decimal("9"))},
        {"shares": Decimal("1E+50")},
        {"price": Decimal("1E-160")},
    ]
)
