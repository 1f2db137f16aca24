"""Run by the group-commit durability test as a subprocess (``python -m``): trades a plan
of many small fills into the event store ``TRADE_LEDGER__STORE__*`` configures, printing
``durable <ledger id> <execution id>...`` each time the recorder reports a burst durable.
The test kills it with SIGKILL midway and looks for every reported fill in the store."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from decimal import Decimal

from adapters import Executor, SimulatedBroker
from ledger_domain import RebalancePlan, RebalancePlanItem

SYMBOLS = ("AAPL", "MSFT", "NVDA")


class Reported(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        ledger_id, fills = record.args  # type: ignore[misc]
        if fills:
            print(f"durable {ledger_id} {fills}", flush=True)


def plan() -> RebalancePlan:
    items = [
        RebalancePlanItem(
            symbol=symbol,
            current_weight=Decimal(0),
            target_weight=Decimal("0.1"),
            weight_diff=Decimal("0.1"),
            target_value=Decimal(10000),
            current_value=Decimal(0),
            trade_amount=Decimal(10000),
            action="BUY",
        )
        for symbol in SYMBOLS
    ]
    return RebalancePlan(
        correlation_id="durability",
        causation_id="durability",
        timestamp=datetime.now(UTC),
        plan_id="durability-plan",
        items=items,
        total_portfolio_value=Decimal(100000),
        total_trade_value=Decimal(30000),
        metadata={"strategy_attribution": {s: {"momentum": 1} for s in SYMBOLS}},
    )


def main() -> None:
    recorder = logging.getLogger("adapters.execution.recorder")
    recorder.setLevel(logging.DEBUG)
    recorder.addHandler(Reported(logging.DEBUG))
    recorder.propagate = False
    broker = SimulatedBroker(partial_fills=dict.fromkeys(SYMBOLS, 60), fill_delay=0.003)
    result = asyncio.run(Executor(broker).execute_rebalance_plan(plan()))
    print(f"done {result.executions_recorded}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
