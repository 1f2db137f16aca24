"""The demo's scenario: a simulated market, a multi-strategy plan, and one run of them.

The market has a partial fill (MSFT in two executions), an order only partly filled before
the rest is canceled (NVDA), a rejected order (GME) and a symbol with no quote (TEST). The
run is the real ``Executor`` on it, then a reconciliation with the simulated broker's fills.
Used by ``trade-ledger demo``; not a command module.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from adapters.archive.port import RunArchive
from adapters.brokers.simulated import SimulatedBroker
from adapters.execution.executor import Executor
from adapters.execution.result import ExecutionResult
from adapters.reconciliation.report import ReconciliationReport
from adapters.reconciliation.runs import reconcile_ledger
from ledger_domain import RebalancePlan, RebalancePlanItem, TradeLedger
from projections import ByStrategy, StrategyReport


def demo_broker() -> SimulatedBroker:
    """The simulated market of the demo."""
    return SimulatedBroker(
        prices={"AAPL": "199.99", "MSFT": "400.01", "NVDA": "119.99", "TEST": "9.99"},
        partial_fills={"MSFT": 2},
        fill_fraction={"NVDA": "0.6"},
        reject={"GME": "insufficient buying power"},
        no_quote={"TEST"},
    )


def _item(symbol: str, action: str, current: str, target: str, amount: str) -> RebalancePlanItem:
    portfolio = Decimal(10000)
    return RebalancePlanItem(
        symbol=symbol,
        current_weight=Decimal(current),
        target_weight=Decimal(target),
        weight_diff=Decimal(target) - Decimal(current),
        target_value=portfolio * Decimal(target),
        current_value=portfolio * Decimal(current),
        trade_amount=Decimal(amount),
        action=action,
    )


def demo_plan(now: datetime) -> RebalancePlan:
    """Three strategies, five symbols: sells first, then buys."""
    run = f"{now:%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"
    return RebalancePlan(
        correlation_id=f"demo-{run}",
        causation_id="demo-signal",
        timestamp=now,
        plan_id=f"demo-plan-{run}",
        items=[
            _item("MSFT", "SELL", "0.4", "0.2", "-2000"),
            _item("AAPL", "BUY", "0.0", "0.5", "5000"),
            _item("NVDA", "BUY", "0.0", "0.18", "1800"),
            _item("GME", "BUY", "0.0", "0.05", "500"),
            _item("TEST", "BUY", "0.0", "0.025", "250"),
        ],
        total_portfolio_value=Decimal(10000),
        total_trade_value=Decimal(9550),
        metadata={
            "strategy_attribution": {
                "AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4},
                "MSFT": {"mean_reversion_strategy": 1.0},
                "NVDA": {"momentum_strategy": 0.7, "breakout_strategy": 0.3},
                "GME": {"momentum_strategy": 1.0},
            }
        },
    )


@dataclass(frozen=True)
class DemoRun:
    """Everything the demo reports about its run."""

    plan: RebalancePlan
    result: ExecutionResult
    ledger: TradeLedger
    strategies: StrategyReport
    reconciliation: ReconciliationReport


def run_demo(archive: RunArchive) -> DemoRun:
    """Execute the demo plan on the demo market, archive the run, reconcile it."""
    broker = demo_broker()
    plan = demo_plan(datetime.now(UTC))
    executor = Executor(broker, archive=archive)

    async def run() -> tuple[ExecutionResult, ReconciliationReport]:
        result = await executor.execute_rebalance_plan(plan)
        report = await reconcile_ledger(executor.trade_ledger, broker)
        return result, report

    quiet = logging.getLogger("adapters")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # expected rejections are in the report, not warnings
    try:
        result, report = asyncio.run(run())
    finally:
        quiet.setLevel(level)
    return DemoRun(
        plan=plan,
        result=result,
        ledger=executor.trade_ledger.get_ledger(),
        strategies=ByStrategy.build(executor.trade_ledger.events()).result(),
        reconciliation=report,
    )
