"""Closed runs for archive tests, recorded through the real service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.archive.signature import unsigned_bytes
from ledger_domain import OrderResult, QuoteModel, RebalancePlan, TradeLedgerService

CREATED = datetime(2024, 1, 15, 14, 30, 52, 123456, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA")
GUIDE_FIELDS = {
    "ledger_id",
    "created_at",
    "entries",
    "total_entries",
    "total_buy_value",
    "total_sell_value",
}

LEGACY_KEY = "trade-ledgers/2024/01/15/143052-abc123-xyz789.json"
# A document as the original service wrote it: a snapshot, no events, no totals.
LEGACY: dict[str, Any] = {
    "ledger_id": "abc123",
    "created_at": "2024-01-15T14:30:52+00:00",
    "entries": [
        {
            "order_id": "o-1",
            "symbol": "AAPL",
            "direction": "BUY",
            "filled_qty": "10",
            "fill_price": "150.25",
            "bid_at_fill": "150.20",
            "ask_at_fill": "150.30",
            "fill_timestamp": "2024-01-15T14:30:53+00:00",
            "order_type": "MARKET",
            "strategy_names": ["momentum_strategy"],
            "strategy_weights": {"momentum_strategy": "1.0"},
        }
    ],
}

# The same kind of document with its amounts as JSON numbers, none of which a float holds
# exactly (400.1 as a float is 400.1000000000000227...; 1234567.8912345678901 has more
# digits than a float keeps at all). Decimals here are written as numbers.
LEGACY_NUMBERS: dict[str, Any] = {
    "ledger_id": "abc123",
    "created_at": "2024-01-15T14:30:52+00:00",
    "entries": [
        {
            "order_id": "o-1",
            "symbol": "AAPL",
            "direction": "BUY",
            "filled_qty": 10,
            "fill_price": Decimal("400.1"),
            "bid_at_fill": Decimal("400.05"),
            "ask_at_fill": Decimal("400.15"),
            "fill_timestamp": "2024-01-15T14:30:53+00:00",
            "order_type": "MARKET",
            "strategy_names": ["momentum_strategy", "mean_reversion_strategy"],
            "strategy_weights": {
                "momentum_strategy": Decimal("0.3"),
                "mean_reversion_strategy": Decimal("0.7"),
            },
        },
        {
            "order_id": "o-2",
            "symbol": "MSFT",
            "direction": "BUY",
            "filled_qty": Decimal("0.3"),
            "fill_price": Decimal("1234567.8912345678901"),
            "fill_timestamp": "2024-01-15T14:30:54+00:00",
            "order_type": "LIMIT",
            "strategy_names": [],
        },
        {
            "order_id": "o-3",
            "symbol": "NVDA",
            "direction": "SELL",
            "filled_qty": 3,
            "fill_price": Decimal("0.1"),
            "fill_timestamp": "2024-01-15T14:30:55+00:00",
            "order_type": "MARKET",
            "strategy_names": [],
        },
    ],
    "total_entries": 3,
    "total_buy_value": Decimal("374371.36737037036703"),  # 4001.0 + 370370.36737037036703
    "total_sell_value": Decimal("0.3"),
}


def numbers_json(value: Any) -> bytes:
    """JSON in which every ``Decimal`` is a JSON number written as its own text."""
    return _numbers_text(value).encode("utf-8")


def _numbers_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(key)}:{_numbers_text(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_numbers_text(item) for item in value) + "]"
    return json.dumps(value)


def plan(correlation_id: str) -> RebalancePlan:
    return RebalancePlan(
        correlation_id=correlation_id,
        causation_id="cause-1",
        timestamp=CREATED,
        plan_id="plan-1",
        items=[],
        total_portfolio_value=Decimal("10000"),
        total_trade_value=Decimal("5000"),
        metadata={
            "strategy_attribution": {
                "AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4}
            }
        },
    )


def closed_run(
    fills: int = 4,
    *,
    correlation_id: str = "corr-123",
    created_at: datetime = CREATED,
    partial_every: int = 3,
) -> list[Any]:
    """The stored events of a closed run with ``fills`` executions (some partial fills)."""
    service = TradeLedgerService(correlation_id, created_at=created_at)
    rebalance = plan(correlation_id)
    for index in range(fills):
        order_index = index - 1 if partial_every and index % partial_every == 2 else index
        symbol = SYMBOLS[order_index % len(SYMBOLS)]
        quote = (
            QuoteModel(bid_price=Decimal("100.10") + index, ask_price=Decimal("100.30") + index)
            if index % 4 != 3
            else None
        )
        order = OrderResult(
            symbol=symbol,
            action="SELL" if order_index % 2 else "BUY",
            shares=Decimal("1.5") + Decimal(index) / 8,
            price=Decimal("100.25") + Decimal(index) / 100,
            order_id=f"order-{order_index}",
            filled_at=created_at + timedelta(seconds=index),
        )
        service.record_execution(
            order,
            correlation_id,
            rebalance_plan=rebalance,
            quote_at_fill=quote,
            execution_id=f"exec-{index}",
        )
    service.close(created_at + timedelta(minutes=5))
    return service.events()


def edit(body: bytes, change: Any) -> bytes:
    """The document with ``change(document)`` applied, re-serialised."""
    document = json.loads(body)
    change(document)
    return json.dumps(document).encode("utf-8")


def unsigned(body: bytes) -> bytes:
    """A stored document's bytes without its signature block: ``encode_run``'s bytes."""
    document = json.loads(body)
    if "signature" not in document:
        return body
    cut = unsigned_bytes(body, document)
    assert cut is not None, "the document is not in its signed form"
    return cut
