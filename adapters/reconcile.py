"""Broker reconciliation: do the ledgers say what the broker says was filled?

The ledger side is every ``FillRecorded`` event of one run (or of every archived run of a
date; a snapshot-only document contributes one whole-order fill per entry). The broker side
is its fill history (Alpaca: ``/v2/account/activities/FILL``) for the same period: the
fills inside the period, plus any fill, even just outside it, of an order a ledger knows.

Matching, most precise first:

1. **By execution id**: a ledger execution id equal to the activity id, or to the uuid
   after its ``::`` (a trade update's ``execution_id``). Quantity, price, symbol and side
   must agree (``price_tolerance``, exact by default).
2. **Per order**, for what is left: identical fills (same qty and price) pair up; if both
   sides still have fills of the order (e.g. a whole-order ledger entry against the
   broker's partial fills), their totals are compared: quantity exactly, volume-weighted
   price within ``average_price_tolerance``.
3. What remains is a fill **missing from the ledger** (broker only) or a fill **unknown to
   the broker** (ledger only).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from adapters.brokers.alpaca.mapping import same_execution
from adapters.brokers.port import Execution, FillHistory
from ledger_domain import Ledger, TradeLedger, TradeLedgerService
from ledger_domain.models import as_utc

Kind = Literal[
    "missing_from_ledger",
    "unknown_to_broker",
    "quantity_mismatch",
    "price_mismatch",
    "symbol_or_side_mismatch",
]
MISMATCH_KINDS = frozenset({"quantity_mismatch", "price_mismatch", "symbol_or_side_mismatch"})
DEFAULT_MARGIN = timedelta(minutes=5)
DEFAULT_AVERAGE_PRICE_TOLERANCE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class LedgerFill:
    """One recorded execution (or a whole order) as the ledger holds it."""

    ledger_id: str
    order_id: str
    execution_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    filled_at: datetime

    @property
    def whole_order(self) -> bool:
        return self.execution_id == self.order_id

    @property
    def value(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference between the ledgers and the broker."""

    kind: Kind
    order_id: str
    symbol: str
    execution_id: str | None = None
    ledger_id: str | None = None
    ledger_qty: Decimal | None = None
    broker_qty: Decimal | None = None
    ledger_price: Decimal | None = None
    broker_price: Decimal | None = None
    detail: str = ""

    def describe(self) -> str:
        where = f"order {self.order_id}"
        if self.execution_id and self.execution_id != self.order_id:
            where += f" execution {self.execution_id}"
        return f"{self.kind}: {self.symbol} {where}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            name: (str(value) if isinstance(value, Decimal) else value)
            for name, value in (
                ("kind", self.kind),
                ("order_id", self.order_id),
                ("symbol", self.symbol),
                ("execution_id", self.execution_id),
                ("ledger_id", self.ledger_id),
                ("ledger_qty", self.ledger_qty),
                ("broker_qty", self.broker_qty),
                ("ledger_price", self.ledger_price),
                ("broker_price", self.broker_price),
                ("detail", self.detail),
            )
        }


@dataclass
class ReconciliationReport:
    """The comparison's outcome; ``ok`` when ledgers and broker agree."""

    period_start: datetime
    period_end: datetime
    ledger_ids: list[str] = field(default_factory=list)
    ledger_fills: int = 0
    broker_fills: int = 0
    matched: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    unreadable_runs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No discrepancy, and every run could be read."""
        return not self.discrepancies and not self.unreadable_runs

    def of_kind(self, *kinds: str) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.kind in kinds]

    @property
    def missing_from_ledger(self) -> list[Discrepancy]:
        return self.of_kind("missing_from_ledger")

    @property
    def unknown_to_broker(self) -> list[Discrepancy]:
        return self.of_kind("unknown_to_broker")

    @property
    def mismatches(self) -> list[Discrepancy]:
        return self.of_kind(*MISMATCH_KINDS)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "ledger_ids": self.ledger_ids,
            "ledger_fills": self.ledger_fills,
            "broker_fills": self.broker_fills,
            "matched": self.matched,
            "missing_from_ledger": len(self.missing_from_ledger),
            "unknown_to_broker": len(self.unknown_to_broker),
            "mismatches": len(self.mismatches),
            "discrepancies": [d.as_dict() for d in self.discrepancies],
            "unreadable_runs": self.unreadable_runs,
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def summary(self) -> str:
        verdict = "OK" if self.ok else f"{len(self.discrepancies)} discrepancy(ies)"
        if self.unreadable_runs:
            verdict += f", {len(self.unreadable_runs)} unreadable run(s)"
        return (
            f"{self.period_start:%Y-%m-%d %H:%M:%S} .. {self.period_end:%Y-%m-%d %H:%M:%S} UTC: "
            f"{len(self.ledger_ids)} run(s), {self.ledger_fills} ledger fill(s), "
            f"{self.broker_fills} broker fill(s), {self.matched} matched: {verdict} "
            f"({len(self.missing_from_ledger)} missing from ledger, "
            f"{len(self.unknown_to_broker)} unknown to broker, {len(self.mismatches)} mismatched)"
        )


# -- the ledger side -----------------------------------------------------------------------


def ledger_fills(events: Iterable[Any]) -> list[LedgerFill]:
    """Every ``FillRecorded`` of an event stream, as ledger fills."""
    return [
        LedgerFill(
            ledger_id=str(event.originator_id),
            order_id=event.order_id,
            execution_id=event.execution_id,
            symbol=event.symbol,
            side=event.direction,
            qty=event.quantity,
            price=event.price,
            filled_at=as_utc(event.fill_time),
        )
        for event in events
        if isinstance(event, Ledger.FillRecorded)
    ]


def snapshot_fills(ledger: TradeLedger) -> list[LedgerFill]:
    """Whole-order fills from a snapshot (documents without events)."""
    return [
        LedgerFill(
            ledger_id=ledger.ledger_id,
            order_id=entry.order_id,
            execution_id=entry.order_id,
            symbol=entry.symbol,
            side=entry.direction,
            qty=entry.filled_qty,
            price=entry.trade_value / entry.filled_qty,
            filled_at=entry.fill_timestamp,
        )
        for entry in ledger.entries
    ]


# -- matching ------------------------------------------------------------------------------


def _price_differs(left: Decimal, right: Decimal, tolerance: Decimal) -> bool:
    return abs(left - right) > tolerance


def _compare_execution(
    fill: LedgerFill, broker: Execution, price_tolerance: Decimal
) -> list[Discrepancy]:
    base = Discrepancy(
        "quantity_mismatch",
        order_id=fill.order_id,
        symbol=fill.symbol,
        execution_id=fill.execution_id,
        ledger_id=fill.ledger_id,
        ledger_qty=fill.qty,
        broker_qty=broker.qty,
        ledger_price=fill.price,
        broker_price=broker.price,
    )
    found: list[Discrepancy] = []
    if (fill.symbol, fill.side) != (broker.symbol, broker.side) or fill.order_id != broker.order_id:
        detail = (
            f"ledger {fill.side} {fill.symbol} (order {fill.order_id}), "
            f"broker {broker.side} {broker.symbol} (order {broker.order_id})"
        )
        found.append(replace(base, kind="symbol_or_side_mismatch", detail=detail))
    if fill.qty != broker.qty:
        found.append(replace(base, detail=f"ledger {fill.qty}, broker {broker.qty}"))
    if _price_differs(fill.price, broker.price, price_tolerance):
        detail = f"ledger {fill.price}, broker {broker.price}"
        found.append(replace(base, kind="price_mismatch", detail=detail))
    return found


def _missing(broker: Execution) -> Discrepancy:
    return Discrepancy(
        "missing_from_ledger",
        order_id=broker.order_id,
        symbol=broker.symbol,
        execution_id=broker.execution_id,
        broker_qty=broker.qty,
        broker_price=broker.price,
        detail=(
            f"broker filled {broker.side} {broker.qty} @ {broker.price} "
            f"at {broker.filled_at.isoformat()}; no ledger has it"
        ),
    )


def _unknown(fill: LedgerFill) -> Discrepancy:
    return Discrepancy(
        "unknown_to_broker",
        order_id=fill.order_id,
        symbol=fill.symbol,
        execution_id=fill.execution_id,
        ledger_id=fill.ledger_id,
        ledger_qty=fill.qty,
        ledger_price=fill.price,
        detail=(
            f"ledger {fill.ledger_id} recorded {fill.side} {fill.qty} @ {fill.price}; "
            "the broker has no such fill"
        ),
    )


def _pair_identical(
    fills: list[LedgerFill], brokers: list[Execution]
) -> tuple[int, list[LedgerFill], list[Execution]]:
    left = list(brokers)
    unpaired: list[LedgerFill] = []
    paired = 0
    for fill in fills:
        wanted = (fill.qty, fill.price, fill.side, fill.symbol)
        match = next((b for b in left if (b.qty, b.price, b.side, b.symbol) == wanted), None)
        if match is None:
            unpaired.append(fill)
        else:
            left.remove(match)
            paired += 1
    return paired, unpaired, left


def _compare_totals(
    order_id: str,
    fills: list[LedgerFill],
    brokers: list[Execution],
    tolerance: Decimal,
) -> list[Discrepancy]:
    ledger_qty = sum((f.qty for f in fills), Decimal(0))
    broker_qty = sum((b.qty for b in brokers), Decimal(0))
    ledger_price = sum((f.value for f in fills), Decimal(0)) / ledger_qty
    broker_price = sum((b.value for b in brokers), Decimal(0)) / broker_qty
    base = Discrepancy(
        "quantity_mismatch",
        order_id=order_id,
        symbol=fills[0].symbol,
        ledger_id=fills[0].ledger_id,
        ledger_qty=ledger_qty,
        broker_qty=broker_qty,
        ledger_price=ledger_price,
        broker_price=broker_price,
    )
    found: list[Discrepancy] = []
    sides = {(f.symbol, f.side) for f in fills} | {(b.symbol, b.side) for b in brokers}
    if len(sides) > 1:
        detail = f"order {order_id} appears as {sorted(sides)}"
        found.append(replace(base, kind="symbol_or_side_mismatch", detail=detail))
    if ledger_qty != broker_qty:
        detail = (
            f"ledger {ledger_qty} in {len(fills)} fill(s), "
            f"broker {broker_qty} in {len(brokers)} fill(s)"
        )
        found.append(replace(base, detail=detail))
    if _price_differs(ledger_price, broker_price, tolerance):
        detail = f"average price ledger {ledger_price}, broker {broker_price}"
        found.append(replace(base, kind="price_mismatch", detail=detail))
    return found


def reconcile(
    fills: Iterable[LedgerFill],
    broker_fills: Iterable[Execution],
    *,
    period_start: datetime,
    period_end: datetime,
    price_tolerance: Decimal = Decimal(0),
    average_price_tolerance: Decimal = DEFAULT_AVERAGE_PRICE_TOLERANCE,
) -> ReconciliationReport:
    """Compare ledger fills with the broker's fills of ``[period_start, period_end)``.

    Broker fills outside the period count only if their order is in a ledger.
    """
    start, end = as_utc(period_start), as_utc(period_end)
    ledger_side = list(fills)
    known_orders = {f.order_id for f in ledger_side}
    broker_side = [
        b for b in broker_fills if start <= b.filled_at < end or b.order_id in known_orders
    ]
    report = ReconciliationReport(
        period_start=start,
        period_end=end,
        ledger_ids=sorted({f.ledger_id for f in ledger_side}),
        ledger_fills=len(ledger_side),
        broker_fills=len(broker_side),
    )
    by_id: dict[str, Execution] = {}
    for broker in broker_side:
        assert broker.execution_id is not None
        by_id.setdefault(broker.execution_id, broker)
        _, sep, tail = broker.execution_id.partition("::")
        if sep:
            by_id.setdefault(tail, broker)
    used: set[str] = set()
    rest: list[LedgerFill] = []
    for fill in ledger_side:
        found = None if fill.whole_order else by_id.get(fill.execution_id)
        if found is None or found.execution_id is None or found.execution_id in used:
            rest.append(fill)
            continue
        assert same_execution(fill.execution_id, found.execution_id)
        used.add(found.execution_id)
        report.matched += 1
        report.discrepancies.extend(_compare_execution(fill, found, price_tolerance))
    ledger_orders: dict[str, list[LedgerFill]] = defaultdict(list)
    for fill in rest:
        ledger_orders[fill.order_id].append(fill)
    broker_orders: dict[str, list[Execution]] = defaultdict(list)
    for broker in broker_side:
        if broker.execution_id not in used:
            broker_orders[broker.order_id].append(broker)
    for order_id in sorted(set(ledger_orders) | set(broker_orders)):
        paired, left_fills, left_brokers = _pair_identical(
            ledger_orders.get(order_id, []), broker_orders.get(order_id, [])
        )
        report.matched += paired
        if left_fills and left_brokers:
            report.matched += len(left_fills)
            report.discrepancies.extend(
                _compare_totals(order_id, left_fills, left_brokers, average_price_tolerance)
            )
            continue
        report.discrepancies.extend(_missing(b) for b in left_brokers)
        report.discrepancies.extend(_unknown(f) for f in left_fills)
    return report


# -- entry points --------------------------------------------------------------------------


def _window(
    start: datetime, end: datetime, fills: Sequence[LedgerFill], margin: timedelta
) -> tuple[datetime, datetime]:
    times = [f.filled_at for f in fills]
    first = min([start, *times]) - margin
    last = max([end, *times]) + margin
    return first, last


async def reconcile_fills(
    fills: Sequence[LedgerFill],
    broker: FillHistory,
    *,
    period_start: datetime,
    period_end: datetime,
    margin: timedelta = DEFAULT_MARGIN,
    **options: Any,
) -> ReconciliationReport:
    """Fetch the broker's fills around the period and reconcile."""
    start, end = as_utc(period_start), as_utc(period_end)
    after, until = _window(start, end, fills, margin)
    broker_fills = await broker.fill_activities(after, until)
    return reconcile(fills, broker_fills, period_start=start, period_end=end, **options)


async def reconcile_ledger(
    ledger: TradeLedgerService | Sequence[Any],
    broker: FillHistory,
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    **options: Any,
) -> ReconciliationReport:
    """One run (a live service or its event stream) against the broker.

    The period defaults to the run's: opened .. closed (or now, if still open).
    """
    events = ledger.events() if isinstance(ledger, TradeLedgerService) else list(ledger)
    opened = next((e for e in events if isinstance(e, Ledger.Opened)), None)
    closed = next((e for e in events if isinstance(e, Ledger.Closed)), None)
    start = period_start or (as_utc(opened.opened_at) if opened else None)
    end = period_end or (as_utc(closed.closed_at) if closed else datetime.now(UTC))
    fills = ledger_fills(events)
    if start is None:
        start = min((f.filled_at for f in fills), default=end)
    return await reconcile_fills(
        fills, broker, period_start=start, period_end=end + timedelta(microseconds=1), **options
    )


async def reconcile_run(run: Any, broker: FillHistory, **options: Any) -> ReconciliationReport:
    """One archived run (``ArchivedRun``) against the broker, by events or by snapshot."""
    if run.has_events:
        return await reconcile_ledger(run.events, broker, **options)
    ledger: TradeLedger = run.ledger
    fills = snapshot_fills(ledger)
    end = ledger.closed_at or max((f.filled_at for f in fills), default=ledger.created_at)
    report = await reconcile_fills(
        fills,
        broker,
        period_start=ledger.created_at,
        period_end=end + timedelta(microseconds=1),
        **options,
    )
    report.ledger_ids = [ledger.ledger_id]
    report.notes.append(f"{run.key}: snapshot-only document; compared order by order")
    return report


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """``[00:00, next 00:00)`` of a UTC day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


async def reconcile_date(
    archive: Any, day: date, broker: FillHistory, **options: Any
) -> ReconciliationReport:
    """Every archived run of a UTC day against the broker's fills of that day.

    Runs are read with ``archive.read_runs(day)``; an unreadable document is listed in
    ``unreadable_runs`` and makes the report fail (its fills cannot be accounted for). A run
    archived the day before (its key is its opening day) that filled after midnight adds
    those fills too, so a run across midnight is not reported as missing.
    """
    start, end = day_bounds(day)
    reads = await asyncio.to_thread(lambda: list(archive.read_runs(day)))
    earlier = await asyncio.to_thread(lambda: list(archive.read_runs(day - timedelta(days=1))))
    fills: list[LedgerFill] = []
    notes: list[str] = []
    unreadable: list[str] = []
    run_ids: list[str] = []
    for read in reads:
        if read.run is None:
            unreadable.append(read.key)
            notes.append(f"{read.key}: unreadable: {read.error}")
            continue
        run_ids.append(read.run.ledger.ledger_id)
        fills.extend(_run_fills(read.run, notes))
    for read in earlier:
        if read.run is None:
            notes.append(f"{read.key} (day before): unreadable: {read.error}")
            continue
        late = [f for f in _run_fills(read.run, []) if f.filled_at >= start]
        if late:
            run_ids.append(read.run.ledger.ledger_id)
            notes.append(f"{read.key}: opened the day before; {len(late)} fill(s) on {day}")
            fills.extend(late)
    report = await reconcile_fills(fills, broker, period_start=start, period_end=end, **options)
    report.ledger_ids = sorted(set(report.ledger_ids) | set(run_ids))
    report.notes.extend(notes)
    report.unreadable_runs = unreadable
    return report


def _run_fills(run: Any, notes: list[str]) -> list[LedgerFill]:
    if run.has_events:
        return ledger_fills(run.events)
    notes.append(f"{run.key}: snapshot-only document; compared order by order")
    return snapshot_fills(run.ledger)
