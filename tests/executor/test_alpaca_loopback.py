"""alpaca-py's real TradingClient and StockHistoricalDataClient against a loopback server
that answers like Alpaca's REST API: orders (one partially filled in two executions, one
partly filled then canceled, one refused), fill activities over several pages, quotes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from alpaca.trading.models import Order, TradeUpdate

from adapters import AlpacaBroker, AlpacaSettings, Executor, reconcile_ledger
from adapters.brokers.alpaca import fetch_fill_activities, record_order
from adapters.brokers.alpaca.broker import MAX_BUFFERED_ORDERS
from adapters.reconciliation.ledger_source import ledger_fills
from ledger_domain import Ledger, TradeLedgerService
from tests.executor import payloads
from tests.executor.alpaca_server import API_KEY, SECRET_KEY, LoopbackAlpaca
from tests.executor.conftest import item, make_plan

ATTRIBUTION = {
    "AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4},
    "NVDA": {"momentum_strategy": 1.0},
}


def clients(server: LoopbackAlpaca) -> tuple[Any, Any]:
    trading = TradingClient(API_KEY, SECRET_KEY, paper=True, url_override=server.url)
    data = StockHistoricalDataClient(API_KEY, SECRET_KEY, url_override=server.url)
    return trading, data


def alpaca_broker(server: LoopbackAlpaca, **options: Any) -> AlpacaBroker:
    trading, data = clients(server)
    options.setdefault("poll_interval", 0.01)
    options.setdefault("activity_page_size", 2)
    return AlpacaBroker(trading, data, **options)


def plan(plan_id: str = "plan-alpaca") -> Any:
    return make_plan(
        [
            item("AAPL", "BUY", "2500"),
            item("NVDA", "BUY", "4500"),
            item("GME", "BUY", "500"),
            item("TEST", "BUY", "250"),
            item("MSFT", "SELL", "-1640.40"),
        ],
        plan_id=plan_id,
        attribution=ATTRIBUTION,
    )


def run(executor: Executor, the_plan: Any) -> Any:
    return asyncio.run(executor.execute_rebalance_plan(the_plan))


def test_the_ledger_records_what_alpaca_filled(alpaca_server: LoopbackAlpaca) -> None:
    fake = alpaca_server.fake
    executor = Executor(alpaca_broker(alpaca_server))
    result = run(executor, plan())

    statuses = {o.symbol: (o.status, o.filled_quantity, o.executions) for o in result.orders}
    assert statuses == {
        "MSFT": ("filled", Decimal("4"), 1),
        "AAPL": ("filled", Decimal("16.5"), 2),
        "NVDA": ("canceled", Decimal("2"), 1),
        "GME": ("rejected", Decimal(0), 0),
        "TEST": ("filled", Decimal("25"), 1),
    }
    assert next(o for o in result.orders if o.symbol == "GME").reason == "insufficient buying power"

    ledger = executor.trade_ledger.get_ledger()
    entries = {e.symbol: e for e in ledger.entries}
    assert ledger.entries[0].symbol == "MSFT"  # sells first; buys then run concurrently
    assert set(entries) == {"MSFT", "AAPL", "NVDA", "TEST"}
    aapl = entries["AAPL"]
    assert aapl.filled_qty == Decimal("16.5")
    assert aapl.trade_value == Decimal("10") * Decimal("150.25") + Decimal("6.5") * Decimal(
        "150.30"
    )
    assert aapl.strategy_names == ["momentum_strategy", "mean_reversion_strategy"]
    assert aapl.order_type == "MARKET"
    assert (aapl.bid_at_fill, aapl.ask_at_fill) == (Decimal("150.2"), Decimal("150.3"))
    nvda = entries["NVDA"]
    assert nvda.filled_qty == Decimal("2")  # what was filled, not the $4500 asked for
    assert entries["TEST"].bid_at_fill is None  # the data API has no quote for TEST
    assert entries["MSFT"].direction == "SELL"

    activities = {a["id"]: a for a in fake.activities}
    fills = [e for e in executor.trade_ledger.events() if isinstance(e, Ledger.FillRecorded)]
    assert len(fills) == 5
    for fill in fills:  # keyed by Alpaca's activity id, stamped with Alpaca's time
        activity = activities[fill.execution_id]
        assert fill.order_id == activity["order_id"]
        assert fill.quantity == Decimal(activity["qty"])
        assert fill.price == Decimal(activity["price"])
        assert fill.filled_at == datetime.fromisoformat(activity["transaction_time"])

    # the orders went out as Alpaca notional market orders with deterministic ids
    placed = sorted(o["client_order_id"] for o in fake.orders.values())
    assert placed == [f"plan-alpaca-{s}" for s in ("AAPL-BUY", "MSFT-SELL", "NVDA-BUY", "TEST-BUY")]
    assert {o["notional"] for o in fake.orders.values()} >= {"2500.0", "1640.4"}
    # fill activities were read page by page (page_size 2)
    tokens = [q for _, path, q in fake.requests if path.endswith("FILL") and "page_token" in q]
    assert tokens
    assert {token for query in tokens for token in query["page_token"]} <= set(activities)


def test_failed_polls_are_retried_not_fatal(
    alpaca_server: LoopbackAlpaca, caplog: pytest.LogCaptureFixture
) -> None:
    alpaca_server.fake.fail_order_reads = 3
    executor = Executor(alpaca_broker(alpaca_server, max_poll_errors=4))
    result = run(executor, make_plan([item("AAPL", "BUY", "2500")], plan_id="blips"))
    assert result.orders[0].status == "filled"
    assert executor.trade_ledger.get_ledger().entries[0].filled_qty == Decimal("16.5")
    assert caplog.text.count("polling again") == 3


def test_too_many_failed_polls_end_the_watch(alpaca_server: LoopbackAlpaca) -> None:
    alpaca_server.fake.fail_order_reads = 100
    executor = Executor(alpaca_broker(alpaca_server, max_poll_errors=2))
    result = run(executor, make_plan([item("AAPL", "BUY", "2500")], plan_id="down"))
    assert result.orders[0].status == "error"
    assert "internal server error" in (result.orders[0].reason or "")
    assert result.archived  # the run still ends, closed and archived


def test_an_order_whose_answer_was_lost_is_found_and_watched(
    alpaca_server: LoopbackAlpaca,
) -> None:
    alpaca_server.fake.lose_order_answers = 1
    executor = Executor(alpaca_broker(alpaca_server))
    result = run(executor, make_plan([item("AAPL", "BUY", "2500")], plan_id="lost"))
    assert result.orders[0].status == "filled"
    assert len(alpaca_server.fake.orders) == 1  # looked up, not placed again
    assert executor.trade_ledger.get_ledger().entries[0].filled_qty == Decimal("16.5")


def test_an_order_that_never_arrived_is_an_error(alpaca_server: LoopbackAlpaca) -> None:
    trading, data = clients(alpaca_server)
    broker = AlpacaBroker(trading, data, poll_interval=0.01)
    dead = LoopbackAlpaca(alpaca_server.fake)  # never started: nothing listens there
    broker.trading_client = TradingClient(API_KEY, SECRET_KEY, url_override=dead.url)
    dead.server.server_close()
    result = run(Executor(broker), make_plan([item("AAPL", "BUY", "2500")], plan_id="void"))
    assert result.orders[0].status == "error"
    assert "not found by client order id" in (result.orders[0].reason or "")


def test_fill_activities_over_several_pages(alpaca_server: LoopbackAlpaca) -> None:
    executor = Executor(alpaca_broker(alpaca_server))
    run(executor, plan())
    fake = alpaca_server.fake
    trading, _ = clients(alpaca_server)
    before = fake.fill_pages_served()
    fills = fetch_fill_activities(trading, page_size=2)
    assert fake.fill_pages_served() - before == 3  # 5 fills: 2 + 2 + 1
    assert [f.execution_id for f in fills] == [
        a["id"] for a in sorted(fake.activities, key=lambda a: (a["transaction_time"], a["id"]))
    ]
    page_tokens = [q.get("page_token") for _, p, q in fake.requests[-3:]]
    assert page_tokens == [None, [fills[1].execution_id], [fills[3].execution_id]]


def test_reconciliation_finds_a_left_out_fill_and_a_changed_price(
    alpaca_server: LoopbackAlpaca,
) -> None:
    broker = alpaca_broker(alpaca_server)
    executor = Executor(broker)
    run(executor, plan())
    events = executor.trade_ledger.events()

    clean = asyncio.run(reconcile_ledger(events, broker))
    assert clean.ok, clean.discrepancies
    assert (clean.ledger_fills, clean.broker_fills, clean.matched) == (5, 5, 5)

    # A ledger that left one fill out: the second AAPL execution.
    recorded = ledger_fills(events)
    left_out = [f.fill for f in recorded if f.fill.symbol == "AAPL"][1]
    partial = [e for e in events if getattr(e, "execution_id", None) != left_out.execution_id]
    # The broker's record of the MSFT fill deliberately changed.
    msft = next(a for a in alpaca_server.fake.activities if a["symbol"] == "MSFT")
    msft["price"] = "410.11"

    report = asyncio.run(reconcile_ledger(partial, broker))
    assert not report.ok
    (missing,) = report.missing_from_ledger
    assert missing.execution_id == left_out.execution_id
    assert (missing.broker_quantity, missing.broker_price) == (Decimal("6.5"), Decimal("150.30"))
    (mismatch,) = report.mismatches
    assert mismatch.kind == "price_mismatch"
    assert (mismatch.ledger_price, mismatch.broker_price) == (Decimal("410.10"), Decimal("410.11"))
    assert report.unknown_to_broker == []


def test_a_fill_the_broker_does_not_know(alpaca_server: LoopbackAlpaca) -> None:
    broker = alpaca_broker(alpaca_server)
    executor = Executor(broker)
    run(executor, plan())
    removed = next(a for a in alpaca_server.fake.activities if a["symbol"] == "TEST")
    alpaca_server.fake.activities.remove(removed)
    report = asyncio.run(reconcile_ledger(executor.trade_ledger, broker))
    (unknown,) = report.unknown_to_broker
    assert unknown.execution_id == removed["id"]
    assert report.missing_from_ledger == []
    assert report.mismatches == []


def test_a_whole_order_ledger_is_compared_order_by_order(alpaca_server: LoopbackAlpaca) -> None:
    broker = alpaca_broker(alpaca_server)
    run(Executor(broker), plan())
    aapl = next(o for o in alpaca_server.fake.orders.values() if o["symbol"] == "AAPL")
    service = TradeLedgerService("corr-whole")
    record_order(service, Order(**aapl), "corr-whole")
    start = datetime.now(UTC) - timedelta(hours=1)
    report = asyncio.run(
        reconcile_ledger(
            service, broker, period_start=start, average_price_tolerance=Decimal("0.0001")
        )
    )
    # AAPL's whole-order entry matches its two activities; the other orders are missing.
    assert {d.symbol for d in report.missing_from_ledger} == {"MSFT", "NVDA", "TEST"}
    assert report.mismatches == []


def test_a_replayed_plan_is_not_placed_again_at_alpaca(alpaca_server: LoopbackAlpaca) -> None:
    the_plan = plan()
    run(Executor(alpaca_broker(alpaca_server)), the_plan)
    orders_before = len(alpaca_server.fake.orders)
    # A new process (new executor) retrying the same plan: Alpaca refuses the duplicate
    # client order ids (422) and the broker watches the existing orders instead.
    retry = Executor(alpaca_broker(alpaca_server))
    result = run(retry, the_plan)
    assert len(alpaca_server.fake.orders) == orders_before
    assert {o.symbol for o in result.orders if o.order_id} == {"AAPL", "MSFT", "NVDA", "TEST"}


def test_trade_updates_stream_mode(alpaca_server: LoopbackAlpaca) -> None:
    """Executions from TradingStream trade updates (fed to the handler as the stream would)."""
    broker = alpaca_broker(alpaca_server, trade_updates=True)
    executor = Executor(broker)
    the_plan = make_plan([item("AAPL", "BUY", "2500")], plan_id="stream", attribution=ATTRIBUTION)

    async def stream() -> None:
        while not alpaca_server.fake.orders:
            await asyncio.sleep(0.005)
        (order,) = alpaca_server.fake.orders.values()
        partial = payloads.trade_update("partial_fill", order=dict(order))
        fill = payloads.trade_update(
            "fill",
            order=dict(order, status="filled"),
            execution_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            qty="6.5",
            price="150.30",
        )
        for message in (
            payloads.trade_update("new", order=dict(order)),
            partial,
            partial,  # replayed
            payloads.trade_update("order_cancel_rejected", order=dict(order)),  # unknown event
            fill,
        ):
            await broker.handle_trade_update(TradeUpdate(**message))

    async def main() -> Any:
        feeder = asyncio.create_task(stream())
        result = await executor.execute_rebalance_plan(the_plan)
        await feeder
        return result

    result = asyncio.run(main())
    (entry,) = executor.trade_ledger.get_ledger().entries
    assert entry.filled_qty == Decimal("16.5")
    assert entry.execution_ids == [
        "5f2c3a8e-6a1b-4c3d-9e8f-0a1b2c3d4e5f",
        "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    ]
    assert result.orders[0].executions == 2


def test_executor_accepts_a_trading_client(alpaca_server: LoopbackAlpaca) -> None:
    trading, _ = clients(alpaca_server)
    executor = Executor(trading)
    assert isinstance(executor.broker, AlpacaBroker)
    assert executor.broker.trading_client is trading
    assert executor.broker.data_client is None  # no data client: fills without quotes
    result = run(executor, make_plan([item("AAPL", "BUY", "2500")], plan_id="bare-client"))
    assert result.orders[0].status == "filled"
    (entry,) = executor.trade_ledger.get_ledger().entries
    assert entry.filled_qty == Decimal("16.5")
    assert (entry.bid_at_fill, entry.ask_at_fill) == (None, None)
    assert result.warnings == ["no quote for AAPL at fill"] * 2


def test_secrets_are_never_logged(
    alpaca_server: LoopbackAlpaca, alpaca_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = AlpacaSettings()
    assert settings.base_url == alpaca_server.url
    assert SECRET_KEY not in repr(settings)
    assert SECRET_KEY not in str(settings.model_dump())
    with caplog.at_level(logging.DEBUG):
        broker = AlpacaBroker.from_settings(settings)
        run(Executor(broker), plan())
    assert caplog.records  # urllib3 and the executor did log
    assert SECRET_KEY not in caplog.text
    assert alpaca_server.fake.headers_seen[0]["APCA-API-SECRET-KEY"] == SECRET_KEY


def test_settings_accept_alpaca_s_own_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALPACA_API_KEY", "ALPACA_SECRET_KEY", "ALPACA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APCA_API_KEY_ID", "key")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "secret")
    monkeypatch.setenv("APCA_API_BASE_URL", "https://paper-api.alpaca.markets/v2/")
    settings = AlpacaSettings()
    assert settings.has_credentials
    assert settings.base_url == "https://paper-api.alpaca.markets"


def test_updates_of_unwatched_orders_are_bounded(alpaca_server: LoopbackAlpaca) -> None:
    broker = alpaca_broker(alpaca_server, trade_updates=True)

    async def feed() -> None:
        for number in range(MAX_BUFFERED_ORDERS + 5):
            order = payloads.order(id=f"00000000-0000-4000-8000-{number:012d}")
            await broker.handle_trade_update(
                TradeUpdate(**payloads.trade_update("new", order=order))
            )

    asyncio.run(feed())
    assert len(broker._queues) == MAX_BUFFERED_ORDERS
