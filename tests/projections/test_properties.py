"""Hypothesis properties of the projections over event streams recorded by a real service."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_domain import WEIGHT_TOLERANCE, TradeLedgerService
from projections import (
    ByStrategy,
    BySymbol,
    ExecutionQuality,
    LedgerReport,
    LedgerViews,
    PnLReport,
    StrategyPnL,
    Totals,
)
from projections.arithmetic import WIDE
from tests.projections.streams import Execution, events_of, record, run, streams

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def exact_sum(values: Any) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = WIDE.add(total, value)
    return total


@PROPERTY
@given(streams())
def test_applying_events_one_at_a_time_equals_building_from_the_stream(
    stream: list[Execution],
) -> None:
    service = TradeLedgerService("corr")
    live = LedgerViews()
    service.subscribe(live)  # fed each event as it is stored, one at a time
    record(service, stream)
    service.close()
    events = service.events()

    built = LedgerViews.build(events)
    one_by_one = LedgerViews()
    for event in events:
        one_by_one.apply(event)
    assert live.result() == built.result() == one_by_one.result()

    report = built.result()
    assert BySymbol.build(events).result() == report.by_symbol
    assert ByStrategy.build(events).result() == report.by_strategy
    assert Totals.build(events).result() == report.totals
    assert ExecutionQuality.build(events).result() == report.execution_quality
    assert StrategyPnL.build(events).result() == report.strategy_pnl


@PROPERTY
@given(streams())
def test_totals_equal_the_ledger_snapshot_totals_exactly(stream: list[Execution]) -> None:
    service = run(stream)
    ledger = service.get_ledger()
    totals = Totals.build(service.events()).result()
    assert totals.buy_value == ledger.total_buy_value == service.total_buy_value
    assert totals.sell_value == ledger.total_sell_value == service.total_sell_value
    assert str(totals.buy_value) == str(ledger.total_buy_value)
    assert str(totals.sell_value) == str(ledger.total_sell_value)
    assert totals.net_value == ledger.total_buy_value - ledger.total_sell_value
    assert totals.total_entries == ledger.total_entries
    assert totals.buy_executions + totals.sell_executions == len(stream)
    buys = [e for e in ledger.entries if e.direction == "BUY"]
    assert totals.buy_entries == len(buys)


@PROPERTY
@given(streams())
def test_strategies_plus_unattributed_equal_the_total_notional(stream: list[Execution]) -> None:
    events = events_of(stream)
    report = LedgerViews.build(events).result()
    strategies = report.by_strategy
    lines = (*strategies.strategies, strategies.unattributed)

    total_notional = exact_sum(e.shares * e.price for e in stream)
    assert strategies.total_notional == total_notional == report.totals.gross_value
    assert exact_sum(row.notional for row in lines) == total_notional
    assert exact_sum(row.quantity for row in lines) == exact_sum(e.shares for e in stream)
    assert exact_sum(row.buy_notional for row in lines) == report.totals.buy_value
    assert exact_sum(row.sell_notional for row in lines) == report.totals.sell_value

    # The remainder moved by weights not summing to 1 stays within the tolerance.
    assert abs(strategies.weight_adjustment) <= WEIGHT_TOLERANCE * total_notional
    # Unattributed fills are on their own line, not lost.
    unattributed = [e for e in stream if not e.weights]
    assert strategies.unattributed.executions == len(unattributed)
    assert strategies.unattributed.notional == exact_sum(e.shares * e.price for e in unattributed)

    # Execution quality splits the same way: strategies + unattributed = overall.
    quality = report.execution_quality
    rows = (*quality.by_strategy, quality.unattributed)
    overall = quality.overall
    assert exact_sum(r.quoted_notional for r in rows) == overall.quoted_notional
    assert exact_sum(r.unquoted_notional for r in rows) == overall.unquoted_notional
    assert exact_sum(r.slippage_cost for r in rows) == overall.slippage_cost
    assert overall.quoted_notional + overall.unquoted_notional == total_notional
    assert exact_sum(r.slippage_cost for r in quality.by_symbol) == overall.slippage_cost


@st.composite
def one_price_streams(draw: st.DrawFn) -> list[Execution]:
    fixed = {
        "AAPL": draw(st.sampled_from([Decimal("187.31"), Decimal("0.07")])),
        "SPY": draw(st.sampled_from([Decimal("512.9"), Decimal("3")])),
    }
    return draw(streams(symbols=("AAPL", "SPY"), fixed_prices=fixed))


@PROPERTY
@given(one_price_streams())
def test_trading_at_one_price_realises_nothing(stream: list[Execution]) -> None:
    """Any buys and sells (any attribution, any order) of a symbol at one price: P&L 0."""
    report = StrategyPnL.build(events_of(stream)).result()
    assert all(row.realised_pnl == 0 for row in report.positions)
    assert report.total_realised_pnl == 0


@PROPERTY
@given(streams(max_orders=8))
def test_a_round_trip_at_the_same_price_is_zero_and_leaves_nothing_open(
    buys: list[Execution],
) -> None:
    """Buy, then sell exactly the same executions back at the same prices."""
    buys = [Execution(**{**vars(e), "action": "BUY", "order_id": "b" + e.order_id}) for e in buys]
    sells = [
        Execution(
            **{
                **vars(e),
                "action": "SELL",
                "order_id": "s" + e.order_id[1:],
                "execution_id": "s" + e.execution_id,
            }
        )
        for e in buys
    ]
    report = StrategyPnL.build(events_of(buys + sells)).result()
    for row in report.positions:
        assert row.realised_pnl == 0
        assert row.open_lots == ()
        assert row.open_quantity == 0
        assert row.bought_quantity == row.sold_quantity
        assert row.unmatched_sells == 0


def economic(report: PnLReport) -> list[Any]:
    """A P&L report without the run (ledger id) each lot came from."""
    return [
        (
            row.model_dump(exclude={"open_lots"}),
            [lot.model_dump(exclude={"ledger_id"}) for lot in row.open_lots],
        )
        for row in report.positions
    ]


def without_entries(report: LedgerReport) -> dict[str, Any]:
    """Everything but counts of entries (an order split across two runs is two entries)."""
    dumped = report.model_dump(exclude={"strategy_pnl"})
    for row in dumped["by_symbol"]["rows"]:
        del row["entries"]
    for row in [*dumped["by_strategy"]["strategies"], dumped["by_strategy"]["unattributed"]]:
        del row["entries"]
    for key in ("buy_entries", "sell_entries"):
        del dumped["totals"][key]
    return dumped


@PROPERTY
@given(streams(max_orders=25), st.data())
def test_splitting_a_stream_across_runs_gives_the_same_cross_run_result(
    stream: list[Execution], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=4)))
    bounds = [0, *cuts, len(stream)]
    runs = [events_of(stream[a:b]) for a, b in itertools.pairwise(bounds)]

    whole = LedgerViews.build(events_of(stream)).result()
    split = LedgerViews.build(*runs).result()
    chained = LedgerViews.build(event for events in runs for event in events).result()
    assert split == chained
    assert economic(split.strategy_pnl) == economic(whole.strategy_pnl)
    assert without_entries(split) == without_entries(whole)
    if not cuts:
        return
    # Whole orders never split: entries agree too.
    assert split.totals.total_entries >= whole.totals.total_entries


@PROPERTY
@given(streams())
def test_positions_add_up_to_the_symbols_net_and_true_pnl(stream: list[Execution]) -> None:
    """Summed over strategies, open quantity = bought - sold, and realised + unrealised at
    any mark = sold notional - bought notional + net quantity x mark (nothing vanishes)."""
    report = LedgerViews.build(events_of(stream)).result()
    mark = Decimal("123.45")
    per_symbol: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in report.strategy_pnl.positions:
        acc = per_symbol[row.symbol]
        acc[0] = WIDE.add(acc[0], row.open_quantity)
        acc[1] = WIDE.add(acc[1], WIDE.add(row.realised_pnl, row.unrealised_pnl(mark)))
        sides = {lot.side for lot in row.open_lots}
        assert len(sides) <= 1
        assert exact_sum(lot.quantity for lot in row.open_lots) == abs(row.open_quantity)
    for symbol in report.by_symbol.symbols:
        buy = report.by_symbol.row(symbol, "BUY")
        sell = report.by_symbol.row(symbol, "SELL")
        bought_q = buy.quantity if buy else Decimal(0)
        sold_q = sell.quantity if sell else Decimal(0)
        bought_v = buy.notional if buy else Decimal(0)
        sold_v = sell.notional if sell else Decimal(0)
        net = WIDE.subtract(bought_q, sold_q)
        open_quantity, pnl = per_symbol[symbol]
        assert open_quantity == net
        expected = WIDE.add(WIDE.subtract(sold_v, bought_v), WIDE.multiply(net, mark))
        assert pnl == expected


@PROPERTY
@given(streams())
def test_applying_a_run_twice_changes_nothing(stream: list[Execution]) -> None:
    events = events_of(stream)
    once = LedgerViews.build(events)
    twice = LedgerViews.build(events, events)
    assert twice.result() == once.result()
    assert twice.duplicates_skipped == len(stream)
    assert once.duplicates_skipped == 0
