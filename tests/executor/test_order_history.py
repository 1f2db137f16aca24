"""What recovery and a stopping run ask of a broker: an order's executions by client order id,
and cancelling; the simulated broker's state file; ``Executor.stop``."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters import BrokerError, Executor, OrderRequest, SimulatedBroker
from adapters.brokers.port import OrderHistory
from ledger_domain import Side
from tests.executor.alpaca_server import LoopbackAlpaca
from tests.executor.conftest import item, make_plan
from tests.executor.test_alpaca_loopback import alpaca_broker


def request(symbol: str = "MSFT", client_id: str = "p-MSFT-SELL") -> OrderRequest:
    return OrderRequest(symbol, Side.SELL, quantity=Decimal(9), client_order_id=client_id)


def test_both_brokers_implement_order_history(alpaca_server: LoopbackAlpaca) -> None:
    assert isinstance(SimulatedBroker(), OrderHistory)
    assert isinstance(alpaca_broker(alpaca_server), OrderHistory)


def test_state_file_outlives_the_broker_and_finishes_what_was_left_open(tmp_path: Path) -> None:
    state = tmp_path / "broker.json"
    first = SimulatedBroker(state_file=state, partial_fills={"MSFT": 3})

    async def all_fills() -> Any:
        ticket = await first.submit_order(request())
        return ticket, [f async for f in first.executions(ticket)]

    ticket, fills = asyncio.run(all_fills())
    fill = fills[0]
    saved = json.loads(state.read_text())
    assert [len(o["fills"]) for o in saved["orders"]] == [3]
    # as a SIGKILL after the first execution would have left it: one fill, still open
    saved["orders"][0]["fills"] = saved["orders"][0]["fills"][:1]
    saved["orders"][0]["status"] = "accepted"
    state.write_text(json.dumps(saved))
    with pytest.raises(BrokerError, match="in use by another process"):
        SimulatedBroker(state_file=state)
    first.close()
    second = SimulatedBroker(state_file=state)
    found = asyncio.run(second.order_executions("p-MSFT-SELL"))
    assert found is not None
    assert found.order_id == ticket.order_id
    assert found.terminal
    assert found.status == "filled"
    assert found.fills[0] == fill  # exactly as reported before, Decimals and times intact
    assert [f.execution_id for f in found.fills] == [f"{ticket.order_id}-x{i}" for i in (1, 2, 3)]
    assert [f.quantity for f in found.fills] == [f.quantity for f in fills]
    assert sum(f.quantity for f in found.fills) == Decimal(9)
    assert asyncio.run(second.order_executions("never-placed")) is None
    # the same client order id again is the same order, not a second one
    again = asyncio.run(second.submit_order(request()))
    assert again.order_id == ticket.order_id
    second.close()


def test_cancel_keeps_what_filled(tmp_path: Path) -> None:
    broker = SimulatedBroker(partial_fills={"MSFT": 3})

    async def run() -> Any:
        ticket = await broker.submit_order(request())
        watch = broker.executions(ticket)
        await anext(watch)
        await broker.cancel_order(ticket.order_id or "")
        rest = [f async for f in watch]
        return rest, await broker.order_executions("p-MSFT-SELL")

    rest, found = asyncio.run(run())
    assert rest == []
    assert found.status == "canceled"
    assert [f.quantity for f in found.fills] == [Decimal(3)]


@pytest.mark.parametrize("body", ["not json", '{"format": "other"}', '{"format": 1}'])
def test_an_unreadable_state_file_is_refused(tmp_path: Path, body: str) -> None:
    state = tmp_path / "broker.json"
    state.write_text(body)
    with pytest.raises(BrokerError, match="broker state"):
        SimulatedBroker(state_file=state)


def test_alpaca_order_executions_and_cancel(alpaca_server: LoopbackAlpaca) -> None:
    broker = alpaca_broker(alpaca_server)

    async def run() -> Any:
        ticket = await broker.submit_order(
            OrderRequest("AAPL", Side.BUY, notional=Decimal(2500), client_order_id="r-AAPL")
        )
        await broker.get_order(ticket.order_id or "")  # one scripted execution of two
        half = await broker.order_executions("r-AAPL")
        await broker.cancel_order(ticket.order_id or "")
        await broker.cancel_order(ticket.order_id or "")  # already canceled: no error
        done = await broker.order_executions("r-AAPL")
        return ticket, half, done, await broker.order_executions("nope")

    ticket, half, done, missing = asyncio.run(run())
    assert half.order_id == ticket.order_id
    assert not half.terminal
    activity = alpaca_server.fake.activities[0]
    assert [(f.execution_id, f.quantity, f.price) for f in half.fills] == [
        (activity["id"], Decimal("10"), Decimal("150.25"))
    ]
    assert done.status == "canceled"
    assert done.terminal
    assert done.fills == half.fills
    assert missing is None


def test_stop_places_nothing_new_cancels_the_rest_and_archives(archive_directory: Path) -> None:
    broker = SimulatedBroker(partial_fills={"MSFT": 4}, fill_delay=0.01)
    plan = make_plan([item("MSFT", "SELL", "-2000"), item("AAPL", "BUY", "1000")], plan_id="st")
    executor = Executor(broker, handle_signals=False)

    async def run() -> Any:
        task = asyncio.create_task(executor.execute_rebalance_plan(plan))
        while not broker.submitted or not await _filled(broker):
            await asyncio.sleep(0.005)
        executor.stop("stopped by test")
        return await task

    result = asyncio.run(run())
    assert result.stopped == "stopped by test"
    sell, buy = result.orders
    assert buy.status == "not_placed"
    assert sell.status == "canceled"
    assert 1 <= sell.executions < 4
    assert [r.symbol for r in broker.submitted] == ["MSFT"]
    found = asyncio.run(broker.order_executions(sell.client_order_id))
    assert found is not None
    ledger = executor.trade_ledger.get_ledger()
    assert ledger.entries[0].execution_ids == [f.execution_id for f in found.fills]
    assert result.ledger_closed
    assert result.archived


async def _filled(broker: SimulatedBroker) -> bool:
    found = await broker.order_executions("st-MSFT-SELL")
    return found is not None and len(found.fills) >= 1
