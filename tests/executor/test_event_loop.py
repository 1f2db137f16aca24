"""Recording and archiving run off the event loop: other tasks keep running meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from typing import Any

from adapters.archive.port import WriteOutcome
from adapters.executor import Executor
from adapters.simulated_broker import SimulatedBroker
from ledger_domain import TradeLedgerService
from tests.executor.conftest import ATTRIBUTION, item, make_plan

ARCHIVE_SECONDS = 0.4
RECORD_SECONDS = 0.05
TICK = 0.005


class SlowArchive:
    """Blocks its thread like a slow S3 PUT would."""

    def __init__(self) -> None:
        self.window: tuple[float, float] | None = None

    def write(self, events: Sequence[Any]) -> WriteOutcome:
        started = time.monotonic()
        time.sleep(ARCHIVE_SECONDS)
        self.window = (started, time.monotonic())
        return WriteOutcome("written", "slow", "memory://slow")


class SlowLedger(TradeLedgerService):
    """A durable store that takes a while per fill."""

    windows: list[tuple[float, float]]

    def record_execution(self, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        time.sleep(RECORD_SECONDS)
        try:
            return super().record_execution(*args, **kwargs)
        finally:
            self.windows.append((started, time.monotonic()))


def test_recording_and_archiving_do_not_block_the_event_loop() -> None:
    archive = SlowArchive()
    ledgers: list[SlowLedger] = []

    def factory(correlation_id: str | None) -> TradeLedgerService:
        ledger = SlowLedger(correlation_id)
        ledger.windows = []
        ledgers.append(ledger)
        return ledger

    executor = Executor(
        SimulatedBroker(partial_fills={"AAPL": 4, "MSFT": 2}),
        archive=archive,
        ledger_factory=factory,
    )
    plan = make_plan(
        [item("AAPL", "BUY", "5000"), item("MSFT", "SELL", "-2000")], attribution=ATTRIBUTION
    )
    ticks: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(TICK)

    async def main() -> Any:
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))
        result = await executor.execute_rebalance_plan(plan)
        stop.set()
        await ticking
        return result

    result = asyncio.run(main())
    assert result.archived
    assert result.ledger_ok
    assert executor.trade_ledger.get_ledger().total_entries == 2
    (ledger,) = ledgers
    busy = [*ledger.windows, archive.window]
    assert len(ledger.windows) == 6
    for start, end in busy:
        during = [t for t in ticks if start <= t <= end]
        # A blocked loop would not tick at all inside a blocking window.
        assert len(during) >= (end - start) / TICK / 4, (start, end, len(during))
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < ARCHIVE_SECONDS / 2
