"""Export benchmark: fills/s from a local archive (verification included), peak memory as the
period grows, and a by-strategy query in DuckDB against the Python projection.

    .venv/bin/python bench/export.py [--fills 1000000] [--per-run 1000]
        [--memory 1000000,3000000] [--query-fills 10000000]

1. Writes ``--fills`` fills as closed runs of ``--per-run`` fills to a fresh local archive
   (recorded through ``TradeLedgerService``), then exports them: fills/s, against
   verifying the same documents alone (``verify_document``) in the same run.
   Goal: at least 50,000 fills/s.
2. For each size of ``--memory``, exports that many fills in a child process and reports
   its peak RSS (goal: flat as the period grows).
3. Builds ``--query-fills`` fills (2-3 strategies each), writes their export tables, and
   times ``ByStrategy`` over the events against DuckDB's ``BY_STRATEGY`` over the Parquet
   (results compared exactly). Goal: DuckDB at least 100x faster.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import signed  # the archive bench's signing key, trusted

from adapters.analytics.export import Exporter, parquet_bytes, partition
from adapters.analytics.rows import attribution_rows, fill_rows
from adapters.analytics.schema import table_of
from adapters.analytics.sink import LocalSink
from adapters.analytics.sql import BY_STRATEGY, connect
from adapters.archive import ArchivedRun, LocalDirectoryArchive, verify_document
from ledger_domain import Ledger, OrderResult, QuoteModel, RebalancePlan, Side, TradeLedgerService
from ledger_domain.frozen import FrozenDict
from ledger_domain.models import TradeLedger
from projections import ByStrategy

DAY = datetime(2024, 1, 15, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOG", "META", "SPY")
WEIGHTS = {
    "AAPL": {"momentum": 0.6, "mean_reversion": 0.4},
    "MSFT": {"momentum": 1 / 3, "carry": 1 / 3, "value": 1 / 3},
    "SPY": {"carry": "0.25", "value": "0.75"},
}


def fill_archive(directory: Path, fills: int, per_run: int) -> LocalDirectoryArchive:
    """A local archive of ``fills`` fills in closed runs of ``per_run``, one day per 100 runs."""
    archive = signed(LocalDirectoryArchive(directory))  # signed as the writer signs
    plan = RebalancePlan(
        correlation_id="bench",
        causation_id="bench",
        timestamp=DAY,
        plan_id="bench-plan",
        items=[],
        total_portfolio_value=Decimal("100000"),
        total_trade_value=Decimal("50000"),
        metadata={"strategy_attribution": WEIGHTS},
    )
    runs = max(1, fills // per_run)
    for run in range(runs):
        created = DAY + timedelta(days=run // 100, seconds=run % 100 * 600)
        service = TradeLedgerService(f"bench-{run:06d}", created_at=created)
        for index in range(per_run):
            order = OrderResult(
                symbol=SYMBOLS[index // 2 % len(SYMBOLS)],
                action="SELL" if index // 2 % 3 == 2 else "BUY",
                shares=Decimal(1 + index % 50),
                price=Decimal("100.25") + Decimal(index % 997) / 100,
                order_id=f"o-{run}-{index // 2}",
                filled_at=created + timedelta(seconds=index),
            )
            quote = QuoteModel(bid_price=Decimal("100.10"), ask_price=Decimal("111.30"))
            service.record_execution(
                order,
                f"bench-{run:06d}",
                rebalance_plan=plan,
                quote_at_fill=quote,
                execution_id=f"x-{run}-{index}",
            )
        service.close(created + timedelta(minutes=5))
        outcome = archive.write(service.events())
        assert outcome.status == "written", outcome
    return archive


def last_day(fills: int, per_run: int) -> date:
    return (DAY + timedelta(days=max(1, fills // per_run) // 100 + 1)).date()


def throughput(fills: int, per_run: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        archive = fill_archive(root / "archive", fills, per_run)
        print(f"archive of {fills:,} fills built in {time.perf_counter() - started:.0f} s")
        first, last = DAY.date(), last_day(fills, per_run)
        keys = [ref.key for ref in archive.list_runs(first, last)]
        started = time.perf_counter()
        for key in keys:
            verdict = verify_document(key, archive.read_bytes(key), trusted=archive.trusted_keys)
            assert verdict.status == "valid", verdict
        verify = time.perf_counter() - started
        started = time.perf_counter()
        report = Exporter(archive, LocalSink(root / "export")).export(first, last)
        export = time.perf_counter() - started
        assert report.fills == fills, report
        assert not report.left_out, report
        started = time.perf_counter()
        again = Exporter(archive, LocalSink(root / "export")).export(first, last)
        repeat = time.perf_counter() - started
        assert again.written == 0
        print(f"read + verify only : {fills / verify:10,.0f} fills/s ({verify:.1f} s)")
        print(
            f"export (verified)  : {fills / export:10,.0f} fills/s ({export:.1f} s), "
            f"{export / verify:.2f}x the verification alone (goal >= 50,000 fills/s)"
        )
        print(f"export again       : {repeat:.2f} s, nothing written")


def peak_memory(fills: int, per_run: int) -> None:
    """Export ``fills`` in this process (a child of the main run); print the peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        archive = fill_archive(root / "archive", fills, per_run)
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = Exporter(archive, LocalSink(root / "export")).export(
            DAY.date(), last_day(fills, per_run)
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert report.fills == fills
        print(
            f"{fills:>12,} fills: peak RSS {peak / 1024:7.1f} MiB (before export "
            f"{before / 1024:7.1f} MiB)"
        )


def synthetic_runs(fills: int, per_run: int) -> Iterator[ArchivedRun]:
    """Runs of FillRecorded events built directly (no recording), for the query bench."""
    names = list(WEIGHTS)
    weights = {
        s: FrozenDict({k: Decimal(str(v)) for k, v in w.items()}) for s, w in WEIGHTS.items()
    }
    for _ in range(max(1, fills // per_run)):
        ledger_id = uuid.uuid4()
        events: list[Any] = []
        for index in range(per_run):
            symbol = names[index // 2 % len(names)]
            event = object.__new__(Ledger.FillRecorded)
            object.__setattr__(
                event,
                "__dict__",
                {
                    "order_id": f"o{index // 2}",
                    "execution_id": f"x{index}",
                    "symbol": symbol,
                    "side": Side.SELL if index // 2 % 3 == 2 else Side.BUY,
                    "quantity": Decimal(1 + index % 50),
                    "price": Decimal(10025 + index % 997).scaleb(-2),
                    "bid": None,
                    "ask": None,
                    "quoted_at": None,
                    "filled_at": DAY,
                    "order_type": "MARKET",
                    "strategy_weights": weights[symbol],
                    "correlation_id": "bench",
                    "originator_id": ledger_id,
                    "originator_version": index + 2,
                    "timestamp": DAY,
                },
            )
            events.append(event)
        ledger = TradeLedger(ledger_id=str(ledger_id), created_at=DAY)
        yield ArchivedRun(key=f"bench/{ledger_id}", ledger=ledger, events=events)


def query(fills: int, per_run: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sink = LocalSink(root / "export")
        view = ByStrategy()
        python = 0.0
        started = time.perf_counter()
        for run in synthetic_runs(fills, per_run):
            name = f"{run.ledger.ledger_id}.parquet"
            folder_of = partition(DAY.date())
            sink.put(
                f"fills/{folder_of}/{name}",
                parquet_bytes(table_of("fills", list(fill_rows(run.events)))),
            )
            table = table_of("attribution", list(attribution_rows(run.events)))
            sink.put(f"attribution/{folder_of}/{name}", parquet_bytes(table))
            tick = time.perf_counter()
            view.extend(run.events)
            python += time.perf_counter() - tick
        print(f"{fills:,} fills built and written in {time.perf_counter() - started:.0f} s")
        result = view.result()
        connection = connect(str(root / "export"))
        times = []
        for _ in range(3):
            tick = time.perf_counter()
            rows = connection.execute(BY_STRATEGY).fetchall()
            times.append(time.perf_counter() - tick)
        duck = min(times)
        expected = [(r.strategy, r.buy_notional, r.sell_notional) for r in result.strategies]
        assert [(r[0], r[4], r[6]) for r in rows] == expected
        print(
            f"by strategy over {fills:,} fills: Python projection {python:.1f} s, "
            f"DuckDB {duck:.3f} s (best of 3): {python / duck:,.0f}x (goal >= 100x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--per-run", type=int, default=1000)
    parser.add_argument("--memory", default="1000000,3000000")
    parser.add_argument("--query-fills", type=int, default=10_000_000)
    parser.add_argument("--only", choices=["throughput", "memory", "query"])
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        peak_memory(args.child_memory, args.per_run)
        return
    if args.only in (None, "throughput") and args.fills:
        throughput(args.fills, args.per_run)
    if args.only in (None, "memory"):
        for size in filter(None, args.memory.split(",")):
            subprocess.run(
                [sys.executable, __file__, "--child-memory", size, "--per-run", str(args.per_run)],
                check=True,
            )
    if args.only in (None, "query") and args.query_fills:
        query(args.query_fills, args.per_run)


if __name__ == "__main__":
    main()
