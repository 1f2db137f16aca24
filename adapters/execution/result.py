"""What a run reports: one ``OrderReport`` per traded item, and the run's ``ExecutionResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from adapters.archive.port import WriteOutcome
from ledger_domain import Anomaly, Fill, Side

ZERO = Decimal(0)


@dataclass
class OrderReport:
    """What happened to one plan item's order."""

    symbol: str
    side: Side
    client_order_id: str
    notional: Decimal
    order_id: str | None = None
    status: str = "pending"
    filled_quantity: Decimal = ZERO
    filled_value: Decimal = ZERO
    executions: int = 0
    reason: str | None = None

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_value / self.filled_quantity if self.filled_quantity else None

    def add(self, fill: Fill) -> None:
        self.executions += 1
        self.filled_quantity += fill.quantity
        self.filled_value += fill.value


@dataclass
class ExecutionResult:
    """The outcome of one plan: orders, and what the ledger and archive did.

    ``success`` is about the trades only; ledger and archive problems are in
    ``ledger_errors`` / ``archive_error`` and never turn a trading success into a failure.
    ``executions_recorded`` counts the fills durably recorded; ``anomalies`` what was set
    aside from them (a crossed or stale quote, attribution weights that do not sum to 1).
    """

    plan_id: str
    correlation_id: str
    ledger_id: str
    started_at: datetime
    finished_at: datetime | None = None
    orders: list[OrderReport] = field(default_factory=list)
    ledger_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    executions_recorded: int = 0
    ledger_closed: bool = False
    archive: WriteOutcome | None = None
    archive_error: str | None = None
    replayed: bool = False
    stopped: str | None = None
    """Why the run was stopped before its end (e.g. ``stopped by SIGTERM``), or ``None``."""

    @property
    def success(self) -> bool:
        """Every order was placed and completely filled."""
        return all(order.status == "filled" for order in self.orders)

    @property
    def orders_placed(self) -> int:
        return sum(1 for order in self.orders if order.order_id is not None)

    @property
    def orders_filled(self) -> int:
        return sum(1 for order in self.orders if order.filled_quantity > 0)

    @property
    def orders_failed(self) -> list[OrderReport]:
        return [o for o in self.orders if o.status in ("rejected", "error", "timed_out")]

    @property
    def executions(self) -> int:
        return sum(order.executions for order in self.orders)

    @property
    def ledger_ok(self) -> bool:
        return not self.ledger_errors and self.ledger_closed

    @property
    def archived(self) -> bool:
        return self.archive is not None and self.archive.archived
