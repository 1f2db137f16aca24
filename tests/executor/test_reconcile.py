"""Reconciliation rules on exact fills, and a date's archived runs against a broker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters import (
    Archive,
    Executor,
    OrderRequest,
    SimulatedBroker,
    open_archive,
    reconcile_date,
)
from adapters.reconciliation.fills import LedgerFill
from adapters.reconciliation.ledger_source import ledger_fills, snapshot_fills
from adapters.reconciliation.matching import reconcile, same_execution
from ledger_domain import Fill, Side, TradeLedgerService
from tests.executor.conftest import ATTRIBUTION, item, make_plan

T0 = datetime(2024, 1, 15, 14, 30, tzinfo=UTC)
START, END = T0 - timedelta(hours=1), T0 + timedelta(hours=1)


def fill(
    execution_id: str, quantity: str, price: str, *, order: str = "o-1", **kw: str
) -> LedgerFill:
    """The fill as ledger-1 recorded it (see ``activity``)."""
    return LedgerFill("ledger-1", activity(execution_id, quantity, price, order=order, **kw))


def activity(activity_id: str, quantity: str, price: str, *, order: str = "o-1", **kw: Any) -> Fill:
    """A broker's fill: a BUY of AAPL at T0 unless ``symbol``, ``side`` or ``at`` say else."""
    return Fill(
        order_id=order,
        execution_id=activity_id,
        symbol=kw.get("symbol", "AAPL"),
        side=Side(kw.get("side", "BUY")),
        quantity=Decimal(quantity),
        price=Decimal(price),
        filled_at=kw.get("at", T0),
    )


def check(ledger: list[LedgerFill], broker: list[Fill], **options: Decimal):
    return reconcile(ledger, broker, period_start=START, period_end=END, **options)


def test_a_run_s_fills_are_the_fills_it_recorded() -> None:
    service = TradeLedgerService("corr-1")
    partial = Fill("o-1", "x-1", "AAPL", Side.BUY, Decimal("10"), Decimal("150.25"), T0)
    whole = Fill("o-2", "o-2", "MSFT", Side.SELL, Decimal("2"), Decimal("410.1"), T0, "LIMIT")
    for recorded in (partial, whole):
        service.record_fill(recorded, "corr-1")
    assert ledger_fills(service.events()) == [
        LedgerFill(service.ledger_id, partial),
        LedgerFill(service.ledger_id, whole),
    ]
    (aapl, msft) = snapshot_fills(service.get_ledger())  # one whole-order fill per entry
    assert aapl == LedgerFill(service.ledger_id, partial._replace(execution_id="o-1"))
    assert msft == LedgerFill(service.ledger_id, whole)


def test_matching_by_stream_execution_id_and_activity_id() -> None:
    report = check(
        [fill("uuid-1", "10", "150.25"), fill("20240115143000001::uuid-2", "6.5", "150.30")],
        [
            activity("20240115143000000::uuid-1", "10", "150.25"),
            activity("20240115143000001::uuid-2", "6.5", "150.30"),
        ],
    )
    assert report.ok
    assert report.matched == 2


def test_stream_execution_ids_name_activities() -> None:
    activity_id = "20240115143052123::5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f"
    assert same_execution("5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f", activity_id)
    assert same_execution(activity_id, activity_id)
    assert not same_execution("other", activity_id)
    assert not same_execution("5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f", "5f2c3a8e")


def test_per_execution_quantity_price_symbol_and_side() -> None:
    report = check(
        [fill("x-1", "10", "150.25"), fill("x-2", "5", "150.30", side="SELL")],
        [activity("x-1", "9", "150.26"), activity("x-2", "5", "150.30")],
    )
    assert sorted(d.kind for d in report.discrepancies) == [
        "price_mismatch",
        "quantity_mismatch",
        "symbol_or_side_mismatch",
    ]
    price = next(d for d in report.discrepancies if d.kind == "price_mismatch")
    assert (price.ledger_price, price.broker_price) == (Decimal("150.25"), Decimal("150.26"))


def test_price_tolerance() -> None:
    ledger, broker = [fill("x-1", "10", "150.25")], [activity("x-1", "10", "150.2501")]
    exact = check(ledger, broker)
    assert [(d.kind, d.ledger_price, d.broker_price) for d in exact.discrepancies] == [
        ("price_mismatch", Decimal("150.25"), Decimal("150.2501"))
    ]
    tolerant = check(ledger, broker, price_tolerance=Decimal("0.001"))
    assert tolerant.ok
    assert tolerant.matched == 1


def test_a_whole_order_entry_against_partial_fills() -> None:
    whole = fill("o-1", "16.5", "150.2696969696969696969696970")  # execution id = order id
    partials = [activity("a-1", "10", "150.25"), activity("a-2", "6.5", "150.30")]
    assert check([whole], partials).ok
    short = check([whole], partials[:1])
    assert sorted(d.kind for d in short.mismatches) == ["price_mismatch", "quantity_mismatch"]
    quantity = next(d for d in short.mismatches if d.kind == "quantity_mismatch")
    assert (quantity.ledger_quantity, quantity.broker_quantity) == (Decimal("16.5"), Decimal("10"))


def test_the_report_s_json_speaks_the_ledger_s_names() -> None:
    whole = fill("o-1", "16.5", "150.2696969696969696969696970")
    report = json.loads(check([whole], [activity("a-1", "10", "150.25")]).to_json())
    quantity = next(d for d in report["discrepancies"] if d["kind"] == "quantity_mismatch")
    assert quantity == {
        "kind": "quantity_mismatch",
        "order_id": "o-1",
        "symbol": "AAPL",
        "execution_id": None,
        "ledger_id": "ledger-1",
        "ledger_quantity": "16.5",
        "broker_quantity": "10",
        "ledger_price": "150.2696969696969696969696970",
        "broker_price": "150.25",
        "detail": "ledger 16.5 in 1 fill(s), broker 10 in 1 fill(s)",
    }


def test_a_side_mismatch_names_both_sides() -> None:
    per_execution = check([fill("x-1", "1", "10", side="SELL")], [activity("x-1", "1", "10")])
    (mismatch,) = per_execution.mismatches
    assert mismatch.kind == "symbol_or_side_mismatch"
    assert mismatch.detail == "ledger SELL AAPL (order o-1), broker BUY AAPL (order o-1)"
    per_order = check([fill("o-1", "1", "10", side="SELL")], [activity("a-1", "1", "10")])
    (mismatch,) = per_order.mismatches
    assert mismatch.kind == "symbol_or_side_mismatch"
    assert mismatch.detail == "order o-1 appears as BUY AAPL, SELL AAPL"


def test_identical_fills_pair_without_ids() -> None:
    report = check(
        [fill("mine-1", "1", "10"), fill("mine-2", "1", "10")],
        [
            activity("theirs-1", "1", "10"),
            activity("theirs-2", "1", "10"),
        ],
    )
    assert report.ok
    assert report.matched == 2


def test_missing_and_unknown() -> None:
    report = check(
        [fill("x-1", "1", "10"), fill("x-9", "2", "20", order="o-9")],
        [activity("x-1", "1", "10"), activity("x-5", "3", "30", order="o-5")],
    )
    assert [d.order_id for d in report.missing_from_ledger] == ["o-5"]
    assert [d.order_id for d in report.unknown_to_broker] == ["o-9"]
    assert "1 missing from ledger, 1 unknown to broker" in report.summary()
    assert report.as_dict()["missing_from_ledger"] == 1


def test_the_period() -> None:
    late_known = activity("x-2", "1", "10", at=END + timedelta(minutes=1))
    late_other = activity("y-1", "1", "10", order="o-2", at=END + timedelta(minutes=1))
    report = check(
        [fill("x-1", "1", "10"), fill("x-2", "1", "10")],
        [
            activity("x-1", "1", "10"),
            late_known,
            late_other,
        ],
    )
    assert report.ok  # the late fill of a known order counts; another order's does not
    assert report.broker_fills == 2


def test_a_day_of_archived_runs_including_one_across_midnight(tmp_path: Path) -> None:
    archive: Archive = open_archive(str(tmp_path / "runs"))
    day = date(2024, 1, 15)
    evening = datetime(2024, 1, 15, 23, 59, 50, tzinfo=UTC)
    after_midnight = datetime(2024, 1, 16, 0, 0, 5, tzinfo=UTC)
    morning = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
    clock = {"now": morning}
    sim = SimulatedBroker(partial_fills={"MSFT": 2}, clock=lambda: clock["now"])

    def run(plan_id: str, opened: datetime, fills_at: datetime) -> None:
        clock["now"] = fills_at
        executor = Executor(
            sim,
            archive=archive,
            ledger_factory=lambda cid: TradeLedgerService(cid, created_at=opened),
        )
        plan = make_plan(
            [item("AAPL", "BUY", "1000"), item("MSFT", "SELL", "-500")],
            plan_id=plan_id,
            attribution=ATTRIBUTION,
        )
        assert asyncio.run(executor.execute_rebalance_plan(plan)).archived

    run("morning", morning, morning)
    run("late", evening, after_midnight)
    first = asyncio.run(reconcile_date(archive, day, sim))
    second = asyncio.run(reconcile_date(archive, day + timedelta(days=1), sim))
    assert first.ok, first.discrepancies
    assert second.ok, second.discrepancies
    assert (first.ledger_fills, len(first.ledger_ids)) == (6, 2)
    assert (second.ledger_fills, len(second.ledger_ids)) == (3, 1)
    assert any("opened the day before" in note for note in second.notes)

    # A fill the broker made that no archived run recorded.
    clock["now"] = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)

    async def manual_trade() -> None:
        ticket = await sim.submit_order(OrderRequest("TSLA", Side.BUY, quantity=Decimal(1)))
        async for _ in sim.executions(ticket):
            pass

    asyncio.run(manual_trade())
    report = asyncio.run(reconcile_date(archive, day, sim))
    assert [d.symbol for d in report.missing_from_ledger] == ["TSLA"]


def test_unreadable_and_snapshot_only_documents(tmp_path: Path) -> None:
    archive = open_archive(str(tmp_path / "runs"))
    folder = tmp_path / "runs" / "trade-ledgers" / "2024" / "01" / "15"
    folder.mkdir(parents=True)
    legacy = {
        "ledger_id": "0b9c7f4e-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
        "created_at": "2024-01-15T14:30:00+00:00",
        "entries": [
            {
                "order_id": "o-1",
                "symbol": "AAPL",
                "direction": "BUY",
                "filled_qty": "16.5",
                "fill_price": "150.269696970",
                "fill_timestamp": "2024-01-15T14:30:52+00:00",
                "order_type": "MARKET",
                "strategy_names": [],
            }
        ],
        "total_entries": 1,
        "total_buy_value": "2479.45",
        "total_sell_value": "0",
    }
    (folder / "143000-0b9c7f4e-3a4b-4c5d-8e6f-7a8b9c0d1e2f-legacy.json").write_text(
        json.dumps(legacy)
    )
    (folder / "150000-1c9c7f4e-3a4b-4c5d-8e6f-7a8b9c0d1e2f-broken.json").write_text("{not json")

    class History:
        async def fill_activities(self, after: datetime, until: datetime) -> list[Fill]:
            return [activity("a-1", "10", "150.25"), activity("a-2", "6.5", "150.30")]

    report = asyncio.run(reconcile_date(archive, date(2024, 1, 15), History()))
    # the snapshot's one whole-order entry is compared with the broker's two fills of it
    assert (report.ledger_fills, report.broker_fills, report.matched) == (1, 2, 1)
    assert report.discrepancies == []
    assert report.ledger_ids == [legacy["ledger_id"]]
    assert report.unreadable_runs == [
        "trade-ledgers/2024/01/15/150000-1c9c7f4e-3a4b-4c5d-8e6f-7a8b9c0d1e2f-broken.json"
    ]
    assert not report.ok
    assert any("snapshot-only" in note for note in report.notes)
