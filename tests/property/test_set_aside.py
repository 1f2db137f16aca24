"""The executor's path sets aside exactly what the guide's path refuses, and loses no fill."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_domain import Fill, InvalidFillError, Ledger, RebalancePlan, Side, TradeLedgerService
from tests.builders import FILL_TIME
from tests.property.strategies import prices

MAX_AGE = timedelta(seconds=60)
quote_sides = st.one_of(st.none(), prices, st.just(Decimal(0)), st.just("not a number"))
ages = st.sampled_from([None, 0, 30, -30, 61, -3600])
attributions = st.sampled_from(
    [
        None,
        {"m": 1},
        {"m": 0.6, "n": 0.4},
        {"m": 0.5, "n": 0.4},  # sums to 0.9
        {"m": -1, "n": 2},
        {"m": "x"},
    ]
)


def a_plan(weights: dict[str, Any] | None) -> RebalancePlan:
    return RebalancePlan(
        correlation_id="c",
        causation_id="c",
        timestamp=FILL_TIME,
        plan_id="p",
        items=[],
        total_portfolio_value=Decimal(1),
        total_trade_value=Decimal(1),
        metadata=None if weights is None else {"strategy_attribution": {"AAPL": weights}},
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(quote_sides, quote_sides, ages), min_size=1, max_size=8),
    attributions,
)
def test_every_fill_is_recorded_and_only_what_the_guide_refuses_is_set_aside(
    quotes: list[tuple[Any, Any, int | None]], weights: dict[str, Any] | None
) -> None:
    plan = a_plan(weights)
    service = TradeLedgerService("c")
    service.attach_plan(plan)
    fills = []
    for index, (bid, ask, age) in enumerate(quotes):
        fill = Fill("o1", f"x{index}", "AAPL", Side.BUY, Decimal(1), Decimal(100), FILL_TIME)
        quote: dict[str, Any] = {"bid_price": bid, "ask_price": ask}
        if age is not None:
            quote["timestamp"] = FILL_TIME + timedelta(seconds=age)
        fills.append((fill, quote))
    outcomes = service.record_broker_fills(fills, "c", max_quote_age=MAX_AGE)
    assert [o.error for o in outcomes] == [None] * len(fills)
    recorded = [e for e in service.events() if isinstance(e, Ledger.FillRecorded)]
    assert [e.execution_id for e in recorded] == [f.execution_id for f, _ in fills]
    for (fill, quote), event, outcome in zip(fills, recorded, outcomes, strict=True):
        assert event.set_aside == outcome.set_aside
        strict = TradeLedgerService("c")
        try:
            strict.record_fill(fill, "c", rebalance_plan=plan, quote_at_fill=quote)
        except InvalidFillError as refusal:
            refused_field = refusal.field
        else:
            refused_field = None
            stale = quote.get("timestamp") is not None and (
                abs(quote["timestamp"] - FILL_TIME) > MAX_AGE
            )
            entry = strict.get_ledger().entries[0]
            # Accepted by the guide's path: identical, unless only the quote's age differs.
            assert event.strategy_weights == (entry.strategy_weights or {})
            if not stale:
                assert (event.bid, event.ask) == (entry.bid_at_fill, entry.ask_at_fill)
                assert event.set_aside == {}
        if refused_field is not None:
            assert refused_field in event.set_aside or any(
                field.startswith(refused_field.split(".")[0]) for field in event.set_aside
            )
        if any(field.startswith("quote_at_fill") for field in event.set_aside):
            assert (event.bid, event.ask, event.quoted_at) == (None, None, None)
        if any(field.startswith("strategy_attribution") for field in event.set_aside):
            assert event.strategy_weights == {}
