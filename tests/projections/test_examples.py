"""Worked examples: small runs whose numbers are computed by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817 - reads like the hand computations

from ledger_domain import Ledger, TradeLedgerService, from_record, to_record
from projections import (
    ByStrategy,
    BySymbol,
    ExecutionQuality,
    LedgerViews,
    StrategyPnL,
    Totals,
    attribution,
    fill_qualities,
    fill_quality,
)
from tests.projections.streams import Execution, events_of, record, run

TWO_STRATEGIES = {"momentum": "0.6", "mean_reversion": "0.4"}


def two_strategy_buy() -> Execution:
    return Execution(
        order_id="o-1",
        execution_id="o-1",
        symbol="AAPL",
        action="BUY",
        shares=D("10"),
        price=D("150.25"),
        bid=D("150.10"),
        ask=D("150.30"),
        weights=TWO_STRATEGIES,
    )


def test_a_two_strategy_buy() -> None:
    # 10 x 150.25 = 1502.50; momentum 0.6 x 10 = 6 shares, 6 x 150.25 = 901.50;
    # mean_reversion 0.4 x 10 = 4 shares, 4 x 150.25 = 601.00.
    report = LedgerViews.build(events_of([two_strategy_buy()])).result()

    momentum = report.by_strategy.strategy("momentum")
    reversion = report.by_strategy.strategy("mean_reversion")
    assert momentum is not None
    assert reversion is not None
    assert (momentum.entries, momentum.buy_quantity, momentum.buy_notional) == (1, 6, D("901.50"))
    assert (reversion.entries, reversion.buy_quantity, reversion.buy_notional) == (1, 4, D("601"))
    assert momentum.sell_notional == reversion.sell_notional == 0
    assert momentum.weight_adjustment == reversion.weight_adjustment == 0
    assert report.by_strategy.unattributed.executions == 0
    assert report.by_strategy.total_notional == D("1502.50")

    # mid = (150.10 + 150.30) / 2 = 150.20; a buy 0.05 above the mid costs
    # 0.05 / 150.20 x 10_000 = 2500/751 = 3.3289 bps; spread 0.20 / 150.20 x 10_000
    # = 10000/751 = 13.3156 bps; cost 0.05 x 10 = 0.50 (0.30 momentum, 0.20 reversion).
    quality = report.execution_quality
    aapl = quality.symbol("aapl")
    assert aapl is not None
    assert aapl.slippage_bps == D(2500) / D(751)
    assert round(aapl.slippage_bps, 4) == D("3.3289")
    assert aapl.spread_bps == D(10000) / D(751)
    assert round(aapl.spread_bps, 4) == D("13.3156")
    assert aapl.slippage_cost == D("0.50")
    by_momentum = quality.strategy("momentum")
    by_reversion = quality.strategy("mean_reversion")
    assert by_momentum is not None
    assert by_reversion is not None
    assert by_momentum.slippage_cost == D("0.30")
    assert by_reversion.slippage_cost == D("0.20")
    assert by_momentum.slippage_bps == aapl.slippage_bps  # one fill: the same bps
    assert by_momentum.quoted_notional == D("901.50")

    # Each strategy holds one lot at the fill price.
    pnl = report.strategy_pnl
    lot = pnl.position("momentum", "AAPL")
    assert lot is not None
    assert [(x.side, x.quantity, x.price) for x in lot.open_lots] == [("LONG", 6, D("150.25"))]
    assert lot.open_cost == D("901.50")
    assert pnl.total_realised_pnl == 0


def test_a_partial_sell_closes_the_oldest_lot_first_across_runs() -> None:
    # Run 1 buys 10 @ 100 then 10 @ 110; run 2 sells 15 @ 120.
    # FIFO: 10 x (120 - 100) = 200, then 5 x (120 - 110) = 50: realised 250.
    # Open: 5 @ 110 (cost 550); marked at 115 that is 5 x 115 - 550 = 25 unrealised.
    solo = {"momentum": 1}
    run1 = events_of(
        [
            Execution("b1", "b1", "SPY", "BUY", D("10"), D("100"), weights=solo, seconds=0),
            Execution("b2", "b2", "SPY", "BUY", D("10"), D("110"), weights=solo, seconds=1),
        ]
    )
    run2 = events_of([Execution("s1", "s1", "SPY", "SELL", D("15"), D("120"), weights=solo)])
    report = StrategyPnL.build(run1, run2).result()
    assert StrategyPnL().extend(run1).extend(run2).result() == report

    position = report.position("momentum", "SPY")
    assert position is not None
    assert position.realised_pnl == 250
    assert position.open_quantity == 5
    assert position.open_cost == 550
    assert position.average_open_price == 110
    assert position.unrealised_pnl(D("115")) == 25
    [lot] = position.open_lots
    assert (lot.side, lot.quantity, lot.price, lot.order_id) == ("LONG", 5, 110, "b2")
    assert lot.ledger_id == str(run1[0].originator_id)
    assert (position.bought_quantity, position.sold_quantity) == (20, 15)
    assert position.bought_notional == 2100
    assert position.sold_notional == 1800
    assert position.unmatched_sells == 0
    strategy = report.strategy("momentum")
    assert strategy is not None
    assert strategy.realised_pnl == 250
    assert strategy.open_positions == 1


def test_a_loss_split_between_two_strategies() -> None:
    # Buy 8 @ 50, sell 8 @ 45: -5 a share, -40 in all; carry (0.75) has 6 shares: -30,
    # value (0.25) has 2 shares: -10.
    weights = {"carry": "0.75", "value": "0.25"}
    events = events_of(
        [
            Execution("b", "b", "MSFT", "BUY", D("8"), D("50"), weights=weights),
            Execution("s", "s", "MSFT", "SELL", D("8"), D("45"), weights=weights, seconds=1),
        ]
    )
    report = StrategyPnL.build(events).result()
    carry = report.position("carry", "MSFT")
    value = report.position("value", "MSFT")
    assert carry is not None
    assert value is not None
    assert carry.realised_pnl == -30
    assert value.realised_pnl == -10
    assert report.total_realised_pnl == -40
    assert carry.open_lots == value.open_lots == ()

    totals = Totals.build(events).result()
    # bought 8 x 50 = 400, sold 8 x 45 = 360, net 40 spent.
    assert (totals.buy_value, totals.sell_value, totals.net_value) == (400, 360, 40)


def test_fills_without_a_full_quote_are_counted_not_guessed() -> None:
    # BUY 3 @ 9.99 with no quote, BUY 1 @ 10 with a bid only: both unquoted (39.97).
    # SELL 2 @ 99.95 against 99.90/100.10: mid 100.00, a sell 0.05 below the mid costs
    # 0.05 / 100 x 10_000 = 5 bps, spread 0.20 / 100 x 10_000 = 20 bps, cost 0.10.
    stream = [
        Execution("n", "n", "TEST", "BUY", D("3"), D("9.99")),
        Execution("h", "h", "TEST", "BUY", D("1"), D("10"), bid=D("9.98"), seconds=1),
        Execution("q", "q", "XYZ", "SELL", D("2"), D("99.95"), D("99.90"), D("100.10"), seconds=2),
    ]
    events = events_of(stream)
    quality = ExecutionQuality.build(events).result()

    test = quality.symbol("TEST")
    assert test is not None
    assert (test.fills, test.quoted_fills, test.unquoted_fills) == (2, 0, 2)
    assert test.unquoted_notional == D("39.97")
    assert test.slippage_bps is None
    assert test.spread_bps is None
    assert test.slippage_cost == 0

    xyz = quality.symbol("XYZ")
    assert xyz is not None
    assert (xyz.slippage_bps, xyz.spread_bps, xyz.slippage_cost) == (5, 20, D("0.10"))

    overall = quality.overall
    assert (overall.fills, overall.quoted_fills, overall.unquoted_fills) == (3, 1, 2)
    assert overall.slippage_bps == 5  # only the quoted fill is weighted
    assert quality.unattributed == overall.model_copy(update={"name": None})

    per_fill = list(fill_qualities(events))
    assert [(f.execution_id, f.mid, f.slippage_bps) for f in per_fill] == [("q", 100, 5)]
    fills = [e for e in events if isinstance(e, Ledger.FillRecorded)]
    assert fill_quality(fills[0]) is None
    assert fill_quality(fills[1]) is None


def test_a_buy_below_the_mid_is_price_improvement() -> None:
    # BUY at 100.00 against 100.00/100.20: mid 100.10, -0.10 / 100.10 x 10_000 = -9.99 bps.
    events = events_of([Execution("i", "i", "SPY", "BUY", D("1"), D("100"), D("100"), D("100.2"))])
    [fill] = [e for e in events if isinstance(e, Ledger.FillRecorded)]
    quality = fill_quality(fill)
    assert quality is not None
    assert quality.slippage_bps == D(-1000) / D("100.1")
    assert round(quality.slippage_bps, 2) == D("-9.99")
    assert quality.slippage_cost == D("-0.10")


def test_a_sell_with_no_open_lot_opens_a_short_lot_that_a_later_buy_covers() -> None:
    # SELL 5 @ 20 with nothing held: unmatched, a short lot of 5 @ 20 (open -5, -100).
    # BUY 8 @ 18: covers the 5 first, realising 5 x (20 - 18) = 10; 3 open long @ 18.
    sell = Execution("s", "s", "XYZ", "SELL", D("5"), D("20"))
    after_sell = StrategyPnL.build(events_of([sell])).result().position(None, "XYZ")
    assert after_sell is not None
    assert after_sell.unmatched_sell_quantity == 5
    assert after_sell.unmatched_sells == 1
    assert after_sell.open_quantity == -5
    assert after_sell.open_cost == -100
    assert [(lot.side, lot.quantity, lot.price) for lot in after_sell.open_lots] == [
        ("SHORT", 5, 20)
    ]
    assert after_sell.realised_pnl == 0

    buy = Execution("b", "b", "XYZ", "BUY", D("8"), D("18"), seconds=1)
    position = StrategyPnL.build(events_of([sell, buy])).result().position(None, "XYZ")
    assert position is not None
    assert position.realised_pnl == 10
    assert position.open_quantity == 3
    assert [(lot.side, lot.quantity, lot.price) for lot in position.open_lots] == [("LONG", 3, 18)]
    assert position.unmatched_sell_quantity == 5  # cumulative: it still happened


def test_a_strategy_selling_more_than_it_bought_is_an_unmatched_sell() -> None:
    # Bought 10 @ 10 as 60/40, sold 10 @ 12 all as momentum: momentum closes its 6
    # (+12) and sells 4 unmatched (short 4 @ 12); mean_reversion keeps 4 @ 10. Summed
    # over strategies: flat, and 4 x (12 - 10) = 8 more at any mark: 20 in all.
    events = events_of(
        [
            Execution("b", "b", "NVDA", "BUY", D("10"), D("10"), weights=TWO_STRATEGIES),
            Execution("s", "s", "NVDA", "SELL", D("10"), D("12"), weights={"momentum": 1}),
        ]
    )
    report = StrategyPnL.build(events).result()
    momentum = report.position("momentum", "NVDA")
    reversion = report.position("mean_reversion", "NVDA")
    assert momentum is not None
    assert reversion is not None
    assert (momentum.realised_pnl, momentum.open_quantity, momentum.unmatched_sell_quantity) == (
        12,
        -4,
        4,
    )
    assert (reversion.realised_pnl, reversion.open_quantity) == (0, 4)
    mark = D("11")
    total = sum((p.realised_pnl + p.unrealised_pnl(mark) for p in (momentum, reversion)), D(0))
    assert total == 20


def test_weights_that_do_not_sum_to_one_put_the_remainder_on_the_largest() -> None:
    # 1/3 as floats is 0.3333333333333333; three of them sum to 0.9999999999999999.
    # BUY 3 @ 10: b and c get 0.9999999999999999 shares (9.999999999999999); a (first of
    # the equal largest) gets 3 - 1.9999999999999998 = 1.0000000000000002 shares,
    # notional 10.000000000000002, of which 10.000000000000002 - 0.3333333333333333 x 30
    # = 0.000000000000003 is weight adjustment. The three add up to 3 and 30 exactly.
    third = 1 / 3
    events = events_of(
        [
            Execution(
                "o", "o", "SPY", "BUY", D(3), D(10), weights={"a": third, "b": third, "c": third}
            )
        ]
    )
    report = ByStrategy.build(events).result()
    rows = {row.strategy: row for row in report.strategies}
    assert rows["a"].buy_quantity == D("1.0000000000000002")
    assert rows["a"].buy_notional == D("10.000000000000002")
    assert rows["a"].weight_adjustment == D("0.000000000000003")
    for name in ("b", "c"):
        assert rows[name].buy_quantity == D("0.9999999999999999")
        assert rows[name].buy_notional == D("9.999999999999999")
        assert rows[name].weight_adjustment == 0
    assert sum(row.buy_notional for row in rows.values()) == 30
    assert report.weight_adjustment == D("0.000000000000003")

    [fill] = [e for e in events if isinstance(e, Ledger.FillRecorded)]
    shares = attribution(fill)
    assert [name for name, *_ in shares] == ["a", "b", "c"]


def test_by_symbol_volume_weights_the_price_of_partial_fills() -> None:
    # One order filled 10 @ 100 and 30 @ 104: 40 shares, 1000 + 3120 = 4120, VWAP 103.
    # A second order sells 5 @ 99.5 = 497.5.
    events = events_of(
        [
            Execution("o1", "x1", "IBM", "BUY", D("10"), D("100")),
            Execution("o2", "x2", "IBM", "SELL", D("5"), D("99.5"), seconds=1),
            Execution("o1", "x3", "IBM", "BUY", D("30"), D("104"), seconds=2),
        ]
    )
    report = BySymbol.build(events).result()
    buy = report.row("ibm", "BUY")
    sell = report.row("IBM", "SELL")
    assert buy is not None
    assert sell is not None
    assert (buy.entries, buy.executions, buy.quantity, buy.notional) == (1, 2, 40, 4120)
    assert buy.average_price == 103
    assert (sell.entries, sell.executions, sell.notional, sell.average_price) == (
        1,
        1,
        D("497.5"),
        D("99.5"),
    )
    assert report.symbols == ("IBM",)
    assert report.row("IBM", "SELL") == sell
    assert report.row("MSFT", "BUY") is None

    totals = Totals.build(events).result()
    assert (totals.buy_entries, totals.buy_executions, totals.sell_entries) == (1, 2, 1)
    assert totals.net_value == D("3622.5")


def test_other_events_and_foreign_objects_are_ignored() -> None:
    service = TradeLedgerService("corr")
    service.close()
    events = service.events()
    assert [type(e).__name__ for e in events] == ["Opened", "Closed"]
    views = LedgerViews.build(events, [None, "not an event", 42])
    report = views.result()
    assert report.totals.buy_value == report.totals.sell_value == 0
    assert report.by_symbol.rows == ()
    assert report.by_strategy.strategies == ()
    assert report.strategy_pnl.positions == ()
    assert report.execution_quality.overall.fills == 0
    assert report.execution_quality.overall.slippage_bps is None


def test_a_view_follows_a_live_run_through_subscribe() -> None:
    service = run([two_strategy_buy()])
    views = LedgerViews()
    totals = Totals()
    service.subscribe(views)  # past events first
    service.subscribe(totals, replay_history=False)  # only what comes next
    sell = Execution("o-2", "o-2", "AAPL", "SELL", D(4), D(151), weights=TWO_STRATEGIES, seconds=1)
    record(service, [sell])
    report = views.result()
    assert report.totals.buy_value == service.total_buy_value == D("1502.50")
    assert report.totals.sell_value == service.total_sell_value == D("604")
    assert totals.result().sell_value == D("604")
    assert totals.result().buy_value == 0
    # momentum sells 0.6 x 4 = 2.4 of its 6 @ 150.25 at 151: 2.4 x 0.75 = 1.8 realised.
    momentum = report.strategy_pnl.position("momentum", "AAPL")
    assert momentum is not None
    assert momentum.realised_pnl == D("1.8")


def test_events_read_back_from_archive_records_give_the_same_report() -> None:
    events = events_of([two_strategy_buy()])
    records = [to_record(event) for event in events]
    assert (
        LedgerViews.build(from_record(r) for r in records).result()
        == LedgerViews.build(events).result()
    )


def test_a_redelivered_fill_is_skipped() -> None:
    events = events_of([two_strategy_buy()])
    views = LedgerViews()
    for event in [*events, events[1], *events]:
        views.apply(event)
    assert views.duplicates_skipped == 2
    assert views.result() == LedgerViews.build(events).result()
