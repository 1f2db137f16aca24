"""A writer process for the live-view test: records runs on the PostgreSQL store (from
eventsourcing's settings in the environment) and archives each closed run locally.

    python -m tests.views.writer ARCHIVE_DIR RUNS FILLS_PER_RUN DELAY_SECONDS GATE_FILE

After half of its runs it waits (up to 5 minutes) for GATE_FILE to exist, so a test can
act on a follower while the writer is certainly midway, however slow the machine.
"""

from __future__ import annotations

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

from eventsourcing.persistence import InternalError

from adapters.archive import LocalDirectoryArchive
from ledger_domain import TradeLedgerService
from ledger_domain.application import LedgerApplication
from tests.builders import order, plan, quote

SYMBOLS = ("AAPL", "MSFT", "NVDA")
ATTRIBUTIONS = (
    {"AAPL": {"momentum": 0.6, "carry": 0.4}},
    {"AAPL": {"momentum": 0.333333, "carry": 0.666666}},  # sums to 0.999999: an adjustment
    None,  # unattributed
)


def open_store() -> LedgerApplication:
    """The store, made once (a second process creating it at the same moment can collide)."""
    for attempt in range(5):
        try:
            return LedgerApplication(dict(os.environ))
        except InternalError:
            time.sleep(0.1 * (attempt + 1))
    return LedgerApplication(dict(os.environ))


def record_run(app: LedgerApplication, number: int, fills: int, delay: float) -> TradeLedgerService:
    service = TradeLedgerService(f"live-{number}", application=app)
    for index in range(fills):
        order_index = index // 2  # two executions per order: partial fills
        action = "SELL" if order_index % 3 == 2 else "BUY"
        symbol = SYMBOLS[(number + order_index) % len(SYMBOLS)]
        attribution = ATTRIBUTIONS[(number + order_index) % len(ATTRIBUTIONS)]
        if attribution is not None:
            attribution = {symbol: attribution["AAPL"]}
        service.record_execution(
            order(
                symbol=symbol,
                action=action,
                shares=Decimal("1.25") + Decimal(index) / 7,  # many decimal places
                price=Decimal("100.0625") + Decimal(number * 10 + index) / 3,
                order_id=f"r{number}-o{order_index}",
            ),
            f"live-{number}",
            execution_id=f"r{number}-e{index}",
            rebalance_plan=None if attribution is None else plan(attribution),
            quote_at_fill=quote(),
        )
        time.sleep(delay)
    service.close()
    return service


def main(argv: list[str]) -> int:
    directory, runs, fills, delay = argv[0], int(argv[1]), int(argv[2]), float(argv[3])
    gate = Path(argv[4])
    archive = LocalDirectoryArchive(directory)
    app = open_store()
    for number in range(runs):
        if number == runs // 2:
            print("midway: waiting for the gate", flush=True)
            deadline = time.monotonic() + 300
            while not gate.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        service = record_run(app, number, fills, delay)
        outcome = archive.write(service.events())
        if not outcome.archived:
            print(f"run {number} not archived: {outcome.status} {outcome.error}", flush=True)
            return 1
        print(f"run {number} archived at {outcome.key}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
