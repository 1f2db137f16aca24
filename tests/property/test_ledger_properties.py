"""Properties of the ledger over arbitrary fill streams."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_domain import (
    InvalidFillError,
    TradeLedgerService,
    from_record,
    replay_ledger,
    to_record,
)
from tests.property.strategies import as_inputs, bad_overrides, executions

settings.register_profile("ledger", max_examples=60, deadline=None)
settings.load_profile("ledger")


def record_all(service: TradeLedgerService, stream: list[dict[str, Any]]) -> None:
    for execution in stream:
        order, plan, quote = as_inputs(execution)
        service.record_execution(
            order,
            "corr",
            rebalance_plan=plan,
            quote_at_fill=quote,
            execution_id=execution["execution_id"],
        )


@given(executions())
def test_replaying_the_event_stream_gives_the_same_ledger(stream: list[dict[str, Any]]) -> None:
    service = TradeLedgerService("corr")
    record_all(service, stream)
    service.close()
    assert replay_ledger(service.events()) == service.get_ledger()
    records = [to_record(event) for event in service.events()]
    assert replay_ledger(from_record(r) for r in records) == service.get_ledger()


@given(executions())
def test_totals_equal_the_sum_of_quantity_times_price_per_direction(
    stream: list[dict[str, Any]],
) -> None:
    service = TradeLedgerService("corr")
    record_all(service, stream)
    ledger = service.get_ledger()
    for direction, total in (("BUY", ledger.total_buy_value), ("SELL", ledger.total_sell_value)):
        expected = sum(
            (e["shares"] * e["price"] for e in stream if e["action"] == direction), Decimal(0)
        )
        assert total == expected


@given(executions(), st.randoms(use_true_random=False))
def test_order_of_recording_does_not_change_totals(
    stream: list[dict[str, Any]], random: Any
) -> None:
    first = TradeLedgerService("corr")
    record_all(first, stream)
    shuffled = list(stream)
    random.shuffle(shuffled)
    second = TradeLedgerService("corr")
    record_all(second, shuffled)
    a, b = first.get_ledger(), second.get_ledger()
    assert (a.total_buy_value, a.total_sell_value, a.total_entries) == (
        b.total_buy_value,
        b.total_sell_value,
        b.total_entries,
    )
    quantities = {e.order_id: e.filled_qty for e in a.entries}
    assert quantities == {e.order_id: e.filled_qty for e in b.entries}


@given(executions(count=10), executions(count=1), bad_overrides)
def test_invalid_input_never_changes_the_ledger(
    stream: list[dict[str, Any]], extra: list[dict[str, Any]], override: dict[str, Any]
) -> None:
    service = TradeLedgerService("corr")
    record_all(service, stream)
    before = (service.get_ledger(), [to_record(e) for e in service.events()])
    bad = {**(extra[0] if extra else stream[0] if stream else _default()), **override}
    bad["execution_id"] = "never-seen"
    bad["order_id"] = "never-seen-order"
    try:
        record_all(service, [bad])
    except InvalidFillError:
        pass
    else:
        raise AssertionError(f"{override} was accepted")
    assert (service.get_ledger(), [to_record(e) for e in service.events()]) == before


@given(executions())
def test_an_entrys_quantity_is_the_sum_of_its_executions(stream: list[dict[str, Any]]) -> None:
    service = TradeLedgerService("corr")
    record_all(service, stream)
    for entry in service.get_ledger().entries:
        mine = [e for e in stream if e["order_id"] == entry.order_id]
        assert entry.filled_qty == sum((e["shares"] for e in mine), Decimal(0))
        assert entry.execution_ids == [e["execution_id"] for e in mine]
        assert entry.trade_value == sum((e["shares"] * e["price"] for e in mine), Decimal(0))


@given(executions(count=8))
def test_recording_every_execution_twice_is_the_same_as_once(
    stream: list[dict[str, Any]],
) -> None:
    once = TradeLedgerService("corr")
    record_all(once, stream)
    twice = TradeLedgerService("corr")
    record_all(twice, [e for e in stream for _ in range(2)])
    assert once.get_ledger().entries == twice.get_ledger().entries
    assert len(once.events()) == len(twice.events())


def _default() -> dict[str, Any]:
    return {
        "order_id": "d",
        "execution_id": "d",
        "symbol": "AAPL",
        "action": "BUY",
        "shares": Decimal(1),
        "price": Decimal(1),
        "time": datetime(2024, 1, 1, tzinfo=UTC),
        "quote": None,
        "weights": {},
    }
