"""Benchmark: building the projections over synthetic FillRecorded events, vs iterating them.

Run: .venv/bin/python bench/build_views.py [--events N] [--runs R] [--seed S] [--repeat K]

Generates N ``Ledger.FillRecorded`` events (1,000,000 by default) spread over R runs (each
run a real ``Ledger``'s ``Opened`` event, its fills, and a ``Closed``), then measures, in
the same process over the same list:

- iterating the events and doing nothing (``for event in events: pass``): the floor;
- building each view on its own, and all of them at once (``LedgerViews``), including
  ``result()``;

and prints events/s, microseconds per event and the ratio to plain iteration. The events
are held in one list, so the garbage collector's full passes would rescan all of them
while a view is being built; ``gc.freeze()`` after generation keeps that cost (an artefact
of holding a million events, not of the fold) out of every measurement alike.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger_domain import Ledger, Side, replay
from projections import (
    ByStrategy,
    BySymbol,
    ExecutionQuality,
    FillProjection,
    LedgerViews,
    StrategyPnL,
    Totals,
)

SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "QQQ", "TLT", "GLD", "AMZN", "BRK.B", "XOM")
THIRD = Decimal(str(1 / 3))
WEIGHTS: tuple[dict[str, Decimal], ...] = (
    {},
    {"momentum": Decimal(1)},
    {"momentum": Decimal("0.6"), "mean_reversion": Decimal("0.4")},
    {"carry": THIRD, "value": THIRD, "momentum": THIRD},  # sums to 0.9999999999999999
    {"value": Decimal("0.25"), "carry": Decimal("0.75")},
)


def generate(count: int, runs: int, seed: int) -> list[Any]:
    """``count`` fills over ``runs`` ledgers, with their Opened and Closed events.

    Orders have 1-3 executions; 80% of fills carry a full quote, 10% one side, 10% none;
    half the orders buy, half sell (as rebalancing does over time, so positions stay
    bounded and both closing lots and unmatched sells occur). Decimal values come from
    small pools, as real prices repeat.
    """
    rng = random.Random(seed)
    prices = {
        symbol: [Decimal(rng.randrange(1_000, 50_000)).scaleb(-2) for _ in range(200)]
        for symbol in SYMBOLS
    }
    quantities = [Decimal(rng.randrange(1, 500)) for _ in range(100)]
    quantities += [Decimal(rng.randrange(1, 50_000)).scaleb(-4) for _ in range(100)]
    half_spreads = [Decimal(n).scaleb(-2) for n in range(1, 6)]
    slips = [Decimal(n).scaleb(-2) for n in range(-3, 8)]
    start = datetime(2026, 1, 2, 14, 30, tzinfo=UTC)
    fill_class = Ledger.FillRecorded
    events: list[Any] = []
    per_run = [count // runs + (1 if r < count % runs else 0) for r in range(runs)]
    order_number = 0
    for run, fills in enumerate(per_run):
        opened_at = start + timedelta(days=run)
        ledger = Ledger(correlation_id=f"run-{run}", opened_at=opened_at)
        events.extend(ledger.collect_events())
        ledger_id = ledger.id
        version = 1
        correlation = f"run-{run}"
        remaining = fills
        while remaining:
            order_number += 1
            order_id = f"order-{order_number}"
            symbol = rng.choice(SYMBOLS)
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            weights = rng.choice(WEIGHTS)
            for execution in range(min(remaining, rng.randint(1, 3))):
                version += 1
                remaining -= 1
                mid = rng.choice(prices[symbol])
                half = rng.choice(half_spreads)
                price = mid + side.sign * rng.choice(slips)
                kind = rng.random()
                bid = mid - half if kind < 0.9 else None
                ask = mid + half if kind < 0.8 or kind >= 0.9 else None
                when = opened_at + timedelta(seconds=version)
                events.append(
                    fill_class(
                        originator_id=ledger_id,
                        originator_version=version,
                        timestamp=when,
                        order_id=order_id,
                        execution_id=f"{order_id}-{execution}",
                        symbol=symbol,
                        side=side,
                        quantity=rng.choice(quantities),
                        price=price,
                        bid=bid,
                        ask=ask,
                        quoted_at=when if bid is not None or ask is not None else None,
                        filled_at=when,
                        order_type="MARKET",
                        strategy_weights=weights,
                        correlation_id=correlation,
                    )
                )
        events.append(
            Ledger.Closed(
                originator_id=ledger_id,
                originator_version=version + 1,
                timestamp=opened_at + timedelta(hours=8),
                closed_at=opened_at + timedelta(hours=8),
            )
        )
    return events


def iterate(events: list[Any]) -> None:
    for _event in events:
        pass


def best_of(repeats: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def measure(view: type[FillProjection[Any]], events: list[Any], repeat: int) -> tuple[float, float]:
    """Best (seconds to fold every event, seconds for ``result()``) of ``repeat`` builds."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        started = time.perf_counter()
        built = view.build(events)
        folded = time.perf_counter()
        built.result()
        timing = (folded - started, time.perf_counter() - folded)
        best = min(best, timing, key=sum)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="fills to generate")
    parser.add_argument("--runs", type=int, default=100, help="ledgers to spread them over")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="builds per view (best kept)")
    args = parser.parse_args()

    started = time.perf_counter()
    events = generate(args.events, args.runs, args.seed)
    fills = sum(isinstance(event, Ledger.FillRecorded) for event in events)
    first_run_end = next(i for i, e in enumerate(events) if isinstance(e, Ledger.Closed))
    replay(events[: first_run_end + 1])  # the synthetic events are a well-formed history
    print(
        f"generated {len(events):,} events ({fills:,} fills, {args.runs} runs) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    gc.collect()
    gc.freeze()

    floor = best_of(3, lambda: iterate(events))
    print(f"\n{'':<28}{'events/s':>14}{'us/event':>10}{'result()':>11}{'x iterate':>11}")
    print(f"{'iterate only':<28}{len(events) / floor:>14,.0f}{floor / len(events) * 1e6:>10.3f}")
    views: list[tuple[str, type[FillProjection[Any]]]] = [
        ("BySymbol", BySymbol),
        ("ByStrategy", ByStrategy),
        ("Totals", Totals),
        ("ExecutionQuality", ExecutionQuality),
        ("StrategyPnL", StrategyPnL),
        ("LedgerViews (all views)", LedgerViews),
    ]
    for label, view in views:
        fold, result = measure(view, events, args.repeat)
        total = fold + result
        print(
            f"{label:<28}{len(events) / total:>14,.0f}{total / len(events) * 1e6:>10.3f}"
            f"{result * 1e3:>9.1f}ms{total / floor:>10.0f}x"
        )


if __name__ == "__main__":
    main()
