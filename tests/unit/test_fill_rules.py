"""Invariants of recording: refused input names its field and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, Inexact, localcontext
from enum import Enum
from typing import Any

import pytest

from ledger_domain import (
    ExecutionConflictError,
    InvalidFillError,
    LedgerClosedError,
    TradeLedgerService,
)
from tests.builders import order, plan, quote


@pytest.fixture
def service() -> TradeLedgerService:
    svc = TradeLedgerService("corr-1")
    svc.record_filled_order(order(order_id="seed"), "corr-1")
    return svc


def state(service: TradeLedgerService) -> tuple[Any, ...]:
    return (service.get_ledger(), len(service.events()))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"shares": Decimal("-1")}, "shares"),
        ({"price": Decimal("0")}, "price"),
        ({"price": Decimal("-3")}, "price"),
        ({"shares": float("nan")}, "shares"),
        ({"price": float("inf")}, "price"),
        ({"price": Decimal("NaN")}, "price"),
        ({"price": "abc"}, "price"),
        ({"shares": True}, "shares"),
        ({"action": "HOLD"}, "action"),
        ({"action": None}, "action"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "   "}, "symbol"),
        ({"timestamp": None}, "timestamp"),
        ({"filled_at": "yesterday"}, "filled_at"),
        ({"price": Decimal("1." + "1" * 40)}, "price"),
        ({"shares": Decimal("1E+50")}, "shares"),
        ({"shares": Decimal("1E-160")}, "shares"),
        ({"price": Decimal("1E+999999")}, "price"),
        ({"price": "1e16"}, "price"),
    ],
)
def test_invalid_fill_raises_naming_the_field_and_changes_nothing(
    service: TradeLedgerService, overrides: dict[str, Any], field: str
) -> None:
    before = state(service)
    with pytest.raises(InvalidFillError) as raised:
        service.record_filled_order(order(order_id="bad", **overrides), "corr-1")
    assert raised.value.field == field
    assert field in str(raised.value)
    assert state(service) == before


@pytest.mark.parametrize(
    ("attribution", "field"),
    [
        ({"AAPL": {"a": -0.5, "b": 1.5}}, "strategy_attribution.AAPL.a"),
        ({"AAPL": {"a": 0.5, "b": 0.4}}, "strategy_attribution.AAPL"),
        ({"AAPL": {"a": 0.0, "b": 1.0}}, "strategy_attribution.AAPL.a"),
        ({"AAPL": {"a": float("nan")}}, "strategy_attribution.AAPL.a"),
        ({"AAPL": ["a", "b"]}, "strategy_attribution.AAPL"),
        (["AAPL"], "strategy_attribution"),
    ],
)
def test_invalid_attribution_is_refused(
    service: TradeLedgerService, attribution: Any, field: str
) -> None:
    before = state(service)
    with pytest.raises(InvalidFillError) as raised:
        service.record_filled_order(order(order_id="bad"), "corr-1", plan(attribution))
    assert raised.value.field == field
    assert state(service) == before


def test_bid_above_ask_is_refused(service: TradeLedgerService) -> None:
    before = state(service)
    with pytest.raises(InvalidFillError) as raised:
        service.record_filled_order(order(order_id="bad"), "corr-1", None, quote("10.5", "10.4"))
    assert raised.value.field == "quote_at_fill"
    assert state(service) == before


def test_thirds_as_floats_are_within_tolerance(service: TradeLedgerService) -> None:
    attribution = {"AAPL": {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}}
    entry = service.record_filled_order(order(order_id="thirds"), "corr-1", plan(attribution))
    assert entry is not None
    assert entry.strategy_weights == {n: Decimal("0.3333333333333333") for n in "abc"}


def test_float_weights_keep_their_decimal_text(service: TradeLedgerService) -> None:
    attribution = {"aapl": {"momentum": 0.6, "carry": 0.4}}
    entry = service.record_filled_order(order(order_id="w"), "corr-1", plan(attribution))
    assert entry is not None
    assert entry.strategy_weights == {"momentum": Decimal("0.6"), "carry": Decimal("0.4")}
    assert str(entry.strategy_weights["momentum"]) == "0.6"


@pytest.mark.parametrize(
    "overrides",
    [
        {"success": False},
        {"order_id": None},
        {"order_id": ""},
        {"price": None},
        {"shares": Decimal("0")},
        {"shares": 0},
    ],
)
def test_failed_or_unfilled_orders_return_none(
    service: TradeLedgerService, overrides: dict[str, Any]
) -> None:
    before = state(service)
    assert service.record_filled_order(order(**{"order_id": "x", **overrides}), "corr-1") is None
    assert state(service) == before


def test_missing_quote_sides_and_non_positive_sides_become_none(
    service: TradeLedgerService,
) -> None:
    entry = service.record_filled_order(order(order_id="q"), "corr-1", None, quote("0", None))
    assert entry is not None
    assert (entry.bid_at_fill, entry.ask_at_fill) == (None, None)


def test_strings_floats_enums_and_naive_times_are_normalised(
    service: TradeLedgerService,
) -> None:
    class Side(Enum):
        SELL = "sell"

    naive = datetime(2024, 3, 1, 9, 30)
    entry = service.record_filled_order(
        order(
            order_id="n",
            symbol="msft",
            action=Side.SELL,
            shares="0.1",
            price=0.1,
            order_type="limit",
            timestamp=naive,
        ),
        "corr-1",
    )
    assert entry is not None
    assert entry.symbol == "MSFT"
    assert entry.direction == "SELL"
    assert entry.filled_qty == Decimal("0.1")
    assert str(entry.fill_price) == "0.1"
    assert entry.order_type == "LIMIT"
    assert entry.fill_timestamp == naive.replace(tzinfo=UTC)


def test_aware_times_are_expressed_in_utc(service: TradeLedgerService) -> None:
    new_york = timezone(timedelta(hours=-5))
    filled = datetime(2024, 3, 1, 9, 30, tzinfo=new_york)
    entry = service.record_filled_order(order(order_id="ny", filled_at=filled), "corr-1")
    assert entry is not None
    assert entry.fill_timestamp.utcoffset() == timedelta(0)
    assert entry.fill_timestamp == filled


def test_same_execution_twice_is_a_no_op(service: TradeLedgerService) -> None:
    first = service.record_filled_order(order(order_id="dup"), "corr-1")
    before = state(service)
    again = service.record_filled_order(order(order_id="dup"), "corr-1")
    assert again == first
    assert state(service) == before


def test_different_fill_under_a_seen_execution_is_a_conflict(
    service: TradeLedgerService,
) -> None:
    service.record_filled_order(order(order_id="dup"), "corr-1")
    before = state(service)
    with pytest.raises(ExecutionConflictError, match="price"):
        service.record_filled_order(order(order_id="dup", price=Decimal("151")), "corr-1")
    assert state(service) == before


def test_partial_fills_sum_quantity_and_weight_the_price(service: TradeLedgerService) -> None:
    service.record_execution(
        order(order_id="p", shares=3, price=Decimal("100")), "corr-1", execution_id="e1"
    )
    entry = service.record_execution(
        order(order_id="p", shares=7, price=Decimal("101.01")), "corr-1", execution_id="e2"
    )
    assert entry.filled_qty == Decimal(10)
    assert entry.fill_price == Decimal("100.707")
    assert entry.execution_ids == ["e1", "e2"]
    assert entry.trade_value == Decimal("1007.07")
    assert service.total_entries == 2


def test_average_price_rounding_never_reaches_the_totals() -> None:
    service = TradeLedgerService("c")
    for i, price in enumerate(("1", "1", "2")):
        service.record_execution(
            order(order_id="o", shares=1, price=Decimal(price)), "c", execution_id=f"e{i}"
        )
    ledger = service.get_ledger()
    assert ledger.entries[0].fill_price == Decimal("1.333333333333333333333333333")
    assert ledger.total_buy_value == Decimal(4)


def test_whole_order_and_execution_fills_do_not_mix(service: TradeLedgerService) -> None:
    service.record_execution(order(order_id="m"), "corr-1", execution_id="m-e1")
    with pytest.raises(ExecutionConflictError, match="whole-order"):
        service.record_filled_order(order(order_id="m"), "corr-1")


def test_an_order_keeps_its_symbol_and_side(service: TradeLedgerService) -> None:
    service.record_execution(order(order_id="s"), "corr-1", execution_id="s-e1")
    with pytest.raises(ExecutionConflictError, match="SELL"):
        service.record_execution(order(order_id="s", action="SELL"), "corr-1", execution_id="s-e2")


def test_nothing_after_close(service: TradeLedgerService) -> None:
    closed = service.close()
    assert closed.closed_at is not None
    with pytest.raises(LedgerClosedError):
        service.record_filled_order(order(order_id="late"), "corr-1")
    assert service.close() == closed
    assert service.get_ledger() == closed


def test_execution_id_attribute_is_used_when_present(service: TradeLedgerService) -> None:
    service.record_filled_order(order(order_id="x", execution_id="x-1", shares=1), "corr-1")
    entry = service.record_filled_order(order(order_id="x", execution_id="x-2", shares=2), "corr-1")
    assert entry is not None
    assert entry.filled_qty == 3
    assert entry.execution_ids == ["x-1", "x-2"]


def test_correlation_id_comes_from_the_first_fill_when_not_given() -> None:
    service = TradeLedgerService()
    assert service.correlation_id is None
    service.record_filled_order(order(), "from-fill")
    assert service.correlation_id == "from-fill"
    assert service.get_ledger().correlation_id == "from-fill"


def test_the_widest_accepted_values_stay_exact(service: TradeLedgerService) -> None:
    big = Decimal("9" * 16 + "." + "9" * 14)  # 30 digits, just under 1E+16
    tiny = Decimal("1E-20")
    service.record_filled_order(order(order_id="big", shares=big, price=big), "corr-1")
    service.record_filled_order(order(order_id="tiny", shares=tiny, price=tiny), "corr-1")
    with localcontext(prec=200) as exact:
        exact.traps[Inexact] = True
        expected = Decimal("1502.50") + big * big + tiny * tiny
    assert service.get_ledger().total_buy_value == expected
    assert len(expected.as_tuple().digits) > 60  # more than the default context could hold


def test_a_failing_subscriber_does_not_make_a_stored_fill_look_lost(
    service: TradeLedgerService, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def apply(self, event: object) -> None:
            raise RuntimeError("view broke")

    class Counting:
        def __init__(self) -> None:
            self.seen = 0

        def apply(self, event: object) -> None:
            self.seen += 1

    counting = Counting()
    service.subscribe(Broken(), replay_history=False)
    service.subscribe(counting, replay_history=False)
    entry = service.record_filled_order(order(order_id="watched"), "corr-1")
    assert entry is not None
    assert service.total_entries == 2
    assert counting.seen == 1
    assert "subscriber Broken failed" in caplog.text
