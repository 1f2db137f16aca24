"""``trade-ledger demo``: the main job, end to end, on a simulated broker.

A multi-strategy rebalance plan is executed by the real ``Executor`` against the
``SimulatedBroker`` (a partial fill, an order only partly filled before the rest is
canceled, a rejected order and a symbol with no quote). Every fill is recorded as it
happens, the ledger is closed and archived to the *local* archive (``./trade-ledger-archive``
or ``TRADE_LEDGER__LOCAL_DIRECTORY``; never S3, these are simulated trades), reconciled
against the simulated broker's fills, and summarised.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

import typer
from rich.console import Console
from rich.table import Table

from adapters.cli.app import app
from ledger_domain import RebalancePlan, RebalancePlanItem
from projections import ByStrategy

UNATTRIBUTED = "(unattributed)"
WIDTH = 130


def demo_broker() -> Any:
    """The simulated market of the demo."""
    from adapters.brokers.simulated import SimulatedBroker  # noqa: PLC0415

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


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _local_directory(archive_location: str | None) -> str:
    """The demo's archive directory; a URL (``s3://...``) is a usage error, never a folder."""
    from adapters.archive.settings import ArchiveSettings  # noqa: PLC0415

    if archive_location is not None and "://" in archive_location:
        raise typer.BadParameter(
            f"{archive_location!r} is not a directory: the demo archives its simulated trades "
            "only to a local directory, never to S3 or another URL",
            param_hint="--archive",
        )
    return str(Path(archive_location or ArchiveSettings().local_directory).resolve())


@app.command()
def demo(
    archive_location: Annotated[
        str | None,
        typer.Option(
            "--archive",
            help="Archive directory (default: TRADE_LEDGER__LOCAL_DIRECTORY or "
            "./trade-ledger-archive); a URL such as s3://... is refused.",
        ),
    ] = None,
) -> None:
    """Run a multi-strategy plan on the simulated broker, archive it locally, summarise."""
    from adapters.archive import open_archive  # noqa: PLC0415
    from adapters.execution.executor import Executor  # noqa: PLC0415
    from adapters.reconciliation.runs import reconcile_ledger  # noqa: PLC0415

    location = _local_directory(archive_location)
    # markup=False: ids, broker reasons and strategy names are data, never rich markup.
    console = Console(markup=False)
    if not console.is_terminal and console.width < WIDTH:
        console = Console(width=WIDTH, markup=False)
    archive = open_archive(location)
    broker = demo_broker()
    plan = demo_plan(datetime.now(UTC))
    executor = Executor(broker, archive=archive)

    async def run() -> tuple[Any, Any]:
        result = await executor.execute_rebalance_plan(plan)
        report = await reconcile_ledger(executor.trade_ledger, broker)
        return result, report

    quiet = logging.getLogger("adapters")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # expected rejections are in the tables, not warnings
    try:
        result, report = asyncio.run(run())
    finally:
        quiet.setLevel(level)
    ledger = executor.trade_ledger.get_ledger()

    orders = Table(title=f"Plan {plan.plan_id}: orders (sells first)")
    for column in ("side", "symbol", "notional", "status", "filled qty", "executions", "note"):
        orders.add_column(column)
    for order in result.orders:
        orders.add_row(
            order.side,
            order.symbol,
            _money(order.notional),
            order.status,
            str(order.filled_qty),
            str(order.executions),
            order.reason or "",
        )
    console.print(orders)

    entries = Table(title=f"Ledger {ledger.ledger_id} ({ledger.correlation_id})")
    for column in ("symbol", "side", "qty", "avg price", "bid / ask at fill", "type", "strategies"):
        entries.add_column(column)
    for entry in ledger.entries:
        quote = (
            f"{entry.bid_at_fill} / {entry.ask_at_fill}"
            if entry.bid_at_fill is not None or entry.ask_at_fill is not None
            else "- (no quote)"
        )
        weights = entry.strategy_weights or {}
        entries.add_row(
            entry.symbol,
            entry.direction,
            str(entry.filled_qty),
            str(entry.fill_price.quantize(Decimal("0.0001"))),
            quote,
            entry.order_type,
            ", ".join(f"{name} {weight}" for name, weight in weights.items()) or "-",
        )
    console.print(entries)

    console.print(
        f"entries: {ledger.total_entries}   executions: {result.executions}   "
        f"total buy: {_money(ledger.total_buy_value)}   "
        f"total sell: {_money(ledger.total_sell_value)}",
        highlight=False,
        soft_wrap=True,
    )
    console.print("per strategy (notional weighted by attribution):", highlight=False)
    strategies = ByStrategy.build(executor.trade_ledger.events()).result()
    for row in (*strategies.strategies, strategies.unattributed):
        if row.entries:
            console.print(
                f"  {row.strategy or UNATTRIBUTED:<26} entries {row.entries}"
                f"   buy {_money(row.buy_notional):>10}   sell {_money(row.sell_notional):>10}",
                highlight=False,
                soft_wrap=True,
            )
    console.print(
        f"reconciliation with the broker: {report.summary()}", highlight=False, soft_wrap=True
    )
    for message in result.ledger_errors:
        console.print(f"ledger: {message}", style="red", highlight=False, soft_wrap=True)

    outcome = result.archive
    if outcome is not None and outcome.archived:
        console.print(
            f"archived ({outcome.status}) to {outcome.location}", highlight=False, soft_wrap=True
        )
        console.print(f"  key: {outcome.key}", highlight=False, soft_wrap=True)
    else:
        status = outcome.status if outcome is not None else "not archived"
        console.print(
            f"archive {status}: {result.archive_error or 'no details'}",
            style="red",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
