"""Inputs built to mislead: subclasses, foreign errors, odd contexts, forged records.

Each case once escaped as an untyped exception, was recorded as something other than
what was given, or depended on the caller's state. Now each is refused with
``InvalidFillError`` (or ``InvalidEventStreamError`` for records) and nothing changes.
"""

from __future__ import annotations

import decimal
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import pytest

from ledger_domain import (
    InvalidEventStreamError,
    InvalidFillError,
    Side,
    TradeLedgerService,
    from_record,
    replay,
    to_record,
)

AT = datetime(2024, 1, 15, 14, 30, tzinfo=UTC)
BAD_WEIGHTS = {"strategy_attribution": {"AAPL": {"a": 0.5, "b": 0.56}}}


def order(**changes: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "action": "BUY",
        "shares": Decimal("10"),
        "price": Decimal("150.5"),
        "order_id": "o1",
        "timestamp": AT,
        **changes,
    }


def refused(service: TradeLedgerService, *args: Any, field: str | None = None) -> None:
    before = service.events()
    with pytest.raises(InvalidFillError) as error:
        service.record_filled_order(*args)
    if field is not None:
        assert error.value.field == field
    assert service.events() == before


def test_weights_are_summed_exactly_whatever_the_callers_decimal_context() -> None:
    verdicts: list[str] = []

    def in_a_low_precision_thread() -> None:
        decimal.getcontext().prec = 1
        decimal.getcontext().traps[decimal.Inexact] = True
        try:
            TradeLedgerService("c").record_filled_order(order(), "c", {"metadata": BAD_WEIGHTS})
        except InvalidFillError:
            verdicts.append("refused")
        else:
            verdicts.append("accepted")

    thread = threading.Thread(target=in_a_low_precision_thread)
    thread.start()
    thread.join()
    assert verdicts == ["refused"]
    refused(TradeLedgerService("c"), order(), "c", {"metadata": BAD_WEIGHTS})


class Moment(datetime):
    """A datetime subclass, as pendulum and freezegun hand out."""


class LyingMoment(datetime):
    def astimezone(self, tz: tzinfo | None = None) -> Any:
        return "not a datetime"


class FailingZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        raise RuntimeError("zone database unavailable")


def test_datetime_subclasses_are_stored_as_plain_utc_datetimes() -> None:
    service = TradeLedgerService("c", created_at=Moment(2024, 1, 15))
    service.record_filled_order(order(timestamp=Moment(2024, 1, 15, 14, 30)), "c")
    service.record_filled_order(
        order(order_id="o2", timestamp=LyingMoment(2024, 1, 15, 14, 30, tzinfo=UTC)), "c"
    )
    fills = service.events()[1:]
    assert [type(f.filled_at) for f in fills] == [datetime, datetime]
    assert [f.filled_at for f in fills] == [AT, AT]
    service.close(Moment(2024, 1, 15, 16))
    assert type(service.get_ledger().closed_at) is datetime


def test_a_time_zone_that_fails_is_refused() -> None:
    broken = datetime(2024, 1, 15, tzinfo=FailingZone())
    refused(TradeLedgerService("c"), order(timestamp=broken), "c", field="filled_at")
    with pytest.raises(InvalidFillError, match="created_at"):
        TradeLedgerService("c", created_at=broken)


class RaisingMapping(Mapping[str, Any]):
    def __init__(self, fails_on: str) -> None:
        self.data = order()
        self.fails_on = fails_on

    def __getitem__(self, key: str) -> Any:
        if key == self.fails_on:
            raise LookupError(key)
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class RaisingObject:
    symbol = "AAPL"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(f"cannot read {name}")


@pytest.mark.parametrize(
    "order_result",
    [RaisingMapping("price"), RaisingMapping("execution_id"), RaisingObject()],
    ids=["mapping-price", "mapping-execution-id", "object"],
)
def test_a_foreign_error_while_reading_is_refused_naming_the_input(order_result: object) -> None:
    refused(TradeLedgerService("c"), order_result, "c", field="order_result")


def test_foreign_errors_in_quotes_and_plans_name_them() -> None:
    service = TradeLedgerService("c")
    refused(service, order(), "c", None, RaisingObject(), field="quote_at_fill")
    refused(service, order(), "c", RaisingObject(), None, field="rebalance_plan")


class Sneaky(str):
    def upper(self) -> Any:  # type: ignore[override]
        return "SELL"


class Loud(float):
    def __repr__(self) -> str:
        return "7"


def test_subclasses_are_read_by_their_value_not_their_methods() -> None:
    service = TradeLedgerService("c")
    entry = service.record_filled_order(
        order(action=Sneaky("buy"), order_type=Sneaky("limit"), shares=Loud(1.5)), "c"
    )
    assert entry is not None
    assert entry.direction is Side.BUY
    assert entry.order_type == "LIMIT"
    assert entry.filled_qty == Decimal("1.5")


def test_only_ascii_text_names_a_side() -> None:
    refused(TradeLedgerService("c"), order(action="\u017fell"), "c", field="action")


def test_a_quote_never_drops_a_side_given_in_the_other_naming() -> None:
    service = TradeLedgerService("c")
    refused(service, order(), "c", None, {"bid_price": "1", "ask": "2"}, field="quote_at_fill")
    refused(
        service,
        order(),
        "c",
        None,
        {"bid_price": None, "ask_price": None, "bid": "1", "ask": "2"},
        field="quote_at_fill",
    )


def test_numbers_beyond_decimals_range_are_refused() -> None:
    service = TradeLedgerService("c")
    refused(service, order(shares="1E+99999999999999999999"), "c", field="shares")


def test_a_run_cannot_close_before_it_opened() -> None:
    service = TradeLedgerService("c", created_at=AT)
    with pytest.raises(InvalidFillError, match="closed_at"):
        service.close(AT - timedelta(days=1))
    assert not service.is_closed


def test_a_subscriber_may_query_the_service_it_follows() -> None:
    service = TradeLedgerService("c")
    seen: list[int] = []

    class Follower:
        def apply(self, event: Any) -> None:
            seen.append(service.get_ledger().total_entries)

    service.subscribe(Follower())
    service.record_filled_order(order(), "c")
    assert seen == [0, 1]  # the history first (Opened), then the fill with its entry


def test_model_fields_set_cannot_be_changed_in_place() -> None:
    service = TradeLedgerService("c")
    entry = service.record_filled_order(order(), "c")
    assert entry is not None
    fields = entry.model_fields_set
    for change in ("__isub__", "__iand__", "__ixor__", "__ior__"):
        with pytest.raises(TypeError):
            getattr(fields, change)({"order_id"})
    assert "order_id" in TradeLedgerService("d").record_filled_order(order(), "d").model_fields_set  # type: ignore[union-attr]


@pytest.fixture
def fill_record() -> dict[str, Any]:
    service = TradeLedgerService("c")
    service.record_filled_order(order(), "c")
    return to_record(service.events()[1])


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": "-5"},
        {"quantity": " 5 "},
        {"quantity": "1_0"},
        {"quantity": "\u0665"},
        {"price": "0"},
        {"bid": "sNaN"},
        {"bid": "10", "ask": "9"},
        {"symbol": " aapl "},
        {"symbol": "aapl"},
        {"order_id": ""},
        {"execution_id": 5},
        {"side": None},
        {"strategy_weights": {"m": "5"}},
        {"version": 4},
        {"version": True},
        {"version": 2.0},
        {"sequence": "2"},
        {"timestamp": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_a_record_the_ledger_could_never_have_written_is_refused(
    fill_record: dict[str, Any], change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidEventStreamError):
        from_record({**fill_record, **change})


def test_replay_refuses_what_is_not_an_event_and_broken_order_rules() -> None:
    with pytest.raises(InvalidEventStreamError, match="not a ledger event"):
        replay([1])
    service = TradeLedgerService("c")
    service.record_execution(order(), "c", execution_id="e1")
    opened, fill = service.events()
    other_side = from_record(
        {**to_record(fill), "execution_id": "e2", "side": "SELL", "sequence": 3}
    )
    with pytest.raises(InvalidEventStreamError, match="not SELL"):
        replay([opened, fill, other_side])
