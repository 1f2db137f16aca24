"""Recording and archiving run off the event loop: other tasks keep running meanwhile.

No clocks: every blocking call (a ledger write, the archive write) waits in its thread
until a task on the event loop has run while it was blocked. Had the call been made on the
loop, that task could not run and the call would report that it waited in vain.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from adapters import Executor, SimulatedBroker, WriteOutcome
from ledger_domain import TradeLedgerService
from tests.executor.conftest import ATTRIBUTION, item, make_plan

SAFETY_NET = 10.0
"""Seconds a blocked call waits for the loop before giving up (only reached on failure)."""


class Handshake:
    """A blocking call proves the event loop kept running while it blocked."""

    def __init__(self) -> None:
        self.blocked = threading.Event()
        self.loop_ran = threading.Event()
        self.outcomes: list[bool] = []

    def block(self) -> None:
        self.loop_ran.clear()
        self.blocked.set()
        self.outcomes.append(self.loop_ran.wait(SAFETY_NET))
        self.blocked.clear()

    async def watch(self, stop: asyncio.Event) -> None:
        """The other task: runs on the loop and answers every blocked call."""
        while not stop.is_set():
            if self.blocked.is_set():
                self.loop_ran.set()
            await asyncio.sleep(0.001)


def test_recording_and_archiving_do_not_block_the_event_loop() -> None:
    ledger_calls = Handshake()  # the plan and the orders, placed one at a time
    fill_calls = Handshake()  # the recorder thread's bursts, which may overlap an order
    archive_calls = Handshake()

    burst_sizes: list[int] = []

    class BlockingLedger(TradeLedgerService):
        def record_broker_fills(self, fills: Any, *args: Any, **kwargs: Any) -> Any:
            fill_calls.block()
            burst_sizes.append(len(fills))
            return super().record_broker_fills(fills, *args, **kwargs)

        def attach_plan(self, *args: Any, **kwargs: Any) -> Any:
            ledger_calls.block()
            return super().attach_plan(*args, **kwargs)

        def order_placed(self, *args: Any, **kwargs: Any) -> Any:
            ledger_calls.block()  # one sell, then one buy: never two at once
            return super().order_placed(*args, **kwargs)

    class BlockingArchive:
        def write(self, events: Sequence[Any]) -> WriteOutcome:
            archive_calls.block()
            return WriteOutcome("written", "blocking", "memory://blocking")

    executor = Executor(
        SimulatedBroker(partial_fills={"AAPL": 4, "MSFT": 2}),
        archive=BlockingArchive(),
        ledger_factory=BlockingLedger,
        ledger_timeout=SAFETY_NET * 3,
        archive_timeout=SAFETY_NET * 3,
    )
    plan = make_plan(
        [item("AAPL", "BUY", "5000"), item("MSFT", "SELL", "-2000")], attribution=ATTRIBUTION
    )

    async def main() -> Any:
        stop = asyncio.Event()
        watchers = [
            asyncio.create_task(ledger_calls.watch(stop)),
            asyncio.create_task(fill_calls.watch(stop)),
            asyncio.create_task(archive_calls.watch(stop)),
        ]
        result = await executor.execute_rebalance_plan(plan)
        stop.set()
        await asyncio.gather(*watchers)
        return result

    result = asyncio.run(main())
    assert result.archived
    assert result.ledger_ok
    assert executor.trade_ledger.get_ledger().total_entries == 2
    assert sum(burst_sizes) == 6  # every fill recorded, in bursts
    # the plan, two orders and every burst of fills were recorded off the loop
    assert ledger_calls.outcomes == [True] * 3
    assert fill_calls.outcomes == [True] * len(burst_sizes)
    assert archive_calls.outcomes == [True]  # and the archive written off it
