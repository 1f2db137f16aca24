"""Recovery: finish every run a process left behind, from the durable store and the broker.

A run is *unfinished* when the store holds its ``Opened`` but no ``Closed`` (its process
died mid-run), or its ``Closed`` but the archive has no document for it (it died while, or
before, archiving). Runs are found through eventsourcing's own notification log
(its recorder's ``select_notifications``, filtered on the two event topics, in
pages), not a table scan.

For an open run: every order the run recorded as placed (``OrderPlaced``) is looked up at
the broker by its client order id (``OrderHistory.order_executions``); an order still open
there is canceled first (nobody is watching it any more), then every execution the ledger
lacks is recorded, attributed with the run's plan (``PlanAttached``) and marked as
recovered: its event's ``set_aside`` says the quote is missing because the fill was found
in the broker's order history after the run's process ended (``RECOVERED_NOTE``). The run
is closed and archived. A closed run is archived. Running recovery again finds nothing to do.

**Archived** means: the archive lists the run's key (``list_runs`` of the day it opened
holds its ledger id). A document still in the outbox is not archived yet; recovery writes
it again (write-once: an identical document is ``already_archived``, never a second one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from adapters.archive.port import WriteOutcome
from adapters.brokers.port import OrderHistory
from ledger_domain import Ledger, LedgerApplication, TradeLedgerService
from ledger_domain.broker_fill import QUOTE_FIELD

logger = logging.getLogger(__name__)

OPENED_TOPIC = get_topic(Ledger.Opened)
CLOSED_TOPIC = get_topic(Ledger.Closed)
PAGE = 500
RECOVERED_NOTE = {
    QUOTE_FIELD: "recovered from the broker's order history after the run's process ended; "
    "no quote of that moment"
}
"""What a fill recorded by recovery says in its event's ``set_aside``: how it was found."""


class RecoveryError(Exception):
    """A run's executions could not be completed from the broker."""


@dataclass
class RunRecovery:
    """What recovery found in one run and did with it."""

    ledger_id: str
    found: str
    """``open`` (never closed) or ``closed`` (closed, not archived)."""
    plan_id: str | None = None
    correlation_id: str | None = None
    orders_asked: int = 0
    broker_executions: int = 0
    recorded: int = 0
    canceled: list[str] = field(default_factory=list)
    closed: bool = False
    archive: WriteOutcome | None = None
    error: str | None = None

    @property
    def recovered(self) -> bool:
        """Closed and in the archive (or archiving is switched off)."""
        archive = self.archive
        return (
            self.error is None
            and self.closed
            and archive is not None
            and (archive.archived or archive.status == "disabled")
        )

    def as_dict(self) -> dict[str, Any]:
        archive = self.archive
        return {
            "ledger_id": self.ledger_id,
            "found": self.found,
            "plan_id": self.plan_id,
            "correlation_id": self.correlation_id,
            "orders_asked": self.orders_asked,
            "broker_executions": self.broker_executions,
            "recorded_from_broker": self.recorded,
            "canceled_orders": self.canceled,
            "closed": self.closed,
            "archive": None
            if archive is None
            else {
                "status": archive.status,
                "key": archive.key,
                "location": archive.location,
                "error": archive.error,
            },
            "recovered": self.recovered,
            "error": self.error,
        }

    def describe(self) -> str:
        what = (
            f"run {self.ledger_id} ({self.found}; plan {self.plan_id or '?'}): "
            f"{self.orders_asked} order(s) asked, {self.broker_executions} execution(s) at "
            f"the broker, {self.recorded} recorded from the broker"
        )
        if self.canceled:
            what += f", {len(self.canceled)} open order(s) canceled"
        if self.archive is not None:
            what += f"; archive {self.archive.status}"
            if self.archive.key:
                what += f" {self.archive.key}"
        if self.error:
            what += f"; NOT RECOVERED: {self.error}"
        return what


@dataclass
class RecoveryReport:
    """Every unfinished run found, and what became of it."""

    runs: list[RunRecovery] = field(default_factory=list)
    too_recent: list[str] = field(default_factory=list)
    """Open runs whose last event is newer than ``idle``: maybe still running; left alone."""

    @property
    def ok(self) -> bool:
        return all(run.recovered for run in self.runs)

    @property
    def nothing_to_do(self) -> bool:
        return not self.runs

    @property
    def failed(self) -> list[str]:
        return [run.ledger_id for run in self.runs if not run.recovered]

    def summary(self) -> str:
        if self.nothing_to_do:
            text = "nothing to do: every run in the store is closed and archived"
        else:
            done = sum(1 for run in self.runs if run.recovered)
            text = f"{len(self.runs)} unfinished run(s), {done} recovered"
            if self.failed:
                text += f"; NOT recovered: {', '.join(self.failed)}"
        if self.too_recent:
            text += f"; {len(self.too_recent)} open run(s) active too recently, left alone"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "nothing_to_do": self.nothing_to_do,
            "runs": [run.as_dict() for run in self.runs],
            "not_recovered": self.failed,
            "too_recent": self.too_recent,
        }


@dataclass(frozen=True)
class _Found:
    ledger_id: UUID
    opened_on: date
    closed: bool


def _scan(application: LedgerApplication) -> Iterator[_Found]:
    """Every run in the store, from the notification log's Opened and Closed events."""
    opened: dict[UUID, date] = {}
    closed: set[UUID] = set()
    recorder = application.recorder  # the notification log's recorder, read in pages
    start = 1
    while True:
        page = recorder.select_notifications(start, PAGE, topics=(OPENED_TOPIC, CLOSED_TOPIC))
        for notification in page:
            ledger_id = UUID(str(notification.originator_id))
            if notification.topic == OPENED_TOPIC:
                event: Any = application.mapper.to_domain_event(notification)
                opened[ledger_id] = event.opened_at.astimezone(UTC).date()
            else:
                closed.add(ledger_id)
        if len(page) < PAGE:
            break
        start = page[-1].id + 1
    for ledger_id, day in opened.items():
        yield _Found(ledger_id, day, ledger_id in closed)


def _archived_ids(archive: Any, days: set[date]) -> set[str]:
    """Ledger ids the archive lists on those days (one listing per day)."""
    found: set[str] = set()
    for day in sorted(days):
        found.update(ref.ledger_id for ref in archive.list_runs(day))
    return found


class Recovery:
    """Finds and finishes the unfinished runs of one store, with one broker and archive."""

    def __init__(
        self,
        application: LedgerApplication,
        broker: OrderHistory,
        archive: Any,
        *,
        idle: timedelta = timedelta(0),
        broker_timeout: float = 30.0,
    ) -> None:
        self.application = application
        self.broker = broker
        self.archive = archive
        self.idle = idle
        self.broker_timeout = broker_timeout

    async def run(self) -> RecoveryReport:
        report = RecoveryReport()
        found = await asyncio.to_thread(lambda: list(_scan(self.application)))
        closed = [run for run in found if run.closed]
        archived: set[str] = set()
        if closed and getattr(self.archive, "enabled", True):
            days = {run.opened_on for run in closed}
            archived = await asyncio.to_thread(_archived_ids, self.archive, days)
        for run in found:
            if run.closed and (str(run.ledger_id) in archived or not self.archive.enabled):
                continue
            recovery = await self._recover(run, report)
            if recovery is not None:
                report.runs.append(recovery)
        return report

    async def _recover(self, run: _Found, report: RecoveryReport) -> RunRecovery | None:
        ledger_id = str(run.ledger_id)
        outcome = RunRecovery(ledger_id, "closed" if run.closed else "open")
        try:
            service = await asyncio.to_thread(self._service, run.ledger_id)
            plan = service.plan_attribution()
            outcome.plan_id = plan.plan_id if plan is not None else None
            outcome.correlation_id = service.correlation_id
            if not run.closed:
                if self._too_recent(service):
                    report.too_recent.append(ledger_id)
                    return None
                await self._record_from_broker(service, plan, outcome)
                await asyncio.to_thread(service.close)
            outcome.closed = True
            events = await asyncio.to_thread(service.events)
            written: WriteOutcome = await asyncio.to_thread(self.archive.write, events)
            outcome.archive = written
            if not (written.archived or written.status == "disabled"):
                outcome.error = f"not archived ({written.status}): {written.error}"
        except Exception as error:
            outcome.error = f"{type(error).__name__}: {error}"
            logger.error("run %s not recovered: %s", ledger_id, outcome.error)
        return outcome

    def _service(self, ledger_id: UUID) -> TradeLedgerService:
        ledger = self.application.load(ledger_id)
        return TradeLedgerService(application=self.application, ledger=ledger)

    def _too_recent(self, service: TradeLedgerService) -> bool:
        if self.idle <= timedelta(0):
            return False
        last = service.events()[-1].timestamp
        return bool(datetime.now(UTC) - last < self.idle)

    async def _record_from_broker(
        self, service: TradeLedgerService, plan: Any, outcome: RunRecovery
    ) -> None:
        """Ask the broker for each placed order's executions; record those the ledger lacks."""
        recorded = {
            event.execution_id
            for event in service.events()
            if isinstance(event, Ledger.FillRecorded)
        }
        correlation_id = (
            plan.correlation_id if plan is not None else service.correlation_id
        ) or service.ledger_id
        for order in service.placed_orders():
            outcome.orders_asked += 1
            found = await self._ask(order.client_order_id)
            if found is None:
                continue  # never reached the broker
            if not found.terminal:
                await asyncio.wait_for(
                    self.broker.cancel_order(found.order_id), self.broker_timeout
                )
                outcome.canceled.append(order.client_order_id)
                found = await self._ask(order.client_order_id)
                if found is None:
                    continue
            outcome.broker_executions += len(found.fills)
            missing = [(f, None) for f in found.fills if f.execution_id not in recorded]
            if not missing:
                continue
            results = await asyncio.to_thread(
                service.record_broker_fills,
                missing,
                correlation_id,
                plan=plan,
                noted=RECOVERED_NOTE,
            )
            refused = [r for r in results if r.error is not None]
            if refused:
                raise RecoveryError(
                    f"{len(refused)} execution(s) of {order.client_order_id} not recorded: "
                    f"{refused[0].error}"
                )
            recorded.update(f.execution_id for f, _ in missing)
            outcome.recorded += len(missing)

    async def _ask(self, client_order_id: str) -> Any:
        return await asyncio.wait_for(
            self.broker.order_executions(client_order_id), self.broker_timeout
        )


async def recover_runs(
    application: LedgerApplication,
    broker: OrderHistory,
    archive: Any,
    *,
    idle: timedelta = timedelta(0),
) -> RecoveryReport:
    """Recover every unfinished run of ``application``'s store (see the module docstring)."""
    return await Recovery(application, broker, archive, idle=idle).run()
