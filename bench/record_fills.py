"""Benchmark: record_filled_order throughput on POPO and SQLite vs a plain pydantic list.

Run: .venv/bin/python bench/record_fills.py [--fills N] [--per-run K]
Prints fills/s and microseconds per fill for each store, and the ratio to the baseline
(a non-event-sourced ledger: validate a pydantic entry and append it to a list). Fills are
recorded as runs of K fills, one ledger per run as the executor does; one more line records
all N fills into a single ledger, where the garbage collector's work on a large live heap
shows.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ledger_domain import (
    OrderResult,
    QuoteModel,
    RebalancePlan,
    TradeLedgerEntry,
    TradeLedgerService,
)

SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "QQQ", "TLT", "GLD", "AMZN")


def make_inputs(count: int) -> list[tuple[OrderResult, QuoteModel]]:
    now = datetime(2026, 1, 2, 15, 30, tzinfo=UTC)
    inputs = []
    for i in range(count):
        price = Decimal(100 + i % 50) + Decimal(i % 97) / 100
        inputs.append(
            (
                OrderResult(
                    symbol=SYMBOLS[i % len(SYMBOLS)],
                    action="BUY" if i % 3 else "SELL",
                    shares=Decimal(1 + i % 20),
                    price=price,
                    order_id=f"order-{i}",
                    timestamp=now,
                ),
                QuoteModel(bid_price=price - Decimal("0.01"), ask_price=price + Decimal("0.01")),
            )
        )
    return inputs


def plan() -> RebalancePlan:
    return RebalancePlan(
        correlation_id="bench",
        causation_id="bench",
        timestamp=datetime.now(UTC),
        plan_id="bench",
        items=[],
        total_portfolio_value=Decimal(1),
        total_trade_value=Decimal(1),
        metadata={"strategy_attribution": {s: {"momentum": 0.6, "carry": 0.4} for s in SYMBOLS}},
    )


def timed(label: str, run: Callable[[], int]) -> float:
    start = time.perf_counter()
    count = run()
    elapsed = time.perf_counter() - start
    rate = count / elapsed
    print(f"{label:<34} {rate:>10,.0f} fills/s {elapsed / count * 1e6:>8.1f} us/fill")
    return rate


def service_run(env: dict[str, str], inputs: list[tuple[OrderResult, QuoteModel]]) -> int:
    """One run's ledger: every fill through ``record_filled_order``, then close."""
    service = TradeLedgerService("bench", env=env)
    rebalance = plan()
    for order, quote in inputs:
        service.record_filled_order(order, "bench", rebalance, quote)
    service.close()
    if service.total_entries != len(inputs):
        raise RuntimeError("a fill was lost")
    return len(inputs)


def with_a_poller(inputs: list[tuple[OrderResult, QuoteModel]]) -> int:
    """One run's ledger recorded while another thread calls ``get_ledger()`` non-stop."""
    service = TradeLedgerService("bench")
    rebalance = plan()
    done = threading.Event()
    polls = 0

    def poll() -> None:
        nonlocal polls
        while not done.is_set():
            service.get_ledger()
            polls += 1

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        for order, quote in inputs:
            service.record_filled_order(order, "bench", rebalance, quote)
    finally:
        done.set()
        poller.join()
    if service.total_entries != len(inputs) or not polls:
        raise RuntimeError("a fill was lost or the poller never ran")
    return len(inputs)


def in_runs(
    record: Callable[[list[tuple[OrderResult, QuoteModel]]], int],
    inputs: list[tuple[OrderResult, QuoteModel]],
    per_run: int,
) -> Callable[[], int]:
    return lambda: sum(record(inputs[i : i + per_run]) for i in range(0, len(inputs), per_run))


def baseline_run(inputs: list[tuple[OrderResult, QuoteModel]]) -> int:
    """What a non-event-sourced ledger does: build a validated entry, append it."""
    entries: list[TradeLedgerEntry] = []
    weights = {"momentum": Decimal("0.6"), "carry": Decimal("0.4")}
    for order, quote in inputs:
        entries.append(
            TradeLedgerEntry(
                order_id=order.order_id or "",
                symbol=order.symbol,
                direction="BUY" if order.action == "BUY" else "SELL",
                filled_qty=order.shares,
                fill_price=order.price or Decimal(1),
                bid_at_fill=quote.bid_price,
                ask_at_fill=quote.ask_price,
                fill_timestamp=order.timestamp,
                order_type=order.order_type or "MARKET",
                strategy_names=list(weights),
                strategy_weights=dict(weights),
                correlation_id="bench",
            )
        )
    return len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fills", type=int, default=50_000)
    parser.add_argument("--per-run", type=int, default=500)
    args = parser.parse_args()
    inputs = make_inputs(args.fills)
    per_run = args.per_run
    print(f"{args.fills:,} fills in runs of {per_run:,}\n")
    base = timed("baseline: pydantic list", in_runs(baseline_run, inputs, per_run))
    popo = timed("service on POPO", in_runs(lambda i: service_run({}, i), inputs, per_run))
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(Path(tmp) / "bench.sqlite"),
        }
        sqlite = timed(
            "service on SQLite file", in_runs(lambda i: service_run(sqlite_env, i), inputs, per_run)
        )
    one_ledger = timed("service on POPO, one ledger", lambda: service_run({}, inputs))
    polled = timed("POPO, a thread polling get_ledger", in_runs(with_a_poller, inputs, per_run))
    print(f"\nPOPO / baseline   = {popo / base:.2f}x the baseline's rate")
    print(f"SQLite / baseline = {sqlite / base:.2f}x the baseline's rate")
    print(f"one {args.fills:,}-fill ledger / baseline = {one_ledger / base:.2f}x")
    print(f"polled / unpolled POPO = {polled / popo:.2f}x (goal: at least 0.5x)")
    print(f"POPO goal 30,000 fills/s: {'met' if popo >= 30_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
