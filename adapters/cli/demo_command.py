"""``trade-ledger demo``: a short scripted run of the service that prints its ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from adapters.cli.app import app
from ledger_domain import OrderResult, QuoteModel, RebalancePlan, TradeLedgerService


@app.command()
def demo() -> None:
    """Record a small multi-strategy run in memory and print the ledger."""
    now = datetime.now(UTC)
    plan = RebalancePlan(
        correlation_id="demo-run",
        causation_id="demo",
        timestamp=now,
        plan_id="demo-plan",
        items=[],
        total_portfolio_value=Decimal("10000"),
        total_trade_value=Decimal("5000"),
        metadata={
            "strategy_attribution": {
                "AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4}
            }
        },
    )
    service = TradeLedgerService("demo-run")
    fills = [
        ("o-1", "AAPL", "BUY", "10", "150.25", "150.20", "150.30"),
        ("o-2", "MSFT", "SELL", "4", "410.10", "410.00", "410.20"),
        ("o-3", "TEST", "BUY", "1", "9.99", None, None),
    ]
    for order_id, symbol, side, qty, price, bid, ask in fills:
        quote = QuoteModel(bid_price=Decimal(bid), ask_price=Decimal(ask)) if bid and ask else None
        result = OrderResult(
            symbol=symbol, action=side, shares=Decimal(qty), price=Decimal(price), order_id=order_id
        )
        service.record_filled_order(result, "demo-run", plan, quote)
    ledger = service.close()
    table = Table(title=f"Ledger {ledger.ledger_id}")
    for column in ("order", "symbol", "side", "qty", "price", "bid/ask", "strategies"):
        table.add_column(column)
    for entry in ledger.entries:
        quote_text = f"{entry.bid_at_fill} / {entry.ask_at_fill}" if entry.bid_at_fill else "-"
        table.add_row(
            entry.order_id,
            entry.symbol,
            entry.direction,
            str(entry.filled_qty),
            str(entry.fill_price),
            quote_text,
            ", ".join(entry.strategy_names) or "-",
        )
    console = Console()
    console.print(table)
    console.print(
        f"entries={ledger.total_entries} "
        f"buy={ledger.total_buy_value} sell={ledger.total_sell_value}"
    )
