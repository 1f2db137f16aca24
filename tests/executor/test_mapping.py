"""alpaca-py's models, built from realistic Alpaca JSON, mapped to the ledger's inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alpaca.data.models import Quote
from alpaca.trading.enums import OrderSide, OrderStatus, OrderType, TradeEvent
from alpaca.trading.models import Order, TradeActivity, TradeUpdate

from adapters.brokers.alpaca import (
    AlpacaMappingError,
    activity_fill,
    exact_decimal,
    ledger_order_type,
    ledger_side,
    order_fill,
    order_fills,
    quote_model,
    record_order,
    record_trade_update,
    trade_activity,
    trade_update_fill,
)
from ledger_domain import Side, TradeLedgerService
from tests.executor import payloads
from tests.executor.conftest import ATTRIBUTION, item, make_plan


@pytest.mark.parametrize("value", ["0.1", 0.1, Decimal("0.1")])
def test_str_and_float_give_the_same_exact_decimal(value: object) -> None:
    result = exact_decimal(value)
    assert result == Decimal("0.1")
    assert str(result) == "0.1"


@pytest.mark.parametrize("value", [None, ""])
def test_blank_is_none(value: object) -> None:
    assert exact_decimal(value) is None


@pytest.mark.parametrize(
    "value", ["abc", float("nan"), float("inf"), "Infinity", True, [1], " 0.1 ", "1_000", "١٢"]
)
def test_unusable_numbers_are_refused(value: object) -> None:
    with pytest.raises(AlpacaMappingError):
        exact_decimal(value, "qty")


@pytest.mark.parametrize(
    ("alpaca", "ledger"),
    [
        ("market", "MARKET"),
        ("limit", "LIMIT"),
        ("stop", "STOP"),
        ("stop_limit", "STOP_LIMIT"),
        ("trailing_stop", "TRAILING_STOP"),
    ],
)
def test_order_types(alpaca: str, ledger: str) -> None:
    order = Order(**payloads.order(type=alpaca, order_type=alpaca))
    assert order.type == OrderType(alpaca)
    assert ledger_order_type(order.type) == ledger
    fill = order_fill(order)
    assert fill is not None
    assert fill.order_type == ledger


@pytest.mark.parametrize(
    ("alpaca", "side"),
    [
        (OrderSide.BUY, Side.BUY),
        (OrderSide.SELL, Side.SELL),
        ("buy", Side.BUY),
        ("sell", Side.SELL),
        ("sell_short", Side.SELL),
        ("SELL_SHORT", Side.SELL),
    ],
)
def test_alpaca_sides_map_to_the_ledger_s_side(alpaca: object, side: Side) -> None:
    assert ledger_side(alpaca) is side


@pytest.mark.parametrize("alpaca", [None, "", "hold", "buy_to_cover", 1])
def test_an_unknown_alpaca_side_is_refused(alpaca: object) -> None:
    with pytest.raises(AlpacaMappingError, match="side: expected buy or sell"):
        ledger_side(alpaca)


def test_no_order_type_is_the_guide_s_market_order() -> None:
    assert ledger_order_type(None) == "MARKET"
    assert ledger_order_type("") == "MARKET"


def test_filled_order_with_string_quantities() -> None:
    order = Order(**payloads.FILLED_ORDER)
    assert isinstance(order.filled_qty, str)
    fill = order_fill(order)
    assert fill is not None
    assert fill.order_id == payloads.ORDER_ID
    assert fill.execution_id == payloads.ORDER_ID  # the whole order as one fill
    assert fill.whole_order
    assert fill.symbol == "AAPL"
    assert fill.side is Side.BUY
    assert fill.quantity == Decimal("16.5")
    assert fill.price == Decimal("150.26969697")
    assert fill.filled_at == datetime(2024, 1, 15, 14, 30, 52, 101256, tzinfo=UTC)


def test_filled_order_with_float_quantities() -> None:
    order = Order(**payloads.order(qty=0.1, filled_qty=0.1, filled_avg_price=0.1))
    assert isinstance(order.filled_qty, float)
    fill = order_fill(order)
    assert fill is not None
    assert (str(fill.quantity), str(fill.price)) == ("0.1", "0.1")


def test_notional_order_records_the_filled_quantity() -> None:
    order = Order(**payloads.NOTIONAL_ORDER)
    assert order.qty is None
    assert order.notional == "500"
    fill = order_fill(order)
    assert fill is not None
    assert fill.quantity == Decimal("3.327502101")


def test_partially_filled_order_records_what_was_filled_not_requested() -> None:
    order = Order(**payloads.PARTIALLY_FILLED_ORDER)
    assert order.status == OrderStatus.PARTIALLY_FILLED
    fill = order_fill(order)
    assert fill is not None
    assert fill.quantity == Decimal("10")  # not the 16.5 requested
    assert fill.filled_at == order.updated_at  # no filled_at yet: last update


def test_unfilled_order_maps_to_nothing() -> None:
    assert order_fill(Order(**payloads.ACCEPTED_ORDER)) is None


def test_multi_leg_order_with_empty_fields_maps_leg_by_leg() -> None:
    order = Order(**payloads.MULTI_LEG_ORDER)
    assert order.symbol is None
    assert order.side is None
    assert order.type is None
    assert order_fill(order) is None
    legs = order_fills(order)
    assert [(e.symbol, e.side, e.quantity, e.price) for e in legs] == [
        ("AAPL240119C00190000", Side.BUY, Decimal("1"), Decimal("2.10")),
        ("AAPL240119C00200000", Side.SELL, Decimal("1"), Decimal("0.85")),
    ]
    assert [type(e.side) for e in legs] == [Side, Side]
    assert all(e.order_type == "MARKET" for e in legs)  # no type: a market order


def test_record_filled_order_through_the_service() -> None:
    service = TradeLedgerService("corr-123")
    plan = make_plan([item("AAPL", "BUY", "2500")], attribution=ATTRIBUTION)
    quote = quote_model(Quote("AAPL", payloads.LATEST_QUOTE))
    entry = record_order(service, Order(**payloads.FILLED_ORDER), "corr-123", plan, quote)
    assert entry is not None
    assert entry.filled_qty == Decimal("16.5")
    assert entry.order_type == "MARKET"
    assert (entry.bid_at_fill, entry.ask_at_fill) == (Decimal("150.2"), Decimal("150.3"))
    assert entry.strategy_weights == {
        "momentum_strategy": Decimal("0.6"),
        "mean_reversion_strategy": Decimal("0.4"),
    }
    assert record_order(service, Order(**payloads.ACCEPTED_ORDER), "corr-123") is None
    assert service.total_entries == 1


@pytest.mark.parametrize("event", ["fill", "partial_fill"])
def test_fill_events_are_one_execution_each(event: str) -> None:
    update = TradeUpdate(**payloads.trade_update(event))
    assert update.event == TradeEvent(event)
    fill = trade_update_fill(update)
    assert fill is not None
    assert fill.execution_id == "5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f"
    assert (fill.quantity, fill.price) == (Decimal("10"), Decimal("150.25"))
    assert fill.filled_at == datetime(2024, 1, 15, 14, 30, 51, 482901, tzinfo=UTC)
    assert fill.order_type == "MARKET"


def test_float_qty_and_price_in_a_trade_update() -> None:
    update = TradeUpdate(**payloads.trade_update("partial_fill", qty=0.1, price=150.1))
    fill = trade_update_fill(update)
    assert fill is not None
    assert (str(fill.quantity), str(fill.price)) == ("0.1", "150.1")


@pytest.mark.parametrize(
    "event", ["new", "accepted", "canceled", "expired", "replaced", "order_cancel_rejected"]
)
def test_other_and_unknown_events_are_ignored(event: str) -> None:
    update = TradeUpdate(**payloads.trade_update(event))
    if event == "order_cancel_rejected":
        assert update.event == "order_cancel_rejected"  # alpaca-py keeps unknown events as str
    assert trade_update_fill(update) is None
    service = TradeLedgerService("corr-123")
    assert record_trade_update(service, update, "corr-123") is None
    assert service.total_entries == 0


def test_fill_event_without_execution_id_is_an_error() -> None:
    update = TradeUpdate(**payloads.trade_update("fill", execution_id=None))
    with pytest.raises(AlpacaMappingError, match="execution_id"):
        trade_update_fill(update)


def test_replayed_trade_update_is_a_no_op() -> None:
    service = TradeLedgerService("corr-123")
    first = TradeUpdate(**payloads.trade_update("partial_fill"))
    second = TradeUpdate(
        **payloads.trade_update(
            "fill",
            execution_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            qty="6.5",
            price="150.30",
            timestamp="2024-01-15T14:30:52.101256Z",
        )
    )
    for update in (first, first, second, second, first):
        record_trade_update(service, update, "corr-123")
    ledger = service.get_ledger()
    assert ledger.total_entries == 1
    (entry,) = ledger.entries
    assert entry.filled_qty == Decimal("16.5")
    assert entry.execution_ids == [
        "5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f",
        "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    ]
    assert ledger.total_buy_value == Decimal("10") * Decimal("150.25") + Decimal("6.5") * Decimal(
        "150.30"
    )
    assert len([e for e in service.events() if type(e).__name__ == "FillRecorded"]) == 2


def test_quote_floats_become_exact_decimals() -> None:
    quote = quote_model(Quote("AAPL", payloads.LATEST_QUOTE))
    assert quote is not None
    assert (str(quote.bid_price), str(quote.ask_price)) == ("150.2", "150.3")
    assert quote.timestamp is not None
    assert quote.timestamp.tzinfo is not None
    assert quote_model(None) is None


def test_fill_activity_from_raw_json_and_from_trade_activity() -> None:
    raw = activity_fill(payloads.FILL_ACTIVITY)
    model = trade_activity(payloads.FILL_ACTIVITY)
    assert isinstance(model, TradeActivity)
    assert model.side == OrderSide.BUY
    typed = activity_fill(model)
    assert raw == typed
    assert raw.execution_id == payloads.FILL_ACTIVITY["id"]
    assert (raw.quantity, raw.price, raw.order_id) == (
        Decimal("10"),
        Decimal("150.25"),
        payloads.ORDER_ID,
    )


def test_trading_api_sample_activity_short_sale() -> None:
    fill = activity_fill(payloads.SAMPLE_ACTIVITY)
    assert fill.side is Side.SELL  # Alpaca's sell_short
    assert (fill.quantity, fill.price) == (Decimal(1), Decimal("1.63"))
    with pytest.raises(AlpacaMappingError):  # alpaca-py requires account_id
        trade_activity(payloads.SAMPLE_ACTIVITY)
    with_account = dict(payloads.SAMPLE_ACTIVITY, account_id=payloads.FILL_ACTIVITY["account_id"])
    with_account["order_status"] = "filled"
    assert trade_activity(with_account).side == OrderSide.SELL


def test_non_fill_activity_is_refused() -> None:
    with pytest.raises(AlpacaMappingError, match="not FILL"):
        activity_fill(dict(payloads.FILL_ACTIVITY, activity_type="DIV"))
