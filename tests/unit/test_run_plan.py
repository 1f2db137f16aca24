"""A run remembers its plan and every order it placed: what recovery needs after a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.archive.document import decode_run, encode_run
from adapters.archive.verify import verify_document
from ledger_domain import (
    InvalidEventStreamError,
    InvalidFillError,
    Ledger,
    LedgerClosedError,
    PlacedOrder,
    RunConflictError,
    Side,
    TradeLedgerService,
    from_record,
    replay,
    replay_ledger,
    to_record,
)
from projections import ByStrategy, BySymbol
from tests.builders import order, plan, quote

PLACED = datetime(2024, 1, 15, 14, 30, 50, tzinfo=UTC)
GOOD = {"AAPL": {"momentum": 0.6, "carry": 0.4}, "msft": {"carry": "1"}}


def run_with_plan(attribution: dict[str, Any] | None = None) -> TradeLedgerService:
    service = TradeLedgerService("corr-123")
    service.attach_plan(plan(GOOD if attribution is None else attribution))
    service.order_placed("plan-123-AAPL-BUY", "aapl", "BUY", notional="5000", placed_at=PLACED)
    service.order_placed("plan-123-MSFT-SELL", "MSFT", Side.SELL, quantity=Decimal("2.5"))
    service.record_filled_order(order(), "corr-123", plan(GOOD), quote())
    return service


def test_the_plan_is_recorded_with_its_ids_and_validated_attribution() -> None:
    service = run_with_plan()
    attached = service.plan_attribution()
    assert attached is not None
    assert service.plan_id == attached.plan_id == "plan-123"
    assert attached.correlation_id == "corr-123"
    assert attached.strategy_attribution == {
        "AAPL": {"momentum": Decimal("0.6"), "carry": Decimal("0.4")},
        "MSFT": {"carry": Decimal("1")},
    }
    assert attached.weights_for("MSFT") == {"carry": Decimal("1")}
    assert attached.weights_for("TSLA") == {}
    assert attached.set_aside == {}
    with pytest.raises(TypeError):
        attached.strategy_attribution["AAPL"]["momentum"] = Decimal(1)  # type: ignore[index]


def test_weights_that_fail_the_rules_are_set_aside_with_the_reason_not_refused() -> None:
    service = run_with_plan({"AAPL": {"m": 0.5, "n": 0.4}, "MSFT": {"m": 1}, " ": {"m": 1}})
    attached = service.plan_attribution()
    assert attached is not None
    assert attached.strategy_attribution == {"MSFT": {"m": Decimal(1)}}
    assert set(attached.set_aside) == {"strategy_attribution.AAPL", "strategy_attribution[ ]"}
    assert "sum to 0.9" in attached.set_aside["strategy_attribution.AAPL"]
    (event,) = [e for e in service.events() if isinstance(e, Ledger.PlanAttached)]
    assert event.set_aside == attached.set_aside


def test_attaching_is_idempotent_and_a_second_plan_conflicts() -> None:
    service = run_with_plan()
    before = len(service.events())
    service.attach_plan(plan(GOOD))
    assert len(service.events()) == before
    other = plan(GOOD).model_copy(update={"plan_id": "plan-456"})
    with pytest.raises(RunConflictError, match="plan-123"):
        service.attach_plan(other)
    with pytest.raises(InvalidFillError, match="plan_id"):
        TradeLedgerService("c").attach_plan(plan().model_copy(update={"plan_id": "a b"}))


def test_orders_are_recorded_as_placed_and_placing_again_is_a_no_op() -> None:
    service = run_with_plan()
    orders = service.placed_orders()
    assert [o.client_order_id for o in orders] == ["plan-123-AAPL-BUY", "plan-123-MSFT-SELL"]
    first = orders[0]
    assert first == PlacedOrder(
        "plan-123-AAPL-BUY", "AAPL", Side.BUY, None, Decimal(5000), "MARKET", PLACED
    )
    assert orders[1].placed_at.tzinfo is UTC
    again = service.order_placed("plan-123-AAPL-BUY", "AAPL", "buy", notional=5000)
    assert again == first  # the first record, not a new one
    assert len(service.placed_orders()) == 2
    with pytest.raises(RunConflictError, match="plan-123-AAPL-BUY"):
        service.order_placed("plan-123-AAPL-BUY", "AAPL", "SELL", notional=5000)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"client_order_id": ""}, "client_order_id"),
        ({"symbol": "AA PL"}, "symbol"),
        ({"side": "HOLD"}, "side"),
        ({"notional": "-1"}, "notional"),
        ({"quantity": 1}, "order"),  # both sizes
        ({"notional": None}, "order"),  # neither
        ({"placed_at": "today"}, "placed_at"),
    ],
)
def test_an_invalid_order_is_refused_naming_the_field(
    arguments: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {"client_order_id": "c1", "symbol": "AAPL", "side": "BUY"}
    values.update(notional=Decimal(100))
    values.update(arguments)
    service = TradeLedgerService("c")
    with pytest.raises(InvalidFillError) as refused:
        service.order_placed(
            values.pop("client_order_id"), values.pop("symbol"), values.pop("side"), **values
        )
    assert refused.value.field == field
    assert service.placed_orders() == []


def test_nothing_is_placed_after_close() -> None:
    service = run_with_plan()
    service.close()
    with pytest.raises(LedgerClosedError):
        service.order_placed("late", "AAPL", "BUY", notional=1)


def test_records_round_trip_and_replay_to_the_same_run() -> None:
    service = run_with_plan()
    service.close()
    events = service.events()
    assert [type(e).__name__ for e in events] == [
        "Opened",
        "PlanAttached",
        "OrderPlaced",
        "OrderPlaced",
        "FillRecorded",
        "Closed",
    ]
    records = [to_record(e) for e in events]
    assert records[1]["strategy_attribution"]["AAPL"] == {"momentum": "0.6", "carry": "0.4"}
    back = [from_record(r) for r in records]
    assert [vars(e) for e in back] == [vars(e) for e in events]
    replayed = replay(back)
    assert replayed.plan == service.plan_attribution()
    assert list(replayed.placed_orders.values()) == service.placed_orders()
    assert replay_ledger(back) == service.get_ledger()


def test_a_replayed_stream_may_not_attach_two_plans_or_place_an_order_twice() -> None:
    service = run_with_plan()
    records = [to_record(e) for e in service.events()]
    twice = [*records[:3], {**records[2], "sequence": 4}]
    with pytest.raises(InvalidEventStreamError, match="again"):
        replay(from_record(r) for r in twice)
    second_plan = [*records[:2], {**records[1], "sequence": 3, "plan_id": "other"}]
    with pytest.raises(InvalidEventStreamError, match="second plan"):
        replay(from_record(r) for r in second_plan)


@pytest.mark.parametrize(
    ("index", "change"),
    [
        (1, {"strategy_attribution": {"AAPL": {"m": "0.5"}}}),  # weights not summing to 1
        (1, {"strategy_attribution": {"aapl": {"m": "1"}}}),  # not as recorded
        (1, {"plan_id": ""}),
        (1, {"set_aside": {"x": 1}}),
        (2, {"notional": None}),
        (2, {"quantity": "1"}),  # both sizes
        (2, {"notional": "-5"}),
        (2, {"symbol": "aapl"}),
        (2, {"side": "HOLD"}),
        (2, {"surprise": 1}),
    ],
)
def test_records_the_ledger_could_not_have_written_are_refused(
    index: int, change: dict[str, Any]
) -> None:
    records = [to_record(e) for e in run_with_plan().events()]
    with pytest.raises(InvalidEventStreamError):
        from_record({**records[index], **change})


def test_an_archived_run_with_plan_and_orders_verifies() -> None:
    service = run_with_plan()
    service.close()
    encoded = encode_run(service.events())
    verdict = verify_document("k", encoded.body)
    assert (verdict.status, verdict.failures) == ("unsigned", ())  # every check passes
    run = decode_run("k", encoded.body)
    assert run.replay().plan == service.plan_attribution()


def test_projections_count_only_the_fills() -> None:
    service = run_with_plan()
    only_fills = [e for e in service.events() if not isinstance(e, Ledger.OrderPlaced)]
    with_orders, without = BySymbol(), BySymbol()
    for event in service.events():
        with_orders.apply(event)
    for event in only_fills:
        without.apply(event)
    assert with_orders.result() == without.result()
    strategies = ByStrategy()
    for event in service.events():
        strategies.apply(event)
    assert {row.strategy for row in strategies.result().strategies} == {"momentum", "carry"}


def test_a_durable_run_resumes_with_its_plan_and_orders(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    service = TradeLedgerService("corr-123", env=env)
    service.attach_plan(plan(GOOD))
    service.order_placed("c-1", "AAPL", "BUY", notional=100)
    resumed = TradeLedgerService.resume(service.ledger_id, env=env)
    assert resumed.plan_attribution() == service.plan_attribution()
    assert resumed.placed_orders() == service.placed_orders()


amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e9"), places=6)


@settings(max_examples=40, deadline=None)
@given(
    client_order_id=st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF).filter(str.isprintable),
        min_size=1,
        max_size=256,
    ),
    amount=amounts,
    by_quantity=st.booleans(),
    side=st.sampled_from(list(Side)),
)
def test_any_placed_order_round_trips_through_its_record(
    client_order_id: str, amount: Decimal, by_quantity: bool, side: Side
) -> None:
    service = TradeLedgerService("c")
    size = {"quantity": amount} if by_quantity else {"notional": amount}
    placed = service.order_placed(client_order_id, "AAPL", side, placed_at=PLACED, **size)
    event = service.events()[-1]
    back = from_record(to_record(event))
    assert vars(back) == vars(event)
    assert replay(service.events()).placed_orders == {client_order_id: placed}
