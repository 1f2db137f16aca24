"""Realistic Alpaca JSON payloads (as the REST API and the trade_updates stream send them)."""

from __future__ import annotations

import copy
from typing import Any

ORDER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"

FILLED_ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "client_order_id": "plan-123-AAPL-BUY",
    "created_at": "2024-01-15T14:30:50.942282Z",
    "updated_at": "2024-01-15T14:30:52.118041Z",
    "submitted_at": "2024-01-15T14:30:50.937734Z",
    "filled_at": "2024-01-15T14:30:52.101256Z",
    "expired_at": None,
    "canceled_at": None,
    "failed_at": None,
    "replaced_at": None,
    "replaced_by": None,
    "replaces": None,
    "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
    "symbol": "AAPL",
    "asset_class": "us_equity",
    "notional": None,
    "qty": "16.5",
    "filled_qty": "16.5",
    "filled_avg_price": "150.26969697",
    "order_class": "",
    "order_type": "market",
    "type": "market",
    "side": "buy",
    "time_in_force": "day",
    "limit_price": None,
    "stop_price": None,
    "status": "filled",
    "extended_hours": False,
    "legs": None,
    "trail_percent": None,
    "trail_price": None,
    "hwm": None,
    "position_intent": "buy_to_open",
}


def order(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(FILLED_ORDER)
    payload.update(changes)
    return payload


NOTIONAL_ORDER = order(
    notional="500",
    qty=None,
    filled_qty="3.327502101",
    filled_avg_price="150.26",
    client_order_id="notional-1",
)

PARTIALLY_FILLED_ORDER = order(
    status="partially_filled", filled_qty="10", filled_avg_price="150.25", filled_at=None
)

ACCEPTED_ORDER = order(status="accepted", filled_qty="0", filled_avg_price=None, filled_at=None)

MULTI_LEG_ORDER = order(
    id="a3b0c5b8-5c2e-4c5a-9a44-0d0d2a1c9e10",
    symbol="",
    asset_id="",
    asset_class="",
    side="",
    type="",
    order_type="",
    position_intent="",
    order_class="mleg",
    qty="1",
    filled_qty="1",
    filled_avg_price="1.25",
    legs=[
        order(
            id="3f1d5b0e-2b9a-4a53-8c7e-9b6f1f0c2d11",
            symbol="AAPL240119C00190000",
            asset_class="us_option",
            side="buy",
            type=None,
            order_type=None,
            ratio_qty="1",
            qty="1",
            filled_qty="1",
            filled_avg_price="2.10",
            position_intent="buy_to_open",
        ),
        order(
            id="7c2e9d4a-1f3b-4e6d-8a5c-2b7f9e0d1c22",
            symbol="AAPL240119C00200000",
            asset_class="us_option",
            side="sell",
            type=None,
            order_type=None,
            ratio_qty="1",
            qty="1",
            filled_qty="1",
            filled_avg_price="0.85",
            position_intent="sell_to_open",
        ),
    ],
)


def trade_update(event: str, **changes: Any) -> dict[str, Any]:
    """A trade_updates stream message's ``data``."""
    payload: dict[str, Any] = {
        "event": event,
        "execution_id": "5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f",
        "order": order(status="partially_filled", filled_qty="10", filled_avg_price="150.25"),
        "timestamp": "2024-01-15T14:30:51.482901Z",
        "position_qty": "10",
        "price": "150.25",
        "qty": "10",
    }
    payload.update(changes)
    return payload


FILL_ACTIVITY: dict[str, Any] = {
    "id": "20240115143051482::5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f",
    "account_id": "4a3a5e2b-3f43-4d64-9b4f-7a4e8d2f3c11",
    "activity_type": "FILL",
    "transaction_time": "2024-01-15T14:30:51.482901Z",
    "type": "partial_fill",
    "price": "150.25",
    "qty": "10",
    "side": "buy",
    "symbol": "AAPL",
    "leaves_qty": "6.5",
    "order_id": ORDER_ID,
    "cum_qty": "10",
    "order_status": "partially_filled",
}

# The Trading API's own sample omits what alpaca-py's TradeActivity requires.
SAMPLE_ACTIVITY: dict[str, Any] = {
    "activity_type": "FILL",
    "cum_qty": "1",
    "id": "20190524113406977::8efc7b9a-8b2b-4000-9955-d36e7db0df74",
    "leaves_qty": "0",
    "price": "1.63",
    "qty": "1",
    "side": "sell_short",
    "symbol": "LPCN",
    "transaction_time": "2019-05-24T15:34:06.977Z",
    "order_id": "904837e3-3b76-47ec-b432-046db621571b",
    "type": "fill",
}

LATEST_QUOTE: dict[str, Any] = {
    "t": "2024-01-15T14:30:52.100014336Z",
    "ax": "V",
    "ap": 150.3,
    "as": 3,
    "bx": "V",
    "bp": 150.2,
    "bs": 2,
    "c": ["R"],
    "z": "C",
}
