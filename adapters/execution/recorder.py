"""Recording fills off the event loop: a queue in arrival order, drained on a worker thread.

Trading never waits for the ledger: ``submit`` only enqueues. A fill the ledger refuses is
logged and added to the run's errors; it never reaches the trading code.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ledger_domain import Fill, QuoteModel, TradeLedgerService

logger = logging.getLogger(__name__)


def described(fill: Fill) -> str:
    """``x-1 (BUY 10 AAPL @ 150.25)``; read with ``getattr``, since a broker behind the port
    may hand over anything, and describing a refused fill must not fail too."""
    order_id, execution_id, side, quantity, symbol, price = (
        getattr(fill, name, "?")
        for name in ("order_id", "execution_id", "side", "quantity", "symbol", "price")
    )
    return f"{execution_id or order_id} ({side} {quantity} {symbol} @ {price})"


class FillRecorder:
    """Records fills on a worker thread, in arrival order, never blocking the caller."""

    def __init__(
        self, ledger: TradeLedgerService, plan: Any, correlation_id: str, errors: list[str]
    ) -> None:
        self._ledger = ledger
        self._plan = plan
        self._correlation_id = correlation_id
        self._errors = errors
        self._queue: asyncio.Queue[tuple[Fill, QuoteModel | None] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=f"ledger-{ledger.ledger_id}")
        self.pending = 0
        self.recorded = 0

    def submit(self, fill: Fill, quote: QuoteModel | None) -> None:
        self.pending += 1
        self._queue.put_nowait((fill, quote))

    def _record(self, fill: Fill, quote: QuoteModel | None) -> None:
        self._ledger.record_fill(
            fill, self._correlation_id, rebalance_plan=self._plan, quote_at_fill=quote
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

    def _record_batch(self, fills: list[tuple[Fill, QuoteModel | None]]) -> None:
        for fill, quote in fills:
            try:
                self._record(fill, quote)
                self.recorded += 1
            except Exception as error:
                message = f"fill {described(fill)} not recorded: {error}"
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
