"""The executor's run remembers its plan and each order before the broker hears of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from adapters import Archive, Executor, OrderRequest, OrderTicket, SimulatedBroker
from ledger_domain import Ledger, TradeLedgerService
from tests.executor.conftest import ATTRIBUTION, archived, item, make_plan

ALL_TIME = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class Witness(SimulatedBroker):
    """Notes, at each submission, whether the run's ledger already holds the order."""

    def __init__(self) -> None:
        super().__init__(partial_fills={"MSFT": 2})
        self.ledger: TradeLedgerService | None = None
        self.known_at_submit: dict[str, bool] = {}

    async def submit_order(self, request: OrderRequest) -> OrderTicket:
        assert self.ledger is not None
        assert request.client_order_id is not None
        placed = {o.client_order_id for o in self.ledger.placed_orders()}
        self.known_at_submit[request.client_order_id] = request.client_order_id in placed
        return await super().submit_order(request)


def plan_of_two() -> Any:
    return make_plan(
        [item("AAPL", "BUY", "5000"), item("MSFT", "SELL", "-2000")], attribution=ATTRIBUTION
    )


def test_plan_and_every_order_are_in_the_run_before_the_broker_is_asked(
    run_archive: Archive,
) -> None:
    broker = Witness()

    def ledger(correlation_id: str | None) -> TradeLedgerService:
        broker.ledger = TradeLedgerService(correlation_id)
        return broker.ledger

    executor = Executor(broker, archive=run_archive, ledger_factory=ledger)
    plan = plan_of_two()
    result = asyncio.run(executor.execute_rebalance_plan(plan))
    assert result.ledger_ok
    assert result.archived
    assert broker.known_at_submit == {"plan-123-MSFT-SELL": True, "plan-123-AAPL-BUY": True}
    service = executor.trade_ledger
    attached = service.plan_attribution()
    assert attached is not None
    assert (attached.plan_id, attached.correlation_id) == ("plan-123", "corr-plan-123")
    assert set(attached.strategy_attribution) == set(ATTRIBUTION)
    placed = {o.client_order_id: o for o in service.placed_orders()}
    assert {r.client_order_id for r in result.orders} == set(placed)
    assert placed["plan-123-MSFT-SELL"].notional == 2000
    kinds = [type(e).__name__ for e in service.events()]
    assert kinds[:2] == ["Opened", "PlanAttached"]
    assert kinds.index("OrderPlaced") < kinds.index("FillRecorded")
    (run,) = archived(run_archive)
    assert any(isinstance(e, Ledger.PlanAttached) for e in run.events)


def test_an_order_the_ledger_cannot_record_is_not_placed(run_archive: Archive) -> None:
    class NoOrders(TradeLedgerService):
        def order_placed(self, client_order_id: str, *args: Any, **kwargs: Any) -> Any:
            if "AAPL" in client_order_id:
                raise OSError("event store unavailable")
            return super().order_placed(client_order_id, *args, **kwargs)

    broker = SimulatedBroker()
    executor = Executor(broker, archive=run_archive, ledger_factory=NoOrders)
    result = asyncio.run(executor.execute_rebalance_plan(plan_of_two()))
    aapl = next(o for o in result.orders if o.symbol == "AAPL")
    assert aapl.status == "error"
    assert aapl.order_id is None
    assert "could not record" in (aapl.reason or "")
    assert any("event store unavailable" in e for e in result.ledger_errors)
    assert [o.status for o in result.orders if o.symbol == "MSFT"] == ["filled"]
    assert [f.symbol for f in asyncio.run(broker.fill_activities(*ALL_TIME))] == ["MSFT"]
