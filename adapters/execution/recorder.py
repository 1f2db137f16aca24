"""Recording fills off the event loop: a queue in arrival order, drained on a worker thread.

Trading never waits for the ledger: ``submit`` only enqueues. A fill the ledger refuses is
logged and added to the run's errors; it never reaches the trading code.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from adapters.brokers.port import Execution
from ledger_domain import QuoteModel, TradeLedgerService

logger = logging.getLogger(__name__)


class FillRecorder:
    """Records executions on a worker thread, in arrival order, never blocking the caller."""

    def __init__(
        self, ledger: TradeLedgerService, plan: Any, correlation_id: str, errors: list[str]
    ) -> None:
        self._ledger = ledger
        self._plan = plan
        self._correlation_id = correlation_id
        self._errors = errors
        self._queue: asyncio.Queue[tuple[Execution, QuoteModel | None] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=f"ledger-{ledger.ledger_id}")
        self.pending = 0
        self.recorded = 0

    def submit(self, execution: Execution, quote: QuoteModel | None) -> None:
        self.pending += 1
        self._queue.put_nowait((execution, quote))

    def _record(self, execution: Execution, quote: QuoteModel | None) -> None:
        if execution.execution_id is None:  # the broker only knows the whole order
            self._ledger.record_filled_order(execution, self._correlation_id, self._plan, quote)
        else:
            self._ledger.record_execution(
                execution,
                self._correlation_id,
                rebalance_plan=self._plan,
                quote_at_fill=quote,
                execution_id=execution.execution_id,
            )

    async def _run(self) -> None:
        """Record in arrival order; a burst of fills goes to the thread in one hop."""
        done = False
        while not done:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if None in batch:
                done = True
                batch = batch[: batch.index(None)]
            fills = [item for item in batch if item is not None]
            try:
                await asyncio.to_thread(self._record_batch, fills)
            finally:
                self.pending -= len(fills)

    def _record_batch(self, fills: list[tuple[Execution, QuoteModel | None]]) -> None:
        for execution, quote in fills:
            try:
                self._record(execution, quote)
                self.recorded += 1
            except Exception as error:
                message = (
                    f"fill {execution.execution_id or execution.order_id} "
                    f"({execution.side} {execution.qty} {execution.symbol} @ {execution.price}) "
                    f"not recorded: {error}"
                )
                logger.error("ledger %s: %s", self._ledger.ledger_id, message)
                self._errors.append(message)

    async def finish(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) for every submitted fill to be recorded."""
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            message = f"ledger still recording after {timeout}s; {self.pending} fill(s) pending"
            logger.error("ledger %s: %s", self._ledger.ledger_id, message)
            self._errors.append(message)
            return False
        return True
