"""The simulated broker: deterministic quotes, partial fills, rejections, a symbol with no quote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters import (
    Broker,
    BrokerError,
    FillHistory,
    OrderRequest,
    SimulatedBroker,
    client_order_id,
)
from adapters.brokers.simulated import reference_price
from ledger_domain import Side

FIXED = datetime(2024, 1, 15, 14, 30, 52, tzinfo=UTC)


async def fills(broker: SimulatedBroker, request: OrderRequest) -> list:
    ticket = await broker.submit_order(request)
    return [execution async for execution in broker.executions(ticket)]


def test_implements_the_port() -> None:
    broker = SimulatedBroker()
    assert isinstance(broker, Broker)
    assert isinstance(broker, FillHistory)


def test_quotes_are_deterministic() -> None:
    async def quotes() -> tuple[object, object]:
        return await SimulatedBroker().get_quote("AAPL"), await SimulatedBroker().get_quote("aapl")

    first, second = asyncio.run(quotes())
    assert first is not None
    assert second is not None
    assert (first.bid_price, first.ask_price) == (second.bid_price, second.ask_price)
    mid = reference_price("AAPL")
    assert first.ask_price - first.bid_price == Decimal("0.02")
    assert first.bid_price == mid - Decimal("0.01")


def test_partial_fills_move_the_market_and_fill_at_that_moment_s_quote() -> None:
    broker = SimulatedBroker(
        prices={"MSFT": "400.01"}, partial_fills={"MSFT": 3}, clock=lambda: FIXED
    )

    async def run() -> tuple[list, list]:
        ticket = await broker.submit_order(OrderRequest("MSFT", Side.SELL, quantity=Decimal("10")))
        executions, quotes = [], []
        async for execution in broker.executions(ticket):
            executions.append(execution)
            quotes.append(await broker.get_quote("MSFT"))
        return executions, quotes

    executions, quotes = asyncio.run(run())
    assert [e.quantity for e in executions] == [
        Decimal("3.333333333"),
        Decimal("3.333333333"),
        Decimal("3.333333334"),
    ]
    assert sum(e.quantity for e in executions) == Decimal(10)
    assert [e.price for e in executions] == [
        Decimal("400.00"),
        Decimal("399.99"),
        Decimal("399.98"),
    ]
    assert [q.bid_price for q in quotes] == [e.price for e in executions]
    assert len({e.execution_id for e in executions}) == 3
    assert all(e.filled_at == FIXED for e in executions)


def test_fill_fraction_cancels_the_rest() -> None:
    broker = SimulatedBroker(prices={"NVDA": "119.99"}, fill_fraction={"NVDA": "0.6"})

    async def run() -> tuple[list, object]:
        ticket = await broker.submit_order(OrderRequest("NVDA", Side.BUY, notional=Decimal(1800)))
        done = [e async for e in broker.executions(ticket)]
        return done, await broker.get_order(ticket.order_id or "")

    executions, state = asyncio.run(run())
    assert [e.quantity for e in executions] == [Decimal(9)]
    assert state.status == "canceled"
    assert state.filled_quantity == Decimal(9)


def test_rejection_and_no_quote() -> None:
    broker = SimulatedBroker(reject={"GME": "insufficient buying power"}, no_quote={"TEST"})

    async def run() -> tuple[object, object, list]:
        ticket = await broker.submit_order(OrderRequest("GME", Side.BUY, notional=Decimal(500)))
        quote = await broker.get_quote("TEST")
        test_fills = await fills(broker, OrderRequest("TEST", Side.BUY, quantity=Decimal(1)))
        return ticket, quote, test_fills

    ticket, quote, test_fills = asyncio.run(run())
    assert ticket.rejected
    assert ticket.reason == "insufficient buying power"
    assert ticket.order_id is None
    assert quote is None
    assert len(test_fills) == 1  # no quote, still fills


def test_duplicate_client_order_id_returns_the_existing_order() -> None:
    broker = SimulatedBroker()
    request = OrderRequest("AAPL", Side.BUY, quantity=Decimal(1), client_order_id="plan-1-AAPL-BUY")

    async def run() -> tuple[object, object]:
        return await broker.submit_order(request), await broker.submit_order(request)

    first, second = asyncio.run(run())
    assert first.order_id is not None
    assert first.status == "accepted"
    assert second == first  # the same order, not a second one
    assert len(broker.submitted) == 2  # both requests reached the broker


def test_fill_history_and_replayed_watch() -> None:
    broker = SimulatedBroker(
        prices={"AAPL": "199.99"}, partial_fills={"AAPL": 2}, clock=lambda: FIXED
    )

    async def run() -> tuple[str, list, list, list, list]:
        ticket = await broker.submit_order(OrderRequest("AAPL", Side.BUY, quantity=Decimal(4)))
        first = [e async for e in broker.executions(ticket)]
        again = [e async for e in broker.executions(ticket)]
        hour = timedelta(hours=1)
        history = await broker.fill_activities(FIXED - hour, FIXED + hour)
        before = await broker.fill_activities(FIXED - hour, FIXED)
        return ticket.order_id or "", first, again, history, before

    order_id, first, again, history, before = asyncio.run(run())
    assert [(e.execution_id, e.side, e.quantity, e.price) for e in first] == [
        (f"{order_id}-x1", Side.BUY, Decimal(2), Decimal("200.00")),
        (f"{order_id}-x2", Side.BUY, Decimal(2), Decimal("200.01")),
    ]
    assert all((e.order_id, e.symbol, e.filled_at) == (order_id, "AAPL", FIXED) for e in first)
    assert again == first  # a second watcher sees the same executions again
    assert history == first  # and the fill history holds exactly them
    assert before == []  # the window's end is exclusive


def test_unknown_order_is_a_broker_error() -> None:
    with pytest.raises(BrokerError):
        asyncio.run(SimulatedBroker().get_order("nope"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"quantity": Decimal(1), "notional": Decimal(1)},
        {"quantity": Decimal(0)},
        {"quantity": Decimal("NaN")},
    ],
)
def test_order_request_needs_exactly_one_positive_size(kwargs: dict[str, Decimal]) -> None:
    with pytest.raises(ValueError, match=r"exactly one of quantity or notional|order size"):
        OrderRequest("AAPL", Side.BUY, **kwargs)


def test_order_request_side_is_a_side() -> None:
    assert OrderRequest("AAPL", "SELL", quantity=Decimal(1)).side is Side.SELL
    with pytest.raises(ValueError, match="side must be BUY or SELL, got 'HOLD'"):
        OrderRequest("AAPL", "HOLD", quantity=Decimal(1))
    with pytest.raises(ValueError, match="side must be BUY or SELL, got 'buy'"):
        OrderRequest("AAPL", "buy", quantity=Decimal(1))


def test_client_order_ids_are_deterministic_and_safe() -> None:
    assert client_order_id("plan 1/x", "AAPL", "BUY") == "plan_1_x-AAPL-BUY"
    long = client_order_id("p" * 300, "AAPL", "BUY")
    assert len(long) == 128
    assert long == client_order_id("p" * 300, "AAPL", "BUY")
    assert long != client_order_id("p" * 299, "AAPL", "BUY")
