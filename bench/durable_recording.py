"""Benchmark: durable recording with group commit, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/durable_recording.py [--fills N] [--per-run K]

For each store, records N broker fills (with a quote and the plan's attribution, as the
executor does) in runs of K fills: first one commit per fill through ``record_fill`` (the
baseline: how the executor recorded before group commit), then through
``record_broker_fills`` in bursts of 1, 10 and 100 fills (one transaction per burst).
Prints fills/s and each rate as a multiple of the baseline measured in the same run.
PostgreSQL is the local server at 127.0.0.1:5432 (db ``test``, user ``postgres``), in a
schema of its own that is dropped afterwards; skipped with the reason when absent.
Goal: SQLite in bursts of 100 at least 10,000 fills/s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from record_fills import SYMBOLS, plan  # the same plan and symbols as the in-memory bench

from ledger_domain import (
    Fill,
    QuoteModel,
    Side,
    TradeLedgerService,
)

BURSTS = (1, 10, 100)
GOAL = 10_000
Inputs = list[tuple[Fill, QuoteModel]]


def make_inputs(count: int) -> Inputs:
    now = datetime(2026, 1, 2, 15, 30, tzinfo=UTC)
    inputs = []
    for i in range(count):
        price = Decimal(100 + i % 50) + Decimal(i % 97) / 100
        fill = Fill(
            order_id=f"order-{i // 4}",
            execution_id=f"x-{i}",
            symbol=SYMBOLS[(i // 4) % len(SYMBOLS)],
            side=Side.BUY if (i // 4) % 3 else Side.SELL,
            quantity=Decimal(1 + i % 20),
            price=price,
            filled_at=now,
        )
        quote = QuoteModel(
            bid_price=price - Decimal("0.01"), ask_price=price + Decimal("0.01"), timestamp=now
        )
        inputs.append((fill, quote))
    return inputs


def per_fill(env: dict[str, str], inputs: Inputs) -> int:
    """The baseline: one ``record_fill`` (one commit) per fill."""
    service = TradeLedgerService("bench", env=env)
    rebalance = plan()
    for fill, quote in inputs:
        service.record_fill(fill, "bench", rebalance_plan=rebalance, quote_at_fill=quote)
    service.close()
    return _checked(service, inputs)


def in_bursts(burst: int) -> Callable[[dict[str, str], Inputs], int]:
    def record(env: dict[str, str], inputs: Inputs) -> int:
        service = TradeLedgerService("bench", env=env)
        service.attach_plan(plan())
        for start in range(0, len(inputs), burst):
            outcomes = service.record_broker_fills(inputs[start : start + burst], "bench")
            if any(o.error is not None for o in outcomes):
                raise RuntimeError("a fill was refused")
        service.close()
        return _checked(service, inputs)

    return record


def _checked(service: TradeLedgerService, inputs: Inputs) -> int:
    recorded = sum(len(e.execution_ids) for e in service.get_ledger().entries)
    if recorded != len(inputs):
        raise RuntimeError(f"{len(inputs) - recorded} fill(s) lost")
    return recorded


def timed(label: str, run: Callable[[], int]) -> float:
    """Wall-clock rate, and this process's CPU per fill (the rest is waiting on the
    store: fsync, the server), so a busy disk's share shows apart from the code's."""
    start, cpu = time.perf_counter(), time.process_time()
    count = run()
    elapsed = time.perf_counter() - start
    used = time.process_time() - cpu
    rate = count / elapsed
    print(
        f"  {label:<22} {rate:>9,.0f} fills/s {elapsed / count * 1e6:>8.1f} us/fill "
        f"(CPU {used / count * 1e6:>6.1f} us/fill)"
    )
    return rate


@contextmanager
def sqlite_env() -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(Path(tmp) / "bench.sqlite"),
        }


@contextmanager
def postgres_env() -> Iterator[dict[str, str]]:
    import psycopg  # noqa: PLC0415  (only when PostgreSQL is measured)

    dsn = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": "test",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": schema,
        }
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def measure(name: str, env: dict[str, str], inputs: Inputs, per_run: int) -> dict[str, float]:
    def runs(record: Callable[[dict[str, str], Inputs], int]) -> Callable[[], int]:
        return lambda: sum(
            record(env, inputs[i : i + per_run]) for i in range(0, len(inputs), per_run)
        )

    print(f"{name}:")
    rates = {"per fill": timed("one commit per fill", runs(per_fill))}
    for burst in BURSTS:
        rates[f"burst {burst}"] = timed(f"bursts of {burst}", runs(in_bursts(burst)))
    base = rates["per fill"]
    for label, rate in rates.items():
        if label != "per fill":
            print(f"  {label:<22} {rate / base:>9.2f}x one commit per fill")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fills", type=int, default=5_000)
    parser.add_argument("--per-run", type=int, default=500)
    args = parser.parse_args()
    inputs = make_inputs(args.fills)
    print(f"{args.fills:,} fills in runs of {args.per_run:,}\n", flush=True)
    with sqlite_env() as env:
        sqlite = measure("SQLite file", env, inputs, args.per_run)
    try:
        with postgres_env() as env:
            measure("PostgreSQL", env, inputs, args.per_run)
    except Exception as error:  # no server: say so, the SQLite figures still stand
        print(f"PostgreSQL skipped: {type(error).__name__}: {error}")
    met = sqlite["burst 100"] >= GOAL
    print(f"\nSQLite goal {GOAL:,} fills/s in bursts of 100: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
