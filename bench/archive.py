"""Archive benchmark: write, list, read and verify runs in a local directory and on moto S3.

    .venv/bin/python bench/archive.py [--runs 1000] [--fills 50] [--workers 8] [--no-s3]

Writes ``--runs`` closed runs of ``--fills`` fills each to a fresh local archive and to a
moto S3 server this script starts on a free loopback port, then lists, reads (typed) and
verifies them all, sequentially and with a thread pool. It prints runs/s and events/s per
step, and the cost of verifying a document against plain ``json.loads`` of the same bytes,
both measured in this run (goal: verify within 3x of ``json.loads``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.archive import Archive, LocalDirectoryArchive, S3Archive, verify_document
from adapters.archive.settings import S3ClientSettings
from adapters.signing import LocalSigner, TrustedKeys, trusted_entry
from ledger_domain import OrderResult, QuoteModel, RebalancePlan, TradeLedgerService

DAY = datetime(2024, 1, 15, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOG", "META", "SPY")


def make_runs(count: int, fills: int) -> list[list[Any]]:
    """``count`` closed runs of ``fills`` executions, spread over one day."""
    plan = RebalancePlan(
        correlation_id="bench",
        causation_id="bench",
        timestamp=DAY,
        plan_id="bench-plan",
        items=[],
        total_portfolio_value=Decimal("100000"),
        total_trade_value=Decimal("50000"),
        metadata={"strategy_attribution": {"AAPL": {"momentum": 0.6, "mean_reversion": 0.4}}},
    )
    runs = []
    for run in range(count):
        correlation = f"bench-{run:05d}"
        created = DAY + timedelta(seconds=run * 80_000 // max(count, 1))
        service = TradeLedgerService(correlation, created_at=created)
        for fill in range(fills):
            order = OrderResult(
                symbol=SYMBOLS[fill % len(SYMBOLS)],
                action="BUY" if fill % 3 else "SELL",
                shares=Decimal(fill % 7 + 1) + Decimal("0.125"),
                price=Decimal("100.25") + Decimal(fill) / 100,
                order_id=f"{correlation}-order-{fill}",
                filled_at=created + timedelta(seconds=fill),
            )
            quote = QuoteModel(bid_price=order.price - Decimal("0.05"), ask_price=order.price)
            service.record_filled_order(order, correlation, plan, quote)
        service.close(created + timedelta(minutes=10))
        runs.append(service.events())
    return runs


def timed(
    label: str, work: Callable[[], Any], runs: int, events: int
) -> tuple[Any, dict[str, Any]]:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    row = {
        "step": label,
        "runs": runs,
        "seconds": round(seconds, 3),
        "runs_per_s": round(runs / seconds, 1) if seconds else None,
        "events_per_s": round(events / seconds) if seconds else None,
    }
    print(
        f"  {label:34s} {runs:6d} runs {seconds:8.3f} s {row['runs_per_s']:>10} runs/s "
        f"{row['events_per_s']:>10} events/s",
        flush=True,
    )
    return result, row


def pooled(function: Callable[[Any], Any], items: Iterable[Any], workers: int) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def exercise(
    name: str, archive: Archive, runs: list[list[Any]], workers: int
) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
    """Write, list, read and verify every run; rows of figures and the stored bytes."""
    count, events = len(runs), sum(len(r) for r in runs)
    print(f"{name}: {archive.location}")
    rows = []
    outcomes, row = timed(
        "write (sequential)", lambda: [archive.write(r) for r in runs], count, events
    )
    rows.append(row)
    statuses = {o.status for o in outcomes}
    assert statuses == {"written"}, statuses
    refs, row = timed(
        "list (paginated)", lambda: list(archive.list_runs(DAY.date())), count, events
    )
    rows.append(row)
    assert len(refs) == count, len(refs)
    keys = [ref.key for ref in refs]
    reads, row = timed(
        "read typed (sequential)", lambda: [archive.read(k) for k in keys], count, events
    )
    rows.append(row)
    _, row = timed(
        f"read typed ({workers} threads)",
        lambda: pooled(archive.read, keys, workers),
        count,
        events,
    )
    rows.append(row)
    verdicts, row = timed(
        "verify (sequential)", lambda: [archive.verify(k) for k in keys], count, events
    )
    rows.append(row)
    assert all(v.ok for v in verdicts), [v for v in verdicts if not v.ok][:1]
    _, row = timed(
        f"verify ({workers} threads)",
        lambda: list(archive.verify_keys(keys, workers=workers)),
        count,
        events,
    )
    rows.append(row)
    assert sum(len(r.events) for r in reads) == events
    bodies = list(zip(keys, pooled(archive.read_bytes, keys, workers), strict=True))
    for row in rows:
        row["backend"] = name
    return rows, bodies


def verify_vs_json(
    documents: list[tuple[str, bytes]], trusted: TrustedKeys, rounds: int = 7
) -> dict[str, float]:
    """Verify (signature included) and plain ``json.loads`` of the same signed bytes,
    interleaved rounds; median ratio."""
    bodies = [body for _, body in documents]
    ratios, loads_times, verify_times = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for body in bodies:
            json.loads(body)
        loads = time.perf_counter() - start
        start = time.perf_counter()
        for key, body in documents:
            verdict = verify_document(key, body, trusted=trusted)
        verify = time.perf_counter() - start
        assert verdict.status == "valid", verdict
        loads_times.append(loads)
        verify_times.append(verify)
        ratios.append(verify / loads)
    size = sum(len(b) for b in bodies)
    return {
        "documents": len(bodies),
        "mean_bytes": round(size / len(bodies)),
        "json_loads_s": round(statistics.median(loads_times), 4),
        "verify_s": round(statistics.median(verify_times), 4),
        "json_loads_mb_per_s": round(size / statistics.median(loads_times) / 1e6, 1),
        "verify_docs_per_s": round(len(bodies) / statistics.median(verify_times), 1),
        "verify_over_json_loads": round(statistics.median(ratios), 2),
        "best_round_ratio": round(min(ratios), 2),
    }


A = TypeVar("A", bound=Archive)
SIGNER = LocalSigner(Ed25519PrivateKey.generate())
TRUSTED = TrustedKeys([trusted_entry(SIGNER)])


def signed(archive: A) -> A:
    """The archive signing every document (and its run log) with a fresh, trusted key."""
    archive.signer = SIGNER
    archive.trusted_keys = TRUSTED
    return archive


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--fills", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-s3", action="store_true", help="skip the moto S3 part")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    print(f"recording {args.runs} runs of {args.fills} fills ...", flush=True)
    start = time.perf_counter()
    runs = make_runs(args.runs, args.fills)
    print(f"  recorded in {time.perf_counter() - start:.1f} s\n")

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as folder:
        local = signed(LocalDirectoryArchive(Path(folder) / "archive"))
        local_rows, bodies = exercise("local", local, runs, args.workers)
        rows += local_rows
    print()
    if not args.no_s3:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            os.environ.setdefault(name, value)
        process, endpoint = start_moto()
        try:
            bucket = f"bench-{uuid.uuid4().hex[:10]}"
            s3 = signed(
                S3Archive(
                    bucket,
                    endpoint_url=endpoint,
                    client_settings=S3ClientSettings(max_pool_connections=max(args.workers, 10)),
                )
            )
            s3.client.create_bucket(Bucket=bucket)
            s3_rows, _ = exercise("moto-s3", s3, runs, args.workers)
            rows += s3_rows
        finally:
            process.terminate()
            process.wait(timeout=10)
        print()

    ratio = verify_vs_json(bodies, TRUSTED)
    print("verify vs plain json.loads of the same bytes (CPU only, median of interleaved rounds):")
    for name, value in ratio.items():
        print(f"  {name:24s} {value}")
    goal = "met" if ratio["verify_over_json_loads"] <= 3 else "NOT met"
    print(f"  goal verify <= 3x json.loads: {goal}")
    if args.json:
        args.json.write_text(json.dumps({"steps": rows, "verify_vs_json": ratio}, indent=2))


if __name__ == "__main__":
    main()
