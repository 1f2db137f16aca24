"""The ``Executor``: trade a rebalance plan, record every fill as it happens, archive the run.

The guide's shape::

    executor = Executor(broker)                       # SimulatedBroker, AlpacaBroker, ...
    result = await executor.execute_rebalance_plan(plan)
    ledger = executor.trade_ledger.get_ledger()

How a run goes:

1. A new run ledger (``TradeLedgerService``) is opened for the plan in the durable event
   store (``EventStoreSettings``: a SQLite file by default, PostgreSQL, or memory when
   chosen) and becomes ``executor.trade_ledger``.
   The plan is attached to it (``attach_plan``: plan id, correlation id, attribution).
2. SELL items are placed first (concurrently), and only once every sell has finished are
   the BUY items placed. HOLD items and zero amounts are skipped. Each order is a market
   order for ``abs(item.trade_amount)`` dollars (``notional``), with a client order id
   derived from the plan id, the symbol and the side. Each order is recorded in the
   ledger (``order_placed``) before the broker is asked; an order the ledger cannot
   record is not placed, since recovery could never find it.
3. Every fill the broker reports is recorded as it arrives, with the plan's strategy
   attribution and the quote taken at that moment (``get_quote`` right after the fill).
   Recording happens on a worker thread, fed by a queue: trading never waits for the ledger.
   Fills queued meanwhile are committed together in one transaction (group commit); a
   fill counts as recorded once that commit returns. A fill is a fact and is always
   recorded: a quote or an attribution that fails validation is set aside, and the fill's
   event and the result's ``anomalies`` say what and why.
4. When all orders are done the ledger is closed and its event stream written once to the
   archive (on a worker thread of its own). The run waits at most ``archive_timeout`` for
   the write: a write still going then is reported ``in_progress`` (not a failure); it
   completes in the background, and a copy of a document already being sent waits in the
   outbox, so it lands there even if the process ends first.

Failures are contained: a ledger error (an invalid fill, a store that refuses or hangs)
or an archive failure is logged and reported in the :class:`ExecutionResult`; it never
fails, cancels or stalls the trades. A broker error fails only the order it concerns.

Idempotence: a plan id is executed once per executor. Calling again with the same plan
id (even while the first call is running) returns the first call's result with
``replayed=True``: nothing is traded or recorded twice. Across processes the
deterministic client order ids make the broker refuse a duplicate order.

One ledger per plan: every new plan on the same executor gets its own run ledger, and
``trade_ledger`` then points at the latest plan's (``ledger_for(plan_id)`` finds any).
A ``trade_ledger`` passed to the constructor is used for the first plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.archive.port import RunArchive, WriteOutcome
from adapters.brokers.port import Broker, OrderHistory, OrderRequest, OrderTicket
from adapters.execution.orders import SIDES_IN_ORDER, order_requests, tradable_items
from adapters.execution.recorder import FillRecorder
from adapters.execution.result import ExecutionResult, OrderReport
from adapters.execution.signals import SignalStop
from adapters.store import EventStoreSettings, open_event_store
from ledger_domain import Fill, LedgerApplication, QuoteModel, TradeLedgerService

logger = logging.getLogger(__name__)

LedgerFactory = Callable[[str | None], TradeLedgerService]


@contextlib.asynccontextmanager
async def _closing(iterator: AsyncIterator[Fill]) -> AsyncIterator[AsyncIterator[Fill]]:
    try:
        yield iterator
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def as_broker(broker: Any) -> Broker:
    """A broker-port object as is; an alpaca-py ``TradingClient`` wrapped in ``AlpacaBroker``."""
    if isinstance(broker, Broker):
        return broker
    if type(broker).__name__ == "TradingClient":
        from adapters.brokers.alpaca.broker import AlpacaBroker  # noqa: PLC0415

        return AlpacaBroker(broker)
    raise TypeError(f"{type(broker).__name__} does not implement the broker port")


class Executor:
    """Executes rebalance plans against a broker and keeps each run's trade ledger."""

    def __init__(
        self,
        broker: Any,
        *,
        trade_ledger: TradeLedgerService | None = None,
        archive: RunArchive | None = None,
        ledger_factory: LedgerFactory | None = None,
        store: EventStoreSettings | None = None,
        max_quote_age: float | None = 60.0,
        quote_timeout: float = 2.0,
        submit_timeout: float = 30.0,
        order_timeout: float = 300.0,
        ledger_timeout: float = 30.0,
        archive_timeout: float = 60.0,
        handle_signals: bool = True,
    ) -> None:
        self.broker: Broker = as_broker(broker)
        self._ledger_factory = ledger_factory
        self._store_settings = store
        self._store: LedgerApplication | None = None
        self._store_lock = threading.Lock()  # plans open their runs on worker threads
        self.max_quote_age = max_quote_age
        self._given_ledger = trade_ledger
        self._current_ledger = trade_ledger
        self._archive = archive
        self._archive_resolved = archive is not None
        self.quote_timeout = quote_timeout
        self.submit_timeout = submit_timeout
        self.order_timeout = order_timeout
        self.ledger_timeout = ledger_timeout
        self.archive_timeout = archive_timeout
        self._runs: dict[str, asyncio.Task[ExecutionResult]] = {}
        self._ledgers: dict[str, TradeLedgerService] = {}
        self.stop_reason: str | None = None
        self._stopped = asyncio.Event()
        self._signals = SignalStop(self.stop) if handle_signals else None

    # -- the guide's API -----------------------------------------------------------------

    @property
    def trade_ledger(self) -> TradeLedgerService:
        """The latest plan's run ledger (an empty one before the first plan, kept in
        memory unless a ``ledger_factory`` makes it: no empty run lands in the store)."""
        if self._current_ledger is None:
            factory = self._ledger_factory or TradeLedgerService
            self._current_ledger = factory(None)
        return self._current_ledger

    async def execute_rebalance_plan(self, plan: Any) -> ExecutionResult:
        """Trade ``plan`` (sells before buys), record its fills, close and archive its ledger.

        The run goes on in its own task even if the caller is cancelled; SIGTERM and
        Ctrl-C stop it cleanly (see ``stop``).
        """
        plan_id = str(plan.plan_id)
        task = self._runs.get(plan_id)
        if task is not None:
            logger.warning("plan %s was already executed; returning its result", plan_id)
            return replace(await asyncio.shield(task), replayed=True)
        task = asyncio.create_task(self._open_and_run(plan), name=f"plan-{plan_id}")
        self._runs[plan_id] = task
        try:
            return await asyncio.shield(task)
        except Exception:
            if task.done() and task.exception() is not None:
                self._runs.pop(plan_id, None)  # nothing was traded: the plan may be tried again
            raise

    def stop(self, reason: str = "stopped") -> None:
        """Stop the runs in progress cleanly: no new order is placed, what is still open at
        the broker is canceled, every execution so far is recorded, and each run is closed
        (``ExecutionResult.stopped`` says why) and archived. Later plans are not traded.
        Call it on the event loop's thread (signal handlers do)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stopped.set()

    # -- beyond the guide ----------------------------------------------------------------

    def ledger_for(self, plan_id: str) -> TradeLedgerService | None:
        """The run ledger of an executed plan."""
        return self._ledgers.get(plan_id)

    def archive(self) -> RunArchive:
        """The archive runs are written to (``archive_from_settings()`` unless given)."""
        if not self._archive_resolved:
            from adapters.archive import archive_from_settings  # noqa: PLC0415

            self._archive = archive_from_settings()  # raises on invalid settings: reported
            self._archive_resolved = True
        assert self._archive is not None
        return self._archive

    # -- a run ---------------------------------------------------------------------------

    def event_store(self) -> LedgerApplication:
        """The store runs are journalled in (``EventStoreSettings()`` unless given); opened
        once, shared by every run of this executor. Raises ``EventStoreError``."""
        with self._store_lock:
            if self._store is None:
                self._store = open_event_store(self._store_settings)
            return self._store

    def _new_ledger(self, correlation_id: str) -> TradeLedgerService:
        if self._ledger_factory is not None:
            return self._ledger_factory(correlation_id)
        return TradeLedgerService(correlation_id, application=self.event_store())

    async def _open_and_run(self, plan: Any) -> ExecutionResult:
        """Open the run in the store (off the loop: it is I/O), then trade it. If the store
        cannot be opened nothing is traded and the error is raised to the caller."""
        if self._given_ledger is not None:
            ledger, self._given_ledger = self._given_ledger, None
        else:
            ledger = await asyncio.to_thread(self._new_ledger, str(plan.correlation_id))
        self._current_ledger = ledger
        self._ledgers[str(plan.plan_id)] = ledger
        return await self._signalled_run(plan, ledger)

    async def _signalled_run(self, plan: Any, ledger: TradeLedgerService) -> ExecutionResult:
        if self._signals is None:
            return await self._run(plan, ledger)
        self._signals.acquire()
        try:
            return await self._run(plan, ledger)
        finally:
            self._signals.release()

    async def _run(self, plan: Any, ledger: TradeLedgerService) -> ExecutionResult:
        result = ExecutionResult(
            plan_id=str(plan.plan_id),
            correlation_id=str(plan.correlation_id),
            ledger_id=ledger.ledger_id,
            started_at=datetime.now(UTC),
        )
        await self._attach_plan(ledger, plan, result)
        recorder = FillRecorder(ledger, plan, result, self.max_quote_age)
        items = tradable_items(plan)
        for side in SIDES_IN_ORDER:
            requests = order_requests(plan, items, side)
            reports = await asyncio.gather(
                *(self._execute_order(request, recorder, result, ledger) for request in requests)
            )
            result.orders.extend(reports)
        result.stopped = self.stop_reason
        if await recorder.finish(self.ledger_timeout):
            result.ledger_closed = await self._close(ledger, result)
        if result.ledger_closed:
            await self._archive_run(ledger, result)
        else:
            result.archive_error = "ledger not closed; the run was not archived"
        result.finished_at = datetime.now(UTC)
        self._log(result)
        return result

    async def _attach_plan(
        self, ledger: TradeLedgerService, plan: Any, result: ExecutionResult
    ) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(ledger.attach_plan, plan), self.ledger_timeout)
        except Exception as error:
            message = f"plan not recorded: {error!r}"
            logger.error("ledger %s: %s", ledger.ledger_id, message)
            result.ledger_errors.append(message)

    async def _remember_order(
        self, ledger: TradeLedgerService, request: OrderRequest, result: ExecutionResult
    ) -> str | None:
        """Record the order before placing it; why not, if the ledger could not."""
        try:
            await asyncio.wait_for(
                asyncio.to_thread(
                    ledger.order_placed,
                    request.client_order_id or "",
                    request.symbol,
                    request.side,
                    quantity=request.quantity,
                    notional=request.notional,
                    order_type=request.order_type,
                ),
                self.ledger_timeout,
            )
        except Exception as error:
            message = f"order {request.client_order_id} not recorded: {error!r}"
            logger.error("ledger %s: %s", ledger.ledger_id, message)
            result.ledger_errors.append(message)
            return f"not placed: the ledger could not record it ({error!r})"
        return None

    async def _execute_order(
        self,
        request: OrderRequest,
        recorder: FillRecorder,
        result: ExecutionResult,
        ledger: TradeLedgerService,
    ) -> OrderReport:
        symbol, side = request.symbol, request.side
        amount = request.notional or Decimal(0)
        report = OrderReport(symbol, side, request.client_order_id or "", amount)
        if self.stop_reason is not None:
            report.status, report.reason = "not_placed", self.stop_reason
            return report
        refusal = await self._remember_order(ledger, request, result)
        if refusal is not None:
            report.status, report.reason = "error", refusal
            return report
        if self.stop_reason is not None:  # stopped while the order was being recorded
            report.status, report.reason = "not_placed", self.stop_reason
            return report
        try:
            ticket = await asyncio.wait_for(self.broker.submit_order(request), self.submit_timeout)
        except Exception as error:
            report.status, report.reason = "error", f"not placed: {error!r}"
            logger.error("%s %s: %s", side, symbol, report.reason)
            return report
        report.order_id, report.status = ticket.order_id, ticket.status
        if ticket.rejected or ticket.order_id is None:
            report.status, report.reason = "rejected", ticket.reason
            logger.warning("%s %s rejected: %s", side, symbol, ticket.reason)
            return report
        seen: set[str] = set()
        try:
            async with asyncio.timeout(self.order_timeout):
                watched = await self._unless_stopped(
                    self._watch(ticket, recorder, report, result, seen)
                )
            if not watched:
                await self._settle_stopped(ticket, recorder, report, seen)
                return report
        except TimeoutError:
            report.status = "timed_out"
            report.reason = (
                f"still open after {self.order_timeout}s; later fills are not in this ledger"
            )
            logger.error("%s %s order %s: %s", side, symbol, ticket.order_id, report.reason)
            return report
        except Exception as error:
            report.status, report.reason = "error", f"while watching fills: {error!r}"
            logger.error("%s %s order %s: %s", side, symbol, ticket.order_id, report.reason)
            return report
        try:
            state = await asyncio.wait_for(
                self.broker.get_order(ticket.order_id), self.submit_timeout
            )
            report.status, report.reason = state.status, state.reason
        except Exception as error:
            report.reason = f"final state unknown: {error!r}"
        return report

    async def _watch(
        self,
        ticket: OrderTicket,
        recorder: FillRecorder,
        report: OrderReport,
        result: ExecutionResult,
        seen: set[str],
    ) -> None:
        async with _closing(self.broker.executions(ticket)) as fills:
            async for fill in fills:
                quote = await self._quote_at_fill(fill.symbol, result)
                recorder.submit(fill, quote)
                report.add(fill)
                seen.add(fill.execution_id)

    async def _unless_stopped(self, watching: Any) -> bool:
        """Run ``watching`` to its end (``True``) unless the executor is stopped first."""
        task = asyncio.ensure_future(watching)
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if task.done():
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def _settle_stopped(
        self, ticket: OrderTicket, recorder: FillRecorder, report: OrderReport, seen: set[str]
    ) -> None:
        """A stopped run's open order: cancel the rest at the broker, then record every
        execution the broker has for it that the watch had not reported yet."""
        report.status, report.reason = "stopped", self.stop_reason
        broker = self.broker
        if not isinstance(broker, OrderHistory) or ticket.order_id is None:
            report.reason = f"{self.stop_reason}; the order may still fill (broker cannot cancel)"
            return
        client_order_id = ticket.request.client_order_id or ""
        try:
            await asyncio.wait_for(broker.cancel_order(ticket.order_id), self.submit_timeout)
            found = await asyncio.wait_for(
                broker.order_executions(client_order_id), self.submit_timeout
            )
        except Exception as error:
            report.reason = f"{self.stop_reason}; not settled with the broker: {error!r}"
            logger.error("order %s: %s", ticket.order_id, report.reason)
            return
        if found is None:
            return
        for fill in found.fills:
            if fill.execution_id not in seen:
                seen.add(fill.execution_id)
                recorder.submit(fill, None)
                report.add(fill)
        report.status = found.status
        report.reason = f"{self.stop_reason}; the rest was canceled"

    async def _quote_at_fill(self, symbol: str, result: ExecutionResult) -> QuoteModel | None:
        try:
            quote = await asyncio.wait_for(self.broker.get_quote(symbol), self.quote_timeout)
        except Exception as error:
            result.warnings.append(f"no quote for {symbol} at fill: {error!r}")
            return None
        if quote is None:
            result.warnings.append(f"no quote for {symbol} at fill")
        return quote

    async def _close(self, ledger: TradeLedgerService, result: ExecutionResult) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(ledger.close), self.ledger_timeout)
        except Exception as error:
            message = f"ledger not closed: {error!r}"
            logger.error("ledger %s: %s", ledger.ledger_id, message)
            result.ledger_errors.append(message)
            return False
        return True

    async def _archive_run(self, ledger: TradeLedgerService, result: ExecutionResult) -> None:
        try:
            archive = self.archive()
            events = await asyncio.to_thread(ledger.events)
            written = _in_background(archive.write, events, f"archive-{ledger.ledger_id}")
            try:
                outcome = await asyncio.wait_for(
                    asyncio.shield(asyncio.wrap_future(written)), self.archive_timeout
                )
            except TimeoutError:
                outcome = await asyncio.to_thread(_settled, archive, events, self.archive_timeout)
        except Exception as error:
            result.archive_error = f"archive write failed: {error!r}"
            logger.error("ledger %s: %s", ledger.ledger_id, result.archive_error)
            return
        result.archive = outcome
        if outcome.status == "in_progress":
            result.warnings.append(f"archive {outcome.key or '(key unknown)'}: {outcome.error}")
            logger.warning("ledger %s archive in progress: %s", ledger.ledger_id, outcome.error)
        elif outcome.error:
            result.archive_error = outcome.error
            logger.error(
                "ledger %s archive %s: %s", ledger.ledger_id, outcome.status, outcome.error
            )

    @staticmethod
    def _log(result: ExecutionResult) -> None:
        logger.info(
            "plan %s: %d order(s), %d filled, %d execution(s); ledger %s %s; archive %s",
            result.plan_id,
            len(result.orders),
            result.orders_filled,
            result.executions,
            result.ledger_id,
            "closed" if result.ledger_closed else "NOT closed",
            result.archive.status if result.archive else result.archive_error,
        )


def _in_background(function: Callable[[Any], WriteOutcome], arg: Any, name: str) -> Future[Any]:
    """Run ``function(arg)`` on a daemon thread of its own: unlike ``asyncio.to_thread``,
    a write that outlives the wait does not hold up the event loop's shutdown (and so
    the end of ``asyncio.run``), and does not keep the process alive."""
    future: Future[Any] = Future()

    def run() -> None:
        try:
            future.set_result(function(arg))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def _settled(archive: RunArchive, events: Any, waited: float) -> WriteOutcome:
    """What the archive says of a write the run stopped waiting for (``in_progress``)."""
    message = f"still being written after {waited:g}s; it completes in the background"
    key_for = getattr(archive, "key_for", None)
    settle = getattr(archive, "settle", None)
    try:
        key = str(key_for(events)) if key_for is not None else ""
        if settle is not None and key:
            outcome = settle(key, waited)
            if isinstance(outcome, WriteOutcome):
                return outcome
    except Exception as error:
        message = f"{message} (its state is unknown: {error!r})"
        key = ""
    return WriteOutcome("in_progress", key, "", error=message)
