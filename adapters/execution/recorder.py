"""Recording fills off the event loop: a queue in arrival order, drained on a worker thread.

Trading never waits for the ledger: ``submit`` only enqueues. Whatever queued while the
previous burst was being written goes to the store as one burst, in one transaction
(group commit), so a durable store keeps up with a fast broker; a fill counts as
recorded only once its burst is durable. A fill whose quote or attribution fails
validation is still recorded (that part is set aside, see ``RecordedFill``) and the run's
result lists it as an anomaly; a fill the ledger refuses is logged and added to the
run's errors; neither reaches the trading code.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from adapters.execution.result import ExecutionResult
from ledger_domain import (
    Anomaly,
    Fill,
    FrozenDict,
    PlanAttribution,
    QuoteModel,
    RecordedFill,
    TradeLedgerService,
)
from ledger_domain.plan_input import plan_attribution

logger = logging.getLogger(__name__)

MAX_BURST = 1000
"""Most fills committed in one transaction (a bound on a transaction's size)."""


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
        self,
        ledger: TradeLedgerService,
        plan: Any,
        result: ExecutionResult,
        max_quote_age: float | None = None,
    ) -> None:
        self._ledger = ledger
        self._plan = plan
        self._result = result
        self._max_quote_age = None if max_quote_age is None else timedelta(seconds=max_quote_age)
        self._attribution: PlanAttribution | None = None
        self._queue: asyncio.Queue[tuple[Fill, QuoteModel | None] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=f"ledger-{ledger.ledger_id}")
        self.pending = 0
        self.recorded = 0

    def submit(self, fill: Fill, quote: QuoteModel | None) -> None:
        self.pending += 1
        self._queue.put_nowait((fill, quote))

    async def _run(self) -> None:
        """Record in arrival order; whatever queued meanwhile goes to the thread as one burst."""
        done = False
        while not done:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BURST:
                batch.append(self._queue.get_nowait())
            if None in batch:
                done = True
                batch = batch[: batch.index(None)]
            fills = [item for item in batch if item is not None]
            if not fills:
                continue
            try:
                await asyncio.to_thread(self._record_burst, fills)
            finally:
                self.pending -= len(fills)

    def _record_burst(self, fills: list[tuple[Fill, QuoteModel | None]]) -> None:
        try:
            outcomes = self._ledger.record_broker_fills(
                fills,
                self._result.correlation_id,
                plan=self._plan_attribution(),
                max_quote_age=self._max_quote_age,
            )
        except Exception as error:  # a ledger whose recording itself fails: every fill lost
            outcomes = [RecordedFill(fill, None, FrozenDict(), error) for fill, _ in fills]
        for outcome in outcomes:
            self._take(outcome)
        if logger.isEnabledFor(logging.DEBUG):
            durable = [o.fill.execution_id for o in outcomes if o.error is None]
            logger.debug("ledger %s durable: %s", self._ledger.ledger_id, " ".join(durable))

    def _take(self, outcome: RecordedFill) -> None:
        fill = outcome.fill
        if outcome.error is not None:
            message = f"fill {described(fill)} not recorded: {outcome.error}"
            logger.error("ledger %s: %s", self._ledger.ledger_id, message)
            self._result.ledger_errors.append(message)
            return
        self.recorded += 1
        self._result.executions_recorded += 1
        for field, reason in outcome.set_aside.items():
            anomaly = Anomaly(fill.execution_id, fill.order_id, fill.symbol, field, reason)
            logger.warning("ledger %s: %s", self._ledger.ledger_id, anomaly)
            self._result.anomalies.append(anomaly)

    def _plan_attribution(self) -> PlanAttribution | None:
        """The attached plan's; read from the plan itself if attaching it failed."""
        if self._attribution is None:
            self._attribution = self._ledger.plan_attribution()
        if self._attribution is None:
            try:
                self._attribution = plan_attribution(self._plan)
            except Exception:
                return None  # the plan's ids are unusable: fills go without attribution
        return self._attribution

    async def finish(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) for every submitted fill to be recorded."""
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            message = f"ledger still recording after {timeout}s; {self.pending} fill(s) pending"
            logger.error("ledger %s: %s", self._ledger.ledger_id, message)
            self._result.ledger_errors.append(message)
            return False
        return True
